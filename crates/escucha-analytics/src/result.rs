//! Answers of the engine, serialized exactly in the shape of API.md:
//! `{metric, total{n, value, ci95, …counts}, groups[{key{dim: value}, n, value, ci95, …counts}]}`
//! and `{metric, interval, points[{start, n, value, ci95}]}`. Values are never rounded.

use chrono::NaiveDate;
use escucha_core::metrics::{CesAccumulator, MetricKind, NpsCounts, ProportionCounts, Summary};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::dimension::Dimension;
use crate::query::Interval;

/// Number of score bins kept per cell: scores 0–10 (the widest scale, NPS).
pub(crate) const BINS: usize = 11;

/// The answer to a [`crate::MetricQuery`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricResult {
    /// The metric computed.
    pub metric: MetricKind,
    /// Over every selected answer.
    pub total: Cell,
    /// One per combination of group values with n > 0, sorted by n descending, then key; at
    /// most [`crate::MAX_GROUPS`], the largest.
    pub groups: Vec<Group>,
    /// Whether groups beyond [`crate::MAX_GROUPS`] were left out (the total still counts
    /// them): group by a dimension with fewer values, or filter, to see them.
    pub truncated: bool,
}

/// One group of a grouped report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The group's value of each `by` dimension.
    pub key: GroupKey,
    /// The metric over the group.
    #[serde(flatten)]
    pub cell: Cell,
}

/// The values of the `by` dimensions for one group, in `by` order; `None` when the responses
/// do not carry that dimension. Serialized as an object `{"region": "north", "product": null}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupKey(pub Vec<(Dimension, Option<String>)>);

impl GroupKey {
    /// The value of `dimension` in this key (`None` when absent or unknown).
    pub fn get(&self, dimension: &Dimension) -> Option<&str> {
        self.0.iter().find(|(d, _)| d == dimension).and_then(|(_, v)| v.as_deref())
    }
}

impl Serialize for GroupKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (dimension, value) in &self.0 {
            map.serialize_entry(&dimension.to_string(), value)?;
        }
        map.end()
    }
}

/// A metric over one set of answers: its count, value, interval, the metric's own counts and,
/// when asked, the comparison with the previous period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// Number of answers to the metric's question.
    pub n: u64,
    /// The metric value; `null` when n = 0.
    pub value: Option<f64>,
    /// 95% confidence interval `[lo, hi]`; `null` when undefined (n = 0, or CES with n < 2).
    pub ci95: Option<[f64; 2]>,
    /// The metric's own counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// Present only with `compare=previous`.
    #[serde(flatten)]
    pub comparison: Option<PeriodComparison>,
}

/// The counts behind a value, named after the metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Counts {
    /// NPS: promoters (9–10), passives (7–8), detractors (0–6).
    Nps {
        /// Answers 9–10.
        promoters: u64,
        /// Answers 7–8.
        passives: u64,
        /// Answers 0–6.
        detractors: u64,
    },
    /// CSAT: answers 4–5.
    Csat {
        /// Answers 4–5.
        satisfied: u64,
    },
    /// DSAT: answers 1–2.
    Dsat {
        /// Answers 1–2.
        dissatisfied: u64,
    },
    /// CAdv: answers 4–5.
    Cadv {
        /// Answers 4–5.
        advocates: u64,
    },
    /// CES: 100 × share of answers 5–7 (`null` when n = 0).
    Ces {
        /// 100 × share of 5–7.
        share_easy: Option<f64>,
    },
}

/// The change against the period of equal length just before the queried one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PeriodComparison {
    /// The previous period's count and value.
    pub previous: PreviousPeriod,
    /// Value minus previous value; `null` when either has no answers.
    pub change: Option<f64>,
    /// Two-sided p-value of the change (see `escucha_core::metrics`); `null` when untestable.
    pub p_value: Option<f64>,
    /// `p_value < 0.05`.
    pub significant: bool,
}

/// Count and value of the previous period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PreviousPeriod {
    /// Number of answers.
    pub n: u64,
    /// The metric value; `null` when n = 0.
    pub value: Option<f64>,
}

/// The answer to a [`crate::SeriesQuery`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesResult {
    /// The metric computed.
    pub metric: MetricKind,
    /// The bucket width.
    pub interval: Interval,
    /// Every bucket from the first to the last, in order, empty ones included (n = 0,
    /// value `null`), so a chart's time axis has no holes.
    pub points: Vec<SeriesPoint>,
}

/// One bucket of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// The bucket's calendar start (the day, the week's Monday, the month's 1st), even when
    /// `from` cuts the first bucket short.
    pub start: NaiveDate,
    /// Number of answers.
    pub n: u64,
    /// The metric value; `null` when n = 0.
    pub value: Option<f64>,
    /// 95% confidence interval; `null` when undefined.
    pub ci95: Option<[f64; 2]>,
}

/// The accumulator of `metric` filled from a histogram of scores 0–10.
enum Acc {
    Nps(NpsCounts),
    Proportion(ProportionCounts),
    Ces(CesAccumulator),
}

impl Acc {
    fn from_histogram(metric: MetricKind, hist: &[u64]) -> Acc {
        match metric {
            MetricKind::Nps => {
                let mut c = NpsCounts::default();
                for (score, &count) in hist.iter().enumerate() {
                    match score {
                        0..=6 => c.detractors += count,
                        7..=8 => c.passives += count,
                        _ => c.promoters += count,
                    }
                }
                Acc::Nps(c)
            }
            MetricKind::Ces => {
                let mut c = CesAccumulator::default();
                for (score, &count) in hist.iter().enumerate() {
                    c.add_many(score as u8, count);
                }
                Acc::Ces(c)
            }
            MetricKind::Csat | MetricKind::Dsat | MetricKind::Cadv => {
                let mut c = ProportionCounts::default();
                for (score, &count) in hist.iter().enumerate() {
                    let score = score as u8;
                    if metric.accepts(score) {
                        c.n += count;
                        if metric.is_hit(score) == Some(true) {
                            c.hits += count;
                        }
                    }
                }
                Acc::Proportion(c)
            }
        }
    }

    fn n(&self) -> u64 {
        match self {
            Acc::Nps(c) => c.n(),
            Acc::Proportion(c) => c.n,
            Acc::Ces(c) => c.n(),
        }
    }

    fn summary(&self) -> Option<Summary> {
        match self {
            Acc::Nps(c) => c.summary(),
            Acc::Proportion(c) => c.summary(),
            Acc::Ces(c) => c.summary(),
        }
    }

    fn counts(&self, metric: MetricKind) -> Counts {
        match (self, metric) {
            (Acc::Nps(c), _) => Counts::Nps { promoters: c.promoters, passives: c.passives, detractors: c.detractors },
            (Acc::Ces(c), _) => Counts::Ces { share_easy: c.share_easy() },
            (Acc::Proportion(c), MetricKind::Dsat) => Counts::Dsat { dissatisfied: c.hits },
            (Acc::Proportion(c), MetricKind::Cadv) => Counts::Cadv { advocates: c.hits },
            (Acc::Proportion(c), _) => Counts::Csat { satisfied: c.hits },
        }
    }

    fn compare(&self, previous: &Acc) -> Option<escucha_core::metrics::Comparison> {
        match (self, previous) {
            (Acc::Nps(a), Acc::Nps(b)) => a.compare(b),
            (Acc::Proportion(a), Acc::Proportion(b)) => a.compare(b),
            (Acc::Ces(a), Acc::Ces(b)) => a.compare(b),
            _ => None,
        }
    }
}

/// The cell of `metric` for a histogram of current answers and, with a comparison, of the
/// previous period's answers.
pub(crate) fn cell(metric: MetricKind, current: &[u64], previous: Option<&[u64]>) -> Cell {
    let acc = Acc::from_histogram(metric, current);
    let summary = acc.summary();
    let comparison = previous.map(|hist| {
        let prev = Acc::from_histogram(metric, hist);
        let test = acc.compare(&prev);
        PeriodComparison {
            previous: PreviousPeriod { n: prev.n(), value: prev.summary().map(|s| s.value) },
            change: test.map(|t| t.change),
            p_value: test.and_then(|t| t.p_value),
            significant: test.is_some_and(|t| t.significant),
        }
    });
    Cell {
        n: acc.n(),
        value: summary.map(|s| s.value),
        ci95: summary.and_then(|s| s.ci95),
        counts: acc.counts(metric),
        comparison,
    }
}

/// The series point of `metric` for a histogram.
pub(crate) fn point(metric: MetricKind, start: NaiveDate, hist: &[u64]) -> SeriesPoint {
    let acc = Acc::from_histogram(metric, hist);
    let summary = acc.summary();
    SeriesPoint { start, n: acc.n(), value: summary.map(|s| s.value), ci95: summary.and_then(|s| s.ci95) }
}
