//! Application functions: each use case in domain terms over the store, called by thin
//! handlers (API and web alike).

pub mod erasure;
pub mod governance;
pub mod housekeeping;
pub mod import;
pub mod redaction;
pub mod responses;
pub mod retention;
pub mod scope;
pub mod sign_in;
