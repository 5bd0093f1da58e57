//! The input row of the index: what one committed response contributes to the metrics.

use chrono::{DateTime, Utc};

/// One committed response as the analytics index sees it, decoupled from storage types so the
/// store (or a benchmark, or a test) can produce it cheaply.
///
/// Dimension values that are `None` or empty are "not known"; scores outside their question's
/// scale (NPS 0–10, CSAT 1–5, CES 1–7, CAdv 1–5) are ignored as if unanswered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseFacts {
    /// The store's sequence number of the response: the index ignores a sequence it already holds
    /// for the organisation, so replaying the store's feed is harmless.
    pub seq: i64,
    /// The organisation the response belongs to.
    pub org_id: i64,
    /// The survey that was answered.
    pub survey_id: i64,
    /// When the response was submitted; metrics are bucketed by its UTC day.
    pub submitted_at: DateTime<Utc>,
    /// Region of the response's context (or of the customer).
    pub region: Option<String>,
    /// Product.
    pub product: Option<String>,
    /// Channel through which the survey was answered.
    pub channel: Option<String>,
    /// Team that served the customer.
    pub team: Option<String>,
    /// Employee who served the customer (an e-mail or id; an opaque label here).
    pub employee: Option<String>,
    /// Touchpoint of the journey.
    pub touchpoint: Option<String>,
    /// Journey stage of the touchpoint.
    pub journey_stage: Option<String>,
    /// Customer segment.
    pub segment: Option<String>,
    /// Language the survey was answered in.
    pub language: Option<String>,
    /// The customer's owner (account executive e-mail) when the response arrived: groups
    /// "by account executive" and keeps own-accounts scopes to their customers.
    pub owner: Option<String>,
    /// Customer attributes, queried as `attr.NAME`; the first value of a repeated name wins.
    pub attributes: Vec<(String, String)>,
    /// Answer to the NPS question (0–10).
    pub nps: Option<u8>,
    /// Answer to the CSAT question (1–5), which feeds CSAT and DSAT.
    pub csat: Option<u8>,
    /// Answer to the CES question (1–7).
    pub ces: Option<u8>,
    /// Answer to the Customer Advocacy question (1–5).
    pub cadv: Option<u8>,
}
