//! Black-box tests of the HTTP server: a real server on port 0 over a fresh database per test
//! (SQLite in a temp folder; PostgreSQL too where `ESCUCHA_TEST_POSTGRES_URL` is set), driven
//! with a real HTTP client. One test binary for the crate.

mod access;
mod browser;
mod closed_loop;
mod errors;
mod fuzz;
mod governance;
mod helpers;
mod metrics;
mod oidc;
mod scope;
mod sign_in;
mod web;
