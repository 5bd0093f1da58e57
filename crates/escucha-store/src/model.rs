//! Records that exist only at the storage boundary: tokens, idempotency records, filters and
//! the analytics feed row.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use escucha_core::case::{CaseStatus, NewCase};
use escucha_core::ids::{OrgId, TokenId, UserId};
use escucha_core::org::Role;
use escucha_core::response::NewResponse;
use escucha_core::survey::{MetricScores, SurveyDefinition};
use escucha_core::values::Email;

/// A token to store: who it acts as and the hash of its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToken {
    /// Human name (what it is for).
    pub name: String,
    /// Role it carries.
    pub role: Role,
    /// The user it acts as, if any (then it carries that user's role and scope).
    pub user_id: Option<UserId>,
    /// SHA-256 hex of the secret.
    pub hash: String,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// What it may be used for; its permissions are its role's narrowed to these.
    pub scopes: Vec<escucha_core::access::TokenScope>,
}

/// A stored API token (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    /// Store id.
    pub id: TokenId,
    /// Organisation it belongs to.
    pub org_id: OrgId,
    /// Human name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// User it acts as.
    pub user_id: Option<UserId>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// What it may be used for (tokens made before scopes existed read as `admin`: everything
    /// their role allows).
    pub scopes: Vec<escucha_core::access::TokenScope>,
}

/// A survey to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSurvey {
    /// Name.
    pub name: String,
    /// Definition (version 1).
    pub definition: SurveyDefinition,
    /// Touchpoint key.
    pub touchpoint: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// One response to write, with what it causes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseWrite {
    /// The response.
    pub response: NewResponse,
    /// The case it opens, if a rule fired.
    pub case: Option<NewCase>,
    /// Queue the jobs the response and case cause (false for historic imports).
    pub queue_jobs: bool,
}

/// The idempotency record written with a request's effects: the client's key, a hash of the
/// request body, and what it created.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    /// Client-chosen key (`Idempotency-Key` header).
    pub key: String,
    /// SHA-256 hex of the method, path and body.
    pub request_hash: String,
    /// Kind of resource created (`response`, `survey`, `feedback`).
    pub resource: String,
}

/// The outcome of an earlier request with the same idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotentResult {
    /// Hash of the earlier request; a different body with the same key is refused.
    pub request_hash: String,
    /// Kind of resource created.
    pub resource: String,
    /// Its id.
    pub resource_id: i64,
}

/// Filter for listing cases.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseFilter {
    /// Only this status.
    pub status: Option<CaseStatus>,
    /// Only this owner.
    pub owner_email: Option<Email>,
    /// Only cases with an id below this (cursor paging, newest first).
    pub before_id: Option<i64>,
    /// At most this many (the store caps it at 500).
    pub limit: i64,
    /// Data scope: only cases whose customer's region is one of these (an empty list selects
    /// nothing); `None` for no restriction.
    pub regions: Option<Vec<String>>,
    /// Data scope: only cases owned by a member of one of these teams (an empty list selects
    /// nothing); `None` for no restriction.
    pub teams: Option<Vec<String>>,
}

/// What the analytics index needs of one response.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    /// Response id (the feed sequence).
    pub id: i64,
    /// Organisation.
    pub org_id: OrgId,
    /// Survey.
    pub survey_id: i64,
    /// When submitted.
    pub submitted_at: DateTime<Utc>,
    /// Region.
    pub region: Option<String>,
    /// Product.
    pub product: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Employee e-mail.
    pub employee: Option<String>,
    /// Touchpoint.
    pub touchpoint: Option<String>,
    /// Journey stage.
    pub journey_stage: Option<String>,
    /// Customer segment.
    pub segment: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// The customer's free attributes.
    pub attributes: BTreeMap<String, String>,
    /// The customer's owner (account executive e-mail) when the row is read, for own-accounts
    /// scopes.
    pub owner: Option<String>,
    /// Scores.
    pub scores: MetricScores,
}

/// A customer attribute map as stored (JSON object of strings).
pub type Attributes = BTreeMap<String, String>;

/// An entry to append to the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it (user e-mail, `token:NAME`, `system`).
    pub actor: String,
    /// What was done, a stable dotted code (`token.create`, `customer.view`, `sign_in.failure`…).
    pub action: String,
    /// What it was done to (`customer:C-1`, `token:7`…).
    pub target: Option<String>,
    /// Further facts, never personal data or secrets.
    pub detail: serde_json::Value,
    /// The client's IP, when known.
    pub ip: Option<String>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Store id (also the paging cursor).
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub target: Option<String>,
    /// Further facts.
    pub detail: serde_json::Value,
    /// The client's IP.
    pub ip: Option<String>,
}

/// Filter for reading the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Not before.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// Only entries with an id below this (cursor).
    pub before_id: Option<i64>,
    /// At most this many (capped at 500).
    pub limit: i64,
}

/// Which responses [`crate::Store::responses_page`] reads: oldest first from `after_id`, in a
/// time window and survey, narrowed to a data scope (regions and teams of the response's
/// context, the customer's owner).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponseFilter {
    /// Only responses with a larger id (paging).
    pub after_id: i64,
    /// Submitted at or after.
    pub from: Option<DateTime<Utc>>,
    /// Submitted before.
    pub to: Option<DateTime<Utc>>,
    /// Only this survey.
    pub survey_id: Option<i64>,
    /// Scope: only these regions (an empty list selects nothing); `None`: any.
    pub regions: Option<Vec<String>>,
    /// Scope: only these teams (an empty list selects nothing); `None`: any.
    pub teams: Option<Vec<String>>,
    /// Scope: only customers this account executive owns.
    pub owner_email: Option<Email>,
    /// At most this many (1–5,000).
    pub limit: i64,
}

/// One team of the organisation's team tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamNode {
    /// Team name, as on users' and responses' `team`.
    pub name: String,
    /// Parent team, if any.
    pub parent: Option<String>,
}

/// A user's TOTP second factor as stored (the secret opened from its sealed form). `Debug`
/// does not show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpState {
    /// The shared secret, RFC 4648 base32.
    pub secret_base32: String,
    /// When a code confirmed it; `None` while enrolment is pending.
    pub enabled_at: Option<DateTime<Utc>>,
    /// The time step of the last accepted code (no code of this step or earlier is accepted).
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for TotpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpState")
            .field("secret_base32", &"***")
            .field("enabled_at", &self.enabled_at)
            .field("last_step", &self.last_step)
            .finish()
    }
}
