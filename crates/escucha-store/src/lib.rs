//! # escucha-store
//!
//! Everything Escucha keeps, behind one [`Store`] trait spoken in domain terms, with two
//! implementations chosen from the database URL: SQLite (embedded default, WAL, foreign keys,
//! busy timeout) and PostgreSQL (production, many server processes). Each backend has its own
//! migrations folder, applied at connect; one conformance suite (`tests/conformance.rs`) runs the
//! same stories against both.
//!
//! Key decisions:
//! - Every method takes the [`OrgId`] it works in, so an unscoped query cannot be written by
//!   accident; the few cross-organisation reads (token and session lookup by hash, the job queue,
//!   the analytics feed) say so in their names and docs.
//! - A response, the case it opens and the jobs both cause are written in one transaction (an
//!   outbox), together with the idempotency record of the request that carried them.
//! - Runtime queries with `FromRow`, no compile-time database: the build needs no server.
//! - One implementation, two compilations: the SQL text (`sql.rs`, `$n` placeholders, which
//!   SQLite accepts too) and the row mapping (`rows.rs`) are shared; `shared_impl.rs` holds the
//!   `Store` implementation once and `sqlite.rs` / `postgres.rs` each `include!` it after
//!   defining the few things that differ (database type, write-transaction start, row locks,
//!   the job claim). sqlx code generic over `Database` drowns in higher-ranked bounds; this
//!   keeps every query concrete and still written once.
//! - The database refuses cross-organisation references: tenant rows point at each other
//!   through `(org_id, id)` foreign keys, so a response of organisation B naming A's survey or
//!   customer is `NotFound`, whatever the caller did.
//! - Timestamps are `TIMESTAMPTZ` on PostgreSQL and fixed-width RFC 3339 text on SQLite
//!   (`codec::Ts`), both to the microsecond, so values read back equal and sort by time.
//! - Response ids are the analytics feed's sequence: on PostgreSQL response writers hold an
//!   advisory lock so ids become visible in id order (SQLite serialises writers anyway).
//! - Bulk writes use multi-row `INSERT … VALUES` of 200 rows (one prepared statement per
//!   shape), so the demo's 100,000 responses load in seconds.

mod codec;
mod contact;
pub mod crypto;
mod error;
mod governance;
mod model;
pub mod postgres;
mod rows;
mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use escucha_core::access::CustomRole;
use escucha_core::case::{Case, CaseStatus};
use escucha_core::customer::{Customer, CustomerPatch};
use escucha_core::feedback::{Feedback, NewFeedback};
use escucha_core::governance::{
    Incident, IncidentFields, IncidentId, IncidentStats, PolicyItem, PolicyItemFields, PolicyItemId, PolicyStats,
    RetentionRules,
};
use escucha_core::ids::{CaseId, CustomerId, JobId, OrgId, ResponseId, SurveyId, UserId};
use escucha_core::job::Job;
use escucha_core::journey::Journey;
use escucha_core::org::{Organisation, User, UserFields};
use escucha_core::response::Response;
use escucha_core::survey::Survey;
use escucha_core::values::{Email, ExternalId, Label, Slug};

pub use error::StoreError;
pub use governance::{IncidentFilter, RetentionSweep};
pub use model::*;

/// What replaces an erased customer's feedback text.
pub const ERASED_TEXT: &str = "[borrado / erased]";

/// What replaces free text removed by a retention rule (the scores beside it stay).
pub const REDACTED_TEXT: &str = "[suprimido por retención / removed by retention]";

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// The most cases one [`Store::list_cases`] call returns.
pub const MAX_CASE_PAGE: i64 = 500;

/// How long a claimed job belongs to its worker: a job neither completed nor failed within
/// this time (its process died) is claimed again, with one more attempt counted.
pub const JOB_LEASE_SECONDS: i64 = 600;

/// What the application needs from storage, in domain terms. Implemented by
/// [`sqlite::SqliteStore`] and [`postgres::PostgresStore`]; see the crate docs for the rules.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is (`sqlite` or `postgres`), for logs and health output.
    fn backend(&self) -> &'static str;

    // --- organisations -------------------------------------------------------------------

    /// Creates an organisation; `Conflict` when the slug is taken.
    async fn create_org(&self, slug: &Slug, name: &Label) -> StoreResult<Organisation>;
    /// Finds an organisation by slug.
    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Organisation>>;
    /// Finds an organisation by id.
    async fn org(&self, org: OrgId) -> StoreResult<Option<Organisation>>;

    // --- API tokens and web sessions -------------------------------------------------------

    /// Stores a new API token (only its hash is kept).
    async fn create_token(&self, org: OrgId, token: NewToken) -> StoreResult<ApiToken>;
    /// Cross-organisation lookup of an unrevoked token by the hash of its secret.
    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>>;
    /// Cross-organisation lookup of an unrevoked token and the user it acts as (if any), in one
    /// read: what every API request needs to know who calls.
    async fn token_and_user_by_hash(&self, hash: &str) -> StoreResult<Option<(ApiToken, Option<User>)>>;
    /// Records that a token was used (best effort).
    async fn touch_token(&self, token: escucha_core::ids::TokenId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Revokes a token of the organisation: [`Store::token_by_hash`] no longer finds it;
    /// `NotFound` when the organisation has no such live token.
    async fn revoke_token(&self, org: OrgId, token: escucha_core::ids::TokenId, at: DateTime<Utc>) -> StoreResult<()>;
    /// Lists the organisation's live (unrevoked) tokens, newest first.
    async fn list_tokens(&self, org: OrgId) -> StoreResult<Vec<ApiToken>>;

    /// Appends an entry to the organisation's audit log (append-only: nothing updates or
    /// deletes entries).
    async fn append_audit(&self, org: OrgId, entry: NewAuditEntry) -> StoreResult<()>;
    /// Reads the audit log, newest first, filtered.
    async fn list_audit(&self, org: OrgId, filter: AuditFilter) -> StoreResult<Vec<AuditEntry>>;

    /// Stores a web session for a signed-in user (only the hash of the cookie is kept).
    async fn create_session(&self, org: OrgId, user: UserId, hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Cross-organisation lookup of a live session by the hash of its cookie.
    async fn session_by_hash(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(OrgId, User)>>;
    /// Ends a session.
    async fn delete_session(&self, hash: &str) -> StoreResult<()>;
    /// Cross-organisation housekeeping: deletes sessions expired at `now`; returns how many.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    // --- users ---------------------------------------------------------------------------

    /// Creates or updates a user; fields left `None` keep their value (role defaults to viewer
    /// for a new user). Returns the user and whether it was created.
    async fn upsert_user(&self, org: OrgId, email: &Email, fields: UserFields) -> StoreResult<(User, bool)>;
    /// Finds a user by e-mail.
    async fn user_by_email(&self, org: OrgId, email: &Email) -> StoreResult<Option<User>>;
    /// Finds a user by id (tokens that act as a user carry its id). Added by the lead.
    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>>;
    /// Lists the organisation's users by e-mail.
    async fn list_users(&self, org: OrgId) -> StoreResult<Vec<User>>;
    /// Sets a user's password hash; `NotFound` when there is no such user.
    async fn set_password_hash(&self, org: OrgId, email: &Email, hash: &str) -> StoreResult<()>;
    /// A user's password hash, when one was set.
    async fn password_hash(&self, org: OrgId, email: &Email) -> StoreResult<Option<(User, String)>>;

    // --- customers -----------------------------------------------------------------------

    /// Creates or updates customers by external id in one transaction; returns each customer
    /// and whether it was created, in input order.
    async fn upsert_customers(
        &self,
        org: OrgId,
        items: Vec<(ExternalId, CustomerPatch)>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(Customer, bool)>>;
    /// Finds a customer by external id.
    async fn customer_by_external_id(&self, org: OrgId, external_id: &str) -> StoreResult<Option<Customer>>;
    /// Finds a customer by id.
    async fn customer(&self, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>>;
    /// Erases a customer's personal data in one transaction: contact fields go, the external id
    /// becomes `erased-<id>`, the given responses get their answers replaced (the caller has
    /// removed the free text) and lose their verbatim, feedback texts become [`ERASED_TEXT`] and
    /// case notes are cleared. Scores, context and case outcomes stay, anonymous, so the metrics
    /// do not move. `NotFound` when there is no such customer.
    async fn erase_customer(
        &self,
        org: OrgId,
        customer: CustomerId,
        redacted_answers: Vec<(ResponseId, escucha_core::survey::Answers)>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Counts the organisation's customers.
    async fn count_customers(&self, org: OrgId) -> StoreResult<i64>;

    // --- journeys and surveys ------------------------------------------------------------

    /// Creates or replaces a journey by key.
    async fn upsert_journey(&self, org: OrgId, journey: Journey) -> StoreResult<Journey>;
    /// Lists journeys by key.
    async fn list_journeys(&self, org: OrgId) -> StoreResult<Vec<Journey>>;

    /// Creates a survey at version 1, with the idempotency record of the request when given.
    async fn create_survey(
        &self,
        org: OrgId,
        survey: NewSurvey,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<Survey>;
    /// Finds a survey (its current version).
    async fn survey(&self, org: OrgId, id: SurveyId) -> StoreResult<Option<Survey>>;
    /// Lists surveys, newest first.
    async fn list_surveys(&self, org: OrgId) -> StoreResult<Vec<Survey>>;

    // --- responses -------------------------------------------------------------------------

    /// Stores responses in one transaction, each with the case it opens and the jobs both
    /// cause (`jobs_for_response`, `jobs_for_case` of escucha-core, unless `queue_jobs` is
    /// false, as for historic imports), plus the idempotency record when given (its resource id
    /// is the first response's id). A case's `response_id` is set to the response written with
    /// it. Returns the ids in input order. Nothing is written when any part fails: a reused
    /// idempotency key is `Conflict`, a survey or customer of another organisation `NotFound`.
    /// An empty `items` writes nothing, not even the idempotency record.
    async fn insert_responses(
        &self,
        org: OrgId,
        items: Vec<ResponseWrite>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<Vec<(ResponseId, Option<CaseId>)>>;
    /// Finds a response.
    async fn response(&self, org: OrgId, id: ResponseId) -> StoreResult<Option<Response>>;
    /// A customer's cases, newest first, at most `limit` (1–10,000).
    async fn cases_of_customer(&self, org: OrgId, customer: CustomerId, limit: i64) -> StoreResult<Vec<Case>>;
    /// A customer's feedback items, newest first, at most `limit` (1–10,000).
    async fn feedback_of_customer(&self, org: OrgId, customer: CustomerId, limit: i64) -> StoreResult<Vec<Feedback>>;
    /// A customer's responses, newest first by submission time, at most `limit` (1–10,000).
    async fn responses_of_customer(&self, org: OrgId, customer: CustomerId, limit: i64) -> StoreResult<Vec<Response>>;
    /// A page of the organisation's responses, oldest first, filtered and narrowed to a scope
    /// in the query itself (exports).
    async fn responses_page(&self, org: OrgId, filter: ResponseFilter) -> StoreResult<Vec<Response>>;
    /// Counts the organisation's responses.
    async fn count_responses(&self, org: OrgId) -> StoreResult<i64>;
    /// Cross-organisation feed for the analytics index: responses with id > `after`, in id
    /// order, at most `limit`, each with what the index needs.
    async fn index_feed(&self, after: i64, limit: i64) -> StoreResult<Vec<IndexRow>>;

    // --- feedback ----------------------------------------------------------------------------

    /// Stores a feedback item with the idempotency record when given.
    async fn insert_feedback(
        &self,
        org: OrgId,
        item: NewFeedback,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<Feedback>;

    // --- idempotency -----------------------------------------------------------------------

    /// The stored outcome of an earlier write with this key, if any.
    async fn idempotent_result(&self, org: OrgId, key: &str) -> StoreResult<Option<IdempotentResult>>;

    // --- cases -------------------------------------------------------------------------------

    /// Lists cases, newest first, filtered.
    async fn list_cases(&self, org: OrgId, filter: CaseFilter) -> StoreResult<Vec<Case>>;
    /// Finds a case.
    async fn case(&self, org: OrgId, id: CaseId) -> StoreResult<Option<Case>>;
    /// Saves a changed case (owner, manager, priority, status, due time, root cause,
    /// resolution, notes, timestamps) if nobody changed it since it was read:
    /// `expected_updated_at` is the `updated_at` it had then. `Conflict` when it changed
    /// meanwhile (so no note is lost to a concurrent update); `NotFound` when the organisation
    /// has no such case.
    async fn save_case(&self, org: OrgId, case: &Case, expected_updated_at: DateTime<Utc>) -> StoreResult<()>;
    /// Counts cases in a status.
    async fn count_cases(&self, org: OrgId, status: Option<CaseStatus>) -> StoreResult<i64>;

    // --- jobs ----------------------------------------------------------------------------------

    /// Cross-organisation: takes up to `limit` pending jobs due at `now`, marking them running
    /// (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several processes share the queue) and
    /// counting one more attempt. A claimed job's `run_at` becomes the end of its lease
    /// ([`JOB_LEASE_SECONDS`]): if its worker dies, it is claimed again after that.
    async fn claim_jobs(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Job>>;
    /// Marks a job done; `NotFound` for an unknown job.
    async fn complete_job(&self, job: JobId) -> StoreResult<()>;
    /// Records a failure: back to pending at `retry_at`, or failed for good when `None`;
    /// `NotFound` for an unknown job.
    async fn fail_job(&self, job: JobId, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()>;
    /// Lists the organisation's jobs, newest first (operators and tests).
    async fn list_jobs(&self, org: OrgId, limit: i64) -> StoreResult<Vec<Job>>;

    // --- access control: custom roles, the team tree, lookup by e-mail, keys ---------------

    /// Creates or replaces a custom role; true when it was created.
    async fn upsert_role(&self, org: OrgId, role: &CustomRole) -> StoreResult<bool>;
    /// The organisation's custom roles, by name.
    async fn list_roles(&self, org: OrgId) -> StoreResult<Vec<CustomRole>>;
    /// Deletes a custom role: `NotFound` when there is none, `Conflict` while a user holds it.
    async fn delete_role(&self, org: OrgId, name: &str) -> StoreResult<()>;
    /// Places a team in the tree under `parent` (`None`: at the top), adding it when new;
    /// `Conflict` when the parent is the team itself or one of its sub-teams.
    async fn set_team(&self, org: OrgId, team: &str, parent: Option<&str>) -> StoreResult<()>;
    /// The organisation's team tree, by name.
    async fn list_teams(&self, org: OrgId) -> StoreResult<Vec<TeamNode>>;
    /// The customers with this e-mail (compared trimmed and lower-cased), found through the
    /// blind index without decrypting anyone else's data; by id.
    async fn customers_by_email(&self, org: OrgId, email: &Email) -> StoreResult<Vec<Customer>>;
    /// Cross-organisation maintenance after a key was added to the ring (key rotation): every
    /// customer's contact fields are re-sealed under the current key and their blind index
    /// recomputed; afterwards the database records only the current key as in use, so older
    /// keys may leave the ring. Returns how many customers were re-sealed.
    async fn reseal_personal_data(&self) -> StoreResult<u64>;

    // Governance: security policy, incidents, retention

    /// Adds an item to the organisation's customer-data security policy.
    async fn create_policy_item(
        &self,
        org: OrgId,
        fields: &PolicyItemFields,
        at: DateTime<Utc>,
    ) -> StoreResult<PolicyItem>;
    /// The organisation's security policy items, newest first.
    async fn list_policy_items(&self, org: OrgId) -> StoreResult<Vec<PolicyItem>>;
    /// One security policy item.
    async fn policy_item(&self, org: OrgId, id: PolicyItemId) -> StoreResult<Option<PolicyItem>>;
    /// Replaces a policy item's fields; `NotFound` when the organisation has no such item.
    async fn update_policy_item(
        &self,
        org: OrgId,
        id: PolicyItemId,
        fields: &PolicyItemFields,
        at: DateTime<Utc>,
    ) -> StoreResult<PolicyItem>;
    /// Deletes a policy item; `NotFound` when the organisation has no such item.
    async fn delete_policy_item(&self, org: OrgId, id: PolicyItemId) -> StoreResult<()>;
    /// What a maturity check reads from the policy on `today`: items in force, reviewed in
    /// time, overdue, kinds covered.
    async fn policy_stats(&self, org: OrgId, today: NaiveDate) -> StoreResult<PolicyStats>;

    /// Records a security incident.
    async fn create_incident(
        &self,
        org: OrgId,
        fields: &IncidentFields,
        reported_by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Incident>;
    /// The incident register, newest first, filtered.
    async fn list_incidents(&self, org: OrgId, filter: IncidentFilter) -> StoreResult<Vec<Incident>>;
    /// One incident.
    async fn incident(&self, org: OrgId, id: IncidentId) -> StoreResult<Option<Incident>>;
    /// Replaces an incident's fields; `NotFound` when the organisation has no such incident.
    async fn update_incident(
        &self,
        org: OrgId,
        id: IncidentId,
        fields: &IncidentFields,
        at: DateTime<Utc>,
    ) -> StoreResult<Incident>;
    /// What a maturity check reads from the register: incidents detected since `since` (all when
    /// `None`), open, closed, mean hours to close.
    async fn incident_stats(&self, org: OrgId, since: Option<DateTime<Utc>>) -> StoreResult<IncidentStats>;

    /// The organisation's retention rules (empty when none is set).
    async fn retention_rules(&self, org: OrgId) -> StoreResult<RetentionRules>;
    /// Replaces the organisation's retention rules in one transaction.
    async fn set_retention_rules(&self, org: OrgId, rules: &RetentionRules, at: DateTime<Utc>) -> StoreResult<()>;
    /// Cross-organisation, for the daily retention run: the organisations with at least one rule.
    async fn orgs_with_retention_rules(&self) -> StoreResult<Vec<OrgId>>;
    /// Customers not yet erased with no update, response, logged feedback or case activity since
    /// `cutoff` and no case still being worked, by id after `after`, at most `limit` (1–10,000).
    async fn inactive_customers(
        &self,
        org: OrgId,
        cutoff: DateTime<Utc>,
        after: Option<CustomerId>,
        limit: i64,
    ) -> StoreResult<Vec<CustomerId>>;
    /// Responses submitted before `cutoff` that still hold free text (a verbatim), by id after
    /// `after`, at most `limit` (1–10,000).
    async fn responses_with_text_before(
        &self,
        org: OrgId,
        cutoff: DateTime<Utc>,
        after: Option<ResponseId>,
        limit: i64,
    ) -> StoreResult<Vec<Response>>;
    /// Replaces the answers of responses (the caller removed the free text) and drops their
    /// verbatim, in one transaction; scores and context stay. Returns how many changed.
    async fn redact_responses(
        &self,
        org: OrgId,
        items: Vec<(ResponseId, escucha_core::survey::Answers)>,
    ) -> StoreResult<u64>;
    /// One statement of a retention run on data from before `cutoff`: with `dry_run` it only
    /// counts what would change; `now` stamps changed records. Returns the count.
    async fn retention_sweep(
        &self,
        org: OrgId,
        sweep: RetentionSweep,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> StoreResult<u64>;
    // Sign-in security ---------------------------------------------------------------------

    /// Cross-organisation: when the throttle `key` (an opaque hash naming an account, a client
    /// IP or a reset requester) is locked out at `now`, until when.
    async fn attempt_lock(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<DateTime<Utc>>>;
    /// Counts one failed attempt for `key` under `policy`, atomically across processes (the
    /// key's row is locked while it is updated); returns the end of the lockout this failure
    /// starts, if any.
    async fn record_failed_attempt(
        &self,
        key: &str,
        policy: &escucha_core::lockout::LockoutPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// Forgets `key`'s failures and lockout history (after a successful sign-in).
    async fn clear_failed_attempts(&self, key: &str) -> StoreResult<()>;
    /// Housekeeping: deletes throttle keys not locked at `now` whose last failure was before
    /// `quiet_since`; returns how many.
    async fn purge_failed_attempts(&self, now: DateTime<Utc>, quiet_since: DateTime<Utc>) -> StoreResult<u64>;
    /// Housekeeping, across organisations: deletes second-step challenges and password-reset
    /// tokens expired at `now` (used or not); returns how many.
    async fn delete_expired_sign_in_state(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    /// Stores a single-use password-reset token (only its hash) for a user.
    async fn create_password_reset(
        &self,
        org: OrgId,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Cross-organisation: the user whose unused reset token, unexpired at `now`, has this hash.
    async fn password_reset_user(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(OrgId, User)>>;
    /// Cross-organisation, in one transaction: consumes the reset token (unused and unexpired at
    /// `now`), sets the user's new password hash, and deletes every session, pending second-step
    /// sign-in and other reset token of the user. `None`, changing nothing, when the token is
    /// unknown, used or expired (also when two requests race for it: one wins).
    async fn reset_password(
        &self,
        token_hash: &str,
        new_password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(OrgId, User)>>;

    /// Starts (or restarts) a user's TOTP enrolment: keeps `secret_base32` sealed with the key
    /// ring, not yet enabled. `Conflict` when the user already has TOTP enabled.
    async fn begin_totp_enrolment(
        &self,
        org: OrgId,
        user: UserId,
        secret_base32: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user's TOTP secret (opened) and state, when they have one, enabled or pending.
    async fn totp_state(&self, org: OrgId, user: UserId) -> StoreResult<Option<TotpState>>;
    /// Enables a pending enrolment, recording `step` (of the confirming code) as used.
    /// `NotFound` when nothing is pending.
    async fn enable_totp(&self, org: OrgId, user: UserId, step: i64, now: DateTime<Utc>) -> StoreResult<()>;
    /// Records `step` as the last accepted code step when it is later than the stored one,
    /// atomically across processes; `false` (nothing changed) for a replayed or older step or
    /// when the user has no enabled TOTP.
    async fn accept_totp_step(&self, org: OrgId, user: UserId, step: i64) -> StoreResult<bool>;
    /// Removes the user's TOTP, enabled or pending.
    async fn delete_totp(&self, org: OrgId, user: UserId) -> StoreResult<()>;

    /// Stores a pending second-step sign-in (only the hash of its cookie).
    async fn create_sign_in_challenge(
        &self,
        org: OrgId,
        user: UserId,
        hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Cross-organisation lookup of a pending second-step sign-in live at `now`.
    async fn sign_in_challenge(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(OrgId, User)>>;
    /// Ends a pending second-step sign-in.
    async fn delete_sign_in_challenge(&self, hash: &str) -> StoreResult<()>;
}

/// Opens the store a URL names, applying its migrations: `sqlite://PATH` (created when
/// missing) or `postgres://…` / `postgresql://…`. `keys` seal customers' personal data; every
/// process sharing a database must use the same key ring.
pub async fn connect(url: &str, keys: crypto::KeyRing) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url, keys).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::connect(url, keys).await?))
    } else {
        Err(StoreError::Config(format!(
            "unsupported database URL scheme in '{}': use sqlite://PATH or postgres://…",
            redact_url(url)
        )))
    }
}

/// A database URL with any password replaced by `***`, safe for logs and messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
