//! Queries as data: what a metric report asks for, parsed from the HTTP query string of
//! `GET /api/v1/metrics` and `GET /api/v1/metrics/series`, and the caller errors they can raise.

use chrono::{Datelike, NaiveDate};
use escucha_core::metrics::MetricKind;
use serde::Serialize;

use crate::dimension::Dimension;

/// Most dimensions a metric can be grouped by at once.
pub const MAX_GROUP_DIMENSIONS: usize = 2;

/// Most groups a metric report returns: the largest by n; the rest are left out and the result
/// says so (`truncated`), which bounds the answer of a group-by over a dimension with a value per
/// customer.
pub const MAX_GROUPS: usize = 10_000;

/// Most points a series may have (e.g. 27 years of days); more is refused rather than computed.
pub const MAX_SERIES_POINTS: usize = 10_000;

const METRICS_LIST: &str = "nps, csat, dsat, ces, cadv";
const DIMENSIONS_LIST: &str = "region, product, channel, team, employee, touchpoint, \
     journey_stage, segment, language, survey, attr.NAME";

/// A caller error in a metric query. Every variant has a stable snake_case [`QueryError::code`]
/// for the API's error body, and a message that says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// No `metric` parameter.
    #[error("the `metric` parameter is required: use one of {METRICS_LIST}")]
    MissingMetric,
    /// `metric` is not a known metric.
    #[error("unknown metric `{value}`: use one of {METRICS_LIST}")]
    UnknownMetric {
        /// What was given.
        value: String,
    },
    /// A dimension in `by`, `filter[…]` or a restriction is not known.
    #[error("unknown dimension `{value}`: use one of {DIMENSIONS_LIST}")]
    UnknownDimension {
        /// What was given.
        value: String,
    },
    /// More than [`MAX_GROUP_DIMENSIONS`] dimensions in `by`.
    #[error("`by` lists {count} dimensions: group by at most 2 (e.g. by=region,product)")]
    TooManyDimensions {
        /// How many were given.
        count: usize,
    },
    /// `from` or `to` is not a `YYYY-MM-DD` date.
    #[error("`{param}` must be a date written YYYY-MM-DD, not `{value}`")]
    InvalidDate {
        /// `from` or `to`.
        param: String,
        /// What was given.
        value: String,
    },
    /// `from` is after `to`.
    #[error("`from` ({from}) is after `to` ({to}): both are inclusive days, give from <= to")]
    InvalidRange {
        /// The start given.
        from: NaiveDate,
        /// The end given.
        to: NaiveDate,
    },
    /// `interval` is not `day`, `week` or `month`.
    #[error("unknown interval `{value}`: use day, week (ISO, starting Monday) or month")]
    UnknownInterval {
        /// What was given.
        value: String,
    },
    /// A series would have more than [`MAX_SERIES_POINTS`] points.
    #[error(
        "the series would have {points} points, more than {MAX_SERIES_POINTS}: \
         narrow from/to or use a longer interval"
    )]
    TooManyPoints {
        /// How many points the request would produce.
        points: usize,
    },
    /// A parameter this endpoint does not know.
    #[error("unknown parameter `{name}`: this endpoint takes {accepted}")]
    UnknownParameter {
        /// The parameter name.
        name: String,
        /// The parameters the endpoint accepts.
        accepted: &'static str,
    },
    /// A known parameter with a value that cannot be used (or given twice).
    #[error("invalid `{name}`: {message}")]
    InvalidParameter {
        /// The parameter name.
        name: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl QueryError {
    /// The stable snake_case code of this error, for `{"error":{"code":…}}`.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::MissingMetric => "missing_metric",
            QueryError::UnknownMetric { .. } => "unknown_metric",
            QueryError::UnknownDimension { .. } => "unknown_dimension",
            QueryError::TooManyDimensions { .. } => "too_many_dimensions",
            QueryError::InvalidDate { .. } => "invalid_date",
            QueryError::InvalidRange { .. } => "invalid_range",
            QueryError::UnknownInterval { .. } => "unknown_interval",
            QueryError::TooManyPoints { .. } => "too_many_points",
            QueryError::UnknownParameter { .. } => "unknown_parameter",
            QueryError::InvalidParameter { .. } => "invalid_parameter",
        }
    }

    /// The query parameter the error is about (`metric`, `by`, `filter[region]`, …), for the
    /// `details` of an API error; `None` when the error is about the query as a whole.
    pub fn parameter(&self) -> Option<&str> {
        match self {
            QueryError::MissingMetric | QueryError::UnknownMetric { .. } => Some("metric"),
            QueryError::TooManyDimensions { .. } => Some("by"),
            QueryError::InvalidDate { param, .. } => Some(param),
            QueryError::InvalidRange { .. } => Some("from"),
            QueryError::UnknownInterval { .. } => Some("interval"),
            QueryError::UnknownParameter { name, .. } | QueryError::InvalidParameter { name, .. } => Some(name),
            QueryError::UnknownDimension { .. } | QueryError::TooManyPoints { .. } => None,
        }
    }

    fn invalid(name: &str, message: impl Into<String>) -> Self {
        QueryError::InvalidParameter { name: name.to_owned(), message: message.into() }
    }
}

/// A metric report: which metric, grouped how, over which answers. Built by
/// [`MetricQuery::from_params`] from the HTTP query, or directly in code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// The metric to compute.
    pub metric: MetricKind,
    /// Dimensions to group by (at most [`MAX_GROUP_DIMENSIONS`]); empty for the total only.
    pub group_by: Vec<Dimension>,
    /// `filter[DIM]=VALUE`: filters on different dimensions must all hold; several values for
    /// the same dimension mean "any of them".
    pub filters: Vec<(Dimension, String)>,
    /// Data-scope restriction of the caller: every entry must hold (AND), each an IN-list.
    /// Never parsed from the query string; the server sets it from the caller's scope.
    pub restrict: Vec<(Dimension, Vec<String>)>,
    /// First day, inclusive (UTC).
    pub from: Option<NaiveDate>,
    /// Last day, inclusive (UTC).
    pub to: Option<NaiveDate>,
    /// Only answers to this survey.
    pub survey_id: Option<i64>,
    /// Also compute the previous period of equal length (needs `from` and `to`) and the change.
    pub compare_previous: bool,
}

impl MetricQuery {
    /// A query for the total of `metric` over everything.
    pub fn new(metric: MetricKind) -> Self {
        MetricQuery {
            metric,
            group_by: Vec::new(),
            filters: Vec::new(),
            restrict: Vec::new(),
            from: None,
            to: None,
            survey_id: None,
            compare_previous: false,
        }
    }

    /// Parses the query string of `GET /api/v1/metrics`: `metric` (required), `by` (comma
    /// list), `from`, `to`, `survey_id`, `filter[DIM]=VALUE` (repeatable), `compare=previous`.
    /// Unknown or repeated parameters are errors.
    pub fn from_params(params: &[(String, String)]) -> Result<MetricQuery, QueryError> {
        let common = Common::parse(params, Endpoint::Metrics)?;
        let query = MetricQuery {
            metric: common.metric,
            group_by: common.group_by,
            filters: common.filters,
            restrict: Vec::new(),
            from: common.from,
            to: common.to,
            survey_id: common.survey_id,
            compare_previous: common.compare_previous,
        };
        query.validate()?;
        Ok(query)
    }

    /// Checks what the type cannot: at most two group dimensions, `from <= to`, and a full
    /// range when comparing with the previous period. [`crate::AnalyticsIndex::query`] calls it.
    pub fn validate(&self) -> Result<(), QueryError> {
        if self.group_by.len() > MAX_GROUP_DIMENSIONS {
            return Err(QueryError::TooManyDimensions { count: self.group_by.len() });
        }
        for (i, d) in self.group_by.iter().enumerate() {
            if self.group_by[..i].contains(d) {
                return Err(QueryError::invalid("by", format!("`{d}` is listed twice: list each dimension once")));
            }
        }
        check_range(self.from, self.to)?;
        if self.compare_previous && (self.from.is_none() || self.to.is_none()) {
            return Err(QueryError::invalid(
                "compare",
                "compare=previous needs both `from` and `to`, which define the period \
                 compared with the one of equal length just before it",
            ));
        }
        Ok(())
    }

    /// The period of equal length just before `from..=to`, when both are set.
    pub fn previous_period(&self) -> Option<(NaiveDate, NaiveDate)> {
        previous_period(self.from?, self.to?)
    }
}

/// The period of the same number of days just before `from..=to` (`None` if out of the
/// calendar's range).
pub fn previous_period(from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let days = (to - from).num_days() + 1;
    let prev_to = from.pred_opt()?;
    let prev_from = from.checked_sub_signed(chrono::Duration::try_days(days)?)?;
    Some((prev_from, prev_to))
}

/// The bucket width of a time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// One UTC day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
}

impl Interval {
    /// The API name (`day`, `week`, `month`).
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// Parses an API name.
    pub fn parse(raw: &str) -> Result<Interval, QueryError> {
        match raw {
            "day" => Ok(Interval::Day),
            "week" => Ok(Interval::Week),
            "month" => Ok(Interval::Month),
            _ => Err(QueryError::UnknownInterval { value: raw.to_owned() }),
        }
    }

    /// The first day of the bucket holding `date`: itself, its week's Monday, or the 1st of
    /// its month.
    pub fn bucket_start(self, date: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => date,
            Interval::Week => {
                let back = i64::from(date.weekday().num_days_from_monday());
                date.checked_sub_signed(chrono::Duration::days(back)).unwrap_or(date)
            }
            Interval::Month => date.with_day(1).unwrap_or(date),
        }
    }

    /// The first day of the bucket after the one starting at `start` (`None` past the calendar).
    pub fn next_start(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Interval::Day => start.succ_opt(),
            Interval::Week => start.checked_add_signed(chrono::Duration::days(7)),
            Interval::Month => start.checked_add_months(chrono::Months::new(1)),
        }
    }
}

/// A time series of a metric: the same selection as [`MetricQuery`] without grouping, in
/// buckets of `interval`. `interval` defaults to `month` when the parameter is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesQuery {
    /// The metric to compute.
    pub metric: MetricKind,
    /// Bucket width.
    pub interval: Interval,
    /// As [`MetricQuery::filters`].
    pub filters: Vec<(Dimension, String)>,
    /// As [`MetricQuery::restrict`].
    pub restrict: Vec<(Dimension, Vec<String>)>,
    /// First day, inclusive; without it the series starts at the earliest answer.
    pub from: Option<NaiveDate>,
    /// Last day, inclusive; without it the series ends at the latest answer.
    pub to: Option<NaiveDate>,
    /// Only answers to this survey.
    pub survey_id: Option<i64>,
}

impl SeriesQuery {
    /// A monthly series of `metric` over everything.
    pub fn new(metric: MetricKind) -> Self {
        SeriesQuery {
            metric,
            interval: Interval::Month,
            filters: Vec::new(),
            restrict: Vec::new(),
            from: None,
            to: None,
            survey_id: None,
        }
    }

    /// Parses the query string of `GET /api/v1/metrics/series`: `metric` (required),
    /// `interval` (`day`, `week` or `month`; default `month`), `from`, `to`, `survey_id`,
    /// `filter[DIM]=VALUE`. Unknown or repeated parameters are errors (`by` and `compare` are
    /// not accepted here).
    pub fn from_params(params: &[(String, String)]) -> Result<SeriesQuery, QueryError> {
        let common = Common::parse(params, Endpoint::Series)?;
        check_range(common.from, common.to)?;
        Ok(SeriesQuery {
            metric: common.metric,
            interval: common.interval.unwrap_or(Interval::Month),
            filters: common.filters,
            restrict: Vec::new(),
            from: common.from,
            to: common.to,
            survey_id: common.survey_id,
        })
    }
}

fn check_range(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<(), QueryError> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => Err(QueryError::InvalidRange { from, to }),
        _ => Ok(()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Metrics,
    Series,
}

impl Endpoint {
    fn accepted(self) -> &'static str {
        match self {
            Endpoint::Metrics => "metric, by, from, to, survey_id, filter[DIM], compare",
            Endpoint::Series => "metric, interval, from, to, survey_id, filter[DIM]",
        }
    }
}

/// What both endpoints parse.
struct Common {
    metric: MetricKind,
    group_by: Vec<Dimension>,
    filters: Vec<(Dimension, String)>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    survey_id: Option<i64>,
    compare_previous: bool,
    interval: Option<Interval>,
}

impl Common {
    fn parse(params: &[(String, String)], endpoint: Endpoint) -> Result<Common, QueryError> {
        let mut metric = None;
        let mut by = None;
        let mut from = None;
        let mut to = None;
        let mut survey_id = None;
        let mut compare = None;
        let mut interval = None;
        let mut filters = Vec::new();
        for (name, value) in params {
            let slot = match name.as_str() {
                "metric" => &mut metric,
                "from" => &mut from,
                "to" => &mut to,
                "survey_id" => &mut survey_id,
                "by" if endpoint == Endpoint::Metrics => &mut by,
                "compare" if endpoint == Endpoint::Metrics => &mut compare,
                "interval" if endpoint == Endpoint::Series => &mut interval,
                _ => {
                    let dimension = name.strip_prefix("filter[").and_then(|rest| rest.strip_suffix(']'));
                    let Some(dimension) = dimension else {
                        return Err(QueryError::UnknownParameter { name: name.clone(), accepted: endpoint.accepted() });
                    };
                    let dimension = Dimension::parse(dimension)?;
                    if value.is_empty() {
                        return Err(QueryError::invalid(name, "give the value to keep, e.g. filter[region]=north"));
                    }
                    filters.push((dimension, value.clone()));
                    continue;
                }
            };
            if slot.is_some() {
                return Err(QueryError::invalid(name, "given twice: give it once"));
            }
            *slot = Some(value.as_str());
        }

        let metric = metric
            .ok_or(QueryError::MissingMetric)?
            .parse::<MetricKind>()
            .map_err(|e| QueryError::UnknownMetric { value: e.0 })?;
        let group_by = match by {
            None => Vec::new(),
            Some(list) => {
                let dims = list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Dimension::parse)
                    .collect::<Result<Vec<_>, _>>()?;
                if dims.len() > MAX_GROUP_DIMENSIONS {
                    return Err(QueryError::TooManyDimensions { count: dims.len() });
                }
                dims
            }
        };
        let survey_id = survey_id
            .map(|raw| {
                raw.parse::<i64>()
                    .map_err(|_| QueryError::invalid("survey_id", format!("`{raw}` is not a survey id (an integer)")))
            })
            .transpose()?;
        let compare_previous = match compare {
            None => false,
            Some("previous") => true,
            Some(other) => {
                return Err(QueryError::invalid(
                    "compare",
                    format!("`{other}` is not supported: use compare=previous"),
                ));
            }
        };
        Ok(Common {
            metric,
            group_by,
            filters,
            from: from.map(|v| parse_date("from", v)).transpose()?,
            to: to.map(|v| parse_date("to", v)).transpose()?,
            survey_id,
            compare_previous,
            interval: interval.map(Interval::parse).transpose()?,
        })
    }
}

fn parse_date(param: &str, value: &str) -> Result<NaiveDate, QueryError> {
    // Exactly YYYY-MM-DD: chrono alone would also accept e.g. `2026-1-5`.
    let shape_ok = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shape_ok
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| QueryError::InvalidDate { param: param.to_owned(), value: value.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn parses_a_full_metrics_query() {
        let q = MetricQuery::from_params(&params(&[
            ("metric", "nps"),
            ("by", "region, attr.tier"),
            ("from", "2026-01-01"),
            ("to", "2026-01-31"),
            ("survey_id", "7"),
            ("filter[product]", "cards"),
            ("filter[product]", "loans"),
            ("compare", "previous"),
        ]))
        .unwrap();
        assert_eq!(q.metric, MetricKind::Nps);
        assert_eq!(q.group_by, vec![Dimension::Region, Dimension::Attr("tier".into())]);
        assert_eq!(q.filters, vec![(Dimension::Product, "cards".into()), (Dimension::Product, "loans".into())]);
        assert_eq!(q.from, Some(date(2026, 1, 1)));
        assert_eq!(q.to, Some(date(2026, 1, 31)));
        assert_eq!(q.survey_id, Some(7));
        assert!(q.compare_previous);
        assert!(q.restrict.is_empty());
        // 31 days before January: 1–31 December.
        assert_eq!(q.previous_period(), Some((date(2025, 12, 1), date(2025, 12, 31))));
    }

    #[test]
    fn minimal_query_and_series_default_interval() {
        let q = MetricQuery::from_params(&params(&[("metric", "ces")])).unwrap();
        assert_eq!(q, MetricQuery::new(MetricKind::Ces));
        let s = SeriesQuery::from_params(&params(&[("metric", "csat")])).unwrap();
        assert_eq!(s, SeriesQuery::new(MetricKind::Csat));
        let s = SeriesQuery::from_params(&params(&[("metric", "csat"), ("interval", "week")])).unwrap();
        assert_eq!(s.interval, Interval::Week);
    }

    fn code_of(pairs: &[(&str, &str)]) -> &'static str {
        MetricQuery::from_params(&params(pairs)).unwrap_err().code()
    }

    #[test]
    fn error_codes() {
        assert_eq!(code_of(&[]), "missing_metric");
        let err = MetricQuery::from_params(&params(&[("metric", "nps"), ("to", "x")])).unwrap_err();
        assert_eq!(err.parameter(), Some("to"));
        assert_eq!(code_of(&[("metric", "xps")]), "unknown_metric");
        assert_eq!(code_of(&[("metric", "nps"), ("by", "city")]), "unknown_dimension");
        assert_eq!(code_of(&[("metric", "nps"), ("filter[city]", "x")]), "unknown_dimension");
        assert_eq!(code_of(&[("metric", "nps"), ("by", "region,product,team")]), "too_many_dimensions");
        assert_eq!(code_of(&[("metric", "nps"), ("by", "region,region")]), "invalid_parameter");
        assert_eq!(code_of(&[("metric", "nps"), ("from", "2026-13-01")]), "invalid_date");
        assert_eq!(code_of(&[("metric", "nps"), ("to", "2026-1-5")]), "invalid_date");
        assert_eq!(code_of(&[("metric", "nps"), ("from", "2026-02-01"), ("to", "2026-01-01")]), "invalid_range");
        assert_eq!(code_of(&[("metric", "nps"), ("survey_id", "x")]), "invalid_parameter");
        assert_eq!(code_of(&[("metric", "nps"), ("compare", "last_year")]), "invalid_parameter");
        assert_eq!(code_of(&[("metric", "nps"), ("compare", "previous")]), "invalid_parameter");
        assert_eq!(code_of(&[("metric", "nps"), ("metric", "csat")]), "invalid_parameter");
        assert_eq!(code_of(&[("metric", "nps"), ("filter[region]", "")]), "invalid_parameter");
        assert_eq!(code_of(&[("metric", "nps"), ("limit", "5")]), "unknown_parameter");
        assert_eq!(code_of(&[("metric", "nps"), ("interval", "day")]), "unknown_parameter");
        let err = SeriesQuery::from_params(&params(&[("metric", "nps"), ("interval", "year")])).unwrap_err();
        assert_eq!(err.code(), "unknown_interval");
        let err = SeriesQuery::from_params(&params(&[("metric", "nps"), ("by", "region")])).unwrap_err();
        assert_eq!(err.code(), "unknown_parameter");
    }

    #[test]
    fn messages_say_what_to_use() {
        let err = MetricQuery::from_params(&params(&[("metric", "xps")])).unwrap_err();
        assert_eq!(err.to_string(), "unknown metric `xps`: use one of nps, csat, dsat, ces, cadv");
        let err = MetricQuery::from_params(&params(&[("metric", "nps"), ("by", "city")])).unwrap_err();
        assert!(err.to_string().contains("journey_stage"), "{err}");
        let err = MetricQuery::from_params(&params(&[("metric", "nps"), ("x", "1")])).unwrap_err();
        assert!(err.to_string().contains("filter[DIM]"), "{err}");
    }

    #[test]
    fn interval_bucket_starts() {
        // 2026-01-01 is a Thursday: its ISO week starts Monday 2025-12-29.
        assert_eq!(Interval::Week.bucket_start(date(2026, 1, 1)), date(2025, 12, 29));
        assert_eq!(Interval::Week.bucket_start(date(2025, 12, 29)), date(2025, 12, 29));
        assert_eq!(Interval::Week.bucket_start(date(2026, 1, 4)), date(2025, 12, 29));
        assert_eq!(Interval::Month.bucket_start(date(2026, 2, 28)), date(2026, 2, 1));
        assert_eq!(Interval::Month.next_start(date(2026, 1, 1)), Some(date(2026, 2, 1)));
        assert_eq!(Interval::Day.next_start(date(2026, 2, 28)), Some(date(2026, 3, 1)));
    }
}
