//! The columnar storage of one organisation's responses: dictionary-encoded dimension columns
//! (`u32` codes, 0 = not known, each column stored in the narrowest of `u8`/`u16`/`u32` that
//! holds its dictionary and widened when it grows), scores as `u8` with a sentinel for "not
//! answered", the UTC day as an `i32`, per-block day bounds (zone maps) to skip blocks outside a
//! date range, per-block score histograms to count whole blocks without reading them, and a
//! compact set of the sequence numbers already held (idempotent inserts).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::dimension::Dimension;
use crate::facts::ResponseFacts;
use crate::result::BINS;

/// Score sentinel: the question was not answered (or the answer was out of its scale).
pub(crate) const NO_SCORE: u8 = u8::MAX;

/// Rows per block of the zone map.
pub(crate) const BLOCK_ROWS: usize = 4096;

/// Most attribute columns (`attr.NAME`) kept per organisation; attributes with further names
/// are not indexed (they cannot be grouped or filtered by), which bounds memory per row.
pub const MAX_ATTRIBUTE_COLUMNS: usize = 64;

/// Number of fixed context columns (region … language, owner).
pub(crate) const CONTEXT_COLUMNS: usize = 10;

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// The day number (days since 1970-01-01) of a date.
pub(crate) fn day_number(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - EPOCH_DAYS_FROM_CE
}

/// The date of a day number (`None` outside chrono's calendar).
pub(crate) fn day_date(day: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(day.checked_add(EPOCH_DAYS_FROM_CE)?)
}

/// Which score column a metric reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScoreColumn {
    Nps = 0,
    Csat = 1,
    Ces = 2,
    Cadv = 3,
}

/// Distinct values of one column; code 0 means "not known", value `i` has code `i + 1`.
#[derive(Debug, Default)]
pub(crate) struct Dictionary {
    values: Vec<Box<str>>,
    lookup: HashMap<Box<str>, u32>,
}

impl Dictionary {
    /// The code of `value`, adding it when new (0 for an empty value, or if the code space
    /// were ever exhausted).
    fn code_or_insert(&mut self, value: &str) -> u32 {
        if value.is_empty() {
            return 0;
        }
        if let Some(&code) = self.lookup.get(value) {
            return code;
        }
        let Ok(code) = u32::try_from(self.values.len() + 1) else {
            return 0;
        };
        if code == u32::MAX {
            return 0;
        }
        self.values.push(value.into());
        self.lookup.insert(value.into(), code);
        code
    }

    /// The code of an existing value.
    pub(crate) fn code(&self, value: &str) -> Option<u32> {
        self.lookup.get(value).copied()
    }

    /// The value of a code (`None` for 0 or an unknown code).
    pub(crate) fn value(&self, code: u32) -> Option<&str> {
        let index = usize::try_from(code).ok()?.checked_sub(1)?;
        self.values.get(index).map(|v| &**v)
    }

    /// Number of codes in use, including 0.
    pub(crate) fn cardinality(&self) -> usize {
        self.values.len() + 1
    }

    fn memory_bytes(&self) -> usize {
        let strings: usize = self.values.iter().map(|v| 2 * v.len()).sum();
        strings
            + self.values.capacity() * std::mem::size_of::<Box<str>>()
            + self.lookup.capacity() * (std::mem::size_of::<(Box<str>, u32)>() + 1)
    }
}

/// The codes of a column, stored in the narrowest width that holds every code so far: most
/// dimensions have fewer than 256 values, so a row costs one byte per dimension instead of four
/// (less memory, and scans read a quarter of the bytes). Widened in place, once, when a code no
/// longer fits.
#[derive(Debug)]
pub(crate) enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Default for Codes {
    fn default() -> Self {
        Codes::U8(Vec::new())
    }
}

/// A borrowed run of codes of one width.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CodeSlice<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
}

impl Codes {
    /// `len` codes 0 with room for `capacity`.
    fn zeros(len: usize, capacity: usize) -> Codes {
        let mut codes = Vec::with_capacity(capacity.max(len));
        codes.resize(len, 0u8);
        Codes::U8(codes)
    }

    /// Appends a code, widening the storage first when it does not fit.
    fn push(&mut self, code: u32) {
        match self {
            Codes::U8(v) => match u8::try_from(code) {
                Ok(c) => v.push(c),
                Err(_) => {
                    self.widen(code);
                    self.push(code);
                }
            },
            Codes::U16(v) => match u16::try_from(code) {
                Ok(c) => v.push(c),
                Err(_) => {
                    self.widen(code);
                    self.push(code);
                }
            },
            Codes::U32(v) => v.push(code),
        }
    }

    /// Re-stores the codes in a width that holds `code` (keeping the capacity).
    fn widen(&mut self, code: u32) {
        let wide = |len: usize, cap: usize| cap.max(len);
        *self = match self {
            Codes::U8(v) if code <= u32::from(u16::MAX) => {
                let mut w = Vec::with_capacity(wide(v.len(), v.capacity()));
                w.extend(v.iter().map(|&c| u16::from(c)));
                Codes::U16(w)
            }
            Codes::U8(v) => {
                let mut w = Vec::with_capacity(wide(v.len(), v.capacity()));
                w.extend(v.iter().map(|&c| u32::from(c)));
                Codes::U32(w)
            }
            Codes::U16(v) => {
                let mut w = Vec::with_capacity(wide(v.len(), v.capacity()));
                w.extend(v.iter().map(|&c| u32::from(c)));
                Codes::U32(w)
            }
            Codes::U32(v) => Codes::U32(std::mem::take(v)),
        };
    }

    fn reserve_exact(&mut self, additional: usize) {
        match self {
            Codes::U8(v) => v.reserve_exact(additional),
            Codes::U16(v) => v.reserve_exact(additional),
            Codes::U32(v) => v.reserve_exact(additional),
        }
    }

    /// Number of codes.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        match self {
            Codes::U8(v) => v.len(),
            Codes::U16(v) => v.len(),
            Codes::U32(v) => v.len(),
        }
    }

    /// The code of a row (0 past the end).
    #[cfg(test)]
    pub(crate) fn get(&self, row: usize) -> u32 {
        match self {
            Codes::U8(v) => v.get(row).map_or(0, |&c| u32::from(c)),
            Codes::U16(v) => v.get(row).map_or(0, |&c| u32::from(c)),
            Codes::U32(v) => v.get(row).copied().unwrap_or(0),
        }
    }

    /// The codes of `rows` (`None` if out of bounds).
    pub(crate) fn slice(&self, rows: std::ops::Range<usize>) -> Option<CodeSlice<'_>> {
        match self {
            Codes::U8(v) => v.get(rows).map(CodeSlice::U8),
            Codes::U16(v) => v.get(rows).map(CodeSlice::U16),
            Codes::U32(v) => v.get(rows).map(CodeSlice::U32),
        }
    }

    fn memory_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.capacity(),
            Codes::U16(v) => v.capacity() * 2,
            Codes::U32(v) => v.capacity() * 4,
        }
    }
}

/// A dictionary-encoded column.
#[derive(Debug, Default)]
pub(crate) struct Column {
    pub(crate) codes: Codes,
    pub(crate) dict: Dictionary,
}

impl Column {
    fn push(&mut self, value: Option<&str>) {
        let code = value.map_or(0, |v| self.dict.code_or_insert(v));
        self.codes.push(code);
    }

    fn memory_bytes(&self) -> usize {
        self.codes.memory_bytes() + self.dict.memory_bytes()
    }
}

/// A set of sequence numbers, compact for the dense, mostly increasing sequences a store
/// produces: per 65,536 consecutive numbers, a sorted list of 16-bit offsets while sparse and a
/// bitmap (8 KiB) once dense (the idea of roaring bitmaps).
#[derive(Debug, Default)]
pub(crate) struct SeqSet {
    chunks: HashMap<i64, Chunk>,
}

#[derive(Debug)]
enum Chunk {
    Sparse(Vec<u16>),
    Dense(Box<[u64; 1024]>),
}

/// A sparse chunk becomes a bitmap past this many entries (where both take 8 KiB).
const SPARSE_MAX: usize = 4096;

impl SeqSet {
    /// Adds `seq`; false when it was already there.
    pub(crate) fn insert(&mut self, seq: i64) -> bool {
        let high = seq >> 16;
        let low = (seq & 0xFFFF) as u16;
        let chunk = self.chunks.entry(high).or_insert_with(|| Chunk::Sparse(Vec::new()));
        match chunk {
            Chunk::Sparse(list) => {
                if list.last().is_none_or(|&last| last < low) {
                    list.push(low);
                } else {
                    match list.binary_search(&low) {
                        Ok(_) => return false,
                        Err(at) => list.insert(at, low),
                    }
                }
                if list.len() > SPARSE_MAX {
                    let mut bits = Box::new([0u64; 1024]);
                    for &v in list.iter() {
                        bits[usize::from(v >> 6)] |= 1 << (v & 63);
                    }
                    *chunk = Chunk::Dense(bits);
                }
                true
            }
            Chunk::Dense(bits) => {
                let word = &mut bits[usize::from(low >> 6)];
                let mask = 1u64 << (low & 63);
                let fresh = *word & mask == 0;
                *word |= mask;
                fresh
            }
        }
    }

    fn memory_bytes(&self) -> usize {
        let chunks: usize = self
            .chunks
            .values()
            .map(|c| match c {
                Chunk::Sparse(list) => list.capacity() * 2,
                Chunk::Dense(_) => 8192,
            })
            .sum();
        chunks + self.chunks.capacity() * (std::mem::size_of::<(i64, Chunk)>() + 1)
    }
}

/// Everything the index holds for one organisation.
#[derive(Debug, Default)]
pub(crate) struct OrgIndex {
    seen: SeqSet,
    /// Day number (UTC) of each row.
    pub(crate) days: Vec<i32>,
    /// `(min, max)` day of each block of [`BLOCK_ROWS`] rows.
    pub(crate) blocks: Vec<(i32, i32)>,
    /// Per score column, the histogram of scores 0–10 of each block: a whole block inside a
    /// query's range, unfiltered and in one cell, is counted from it without reading its rows.
    pub(crate) block_hists: [Vec<[u32; BINS]>; 4],
    /// Survey ids, as decimal strings.
    pub(crate) survey: Column,
    survey_codes: HashMap<i64, u32>,
    /// Region, product, channel, team, employee, touchpoint, journey stage, segment, language.
    pub(crate) context: [Column; CONTEXT_COLUMNS],
    /// `attr.NAME` columns, created when a name is first seen (earlier rows get code 0).
    pub(crate) attrs: Vec<(String, Column)>,
    /// Scores of the NPS, CSAT, CES and CAdv questions, [`NO_SCORE`] when not answered.
    pub(crate) scores: [Vec<u8>; 4],
}

fn valid_score(score: Option<u8>, lo: u8, hi: u8) -> u8 {
    match score {
        Some(s) if (lo..=hi).contains(&s) => s,
        _ => NO_SCORE,
    }
}

impl OrgIndex {
    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.days.len()
    }

    /// Appends a response; false (and nothing changes) when its `seq` is already held.
    pub(crate) fn insert(&mut self, facts: &ResponseFacts) -> bool {
        if !self.seen.insert(facts.seq) {
            return false;
        }
        self.reserve_row();
        let row = self.days.len();
        let day = day_number(facts.submitted_at.date_naive());
        self.days.push(day);
        if row.is_multiple_of(BLOCK_ROWS) {
            self.blocks.push((day, day));
        } else if let Some(block) = self.blocks.last_mut() {
            block.0 = block.0.min(day);
            block.1 = block.1.max(day);
        }

        let survey_code = match self.survey_codes.get(&facts.survey_id) {
            Some(&code) => code,
            None => {
                let code = self.survey.dict.code_or_insert(&facts.survey_id.to_string());
                self.survey_codes.insert(facts.survey_id, code);
                code
            }
        };
        self.survey.codes.push(survey_code);

        let context = [
            &facts.region,
            &facts.product,
            &facts.channel,
            &facts.team,
            &facts.employee,
            &facts.touchpoint,
            &facts.journey_stage,
            &facts.segment,
            &facts.language,
            &facts.owner,
        ];
        for (column, value) in self.context.iter_mut().zip(context) {
            column.push(value.as_deref());
        }

        for (name, _) in &facts.attributes {
            let known = self.attrs.iter().any(|(n, _)| n == name);
            if !known && self.attrs.len() < MAX_ATTRIBUTE_COLUMNS && !name.is_empty() {
                let column = Column { codes: Codes::zeros(row, self.days.capacity()), dict: Dictionary::default() };
                self.attrs.push((name.clone(), column));
            }
        }
        for (name, column) in &mut self.attrs {
            let value = facts.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            column.push(value);
        }

        let scores = [
            valid_score(facts.nps, 0, 10),
            valid_score(facts.csat, 1, 5),
            valid_score(facts.ces, 1, 7),
            valid_score(facts.cadv, 1, 5),
        ];
        let new_block = row.is_multiple_of(BLOCK_ROWS);
        for ((column, hists), score) in self.scores.iter_mut().zip(self.block_hists.iter_mut()).zip(scores) {
            column.push(score);
            if new_block {
                hists.push([0; BINS]);
            }
            if let Some(count) = hists.last_mut().and_then(|h| h.get_mut(usize::from(score))) {
                *count += 1;
            }
        }
        true
    }

    /// Makes room for one more row in every column at once, growing by a quarter (at least a
    /// block) rather than doubling: at most ~25% slack instead of up to 100% for the columns
    /// that make up nearly all of the index's memory.
    fn reserve_row(&mut self) {
        if self.days.len() < self.days.capacity() {
            return;
        }
        let extra = (self.days.len() / 4).max(BLOCK_ROWS);
        self.days.reserve_exact(extra);
        self.survey.codes.reserve_exact(extra);
        for column in &mut self.context {
            column.codes.reserve_exact(extra);
        }
        for (_, column) in &mut self.attrs {
            column.codes.reserve_exact(extra);
        }
        for scores in &mut self.scores {
            scores.reserve_exact(extra);
        }
    }

    /// The column of a dimension (`None` for an attribute never seen).
    pub(crate) fn column(&self, dimension: &Dimension) -> Option<&Column> {
        match dimension {
            Dimension::Survey => Some(&self.survey),
            Dimension::Attr(name) => self.attrs.iter().find(|(n, _)| n == name).map(|(_, c)| c),
            fixed => fixed.context_slot().and_then(|slot| self.context.get(slot)),
        }
    }

    /// Earliest and latest day held.
    pub(crate) fn day_bounds(&self) -> Option<(i32, i32)> {
        let lo = self.blocks.iter().map(|b| b.0).min()?;
        let hi = self.blocks.iter().map(|b| b.1).max()?;
        Some((lo, hi))
    }

    /// Approximate heap bytes held (vectors by capacity, dictionaries, the sequence set).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.seen.memory_bytes()
            + self.days.capacity() * 4
            + self.blocks.capacity() * 8
            + self.block_hists.iter().map(|h| h.capacity() * 4 * BINS).sum::<usize>()
            + self.survey.memory_bytes()
            + self.survey_codes.capacity() * 13
            + self.context.iter().map(Column::memory_bytes).sum::<usize>()
            + self.attrs.iter().map(|(n, c)| n.len() + c.memory_bytes()).sum::<usize>()
            + self.scores.iter().map(Vec::capacity).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_set_handles_duplicates_out_of_order_and_densification() {
        let mut set = SeqSet::default();
        assert!(set.insert(10));
        assert!(set.insert(5));
        assert!(!set.insert(10));
        assert!(!set.insert(5));
        assert!(set.insert(-3));
        assert!(!set.insert(-3));
        // Fill one chunk past the sparse limit, then check membership still holds.
        for seq in 100_000..100_000 + SPARSE_MAX as i64 + 10 {
            assert!(set.insert(seq));
        }
        assert!(!set.insert(100_000));
        assert!(!set.insert(100_000 + SPARSE_MAX as i64 + 9));
        assert!(set.insert(100_000 + SPARSE_MAX as i64 + 10));
    }

    #[test]
    fn day_numbers_round_trip() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        assert_eq!(day_number(epoch), 0);
        let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(day_date(day_number(d)), Some(d));
        assert_eq!(day_date(i32::MAX), None);
    }

    #[test]
    fn codes_widen_when_a_code_does_not_fit() {
        let mut codes = Codes::zeros(3, 8);
        codes.push(7);
        assert!(matches!(codes, Codes::U8(_)));
        codes.push(300);
        assert!(matches!(codes, Codes::U16(_)));
        codes.push(70_000);
        assert!(matches!(codes, Codes::U32(_)));
        codes.push(1);
        assert_eq!(codes.len(), 7);
        let all: Vec<u32> = (0..7).map(|row| codes.get(row)).collect();
        assert_eq!(all, vec![0, 0, 0, 7, 300, 70_000, 1]);
        // Straight from u8 to u32.
        let mut codes = Codes::default();
        codes.push(5);
        codes.push(u32::MAX - 1);
        assert!(matches!(codes, Codes::U32(_)));
        assert_eq!(codes.get(0), 5);
        assert!(matches!(codes.slice(0..2), Some(CodeSlice::U32(&[5, _]))));
        assert!(codes.slice(1..3).is_none());
    }

    #[test]
    fn dictionary_codes_start_at_one() {
        let mut dict = Dictionary::default();
        assert_eq!(dict.code_or_insert("north"), 1);
        assert_eq!(dict.code_or_insert("south"), 2);
        assert_eq!(dict.code_or_insert("north"), 1);
        assert_eq!(dict.code_or_insert(""), 0);
        assert_eq!(dict.value(2), Some("south"));
        assert_eq!(dict.value(0), None);
        assert_eq!(dict.value(9), None);
        assert_eq!(dict.cardinality(), 3);
    }
}
