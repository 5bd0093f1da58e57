//! Storage of data governance (security policy items, security incidents, retention rules): the
//! SQL both backends share, the row mapping, and the few records that exist only at the storage
//! boundary ([`IncidentFilter`], [`RetentionSweep`]). The `Store` methods themselves are in
//! `shared_impl.rs` with the others.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;

use escucha_core::governance::{
    Incident, IncidentFields, IncidentId, PolicyItem, PolicyItemFields, PolicyItemId, PolicyKind, PolicyStatus,
    Severity,
};
use escucha_core::ids::OrgId;
use escucha_core::values::Email;

use crate::StoreError;
use crate::codec::{Ts, parse_stored};

/// Filter for listing incidents, newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncidentFilter {
    /// `Some(true)`: only open ones; `Some(false)`: only closed ones.
    pub open: Option<bool>,
    /// Only incidents with an id below this (cursor paging).
    pub before_id: Option<i64>,
    /// At most this many (capped at 500).
    pub limit: i64,
}

/// A retention step done in one statement (the steps that need per-record work, erasing inactive
/// customers and redacting responses' free text, have their own methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionSweep {
    /// Logged feedback texts that happened before the cut-off become [`crate::REDACTED_TEXT`].
    FeedbackText,
    /// Audit entries from before the cut-off are deleted.
    AuditLog,
    /// Notes of cases closed before the cut-off are deleted.
    ClosedCaseNotes,
}

macro_rules! policy_cols {
    () => {
        "id, org_id, kind, title, objective, scope, owner_email, review_date, status, created_at, updated_at"
    };
}

macro_rules! incident_cols {
    () => {
        "id, org_id, title, description, occurred_at, detected_at, data_affected, customers_affected, severity, \
         actions_taken, notified_to, closed_at, reported_by, created_at, updated_at"
    };
}

pub(crate) const INSERT_POLICY_ITEM: &str = concat!(
    "INSERT INTO security_policy_items (org_id, kind, title, objective, scope, owner_email, review_date, status, \
     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ",
    policy_cols!()
);
pub(crate) const LIST_POLICY_ITEMS: &str =
    concat!("SELECT ", policy_cols!(), " FROM security_policy_items WHERE org_id = $1 ORDER BY id DESC");
pub(crate) const POLICY_ITEM_BY_ID: &str =
    concat!("SELECT ", policy_cols!(), " FROM security_policy_items WHERE org_id = $1 AND id = $2");
pub(crate) const UPDATE_POLICY_ITEM: &str = concat!(
    "UPDATE security_policy_items SET kind = $3, title = $4, objective = $5, scope = $6, owner_email = $7, \
     review_date = $8, status = $9, updated_at = $10 WHERE org_id = $1 AND id = $2 RETURNING ",
    policy_cols!()
);
pub(crate) const DELETE_POLICY_ITEM: &str = "DELETE FROM security_policy_items WHERE org_id = $1 AND id = $2";

pub(crate) const INSERT_INCIDENT: &str = concat!(
    "INSERT INTO security_incidents (org_id, title, description, occurred_at, detected_at, data_affected, \
     customers_affected, severity, actions_taken, notified_to, closed_at, reported_by, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING ",
    incident_cols!()
);
/// `$2`: 1 only open, 0 only closed, NULL all.
pub(crate) const LIST_INCIDENTS: &str = concat!(
    "SELECT ",
    incident_cols!(),
    " FROM security_incidents WHERE org_id = $1 \
     AND ($2 IS NULL OR ($2 = 1 AND closed_at IS NULL) OR ($2 = 0 AND closed_at IS NOT NULL)) \
     AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
);
pub(crate) const INCIDENT_BY_ID: &str =
    concat!("SELECT ", incident_cols!(), " FROM security_incidents WHERE org_id = $1 AND id = $2");
pub(crate) const UPDATE_INCIDENT: &str = concat!(
    "UPDATE security_incidents SET title = $3, description = $4, occurred_at = $5, detected_at = $6, \
     data_affected = $7, customers_affected = $8, severity = $9, actions_taken = $10, notified_to = $11, \
     closed_at = $12, updated_at = $13 WHERE org_id = $1 AND id = $2 RETURNING ",
    incident_cols!()
);
/// Detection and closing times of the incidents detected since `$2` (all when NULL).
pub(crate) const INCIDENT_TIMES: &str =
    "SELECT detected_at, closed_at FROM security_incidents WHERE org_id = $1 AND ($2 IS NULL OR detected_at >= $2)";

pub(crate) const RETENTION_RULES: &str = "SELECT kind, months FROM retention_rules WHERE org_id = $1 ORDER BY kind";
pub(crate) const DELETE_RETENTION_RULES: &str = "DELETE FROM retention_rules WHERE org_id = $1";
pub(crate) const INSERT_RETENTION_RULE: &str =
    "INSERT INTO retention_rules (org_id, kind, months, updated_at) VALUES ($1, $2, $3, $4)";
pub(crate) const ORGS_WITH_RETENTION_RULES: &str = "SELECT DISTINCT org_id FROM retention_rules ORDER BY org_id";

/// Customers not erased with no update, response, logged feedback or case activity since the
/// cut-off `$2`, and no case still being worked; by id after `$3`, at most `$4`.
pub(crate) const INACTIVE_CUSTOMERS: &str = "SELECT c.id FROM customers c WHERE c.org_id = $1 \
     AND c.erased_at IS NULL AND c.updated_at < $2 AND c.id > $3 \
     AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.org_id = c.org_id AND r.customer_id = c.id \
       AND r.submitted_at >= $2) \
     AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.org_id = c.org_id AND f.customer_id = c.id \
       AND f.occurred_at >= $2) \
     AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.org_id = c.org_id AND k.customer_id = c.id \
       AND (k.status IN ('open', 'in_progress') OR k.updated_at >= $2)) \
     ORDER BY c.id LIMIT $4";
/// Responses submitted before `$2` that still hold free text, by id after `$3`, at most `$4`.
pub(crate) const RESPONSES_WITH_TEXT_BEFORE: &str = concat!(
    crate::sql::response_select!(),
    " WHERE r.org_id = $1 AND r.submitted_at < $2 AND r.verbatim IS NOT NULL AND r.id > $3 ORDER BY r.id LIMIT $4"
);
pub(crate) const REDACT_RESPONSE: &str =
    "UPDATE responses SET answers = $3, verbatim = NULL WHERE org_id = $1 AND id = $2 AND verbatim IS NOT NULL";

/// `$3` the redaction placeholder, `$4` the erasure placeholder: texts already replaced by
/// either are left alone.
pub(crate) const COUNT_FEEDBACK_TEXT_BEFORE: &str = "SELECT COUNT(*) FROM feedback WHERE org_id = $1 \
     AND occurred_at < $2 AND text <> $3 AND text <> $4";
pub(crate) const REDACT_FEEDBACK_TEXT_BEFORE: &str = "UPDATE feedback SET text = $3 WHERE org_id = $1 \
     AND occurred_at < $2 AND text <> $3 AND text <> $4";
pub(crate) const COUNT_AUDIT_BEFORE: &str = "SELECT COUNT(*) FROM audit_log WHERE org_id = $1 AND at < $2";
pub(crate) const DELETE_AUDIT_BEFORE: &str = "DELETE FROM audit_log WHERE org_id = $1 AND at < $2";
pub(crate) const COUNT_CLOSED_CASE_NOTES_BEFORE: &str = "SELECT COUNT(*) FROM cases WHERE org_id = $1 \
     AND status = 'closed' AND closed_at < $2 AND notes <> '[]'";
/// Bumps `updated_at` (`$3`) so a concurrent case update read before cannot write the notes back.
pub(crate) const CLEAR_CLOSED_CASE_NOTES_BEFORE: &str = "UPDATE cases SET notes = '[]', updated_at = $3 \
     WHERE org_id = $1 AND status = 'closed' AND closed_at < $2 AND notes <> '[]'";

/// `security_policy_items` row.
#[derive(sqlx::FromRow)]
pub(crate) struct PolicyItemRow {
    id: i64,
    org_id: i64,
    kind: String,
    title: String,
    objective: String,
    scope: String,
    owner_email: String,
    review_date: String,
    status: String,
    created_at: Ts,
    updated_at: Ts,
}

impl TryFrom<PolicyItemRow> for PolicyItem {
    type Error = StoreError;

    fn try_from(r: PolicyItemRow) -> Result<Self, StoreError> {
        let review_date = NaiveDate::parse_from_str(&r.review_date, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("stored review date '{}' is invalid", r.review_date)))?;
        Ok(PolicyItem {
            id: PolicyItemId(r.id),
            org_id: OrgId(r.org_id),
            fields: PolicyItemFields {
                kind: parse_stored("policy kind", &r.kind, PolicyKind::parse)?,
                title: r.title,
                objective: r.objective,
                scope: r.scope,
                owner_email: parse_stored("owner e-mail", &r.owner_email, Email::parse)?,
                review_date,
                status: parse_stored("policy status", &r.status, PolicyStatus::parse)?,
            },
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

/// `security_incidents` row.
#[derive(sqlx::FromRow)]
pub(crate) struct IncidentRow {
    id: i64,
    org_id: i64,
    title: String,
    description: Option<String>,
    occurred_at: Ts,
    detected_at: Ts,
    data_affected: String,
    customers_affected: i64,
    severity: String,
    actions_taken: Option<String>,
    notified_to: Json<Vec<String>>,
    closed_at: Option<Ts>,
    reported_by: String,
    created_at: Ts,
    updated_at: Ts,
}

impl TryFrom<IncidentRow> for Incident {
    type Error = StoreError;

    fn try_from(r: IncidentRow) -> Result<Self, StoreError> {
        Ok(Incident {
            id: IncidentId(r.id),
            org_id: OrgId(r.org_id),
            fields: IncidentFields {
                title: r.title,
                description: r.description,
                occurred_at: r.occurred_at.0,
                detected_at: r.detected_at.0,
                data_affected: r.data_affected,
                customers_affected: r.customers_affected,
                severity: parse_stored("severity", &r.severity, Severity::parse)?,
                actions_taken: r.actions_taken,
                notified_to: r.notified_to.0,
                closed_at: r.closed_at.map(|t| t.0),
            },
            reported_by: r.reported_by,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        })
    }
}

/// `(detected_at, closed_at)` of an incident.
#[derive(sqlx::FromRow)]
pub(crate) struct IncidentTimesRow {
    pub detected_at: Ts,
    pub closed_at: Option<Ts>,
}

impl IncidentTimesRow {
    /// The plain times.
    pub(crate) fn times(&self) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
        (self.detected_at.0, self.closed_at.map(|t| t.0))
    }
}
