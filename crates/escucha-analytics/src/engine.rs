//! The scan: turns a query into a plan over one organisation's columns and counts scores per
//! cell (group × period) in one pass over the rows.
//!
//! The hot loop does no hashing, no allocation and no data-dependent branch per row. Rows are
//! taken a chunk at a time (2,048, never crossing a zone-map block) in simple passes:
//! - without filters, one pass writes each row's counter slot into a scratch array:
//!   `(group + period offset) × 11 + score`, the group computed arithmetically from the group
//!   columns' codes (`c1 × card2 + c2`) or from a day → bucket table for series; rows without a
//!   score or outside the range get a trash slot through a mask;
//! - with filters or restrictions, a first pass selects the rows that have a score and pass the
//!   first condition (writing every offset, advancing only for kept rows), later conditions
//!   narrow that selection, and slots are computed for the kept rows only (a query filtered to
//!   one row in ten then costs about what an unfiltered one does, instead of twice as much);
//! - then the counters are bumped: in four interleaved copies when there are few of them, so
//!   runs of equal slots do not wait on each other, and with rejected rows spread over eight
//!   trash counters.
//!
//! Blocks whose day bounds miss the range are skipped. A block wholly inside the range and one
//! period, with no condition and all its rows in one cell (no group-by, or one series bucket),
//! is counted from the score histogram kept per block at insert, without reading its rows; other
//! such blocks are counted without reading their days (and, for a series, without the bucket
//! table when the block lies in one bucket). Scans of at least 2 × 2¹⁸ rows are split over the
//! cores with `std::thread::scope`, each thread with its own counters. Group-bys with more than
//! 2¹⁸ cells count into a hash map of the cells seen instead of a flat array.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use chrono::NaiveDate;
use escucha_core::metrics::MetricKind;

use crate::columns::{BLOCK_ROWS, CodeSlice, Codes, Column, NO_SCORE, OrgIndex, ScoreColumn, day_date, day_number};
use crate::dimension::Dimension;
use crate::query::{Interval, MAX_GROUPS, MAX_SERIES_POINTS, MetricQuery, QueryError, SeriesQuery};
use crate::result::{self, BINS, Group, GroupKey, MetricResult, SeriesResult};

/// Runs `$body` with `$codes` bound to the typed slice of a [`CodeSlice`], whatever its width:
/// the body is compiled once per width, so the loops stay monomorphic.
macro_rules! with_codes {
    ($slice:expr, |$codes:ident| $body:expr) => {
        match $slice {
            CodeSlice::U8($codes) => $body,
            CodeSlice::U16($codes) => $body,
            CodeSlice::U32($codes) => $body,
        }
    };
}

/// Flat counters are used up to this many cells (× 11 bins × 8 bytes = 22 MiB per thread);
/// beyond, a hash map of the cells actually seen.
const MAX_FLAT_CELLS: usize = 1 << 18;

/// Rows below which a scan stays on the calling thread.
const MIN_ROWS_PER_THREAD: usize = 1 << 18;

/// Most threads one scan uses.
const MAX_THREADS: usize = 8;

fn score_column(metric: MetricKind) -> ScoreColumn {
    match metric {
        MetricKind::Nps => ScoreColumn::Nps,
        MetricKind::Csat | MetricKind::Dsat => ScoreColumn::Csat,
        MetricKind::Ces => ScoreColumn::Ces,
        MetricKind::Cadv => ScoreColumn::Cadv,
    }
}

/// A row condition: its code must be allowed by the table.
struct Condition<'a> {
    codes: &'a Codes,
    allowed: Vec<bool>,
}

/// Builds the conditions of filters (same dimension: any of the values), restrictions (each an
/// IN-list) and the survey; `None` when no row can match.
fn conditions<'a>(
    org: &'a OrgIndex,
    filters: &[(Dimension, String)],
    restrict: &[(Dimension, Vec<String>)],
    survey_id: Option<i64>,
) -> Option<Vec<Condition<'a>>> {
    let mut lists: Vec<(&Dimension, Vec<&str>)> = Vec::new();
    for (dimension, value) in filters {
        match lists.iter_mut().find(|(d, _)| *d == dimension) {
            Some((_, values)) => values.push(value),
            None => lists.push((dimension, vec![value])),
        }
    }
    for (dimension, values) in restrict {
        lists.push((dimension, values.iter().map(String::as_str).collect()));
    }
    let survey = survey_id.map(|id| id.to_string());
    if let Some(id) = &survey {
        lists.push((&Dimension::Survey, vec![id.as_str()]));
    }

    let mut out = Vec::with_capacity(lists.len());
    for (dimension, values) in lists {
        // A dimension never seen: every row has it unknown, so no value can match.
        let column: &Column = org.column(dimension)?;
        let mut allowed = vec![false; column.dict.cardinality()];
        let mut any = false;
        for value in values {
            if let Some(slot) = column.dict.code(value).and_then(|code| allowed.get_mut(code as usize)) {
                *slot = true;
                any = true;
            }
        }
        if !any {
            return None;
        }
        out.push(Condition { codes: &column.codes, allowed });
    }
    Some(out)
}

/// How a row's group is found.
#[derive(Clone, Copy)]
enum GroupBy<'a> {
    /// Every row in group 0.
    Nothing,
    /// The code of one column.
    One(&'a Codes),
    /// `c1 × card2 + c2`.
    Two(&'a Codes, &'a Codes, u64),
    /// Series: the bucket of the row's day, `table[day − lo]`.
    Buckets(&'a [u32]),
}

/// What a scan needs.
struct Scan<'a> {
    scores: &'a [u8],
    days: &'a [i32],
    blocks: &'a [(i32, i32)],
    /// Score histogram of each block (for the metric's score column).
    block_hists: &'a [[u32; BINS]],
    conditions: Vec<Condition<'a>>,
    group_by: GroupBy<'a>,
    /// Inclusive day range scanned (both periods when comparing).
    lo: i32,
    hi: i32,
    /// Rows with a day before this go to the previous period (offset by `groups` cells).
    split: i32,
    groups: usize,
    periods: usize,
}

/// Counters per cell: flat when small, a map of the cells seen otherwise.
enum Counters {
    Flat(Vec<u64>),
    Sparse(HashMap<usize, [u64; BINS]>),
}

impl Counters {
    fn histogram(&self, cell: usize) -> Option<&[u64]> {
        match self {
            Counters::Flat(v) => v.get(cell * BINS..(cell + 1) * BINS),
            Counters::Sparse(map) => map.get(&cell).map(|h| &h[..]),
        }
    }
}

/// Rows processed per pass of the kernel (its scratch buffer stays in L1/L2).
const CHUNK: usize = 2048;

/// Where counted slots go: `slot = cell × 11 + score`, or the trash slot for rows left out.
trait Sink {
    fn count(&mut self, slots: &[u64], trash: u64);
    /// Adds a whole histogram of scores to one cell.
    fn add_histogram(&mut self, cell: u64, hist: &[u32; BINS]);
}

/// Adds `hist` to the counters of `cell` in a flat array.
fn add_flat(counts: &mut [u64], cell: u64, hist: &[u32; BINS]) {
    let Ok(base) = usize::try_from(cell.saturating_mul(BINS as u64)) else {
        return;
    };
    if let Some(counters) = counts.get_mut(base..base.saturating_add(BINS)) {
        for (c, &h) in counters.iter_mut().zip(hist) {
            *c += u64::from(h);
        }
    }
}

/// Counters after the real ones that take the rows left out, without a branch: row `i` of a
/// chunk goes to trash counter `i mod 8`, so a run of rejected rows (most rows of a selective
/// filter) bumps eight independent counters instead of waiting on one.
const TRASH_SLOTS: usize = 8;

/// The counter of a slot: itself, or one of the trash counters for the trash slot.
#[inline(always)]
fn spread(slot: u64, trash: u64, row: usize) -> u64 {
    slot + u64::from(slot == trash) * (row as u64 & (TRASH_SLOTS as u64 - 1))
}

impl Sink for Vec<u64> {
    #[inline(always)]
    fn count(&mut self, slots: &[u64], trash: u64) {
        for (i, &slot) in slots.iter().enumerate() {
            bump(self, spread(slot, trash, i));
        }
    }

    fn add_histogram(&mut self, cell: u64, hist: &[u32; BINS]) {
        add_flat(self, cell, hist);
    }
}

/// Flat counters in [`LANES`] copies, consecutive rows going to different copies: a run of
/// rows with the same slot (frequent with few groups) then updates four independent counters
/// instead of waiting on one.
struct Lanes {
    counts: Vec<u64>,
    len: usize,
}

/// Copies of the counters used by [`Lanes`].
const LANES: usize = 4;

/// Counters up to which [`Lanes`] is used (4 × 32 KiB; beyond, rows rarely repeat a slot).
const MAX_LANE_COUNTERS: usize = 1 << 12;

#[inline(always)]
fn bump(counts: &mut [u64], slot: u64) {
    if let Some(c) = counts.get_mut(slot as usize) {
        *c += 1;
    }
}

impl Lanes {
    fn new(len: usize) -> Self {
        Lanes { counts: vec![0; len * LANES], len }
    }

    fn fold(self) -> Vec<u64> {
        let mut chunks = self.counts.chunks_exact(self.len.max(1));
        let mut out = chunks.next().map(<[u64]>::to_vec).unwrap_or_default();
        for lane in chunks {
            for (o, c) in out.iter_mut().zip(lane) {
                *o += c;
            }
        }
        out
    }
}

impl Sink for Lanes {
    #[inline(always)]
    fn count(&mut self, slots: &[u64], _trash: u64) {
        // Each lane has its own trash counter, so rejected rows need no spreading here.
        let (a, rest) = self.counts.split_at_mut(self.len);
        let (b, rest) = rest.split_at_mut(self.len);
        let (c, d) = rest.split_at_mut(self.len);
        let mut quads = slots.chunks_exact(LANES);
        for q in &mut quads {
            bump(a, q[0]);
            bump(b, q[1]);
            bump(c, q[2]);
            bump(d, q[3]);
        }
        for &slot in quads.remainder() {
            bump(a, slot);
        }
    }

    fn add_histogram(&mut self, cell: u64, hist: &[u32; BINS]) {
        let len = self.len;
        add_flat(&mut self.counts[..len], cell, hist);
    }
}

impl Sink for HashMap<usize, [u64; BINS]> {
    fn count(&mut self, slots: &[u64], trash: u64) {
        for &slot in slots {
            if slot == trash {
                continue;
            }
            let (Ok(cell), Ok(bin)) = (usize::try_from(slot / BINS as u64), usize::try_from(slot % BINS as u64)) else {
                continue;
            };
            if let Some(c) = self.entry(cell).or_insert([0; BINS]).get_mut(bin) {
                *c += 1;
            }
        }
    }

    fn add_histogram(&mut self, cell: u64, hist: &[u32; BINS]) {
        let Ok(cell) = usize::try_from(cell) else {
            return;
        };
        let counters = self.entry(cell).or_insert([0; BINS]);
        for (c, &h) in counters.iter_mut().zip(hist) {
            *c += u64::from(h);
        }
    }
}

impl Scan<'_> {
    /// Row ranges of the blocks whose day bounds meet `lo..=hi`.
    fn ranges(&self) -> Vec<Range<usize>> {
        let len = self.days.len();
        let mut out: Vec<Range<usize>> = Vec::new();
        for (i, &(min, max)) in self.blocks.iter().enumerate() {
            if max < self.lo || min > self.hi {
                continue;
            }
            let start = i * BLOCK_ROWS;
            let end = (start + BLOCK_ROWS).min(len);
            match out.last_mut() {
                Some(last) if last.end == start => last.end = end,
                _ => out.push(start..end),
            }
        }
        out
    }

    /// The trash slot: the first counter after the real ones.
    fn trash(&self) -> u64 {
        (self.groups.saturating_mul(self.periods) as u64).saturating_mul(BINS as u64)
    }

    /// The cell of every row of `block` when the block can be counted from its histogram: this
    /// range covers the whole block, no condition applies, the block lies inside the day range
    /// and one period, and all its rows fall in one group (no group-by, or a series bucket).
    fn whole_block_cell(&self, block: usize, start: usize, end: usize) -> Option<u64> {
        let first = block * BLOCK_ROWS;
        let last = first + BLOCK_ROWS;
        if start != first || end < last || !self.conditions.is_empty() {
            return None;
        }
        let &(min, max) = self.blocks.get(block)?;
        if min < self.lo || max > self.hi {
            return None;
        }
        let offset = if max < self.split {
            self.groups as u64
        } else if min >= self.split {
            0
        } else {
            return None;
        };
        let group = match self.group_by {
            GroupBy::Nothing => 0,
            GroupBy::Buckets(table) => self.same_bucket(table, block)?,
            GroupBy::One(_) | GroupBy::Two(..) => return None,
        };
        Some(group + offset)
    }

    /// For a series: the bucket of every row of `block` when its first and last days fall in
    /// the same bucket (day-ordered data: nearly every block).
    fn same_bucket(&self, table: &[u32], block: usize) -> Option<u64> {
        let &(min, max) = self.blocks.get(block)?;
        let at = |day: i32| {
            let offset = usize::try_from(i64::from(day) - i64::from(self.lo)).ok()?;
            table.get(offset).copied()
        };
        let first = at(min)?;
        (at(max)? == first).then_some(u64::from(first))
    }

    /// Writes into `selection` the offsets (within the chunk `start..end`) of the rows that have
    /// a score and pass every condition, in order, and returns how many. Branch-free: each row is written and
    /// the write position advances only when the row is kept.
    fn select(&self, start: usize, end: usize, scores: &[u8], selection: &mut [u16; CHUNK]) -> usize {
        let n = (end - start).min(CHUNK);
        let scores = scores.get(..n).unwrap_or_default();
        let mut conditions = self.conditions.iter();
        // The first condition and the presence of a score (for CES or CAdv, fewer than half of
        // the rows) in one pass over the chunk…
        let mut kept = 0;
        match conditions.next() {
            Some(first) => {
                let Some(codes) = first.codes.slice(start..end) else {
                    return 0;
                };
                let allowed = first.allowed.as_slice();
                with_codes!(codes, |codes| {
                    for (i, (&code, &score)) in codes.iter().zip(scores).enumerate() {
                        let ok = allowed.get(code as usize).copied().unwrap_or(false);
                        selection[kept] = i as u16;
                        kept += usize::from(ok & (score != NO_SCORE));
                    }
                });
            }
            None => {
                for (i, &score) in scores.iter().enumerate() {
                    selection[kept] = i as u16;
                    kept += usize::from(score != NO_SCORE);
                }
            }
        }
        // … then the others over the rows still kept.
        for condition in conditions {
            let Some(codes) = condition.codes.slice(start..end) else {
                return 0;
            };
            let allowed = condition.allowed.as_slice();
            let mut out = 0;
            with_codes!(codes, |codes| {
                for j in 0..kept {
                    let row = selection[j];
                    let code = codes.get(usize::from(row)).map_or(0, |&c| c as usize);
                    selection[out] = row;
                    out += usize::from(allowed.get(code).copied().unwrap_or(false));
                }
            });
            kept = out;
        }
        kept
    }

    /// The counter slots of the selected rows `kept` (offsets within the chunk `rows`): as the
    /// unfiltered passes, but reading each column only at the kept offsets.
    #[allow(clippy::too_many_arguments)]
    fn selected_slots(
        &self,
        rows: Range<usize>,
        day_free: Option<u64>,
        block: usize,
        kept: &[u16],
        scores: &[u8],
        days: &[i32],
        slots: &mut [u64],
    ) {
        let trash = self.trash();
        let groups = self.groups as u64;
        // Group of each kept row.
        match self.group_by {
            GroupBy::Nothing => slots.fill(0),
            GroupBy::One(c1) => match c1.slice(rows) {
                Some(c1) => with_codes!(c1, |c1| {
                    for (s, &row) in slots.iter_mut().zip(kept) {
                        *s = c1.get(usize::from(row)).map_or(0, |&c| u64::from(c));
                    }
                }),
                None => slots.fill(0),
            },
            GroupBy::Two(c1, c2, card2) => match (c1.slice(rows.clone()), c2.slice(rows)) {
                (Some(c1), Some(c2)) => with_codes!(c1, |c1| with_codes!(c2, |c2| {
                    for (s, &row) in slots.iter_mut().zip(kept) {
                        let row = usize::from(row);
                        let a = c1.get(row).map_or(0, |&c| u64::from(c));
                        let b = c2.get(row).map_or(0, |&c| u64::from(c));
                        *s = a.wrapping_mul(card2).wrapping_add(b);
                    }
                })),
                _ => slots.fill(0),
            },
            GroupBy::Buckets(table) => match self.same_bucket(table, block) {
                Some(bucket) => slots.fill(bucket),
                None => {
                    for (s, &row) in slots.iter_mut().zip(kept) {
                        let day = days.get(usize::from(row)).copied().unwrap_or(self.lo);
                        let offset = i64::from(day) - i64::from(self.lo);
                        *s = usize::try_from(offset).ok().and_then(|o| table.get(o)).map_or(0, |&b| u64::from(b));
                    }
                }
            },
        }
        // Period, score and range.
        match day_free {
            Some(offset) => {
                for (s, &row) in slots.iter_mut().zip(kept) {
                    let score = scores.get(usize::from(row)).copied().unwrap_or(NO_SCORE);
                    *s = slot_of(*s, offset, score, trash);
                }
            }
            None => {
                let (lo, hi, split) = (self.lo, self.hi, self.split);
                for (s, &row) in slots.iter_mut().zip(kept) {
                    let row = usize::from(row);
                    let score = scores.get(row).copied().unwrap_or(NO_SCORE);
                    let day = days.get(row).copied().unwrap_or(i32::MIN);
                    let valid = (score != NO_SCORE) & (day >= lo) & (day <= hi);
                    let cell = s.wrapping_add(groups * u64::from(day < split));
                    let slot = cell.wrapping_mul(BINS as u64).wrapping_add(u64::from(score));
                    let keep = u64::from(valid).wrapping_neg();
                    *s = (slot & keep) | (trash & !keep);
                }
            }
        }
    }

    /// Writes each row's group into `slots`.
    fn fill_groups(&self, group_by: GroupBy, rows: Range<usize>, days: &[i32], slots: &mut [u64]) {
        match group_by {
            GroupBy::Nothing => slots.fill(0),
            GroupBy::One(c1) => match c1.slice(rows) {
                Some(c1) => with_codes!(c1, |c1| {
                    for (s, &c) in slots.iter_mut().zip(c1) {
                        *s = u64::from(c);
                    }
                }),
                None => slots.fill(0),
            },
            GroupBy::Two(c1, c2, card2) => match (c1.slice(rows.clone()), c2.slice(rows)) {
                (Some(c1), Some(c2)) => with_codes!(c1, |c1| with_codes!(c2, |c2| {
                    for ((s, &a), &b) in slots.iter_mut().zip(c1).zip(c2) {
                        *s = u64::from(a).wrapping_mul(card2).wrapping_add(u64::from(b));
                    }
                })),
                _ => slots.fill(0),
            },
            GroupBy::Buckets(table) => {
                for (s, &day) in slots.iter_mut().zip(days) {
                    let offset = i64::from(day) - i64::from(self.lo);
                    *s = usize::try_from(offset).ok().and_then(|o| table.get(o)).map_or(0, |&b| u64::from(b));
                }
            }
        }
    }

    /// Counts the rows of `range`, a chunk at a time, in simple passes the compiler can keep
    /// branch-free: group slot per row, then validity (score, day, period), then each
    /// condition, then the counters.
    fn run_range<S: Sink>(
        &self,
        range: Range<usize>,
        slots: &mut [u64; CHUNK],
        selection: &mut [u16; CHUNK],
        sink: &mut S,
    ) {
        let (lo, hi, split) = (self.lo, self.hi, self.split);
        let groups = self.groups as u64;
        let bins = BINS as u64;
        let trash = self.trash();
        let mut start = range.start;
        while start < range.end {
            // A chunk never crosses a block, so the block's day bounds describe all its rows.
            let block = start / BLOCK_ROWS;
            if let Some(cell) = self.whole_block_cell(block, start, range.end)
                && let Some(hist) = self.block_hists.get(block)
            {
                sink.add_histogram(cell, hist);
                start = (block + 1) * BLOCK_ROWS;
                continue;
            }
            let end = (start + CHUNK).min((block + 1) * BLOCK_ROWS).min(range.end);
            let n = end - start;
            // When the whole block lies in the range and in one period, the days need not be
            // read at all (most blocks of most queries): only the period's cell offset.
            let day_free = self.blocks.get(block).and_then(|&(min, max)| {
                let inside = min >= lo && max <= hi;
                if inside && max < split {
                    Some(groups)
                } else if inside && min >= split {
                    Some(0)
                } else {
                    None
                }
            });
            let (Some(scores), Some(days)) = (self.scores.get(start..end), self.days.get(start..end)) else {
                return;
            };
            if !self.conditions.is_empty() {
                // Filtered scans: select the rows first, then compute and count only those.
                let kept = self.select(start, end, scores, selection);
                let kept = selection.get(..kept).unwrap_or_default();
                let slots = slots.get_mut(..kept.len()).unwrap_or_default();
                self.selected_slots(start..end, day_free, block, kept, scores, days, slots);
                sink.count(slots, trash);
                start = end;
                continue;
            }
            let slots = &mut slots[..n];
            match (day_free, self.group_by) {
                // The common case in one pass: whole block in one period, grouped by columns.
                (Some(offset), GroupBy::Nothing) => {
                    for (s, &score) in slots.iter_mut().zip(scores) {
                        *s = slot_of(0, offset, score, trash);
                    }
                }
                (Some(offset), GroupBy::Buckets(table)) if let Some(bucket) = self.same_bucket(table, block) => {
                    for (s, &score) in slots.iter_mut().zip(scores) {
                        *s = slot_of(bucket, offset, score, trash);
                    }
                }
                (Some(offset), GroupBy::One(c1)) => match c1.slice(start..end) {
                    Some(c1) => with_codes!(c1, |c1| {
                        for ((s, &score), &a) in slots.iter_mut().zip(scores).zip(c1) {
                            *s = slot_of(u64::from(a), offset, score, trash);
                        }
                    }),
                    None => slots.fill(trash),
                },
                (Some(offset), GroupBy::Two(c1, c2, card2)) => match (c1.slice(start..end), c2.slice(start..end)) {
                    (Some(c1), Some(c2)) => with_codes!(c1, |c1| with_codes!(c2, |c2| {
                        for (((s, &score), &a), &b) in slots.iter_mut().zip(scores).zip(c1).zip(c2) {
                            let group = u64::from(a).wrapping_mul(card2).wrapping_add(u64::from(b));
                            *s = slot_of(group, offset, score, trash);
                        }
                    })),
                    _ => slots.fill(trash),
                },
                (_, group_by) => {
                    self.fill_groups(group_by, start..end, days, slots);
                    // Branch-free: a row's slot becomes `trash` through a mask, so rows kept
                    // at random cost no mispredicted branches.
                    for ((s, &score), &day) in slots.iter_mut().zip(scores).zip(days) {
                        let valid = (score != NO_SCORE) & (day >= lo) & (day <= hi);
                        let cell = s.wrapping_add(groups * u64::from(day < split));
                        let slot = cell.wrapping_mul(bins).wrapping_add(u64::from(score));
                        let keep = u64::from(valid).wrapping_neg();
                        *s = (slot & keep) | (trash & !keep);
                    }
                }
            }
            sink.count(slots, trash);
            start = end;
        }
    }

    /// Counts `ranges` into `len` flat counters (the last [`TRASH_SLOTS`] for rows left out).
    fn count_flat(&self, ranges: &[Range<usize>], len: usize) -> Vec<u64> {
        let mut slots = [0u64; CHUNK];
        let mut selection = [0u16; CHUNK];
        if len <= MAX_LANE_COUNTERS {
            let mut lanes = Lanes::new(len);
            for range in ranges {
                self.run_range(range.clone(), &mut slots, &mut selection, &mut lanes);
            }
            lanes.fold()
        } else {
            let mut counts = vec![0u64; len];
            for range in ranges {
                self.run_range(range.clone(), &mut slots, &mut selection, &mut counts);
            }
            counts
        }
    }

    /// Runs the scan and returns the counters per cell.
    fn run(&self) -> Counters {
        let cells = self.groups.saturating_mul(self.periods);
        let ranges = self.ranges();
        if cells > MAX_FLAT_CELLS {
            let mut slots = [0u64; CHUNK];
            let mut selection = [0u16; CHUNK];
            let mut map = HashMap::new();
            for range in ranges {
                self.run_range(range, &mut slots, &mut selection, &mut map);
            }
            return Counters::Sparse(map);
        }
        // Extra counters for the rows left out.
        let len = cells * BINS + TRASH_SLOTS;
        let rows: usize = ranges.iter().map(|r| r.len()).sum();
        let threads = cores().min(MAX_THREADS).min(rows / MIN_ROWS_PER_THREAD).max(1);
        let mut total = if threads == 1 {
            self.count_flat(&ranges, len)
        } else {
            let parts = split_ranges(&ranges, threads);
            let partials: Vec<Vec<u64>> = std::thread::scope(|scope| {
                let handles: Vec<_> =
                    parts.iter().map(|part| scope.spawn(move || self.count_flat(part, len))).collect();
                handles.into_iter().filter_map(|h| h.join().ok()).collect()
            });
            let mut total = vec![0u64; len];
            for partial in partials {
                for (t, p) in total.iter_mut().zip(partial) {
                    *t += p;
                }
            }
            total
        };
        total.truncate(cells * BINS);
        Counters::Flat(total)
    }
}

/// The counter slot of a row of a chunk lying wholly in the range and in one period (`offset`
/// is that period's first cell): `(group + offset) × 11 + score`, or `trash` without a score.
#[inline(always)]
fn slot_of(group: u64, offset: u64, score: u8, trash: u64) -> u64 {
    let slot = group.wrapping_add(offset).wrapping_mul(BINS as u64).wrapping_add(u64::from(score));
    let keep = u64::from(score != NO_SCORE).wrapping_neg();
    (slot & keep) | (trash & !keep)
}

/// The cores available to this process, asked once (the answer reads cgroup files on Linux).
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Splits `ranges` into `parts` lists of about equal row counts.
fn split_ranges(ranges: &[Range<usize>], parts: usize) -> Vec<Vec<Range<usize>>> {
    let total: usize = ranges.iter().map(|r| r.len()).sum();
    let per_part = total.div_ceil(parts.max(1)).max(1);
    let mut out = vec![Vec::new()];
    let mut room = per_part;
    for range in ranges {
        let mut range = range.clone();
        while !range.is_empty() {
            if room == 0 {
                out.push(Vec::new());
                room = per_part;
            }
            let take = room.min(range.len());
            if let Some(last) = out.last_mut() {
                last.push(range.start..range.start + take);
            }
            range.start += take;
            room -= take;
        }
    }
    out
}

fn day_bounds(from: Option<NaiveDate>, to: Option<NaiveDate>) -> (i32, i32) {
    (from.map_or(i32::MIN, day_number), to.map_or(i32::MAX, day_number))
}

/// One group dimension of a query: its codes and dictionary, or nothing when the dimension is
/// an attribute never seen (every row then has it unknown, code 0).
struct GroupColumn<'a> {
    dimension: &'a Dimension,
    column: Option<&'a Column>,
}

impl GroupColumn<'_> {
    fn cardinality(&self) -> usize {
        self.column.map_or(1, |c| c.dict.cardinality())
    }

    fn value(&self, code: usize) -> Option<String> {
        let code = u32::try_from(code).ok()?;
        self.column?.dict.value(code).map(str::to_owned)
    }
}

/// Answers a metric query over one organisation (`None`: the organisation has no data).
pub(crate) fn metric(org: Option<&OrgIndex>, query: &MetricQuery) -> Result<MetricResult, QueryError> {
    query.validate()?;
    let empty_total = || result::cell(query.metric, &[0; BINS], query.compare_previous.then_some(&[0; BINS][..]));
    let empty = || MetricResult { metric: query.metric, total: empty_total(), groups: Vec::new(), truncated: false };
    let Some(org) = org else {
        return Ok(empty());
    };
    let Some(conditions) = conditions(org, &query.filters, &query.restrict, query.survey_id) else {
        return Ok(empty());
    };

    let (mut lo, hi) = day_bounds(query.from, query.to);
    let mut split = i32::MIN;
    let mut periods = 1;
    if query.compare_previous
        && let (Some(from), Some((prev_from, _))) = (query.from, query.previous_period())
    {
        split = day_number(from);
        lo = day_number(prev_from);
        periods = 2;
    }

    let group_columns: Vec<GroupColumn> =
        query.group_by.iter().map(|d| GroupColumn { dimension: d, column: org.column(d) }).collect();
    let card1 = group_columns.first().map_or(1, GroupColumn::cardinality);
    let card2 = group_columns.get(1).map_or(1, GroupColumn::cardinality);
    let groups = card1.saturating_mul(card2);

    let c1 = group_columns.first().and_then(|g| g.column);
    let c2 = group_columns.get(1).and_then(|g| g.column);
    let group_by = match (c1, c2) {
        (None, None) => GroupBy::Nothing,
        (Some(c), None) | (None, Some(c)) => GroupBy::One(&c.codes),
        (Some(c1), Some(c2)) => GroupBy::Two(&c1.codes, &c2.codes, card2 as u64),
    };
    let scan = Scan {
        scores: &org.scores[score_column(query.metric) as usize],
        days: &org.days,
        blocks: &org.blocks,
        block_hists: &org.block_hists[score_column(query.metric) as usize],
        conditions,
        group_by,
        lo,
        hi,
        split,
        groups,
        periods,
    };
    let counters = scan.run();

    let compare = periods == 2;
    let mut total_current = [0u64; BINS];
    let mut total_previous = [0u64; BINS];
    let mut out_groups = Vec::new();
    let mut visit = |group: usize| {
        let current = counters.histogram(group);
        let previous = if compare { counters.histogram(group + groups) } else { None };
        for (t, c) in total_current.iter_mut().zip(current.unwrap_or(&[])) {
            *t += c;
        }
        for (t, p) in total_previous.iter_mut().zip(previous.unwrap_or(&[])) {
            *t += p;
        }
        let Some(current) = current else { return };
        if group_columns.is_empty() || current.iter().all(|&c| c == 0) {
            return;
        }
        let empty = [0u64; BINS];
        let previous = compare.then(|| previous.unwrap_or(&empty));
        let key = match group_columns.as_slice() {
            [only] => vec![(only.dimension.clone(), only.value(group))],
            [first, second] => vec![
                (first.dimension.clone(), first.value(group / card2)),
                (second.dimension.clone(), second.value(group % card2)),
            ],
            _ => Vec::new(),
        };
        out_groups.push(Group { key: GroupKey(key), cell: result::cell(query.metric, current, previous) });
    };
    match &counters {
        Counters::Flat(_) => (0..groups).for_each(&mut visit),
        Counters::Sparse(map) => {
            let mut seen: Vec<usize> = map.keys().map(|&c| if c >= groups { c - groups } else { c }).collect();
            seen.sort_unstable();
            seen.dedup();
            seen.into_iter().for_each(&mut visit);
        }
    }

    out_groups.sort_by(|a, b| {
        b.cell.n.cmp(&a.cell.n).then_with(|| {
            let ka = a.key.0.iter().map(|(_, v)| (v.is_none(), v));
            let kb = b.key.0.iter().map(|(_, v)| (v.is_none(), v));
            ka.cmp(kb)
        })
    });
    let truncated = out_groups.len() > MAX_GROUPS;
    out_groups.truncate(MAX_GROUPS);
    Ok(MetricResult {
        metric: query.metric,
        total: result::cell(query.metric, &total_current, compare.then_some(&total_previous[..])),
        groups: out_groups,
        truncated,
    })
}

/// The buckets of a series over `lo..=hi` (day numbers): their start dates and a table giving
/// the bucket of each day `lo + i`.
fn buckets(interval: Interval, lo: i32, hi: i32) -> Result<(Vec<NaiveDate>, Vec<u32>), QueryError> {
    let (Some(first), Some(last)) = (day_date(lo), day_date(hi)) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let first_start = interval.bucket_start(first);
    let last_start = interval.bucket_start(last);
    let points = match interval {
        Interval::Day => (last - first).num_days() + 1,
        Interval::Week => (last_start - first_start).num_days() / 7 + 1,
        Interval::Month => {
            let months =
                |d: NaiveDate| i64::from(chrono::Datelike::year(&d)) * 12 + i64::from(chrono::Datelike::month0(&d));
            months(last_start) - months(first_start) + 1
        }
    };
    let points = usize::try_from(points).unwrap_or(usize::MAX);
    if points > MAX_SERIES_POINTS {
        return Err(QueryError::TooManyPoints { points });
    }
    let mut starts = Vec::with_capacity(points);
    let span = usize::try_from(i64::from(hi) - i64::from(lo) + 1).unwrap_or(0);
    let mut table = Vec::with_capacity(span);
    let mut start = first_start;
    while start <= last {
        let bucket = u32::try_from(starts.len()).unwrap_or(u32::MAX);
        starts.push(start);
        let next = interval.next_start(start);
        let end_day = next.map_or(hi, |n| day_number(n) - 1).min(hi);
        let begin_day = day_number(start).max(lo);
        for _ in begin_day..=end_day {
            table.push(bucket);
        }
        match next {
            Some(n) => start = n,
            None => break,
        }
    }
    Ok((starts, table))
}

/// Answers a series query over one organisation (`None`: the organisation has no data).
pub(crate) fn series(org: Option<&OrgIndex>, query: &SeriesQuery) -> Result<SeriesResult, QueryError> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(QueryError::InvalidRange { from, to });
    }
    let bounds = org.and_then(OrgIndex::day_bounds);
    let lo = query.from.map(day_number).or(bounds.map(|b| b.0));
    let hi = query.to.map(day_number).or(bounds.map(|b| b.1));
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(SeriesResult { metric: query.metric, interval: query.interval, points: Vec::new() });
    };
    if lo > hi {
        // Only one bound was given and it lies beyond all the data: an empty series.
        return Ok(SeriesResult { metric: query.metric, interval: query.interval, points: Vec::new() });
    }
    let (starts, table) = buckets(query.interval, lo, hi)?;
    let conditions = org.and_then(|org| conditions(org, &query.filters, &query.restrict, query.survey_id));
    let counters = match (org, conditions) {
        (Some(org), Some(conditions)) => {
            let scan = Scan {
                scores: &org.scores[score_column(query.metric) as usize],
                days: &org.days,
                blocks: &org.blocks,
                block_hists: &org.block_hists[score_column(query.metric) as usize],
                conditions,
                group_by: GroupBy::Buckets(&table),
                lo,
                hi,
                split: i32::MIN,
                groups: starts.len(),
                periods: 1,
            };
            Some(scan.run())
        }
        _ => None,
    };
    let empty = [0u64; BINS];
    let points = starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let hist = counters.as_ref().and_then(|c| c.histogram(i)).unwrap_or(&empty);
            result::point(query.metric, start, hist)
        })
        .collect();
    Ok(SeriesResult { metric: query.metric, interval: query.interval, points })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_ranges_balances_rows() {
        let parts = split_ranges(&[0..10, 20..30], 2);
        assert_eq!(parts, vec![vec![0..10], vec![20..30]]);
        let parts = split_ranges(&[Range { start: 0, end: 7 }], 2);
        assert_eq!(parts, vec![vec![0..4], vec![4..7]]);
    }

    #[test]
    fn month_buckets_cover_partial_months() {
        let d = |y, m, day| day_number(NaiveDate::from_ymd_opt(y, m, day).unwrap());
        let (starts, table) = buckets(Interval::Month, d(2026, 1, 15), d(2026, 3, 2)).unwrap();
        assert_eq!(starts.len(), 3);
        // 17 days of January (15–31), 28 of February, 2 of March.
        assert_eq!(table.len(), 17 + 28 + 2);
        assert_eq!(table.iter().filter(|&&b| b == 1).count(), 28);
        assert_eq!(table.last(), Some(&2));
    }

    #[test]
    fn too_many_points_is_refused() {
        let err = buckets(Interval::Day, 0, MAX_SERIES_POINTS as i32).unwrap_err();
        assert_eq!(err.code(), "too_many_points");
    }
}
