//! Application functions: each use case in domain terms over the store, called by thin
//! handlers (API and web alike).

pub mod import;
pub mod redaction;
pub mod responses;
pub mod scope;
