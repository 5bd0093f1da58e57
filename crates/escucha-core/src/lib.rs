//! # escucha-core
//!
//! The domain of Escucha as plain data and pure functions: organisations, users, customers,
//! journeys, surveys and their answers, responses, feedback, cases, alert rules, durable jobs and
//! the metric statistics. No I/O, no async, no SQL, no HTTP: everything here is testable with
//! plain unit tests, and every other crate speaks these types.
//!
//! Key decisions:
//! - *Parse, don't validate*: values that reach the domain are already valid (`Email`, `Score`,
//!   `SurveyDefinition`), so invalid states cannot be constructed.
//! - Metrics are computed from counts and sums (`metrics`), so the same arithmetic serves a single
//!   response, a dashboard cell and an index over millions of rows.

pub mod access;
pub mod case;
pub mod customer;
pub mod emotions;
pub mod feedback;
pub mod governance;
pub mod ids;
pub mod job;
pub mod journey;
pub mod lockout;
pub mod metrics;
pub mod org;
pub mod response;
pub mod survey;
pub mod validation;
pub mod values;
