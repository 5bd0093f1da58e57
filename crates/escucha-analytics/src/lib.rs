//! # escucha-analytics
//!
//! The metric query engine. A report is a query as data (Plausible-style): the HTTP query
//! string parses into a [`MetricQuery`] or [`SeriesQuery`] (caller mistakes become a
//! [`QueryError`] with a stable code), and one engine answers it from an in-memory columnar
//! [`AnalyticsIndex`] kept current from the store, without touching the database.
//!
//! Key decisions:
//! - **Input decoupled from storage**: the index takes [`ResponseFacts`], one flat row per
//!   committed response, so the store, tests and benchmarks feed it alike. Inserts are
//!   idempotent by the store's sequence number (a compact roaring-style set per organisation),
//!   so following or replaying the store's feed is harmless; out-of-order sequences are fine.
//! - **Columnar, per organisation**: dimension values are dictionary-encoded into `u32` codes
//!   (0 = unknown), each column stored in the narrowest of `u8`/`u16`/`u32` that holds its
//!   dictionary (widened once when it outgrows it); scores are `u8` with a sentinel for "not
//!   answered"; the UTC day is an `i32`; `attr.NAME` columns appear when a name is first seen.
//!   About 20 bytes per response (see `bench/analytics/RESULTS.md`). Each organisation sits
//!   behind its own `RwLock`: one writer task inserts while many queries read, and
//!   organisations never contend with each other.
//! - **Counting, not computing, in the hot loop**: a scan only counts answers per
//!   (group, period, score) in a flat array indexed arithmetically from the rows' codes; the
//!   statistics (value, intervals, significance) come afterwards from those counts through
//!   `escucha_core::metrics`, so every number matches the exact definitions of API.md. Blocks
//!   whose day bounds miss the range are skipped, whole unfiltered blocks are counted from
//!   per-block score histograms kept at insert, and big scans split over the cores.
//! - **Semantics**: filters on different dimensions combine with AND, several values of one
//!   dimension with OR; `restrict` (the caller's data scope) is an AND of IN-lists; rows whose
//!   grouped dimension is unknown form a group whose key value is `null`, so groups add up to
//!   the total; groups with n = 0 are left out, and at most [`MAX_GROUPS`] (the largest) are
//!   returned, with `truncated` set when more existed; series keep empty buckets (value
//!   `null`) so a time axis has no holes, and the series interval defaults to `month`.
//!   Restrictions fail closed: an empty IN-list, or a dimension no response carries, selects
//!   nothing.

#![warn(missing_docs)]

mod columns;
mod dimension;
mod engine;
mod facts;
mod index;
mod query;
mod result;

pub use columns::MAX_ATTRIBUTE_COLUMNS;
pub use dimension::{Dimension, MAX_ATTRIBUTE_NAME_LEN};
pub use escucha_core::metrics::MetricKind;
pub use facts::ResponseFacts;
pub use index::{AnalyticsIndex, IndexStats};
pub use query::{
    Interval, MAX_GROUP_DIMENSIONS, MAX_GROUPS, MAX_SERIES_POINTS, MetricQuery, QueryError, SeriesQuery,
    previous_period,
};
pub use result::{
    Cell, Counts, Group, GroupKey, MetricResult, PeriodComparison, PreviousPeriod, SeriesPoint, SeriesResult,
};
