//! Metric definitions and their statistics, exactly as the public contract (API.md, "Metric
//! definitions (exact)") states them.
//!
//! Every metric is computed from *counts and sums* kept in small accumulators that merge, so the
//! same arithmetic serves one response, one dashboard cell and an index over millions of rows:
//! - [`NpsCounts`] for NPS (promoters, passives, detractors);
//! - [`ProportionCounts`] for CSAT, DSAT and CAdv (hits out of n, Wilson interval);
//! - [`MeanAccumulator`] for means such as CES (n, sum, sum of squares, Student's t interval),
//!   wrapped by [`CesAccumulator`] which also counts the "easy" answers (5–7).
//!
//! Each accumulator also tests a change against a previous period ([`Comparison`]): a z-test on
//! the difference of two NPS estimates, a two-proportion z-test, or Welch's t-test for means.
//! Values are never rounded here (rounding is for display only).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::erf::erfc;

use crate::survey::QuestionType;

/// The two-sided 95% quantile of the standard normal distribution, used by the Wilson interval.
pub const Z95: f64 = 1.959963984540054;

/// The significance level below which a change is reported as `significant`.
pub const SIGNIFICANCE_LEVEL: f64 = 0.05;

/// A metric computed from survey answers. Which question type feeds it is given by
/// [`MetricKind::question_type`] and the accepted scores by [`MetricKind::scale`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Net Promoter Score: 100 × (promoters − detractors) / n over `nps` answers 0–10.
    Nps,
    /// Customer satisfaction: 100 × share of 4–5 over `csat` answers 1–5.
    Csat,
    /// Dissatisfaction: 100 × share of 1–2 over the same `csat` answers 1–5.
    Dsat,
    /// Customer Effort Score: mean of `ces` answers 1–7 (plus the share of 5–7).
    Ces,
    /// Customer Advocacy: 100 × share of 4–5 over `cadv` answers 1–5.
    Cadv,
}

impl MetricKind {
    /// Every metric kind, in the order used in error messages and documentation.
    pub const ALL: [MetricKind; 5] =
        [MetricKind::Nps, MetricKind::Csat, MetricKind::Dsat, MetricKind::Ces, MetricKind::Cadv];

    /// The name used in the API (`nps`, `csat`, `dsat`, `ces`, `cadv`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Nps => "nps",
            MetricKind::Csat => "csat",
            MetricKind::Dsat => "dsat",
            MetricKind::Ces => "ces",
            MetricKind::Cadv => "cadv",
        }
    }

    /// The survey question type whose answers feed this metric (DSAT reads the CSAT question).
    pub fn question_type(self) -> QuestionType {
        match self {
            MetricKind::Nps => QuestionType::Nps,
            MetricKind::Csat | MetricKind::Dsat => QuestionType::Csat,
            MetricKind::Ces => QuestionType::Ces,
            MetricKind::Cadv => QuestionType::Cadv,
        }
    }

    /// The inclusive range of scores this metric's question accepts.
    pub fn scale(self) -> (u8, u8) {
        match self {
            MetricKind::Nps => (0, 10),
            MetricKind::Csat | MetricKind::Dsat | MetricKind::Cadv => (1, 5),
            MetricKind::Ces => (1, 7),
        }
    }

    /// Whether `score` is a valid answer for this metric's question.
    pub fn accepts(self, score: u8) -> bool {
        let (lo, hi) = self.scale();
        (lo..=hi).contains(&score)
    }

    /// For proportion metrics, whether a valid score counts as a hit (satisfied, dissatisfied,
    /// advocate); `None` for NPS and CES, which are not proportions.
    pub fn is_hit(self, score: u8) -> Option<bool> {
        match self {
            MetricKind::Csat | MetricKind::Cadv => Some(score >= 4),
            MetricKind::Dsat => Some(score <= 2),
            MetricKind::Nps | MetricKind::Ces => None,
        }
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A metric name that is not one of [`MetricKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric `{0}`: use one of nps, csat, dsat, ces, cadv")]
pub struct UnknownMetric(pub String);

impl FromStr for MetricKind {
    type Err = UnknownMetric;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MetricKind::ALL.into_iter().find(|kind| kind.as_str() == s).ok_or_else(|| UnknownMetric(s.to_owned()))
    }
}

/// A point estimate with its 95% confidence interval (`None` when it is undefined, e.g. a mean
/// over fewer than two answers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// The metric value (NPS points, a percentage, or a mean).
    pub value: f64,
    /// The 95% confidence interval `[lo, hi]`.
    pub ci95: Option<[f64; 2]>,
}

/// The change of a metric against a previous period and whether it is statistically significant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    /// Current value minus previous value, in the metric's own unit.
    pub change: f64,
    /// Two-sided p-value of the test; `None` when the test is undefined (a period with too few
    /// answers for the test, or a non-zero change between two periods without any variance).
    pub p_value: Option<f64>,
    /// `p_value < 0.05`; false when the p-value is undefined.
    pub significant: bool,
}

impl Comparison {
    fn from_test(change: f64, p_value: Option<f64>) -> Self {
        let p_value = p_value.filter(|p| p.is_finite()).map(|p| p.clamp(0.0, 1.0));
        Comparison { change, p_value, significant: p_value.is_some_and(|p| p < SIGNIFICANCE_LEVEL) }
    }

    /// A z-test of `change` with standard error `se`: p = 2(1 − Φ(|z|)) = erfc(|z| / √2).
    fn z_test(change: f64, se: f64) -> Self {
        let p_value = if se > 0.0 && se.is_finite() {
            Some(erfc((change / se).abs() / std::f64::consts::SQRT_2))
        } else if change == 0.0 {
            Some(1.0)
        } else {
            None
        };
        Comparison::from_test(change, p_value)
    }
}

/// Net Promoter counts from `nps` answers 0–10 (promoters 9–10, passives 7–8, detractors 0–6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpsCounts {
    /// Answers 9–10.
    pub promoters: u64,
    /// Answers 7–8.
    pub passives: u64,
    /// Answers 0–6.
    pub detractors: u64,
}

impl NpsCounts {
    /// Counts one answer; returns false (and counts nothing) for a score outside 0–10.
    pub fn add(&mut self, score: u8) -> bool {
        match score {
            0..=6 => self.detractors += 1,
            7..=8 => self.passives += 1,
            9..=10 => self.promoters += 1,
            _ => return false,
        }
        true
    }

    /// Adds another set of counts (e.g. another group or another shard of the data).
    pub fn merge(&mut self, other: &NpsCounts) {
        self.promoters += other.promoters;
        self.passives += other.passives;
        self.detractors += other.detractors;
    }

    /// The number of answers.
    pub fn n(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    /// Shares of promoters and detractors, or `None` when there are no answers.
    fn shares(&self) -> Option<(f64, f64, f64)> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let n = n as f64;
        Some((self.promoters as f64 / n, self.detractors as f64 / n, n))
    }

    /// Variance of the NPS estimate in NPS points², 100² × (p + d − (p − d)²) / n.
    fn variance(&self) -> Option<f64> {
        let (p, d, n) = self.shares()?;
        Some(10_000.0 * ((p + d - (p - d) * (p - d)).max(0.0)) / n)
    }

    /// NPS = 100 (p − d) with ci95 = value ± 196 √((p + d − (p − d)²) / n), clipped to
    /// [−100, 100]; `None` when n = 0.
    pub fn summary(&self) -> Option<Summary> {
        let (p, d, n) = self.shares()?;
        let value = 100.0 * (p - d);
        let half = 196.0 * ((p + d - (p - d) * (p - d)).max(0.0) / n).sqrt();
        Some(Summary { value, ci95: Some([(value - half).max(-100.0), (value + half).min(100.0)]) })
    }

    /// Change of NPS against `previous`, tested with a z-test on the difference of the two
    /// estimates (their variances summed). `None` when either period has no answers.
    pub fn compare(&self, previous: &NpsCounts) -> Option<Comparison> {
        let current = self.summary()?.value;
        let before = previous.summary()?.value;
        let se = (self.variance()? + previous.variance()?).sqrt();
        Some(Comparison::z_test(current - before, se))
    }
}

/// A proportion: `hits` out of `n` answers (CSAT, DSAT, CAdv), reported as a percentage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProportionCounts {
    /// Answers that count as a hit (e.g. 4–5 for CSAT).
    pub hits: u64,
    /// All answers.
    pub n: u64,
}

impl ProportionCounts {
    /// Counts one answer for `kind`; returns false (and counts nothing) when the score is
    /// outside the metric's scale or the metric is not a proportion.
    pub fn add(&mut self, kind: MetricKind, score: u8) -> bool {
        if !kind.accepts(score) {
            return false;
        }
        match kind.is_hit(score) {
            Some(hit) => {
                self.add_outcome(hit);
                true
            }
            None => false,
        }
    }

    /// Counts one answer whose outcome is already known.
    pub fn add_outcome(&mut self, hit: bool) {
        self.n += 1;
        self.hits += u64::from(hit);
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &ProportionCounts) {
        self.hits += other.hits;
        self.n += other.n;
    }

    /// 100 × hits / n with the Wilson score interval ×100 (z = [`Z95`]); `None` when n = 0.
    pub fn summary(&self) -> Option<Summary> {
        if self.n == 0 {
            return None;
        }
        let n = self.n as f64;
        let p = self.hits.min(self.n) as f64 / n;
        let z2 = Z95 * Z95;
        let denom = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / denom;
        let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        Some(Summary {
            value: 100.0 * p,
            ci95: Some([(100.0 * (centre - half)).max(0.0), (100.0 * (centre + half)).min(100.0)]),
        })
    }

    /// Change (in percentage points) against `previous`, tested with the pooled two-proportion
    /// z-test. `None` when either period has no answers.
    pub fn compare(&self, previous: &ProportionCounts) -> Option<Comparison> {
        if self.n == 0 || previous.n == 0 {
            return None;
        }
        let (n1, n0) = (self.n as f64, previous.n as f64);
        let (p1, p0) = (self.hits as f64 / n1, previous.hits as f64 / n0);
        let pooled = (self.hits + previous.hits) as f64 / (n1 + n0);
        let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0)).max(0.0).sqrt();
        let mut comparison = Comparison::z_test(p1 - p0, se);
        comparison.change *= 100.0;
        Some(comparison)
    }
}

/// Count, sum and sum of squares of numeric answers, enough for a mean, a standard deviation and
/// Student's t interval, and mergeable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MeanAccumulator {
    /// Number of values.
    pub n: u64,
    /// Sum of the values.
    pub sum: f64,
    /// Sum of the squared values.
    pub sum_sq: f64,
}

impl MeanAccumulator {
    /// Adds one value; non-finite values are ignored (returns false).
    pub fn add(&mut self, value: f64) -> bool {
        if !value.is_finite() {
            return false;
        }
        self.n += 1;
        self.sum += value;
        self.sum_sq += value * value;
        true
    }

    /// Adds `count` copies of `value` at once (used when reading a histogram of scores).
    pub fn add_many(&mut self, value: f64, count: u64) {
        if count == 0 || !value.is_finite() {
            return;
        }
        let c = count as f64;
        self.n += count;
        self.sum += value * c;
        self.sum_sq += value * value * c;
    }

    /// Adds another accumulator.
    pub fn merge(&mut self, other: &MeanAccumulator) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    /// The mean, or `None` when n = 0.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// The sample variance (divisor n − 1), or `None` when n < 2.
    pub fn sample_variance(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        Some(((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0))
    }

    /// The mean with mean ± t(0.975, n − 1) × s / √n; the interval is `None` when n < 2.
    /// `None` when n = 0.
    pub fn summary(&self) -> Option<Summary> {
        let value = self.mean()?;
        let ci95 = self.sample_variance().and_then(|var| {
            let t = t_quantile_975(self.n as f64 - 1.0)?;
            let half = t * (var / self.n as f64).sqrt();
            Some([value - half, value + half])
        });
        Some(Summary { value, ci95 })
    }

    /// Change of the mean against `previous`, tested with Welch's t-test (Welch–Satterthwaite
    /// degrees of freedom). `None` when either period has no values; the p-value is `None` when
    /// either period has fewer than two values.
    pub fn compare(&self, previous: &MeanAccumulator) -> Option<Comparison> {
        let change = self.mean()? - previous.mean()?;
        let p_value = match (self.sample_variance(), previous.sample_variance()) {
            (Some(v1), Some(v0)) => {
                let (a, b) = (v1 / self.n as f64, v0 / previous.n as f64);
                let se = (a + b).sqrt();
                if se > 0.0 {
                    let df = (a + b) * (a + b) / (a * a / (self.n as f64 - 1.0) + b * b / (previous.n as f64 - 1.0));
                    StudentsT::new(0.0, 1.0, df).ok().map(|t| 2.0 * t.sf((change / se).abs()))
                } else if change == 0.0 {
                    Some(1.0)
                } else {
                    None
                }
            }
            _ => None,
        };
        Some(Comparison::from_test(change, p_value))
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (`None` if df is not positive).
fn t_quantile_975(df: f64) -> Option<f64> {
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let t = dist.inverse_cdf(0.975);
    t.is_finite().then_some(t)
}

/// CES answers 1–7: their mean (with Student's t interval) and how many were "easy" (5–7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CesAccumulator {
    /// The mean of the answers.
    pub mean: MeanAccumulator,
    /// Answers 5–7.
    pub easy: u64,
}

impl CesAccumulator {
    /// Counts one answer; returns false (and counts nothing) for a score outside 1–7.
    pub fn add(&mut self, score: u8) -> bool {
        self.add_many(score, 1)
    }

    /// Counts `count` answers of the same score (used when reading a histogram).
    pub fn add_many(&mut self, score: u8, count: u64) -> bool {
        if !MetricKind::Ces.accepts(score) {
            return false;
        }
        self.mean.add_many(f64::from(score), count);
        if score >= 5 {
            self.easy += count;
        }
        true
    }

    /// Adds another accumulator.
    pub fn merge(&mut self, other: &CesAccumulator) {
        self.mean.merge(&other.mean);
        self.easy += other.easy;
    }

    /// The number of answers.
    pub fn n(&self) -> u64 {
        self.mean.n
    }

    /// The mean CES with its Student's t interval; `None` when n = 0.
    pub fn summary(&self) -> Option<Summary> {
        self.mean.summary()
    }

    /// 100 × share of answers 5–7; `None` when n = 0.
    pub fn share_easy(&self) -> Option<f64> {
        (self.mean.n > 0).then(|| 100.0 * self.easy as f64 / self.mean.n as f64)
    }

    /// Change of the mean against `previous` (Welch's t-test).
    pub fn compare(&self, previous: &CesAccumulator) -> Option<Comparison> {
        self.mean.compare(&previous.mean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "expected {expected}, got {actual}");
    }

    fn close_tol(actual: f64, expected: f64, tol: f64) {
        assert!((actual - expected).abs() < tol, "expected {expected} ± {tol}, got {actual}");
    }

    fn interval(summary: Summary) -> [f64; 2] {
        summary.ci95.expect("interval expected")
    }

    #[test]
    fn metric_kind_parses_and_prints() {
        for kind in MetricKind::ALL {
            assert_eq!(kind.as_str().parse::<MetricKind>(), Ok(kind));
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
        }
        let err = "NPS".parse::<MetricKind>().unwrap_err();
        assert_eq!(err, UnknownMetric("NPS".into()));
        assert!(err.to_string().contains("nps, csat, dsat, ces, cadv"));
        assert_eq!(MetricKind::Dsat.question_type(), QuestionType::Csat);
        assert_eq!(MetricKind::Nps.question_type(), QuestionType::Nps);
        assert_eq!(MetricKind::Ces.scale(), (1, 7));
        assert!(MetricKind::Nps.accepts(0));
        assert!(!MetricKind::Csat.accepts(0));
        assert!(!MetricKind::Cadv.accepts(6));
    }

    #[test]
    fn nps_counts_classify_scores_and_reject_out_of_range() {
        let mut c = NpsCounts::default();
        for s in 0..=10 {
            assert!(c.add(s));
        }
        assert!(!c.add(11));
        assert_eq!(c, NpsCounts { promoters: 2, passives: 2, detractors: 7 });
    }

    #[test]
    fn nps_value_and_interval_hand_computed() {
        // 5 promoters, 3 passives, 2 detractors, n = 10: p = 0.5, d = 0.2.
        // value = 100 × (0.5 − 0.2) = 30.
        // p + d − (p − d)² = 0.7 − 0.09 = 0.61; 0.61 / 10 = 0.061; √0.061 = 0.246981780704569;
        // half = 196 × 0.246981780704569 = 48.40842901809552 → [−18.40842901809552, 78.40842901809552].
        let c = NpsCounts { promoters: 5, passives: 3, detractors: 2 };
        let s = c.summary().unwrap();
        close(s.value, 30.0);
        let [lo, hi] = interval(s);
        close(lo, 30.0 - 196.0 * 0.061f64.sqrt());
        close_tol(lo, -18.408429018, 1e-8);
        close_tol(hi, 78.408429018, 1e-8);
    }

    #[test]
    fn nps_interval_is_clipped() {
        // 2 promoters, 1 detractor, n = 3: p = 2/3, d = 1/3, value = 100/3 = 33.333…
        // p + d − (p − d)² = 1 − 1/9 = 8/9; /3 = 8/27; √(8/27) = 0.5443310539518174;
        // half = 196 × 0.5443310539518174 = 106.68888657455621 → lo = −73.3555… (inside),
        // hi = 140.022… → clipped to 100.
        let c = NpsCounts { promoters: 2, passives: 0, detractors: 1 };
        let s = c.summary().unwrap();
        close(s.value, 100.0 / 3.0);
        let [lo, hi] = interval(s);
        close_tol(lo, 100.0 / 3.0 - 106.688886574556, 1e-8);
        close(hi, 100.0);
        // Clipped below too: 1 promoter, 2 detractors → value −33.33…, lo −140.02 → −100.
        let c = NpsCounts { promoters: 1, passives: 0, detractors: 2 };
        let [lo, hi] = interval(c.summary().unwrap());
        close(lo, -100.0);
        close_tol(hi, -100.0 / 3.0 + 106.688886574556, 1e-8);
    }

    #[test]
    fn nps_single_answer_and_empty() {
        // n = 1 promoter: p = 1, d = 0, value 100; p + d − (p − d)² = 1 − 1 = 0 → [100, 100].
        let mut c = NpsCounts::default();
        assert_eq!(c.summary(), None);
        c.add(10);
        let s = c.summary().unwrap();
        close(s.value, 100.0);
        assert_eq!(s.ci95, Some([100.0, 100.0]));
    }

    #[test]
    fn nps_merge_adds_counts() {
        let mut a = NpsCounts { promoters: 1, passives: 2, detractors: 3 };
        a.merge(&NpsCounts { promoters: 4, passives: 1, detractors: 0 });
        assert_eq!(a, NpsCounts { promoters: 5, passives: 3, detractors: 3 });
        assert_eq!(a.n(), 11);
    }

    #[test]
    fn wilson_interval_hand_computed() {
        // CSAT: 8 satisfied of 10, p̂ = 0.8, z = 1.959963984540054, z² = 3.841458820694124.
        // denom = 1 + z²/10 = 1.3841458820694124
        // centre = (0.8 + z²/20) / denom = (0.8 + 0.1920729410347062) / 1.3841458820694124
        //        = 0.9920729410347062 / 1.3841458820694124 = 0.716741965…
        // half = z / denom × √(0.8 × 0.2 / 10 + z²/400) = 1.415994… × √(0.016 + 0.009603647)
        //      = 1.415994… × 0.160011… = 0.226575…
        // → [49.016…, 94.331…] (%), the textbook Wilson interval for 8/10.
        let s = ProportionCounts { hits: 8, n: 10 }.summary().unwrap();
        close(s.value, 80.0);
        let [lo, hi] = interval(s);
        let z2 = Z95 * Z95;
        let denom = 1.0 + z2 / 10.0;
        let centre = (0.8 + z2 / 20.0) / denom;
        let half = Z95 / denom * (0.016 + z2 / 400.0f64).sqrt();
        close(lo, 100.0 * (centre - half));
        close(hi, 100.0 * (centre + half));
        close_tol(lo, 49.0162, 1e-4);
        close_tol(hi, 94.3318, 1e-4);
    }

    #[test]
    fn wilson_interval_extremes_and_empty() {
        // 0 of 1: p̂ = 0, denom = 1 + z² = 4.841458820694124, centre = (z²/2)/denom = 0.396725…,
        // half = z/denom × √(z²/4) = z²/(2 denom) = centre → [0, 2 × 0.396725…] = [0, 79.3451…].
        let s = ProportionCounts { hits: 0, n: 1 }.summary().unwrap();
        close(s.value, 0.0);
        let [lo, hi] = interval(s);
        close(lo, 0.0);
        let z2 = Z95 * Z95;
        close(hi, 100.0 * z2 / (1.0 + z2));
        close_tol(hi, 79.3451, 1e-4);
        assert_eq!(ProportionCounts::default().summary(), None);
    }

    #[test]
    fn proportion_add_uses_metric_definitions() {
        let mut csat = ProportionCounts::default();
        let mut dsat = ProportionCounts::default();
        for s in 1..=5 {
            assert!(csat.add(MetricKind::Csat, s));
            assert!(dsat.add(MetricKind::Dsat, s));
        }
        assert!(!csat.add(MetricKind::Csat, 6));
        assert!(!csat.add(MetricKind::Nps, 9));
        assert_eq!(csat, ProportionCounts { hits: 2, n: 5 }); // 4 and 5
        assert_eq!(dsat, ProportionCounts { hits: 2, n: 5 }); // 1 and 2
        let mut merged = csat;
        merged.merge(&dsat);
        assert_eq!(merged, ProportionCounts { hits: 4, n: 10 });
    }

    #[test]
    fn ces_mean_and_t_interval_hand_computed() {
        // Scores 4, 5, 6, 7, 3: n = 5, sum = 25, mean = 5, sum_sq = 16+25+36+49+9 = 135.
        // s² = (135 − 25²/5) / 4 = (135 − 125) / 4 = 2.5; se = √(2.5/5) = √0.5 = 0.7071067811865476
        // t(0.975, df 4) = 2.7764451051977934 (table value 2.776)
        // half = 2.7764451051977934 × 0.7071067811865476 = 1.9632431343707… → [3.03676, 6.96324]
        // share_easy = 100 × 3/5 (5, 6, 7) = 60.
        let mut c = CesAccumulator::default();
        for s in [4, 5, 6, 7, 3] {
            assert!(c.add(s));
        }
        assert!(!c.add(0));
        assert!(!c.add(8));
        assert_eq!(c.n(), 5);
        close(c.mean.sum, 25.0);
        close(c.mean.sum_sq, 135.0);
        let s = c.summary().unwrap();
        close(s.value, 5.0);
        let [lo, hi] = interval(s);
        let half = 2.776_445_105_197_793 * 0.5f64.sqrt();
        close_tol(lo, 5.0 - half, 1e-7);
        close_tol(hi, 5.0 + half, 1e-7);
        close_tol(hi, 6.963243, 1e-6);
        close(c.share_easy().unwrap(), 60.0);
    }

    #[test]
    fn ces_with_one_answer_has_no_interval_and_empty_has_no_value() {
        // n = 1: mean = the answer; df = 0 → no Student's t interval.
        let mut c = CesAccumulator::default();
        assert_eq!(c.summary(), None);
        assert_eq!(c.share_easy(), None);
        c.add(6);
        let s = c.summary().unwrap();
        close(s.value, 6.0);
        assert_eq!(s.ci95, None);
        close(c.share_easy().unwrap(), 100.0);
    }

    #[test]
    fn ces_two_answers_use_df_one() {
        // Scores 4, 6: mean 5, s² = (1 + 1)/1 = 2, se = √(2/2) = 1, t(0.975, 1) = 12.706204736…
        // → [5 − 12.7062047, 5 + 12.7062047] = [−7.7062047, 17.7062047] (not clipped).
        let mut c = CesAccumulator::default();
        c.add(4);
        c.add(6);
        let [lo, hi] = interval(c.summary().unwrap());
        close_tol(lo, -7.706_204_736_174_7, 1e-6);
        close_tol(hi, 17.706_204_736_174_7, 1e-6);
    }

    #[test]
    fn mean_accumulator_merge_equals_adding_all() {
        let mut a = MeanAccumulator::default();
        let mut b = MeanAccumulator::default();
        let mut all = MeanAccumulator::default();
        for v in [1.0, 2.0, 3.0] {
            a.add(v);
            all.add(v);
        }
        for v in [4.0, 5.0] {
            b.add(v);
            all.add(v);
        }
        assert!(!a.add(f64::NAN));
        a.merge(&b);
        assert_eq!(a, all);
        close(a.mean().unwrap(), 3.0);
        // s² = (55 − 225/5) / 4 = 10 / 4 = 2.5
        close(a.sample_variance().unwrap(), 2.5);
    }

    #[test]
    fn nps_change_significance_hand_computed() {
        // Current: 60 promoters, 20 passives, 20 detractors (n 100): p .6, d .2, NPS 40.
        //   var = 10⁴ × (0.8 − 0.16) / 100 = 64.
        // Previous: 40 / 30 / 30 (n 100): p .4, d .3, NPS 10.
        //   var = 10⁴ × (0.7 − 0.01) / 100 = 69.
        // change = 30; se = √(64 + 69) = √133 = 11.532562594670797; z = 2.6013299…
        // p = erfc(z/√2) = 0.0092863… (two-sided) → significant.
        let current = NpsCounts { promoters: 60, passives: 20, detractors: 20 };
        let previous = NpsCounts { promoters: 40, passives: 30, detractors: 30 };
        let c = current.compare(&previous).unwrap();
        close(c.change, 30.0);
        close_tol(c.p_value.unwrap(), 0.0092863, 1e-6);
        assert!(c.significant);
        assert_eq!(current.compare(&NpsCounts::default()), None);
    }

    #[test]
    fn nps_change_without_variance() {
        // Both periods all promoters: change 0, variances 0 → p = 1, not significant.
        let a = NpsCounts { promoters: 3, passives: 0, detractors: 0 };
        let c = a.compare(&a).unwrap();
        assert_eq!(c.p_value, Some(1.0));
        assert!(!c.significant);
        // All promoters versus all detractors: change 200, no variance → no p-value.
        let b = NpsCounts { promoters: 0, passives: 0, detractors: 1 };
        let c = a.compare(&b).unwrap();
        close(c.change, 200.0);
        assert_eq!(c.p_value, None);
        assert!(!c.significant);
    }

    #[test]
    fn two_proportion_test_hand_computed() {
        // 45/100 now versus 30/100 before: change = 15 points.
        // pooled = 75/200 = 0.375; se = √(0.375 × 0.625 × (1/100 + 1/100)) = √0.0046875
        //        = 0.06846531968814576; z = 0.15 / 0.068465… = 2.1908902300206643
        // p = erfc(2.19089/√2) = 0.028459… → significant.
        let c = ProportionCounts { hits: 45, n: 100 }.compare(&ProportionCounts { hits: 30, n: 100 }).unwrap();
        close(c.change, 15.0);
        close_tol(c.p_value.unwrap(), 0.028459, 1e-5);
        assert!(c.significant);
        // 11/20 versus 10/20: pooled .525, se = √(.525 × .475 × .1) = 0.15792…, z = .05/.15792
        // = 0.3166…, p = 0.7515… → not significant.
        let c = ProportionCounts { hits: 11, n: 20 }.compare(&ProportionCounts { hits: 10, n: 20 }).unwrap();
        close(c.change, 5.0);
        close_tol(c.p_value.unwrap(), 0.75153, 1e-4);
        assert!(!c.significant);
        assert_eq!(ProportionCounts::default().compare(&ProportionCounts { hits: 1, n: 1 }), None);
    }

    #[test]
    fn welch_test_hand_computed() {
        // Current 5, 6, 7: mean 6, s² = 1, n 3 → a = 1/3.
        // Previous 1, 2, 3, 4, 5: mean 3, s² = 2.5, n 5 → b = 0.5.
        // change = 3; se = √(1/3 + 1/2) = √0.833… = 0.9128709291752769; t = 3.2863353450309964
        // df = (0.8333…)² / ((1/3)²/2 + 0.5²/4) = 0.694444… / (0.0555… + 0.0625) = 5.8823529…
        // two-sided p = 2 × sf_t(3.2863, df 5.88) = 0.017178 (numerical integration) → significant.
        let mut current = MeanAccumulator::default();
        let mut previous = MeanAccumulator::default();
        for v in [5.0, 6.0, 7.0] {
            current.add(v);
        }
        for v in [1.0, 2.0, 3.0, 4.0, 5.0] {
            previous.add(v);
        }
        let c = current.compare(&previous).unwrap();
        close(c.change, 3.0);
        close_tol(c.p_value.unwrap(), 0.017178, 1e-5);
        assert!(c.significant);
        // A period with a single value: the change is known but not testable.
        let mut one = MeanAccumulator::default();
        one.add(4.0);
        let c = one.compare(&previous).unwrap();
        close(c.change, 1.0);
        assert_eq!(c.p_value, None);
        assert!(!c.significant);
        assert_eq!(MeanAccumulator::default().compare(&previous), None);
    }
}
