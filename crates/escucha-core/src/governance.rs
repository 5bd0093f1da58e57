//! Data governance (seed 000, element 4): the organisation's customer-data security policy, the
//! register of security incidents, and retention rules per data kind. Pure: outside input is
//! parsed into values that cannot be invalid ("parse, don't validate"), and the figures a maturity
//! assessment needs (reviews kept in time, incidents closed, time to close) are computed here from
//! plain data, so the store and the pages agree.
//!
//! Key decisions:
//! - Inputs are all-optional structs that only check JSON types; [`PolicyItemInput::parse`] and
//!   [`IncidentInput::parse`] report every problem at once, field by field.
//! - A partial update (`PATCH`) is the stored item's input with the patch's keys laid over it
//!   ([`patch_input`]), parsed again: one validation path for creating and changing, and `null`
//!   clears an optional field (an incident's `closed_at` reopens it).
//! - Retention is expressed in whole months back from "now" ([`retention_cutoff`]); the audit log
//!   keeps at least [`MIN_AUDIT_RETENTION_MONTHS`], so evidence of recent actions cannot be
//!   deleted by configuration.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::ids::OrgId;
use crate::validation::{Collector, ValidationErrors};
use crate::values::Email;

/// A closed set of wire names (`snake_case`), parsed with a field-level error.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, $code:literal,
     { $($(#[$vdoc:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Parses a wire name.
            pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw.trim()).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    ValidationErrors::one($field, $code, format!("{} must be one of {}", $field, names.join(", ")))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Store id of a security policy item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PolicyItemId(pub i64);

/// Store id of a security incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(pub i64);

impl std::fmt::Display for PolicyItemId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for IncidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Longest title of a policy item or incident.
pub const MAX_TITLE: usize = 200;
/// Longest free text (objective, scope, description, actions).
pub const MAX_TEXT: usize = 5_000;

/// Checks a required text field: trimmed, 1 to `max` characters.
fn required_text(errors: &mut Collector, field: &str, raw: Option<String>, max: usize) -> Option<String> {
    match raw.map(|s| s.trim().to_string()) {
        None => {
            errors.push(field, "required", format!("{field} is required"));
            None
        }
        Some(s) if s.is_empty() => {
            errors.push(field, "required", format!("{field} must not be empty"));
            None
        }
        Some(s) if s.chars().count() > max => {
            errors.push(field, "too_long", format!("{field} may have at most {max} characters"));
            None
        }
        Some(s) => Some(s),
    }
}

/// Checks an optional text field: blank means absent.
fn optional_text(errors: &mut Collector, field: &str, raw: Option<String>, max: usize) -> Option<String> {
    match raw.map(|s| s.trim().to_string()) {
        Some(s) if s.chars().count() > max => {
            errors.push(field, "too_long", format!("{field} may have at most {max} characters"));
            None
        }
        Some(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// Parses an RFC 3339 time.
fn parse_time(errors: &mut Collector, field: &str, raw: &str) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(raw.trim()) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errors.push(field, "invalid_time", format!("{field} must be an RFC 3339 time, e.g. 2026-03-01T09:00:00Z"));
            None
        }
    }
}

/// Lays the keys of `patch` over `current` (an item's input as JSON) and parses the result as
/// `T`: absent keys keep their value, `null` clears an optional one. A wrong JSON type or an
/// unknown key is an `invalid_body` error.
pub fn patch_input<T: DeserializeOwned>(current: Value, patch: &Map<String, Value>) -> Result<T, ValidationErrors> {
    let mut merged = match current {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in patch {
        merged.insert(k.clone(), v.clone());
    }
    serde_json::from_value(Value::Object(merged)).map_err(|e| {
        ValidationErrors::one("", "invalid_body", format!("the body does not have the expected shape: {e}"))
    })
}

// --- security policy ----------------------------------------------------------------------

wire_enum!(
    /// What part of the security policy an item is (seed 000, element 4).
    PolicyKind, "kind", "invalid_kind", {
        /// A principle the organisation holds to (e.g. least privilege).
        Principle => "principle",
        /// Who is responsible for what.
        Responsibility => "responsibility",
        /// How compliance is supervised.
        Supervision => "supervision",
        /// How security incidents are handled.
        IncidentManagement => "incident_management",
        /// How the programme is audited.
        Audit => "audit",
    }
);

wire_enum!(
    /// Where a policy item stands.
    PolicyStatus, "status", "invalid_status", {
        /// Being written; not yet in force.
        Draft => "draft",
        /// In force.
        Active => "active",
        /// No longer in force (kept as history).
        Retired => "retired",
    }
);

/// A policy item as sent by a client: every field optional so that all problems are reported
/// at once by [`PolicyItemInput::parse`].
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyItemInput {
    /// `principle`, `responsibility`, `supervision`, `incident_management` or `audit`.
    pub kind: Option<String>,
    /// Short title.
    pub title: Option<String>,
    /// What the item is meant to achieve.
    pub objective: Option<String>,
    /// What data, systems and people it covers.
    pub scope: Option<String>,
    /// E-mail of the staff user who owns it (the handler checks the user exists).
    pub owner_email: Option<String>,
    /// Next review, `YYYY-MM-DD`.
    pub review_date: Option<String>,
    /// `draft` (default), `active` or `retired`.
    pub status: Option<String>,
}

/// A valid policy item's fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyItemFields {
    /// Which part of the policy.
    pub kind: PolicyKind,
    /// Short title.
    pub title: String,
    /// Objective.
    pub objective: String,
    /// Scope.
    pub scope: String,
    /// Owner (a staff user).
    pub owner_email: Email,
    /// Next review date.
    pub review_date: NaiveDate,
    /// Status.
    pub status: PolicyStatus,
}

impl PolicyItemInput {
    /// Parses the input, reporting every problem.
    pub fn parse(self) -> Result<PolicyItemFields, ValidationErrors> {
        let mut errors = Collector::default();
        let kind = match self.kind {
            Some(k) => errors.take(PolicyKind::parse(&k)),
            None => {
                errors.push("kind", "required", "kind is required");
                None
            }
        };
        let title = required_text(&mut errors, "title", self.title, MAX_TITLE);
        let objective = required_text(&mut errors, "objective", self.objective, MAX_TEXT);
        let scope = required_text(&mut errors, "scope", self.scope, MAX_TEXT);
        let owner_email = match self.owner_email {
            Some(e) => errors.take(Email::parse(&e).map_err(|e| e.prefixed("owner_email"))),
            None => {
                errors.push("owner_email", "required", "owner_email is required (a staff user's e-mail)");
                None
            }
        };
        let review_date = match self.review_date.as_deref().map(str::trim) {
            Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(date) if (2000..=2200).contains(&chrono::Datelike::year(&date)) => Some(date),
                _ => {
                    errors.push("review_date", "invalid_date", "review_date must be a date YYYY-MM-DD (2000–2200)");
                    None
                }
            },
            None => {
                errors.push("review_date", "required", "review_date is required (YYYY-MM-DD)");
                None
            }
        };
        let status = match self.status {
            Some(s) => errors.take(PolicyStatus::parse(&s)),
            None => Some(PolicyStatus::Draft),
        };
        errors.finish(|| PolicyItemFields {
            kind: kind.expect("checked"),
            title: title.expect("checked"),
            objective: objective.expect("checked"),
            scope: scope.expect("checked"),
            owner_email: owner_email.expect("checked"),
            review_date: review_date.expect("checked"),
            status: status.expect("checked"),
        })
    }
}

impl PolicyItemFields {
    /// The fields as input JSON, for [`patch_input`].
    pub fn to_input(&self) -> Value {
        json!({
            "kind": self.kind,
            "title": self.title,
            "objective": self.objective,
            "scope": self.scope,
            "owner_email": self.owner_email,
            "review_date": self.review_date.format("%Y-%m-%d").to_string(),
            "status": self.status,
        })
    }
}

/// A stored policy item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyItem {
    /// Store id.
    pub id: PolicyItemId,
    /// Organisation.
    pub org_id: OrgId,
    /// The fields.
    #[serde(flatten)]
    pub fields: PolicyItemFields,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl PolicyItem {
    /// True when the item is not retired and its review date has passed.
    pub fn review_overdue(&self, today: NaiveDate) -> bool {
        self.fields.status != PolicyStatus::Retired && self.fields.review_date < today
    }
}

/// What a maturity check reads from the security policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PolicyStats {
    /// Items of any status.
    pub items: i64,
    /// Items in force.
    pub active: i64,
    /// Items in force whose review date has not passed (reviewed in time).
    pub active_reviewed_in_time: i64,
    /// Items not retired whose review date has passed.
    pub overdue: i64,
    /// The kinds covered by at least one item in force, in order.
    pub kinds_covered: Vec<PolicyKind>,
}

/// Counts what a maturity check needs from the policy items on `today`.
pub fn policy_stats(items: &[PolicyItem], today: NaiveDate) -> PolicyStats {
    let active: Vec<&PolicyItem> = items.iter().filter(|i| i.fields.status == PolicyStatus::Active).collect();
    let mut kinds: Vec<PolicyKind> = active.iter().map(|i| i.fields.kind).collect();
    kinds.sort();
    kinds.dedup();
    PolicyStats {
        items: items.len() as i64,
        active: active.len() as i64,
        active_reviewed_in_time: active.iter().filter(|i| !i.review_overdue(today)).count() as i64,
        overdue: items.iter().filter(|i| i.review_overdue(today)).count() as i64,
        kinds_covered: kinds,
    }
}

// --- incidents ----------------------------------------------------------------------------

wire_enum!(
    /// How serious a security incident is.
    Severity, "severity", "invalid_severity", {
        /// No personal data exposed, contained at once.
        Low => "low",
        /// Limited exposure.
        Medium => "medium",
        /// Personal data of many customers exposed, or sensitive data.
        High => "high",
        /// Large or ongoing breach; authorities must be told.
        Critical => "critical",
    }
);

/// The most parties an incident may list as notified.
pub const MAX_NOTIFIED: usize = 20;
/// How far in the future a time may be (clock skew between machines).
const FUTURE_LEEWAY_MINUTES: i64 = 5;

/// An incident as sent by a client; [`IncidentInput::parse`] reports every problem at once.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    /// What happened, in a line.
    pub title: Option<String>,
    /// What happened, in detail.
    pub description: Option<String>,
    /// When it happened (RFC 3339).
    pub occurred_at: Option<String>,
    /// When it was detected (RFC 3339), not before it happened.
    pub detected_at: Option<String>,
    /// What data was affected.
    pub data_affected: Option<String>,
    /// How many customers were affected (0 or more).
    pub customers_affected: Option<i64>,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: Option<String>,
    /// What was done about it.
    pub actions_taken: Option<String>,
    /// Who was told (e.g. the data protection officer, the authority, the customers).
    pub notified_to: Option<Vec<String>>,
    /// When it was closed (RFC 3339); needs `actions_taken`.
    pub closed_at: Option<String>,
}

/// A valid incident's fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentFields {
    /// What happened, in a line.
    pub title: String,
    /// Details.
    pub description: Option<String>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it was detected.
    pub detected_at: DateTime<Utc>,
    /// What data was affected.
    pub data_affected: String,
    /// How many customers were affected.
    pub customers_affected: i64,
    /// Severity.
    pub severity: Severity,
    /// What was done.
    pub actions_taken: Option<String>,
    /// Who was told.
    pub notified_to: Vec<String>,
    /// When closed; `None` while open.
    pub closed_at: Option<DateTime<Utc>>,
}

impl IncidentInput {
    /// Parses the input at `now` (times may not lie in the future), reporting every problem.
    pub fn parse(self, now: DateTime<Utc>) -> Result<IncidentFields, ValidationErrors> {
        let mut errors = Collector::default();
        let title = required_text(&mut errors, "title", self.title, MAX_TITLE);
        let description = optional_text(&mut errors, "description", self.description, MAX_TEXT);
        let mut time = |field: &str, raw: Option<String>, required: bool| match raw {
            Some(r) => parse_time(&mut errors, field, &r),
            None if required => {
                errors.push(field, "required", format!("{field} is required (RFC 3339 time)"));
                None
            }
            None => None,
        };
        let occurred_at = time("occurred_at", self.occurred_at, true);
        let detected_at = time("detected_at", self.detected_at, true);
        let closed_at = time("closed_at", self.closed_at, false);
        let data_affected = required_text(&mut errors, "data_affected", self.data_affected, MAX_TEXT);
        let customers_affected = match self.customers_affected {
            Some(n) if (0..=1_000_000_000).contains(&n) => Some(n),
            Some(_) => {
                errors.push("customers_affected", "out_of_range", "customers_affected must be from 0 to 1,000,000,000");
                None
            }
            None => {
                errors.push("customers_affected", "required", "customers_affected is required (0 when none)");
                None
            }
        };
        let severity = match self.severity {
            Some(s) => errors.take(Severity::parse(&s)),
            None => {
                errors.push("severity", "required", "severity is required");
                None
            }
        };
        let actions_taken = optional_text(&mut errors, "actions_taken", self.actions_taken, MAX_TEXT);
        let mut notified_to: Vec<String> = Vec::new();
        let raw_notified = self.notified_to.unwrap_or_default();
        if raw_notified.len() > MAX_NOTIFIED {
            errors.push("notified_to", "too_many", format!("notified_to may list at most {MAX_NOTIFIED} parties"));
        }
        for (i, who) in raw_notified.into_iter().take(MAX_NOTIFIED).enumerate() {
            let who = who.trim().to_string();
            if who.is_empty() || who.chars().count() > MAX_TITLE || who.chars().any(char::is_control) {
                errors.push(format!("notified_to[{i}]"), "invalid_label", "must be 1 to 200 characters");
            } else if !notified_to.contains(&who) {
                notified_to.push(who);
            }
        }
        let latest = now + chrono::Duration::minutes(FUTURE_LEEWAY_MINUTES);
        for (field, t) in [("occurred_at", occurred_at), ("detected_at", detected_at), ("closed_at", closed_at)] {
            if t.is_some_and(|t| t > latest) {
                errors.push(field, "in_future", format!("{field} may not be in the future"));
            }
        }
        if let (Some(o), Some(d)) = (occurred_at, detected_at)
            && d < o
        {
            errors.push("detected_at", "before_occurred", "detected_at may not be before occurred_at");
        }
        if let (Some(d), Some(c)) = (detected_at, closed_at)
            && c < d
        {
            errors.push("closed_at", "before_detected", "closed_at may not be before detected_at");
        }
        if closed_at.is_some() && actions_taken.is_none() {
            errors.push("actions_taken", "actions_required", "say what was done (actions_taken) before closing");
        }
        errors.finish(|| IncidentFields {
            title: title.expect("checked"),
            description,
            occurred_at: occurred_at.expect("checked"),
            detected_at: detected_at.expect("checked"),
            data_affected: data_affected.expect("checked"),
            customers_affected: customers_affected.expect("checked"),
            severity: severity.expect("checked"),
            actions_taken,
            notified_to,
            closed_at,
        })
    }
}

impl IncidentFields {
    /// The fields as input JSON, for [`patch_input`].
    pub fn to_input(&self) -> Value {
        let time = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        json!({
            "title": self.title,
            "description": self.description,
            "occurred_at": time(self.occurred_at),
            "detected_at": time(self.detected_at),
            "data_affected": self.data_affected,
            "customers_affected": self.customers_affected,
            "severity": self.severity,
            "actions_taken": self.actions_taken,
            "notified_to": self.notified_to,
            "closed_at": self.closed_at.map(time),
        })
    }

    /// True while the incident is not closed.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// A stored incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// Store id.
    pub id: IncidentId,
    /// Organisation.
    pub org_id: OrgId,
    /// The fields.
    #[serde(flatten)]
    pub fields: IncidentFields,
    /// Who recorded it.
    pub reported_by: String,
    /// When recorded.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

/// What a maturity check reads from the incident register.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct IncidentStats {
    /// Incidents recorded.
    pub total: i64,
    /// Still open.
    pub open: i64,
    /// Closed.
    pub closed: i64,
    /// Mean hours from detection to closing over closed incidents; `None` when none closed.
    pub mean_hours_to_close: Option<f64>,
}

/// Counts incidents given as `(detected_at, closed_at)`.
pub fn incident_stats(incidents: &[(DateTime<Utc>, Option<DateTime<Utc>>)]) -> IncidentStats {
    let durations: Vec<f64> =
        incidents.iter().filter_map(|(d, c)| c.map(|c| (c - *d).num_seconds() as f64 / 3600.0)).collect();
    let closed = durations.len() as i64;
    IncidentStats {
        total: incidents.len() as i64,
        open: incidents.len() as i64 - closed,
        closed,
        mean_hours_to_close: (!durations.is_empty()).then(|| durations.iter().sum::<f64>() / durations.len() as f64),
    }
}

// --- retention ----------------------------------------------------------------------------

wire_enum!(
    /// A kind of data a retention rule applies to.
    RetentionKind, "kind", "invalid_kind", {
        /// Contact data of customers with no response, feedback, update or active case for the
        /// period: the customer is erased as on request (scores stay, anonymous).
        InactiveCustomerContact => "inactive_customer_contact",
        /// Free-text answers, verbatims and logged feedback texts older than the period are
        /// redacted; scores stay.
        FreeText => "free_text",
        /// Audit log entries older than the period are deleted (at least 12 months are kept).
        AuditLog => "audit_log",
        /// Notes of cases closed longer ago than the period are deleted.
        ClosedCaseNotes => "closed_case_notes",
    }
);

/// The audit log is kept at least this long, whatever the rules say.
pub const MIN_AUDIT_RETENTION_MONTHS: u32 = 12;
/// The longest retention period a rule may name (100 years).
pub const MAX_RETENTION_MONTHS: u32 = 1_200;

impl RetentionKind {
    /// The shortest period a rule of this kind may name.
    pub fn min_months(self) -> u32 {
        match self {
            RetentionKind::AuditLog => MIN_AUDIT_RETENTION_MONTHS,
            _ => 1,
        }
    }
}

/// One rule: data of `kind` older than `months` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionRule {
    /// The data kind.
    pub kind: RetentionKind,
    /// The period, in months.
    pub months: u32,
}

/// An organisation's retention rules: at most one per kind, in kind order. Empty means nothing
/// is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RetentionRules(Vec<RetentionRule>);

/// One rule as sent by a client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRuleInput {
    /// The data kind's wire name.
    pub kind: String,
    /// The period in months.
    pub months: i64,
}

/// The rules as sent by a client (`PUT /api/v1/retention`): the whole set, replacing the old.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRulesInput {
    /// The rules; a kind left out has no rule.
    pub rules: Vec<RetentionRuleInput>,
}

impl RetentionRulesInput {
    /// Parses the rules: known kinds, each at most once, periods within the kind's bounds.
    pub fn parse(self) -> Result<RetentionRules, ValidationErrors> {
        let mut errors = Collector::default();
        let mut rules: Vec<RetentionRule> = Vec::new();
        for (i, rule) in self.rules.into_iter().enumerate() {
            let Some(kind) =
                errors.take(RetentionKind::parse(&rule.kind).map_err(|e| e.prefixed(&format!("rules[{i}]"))))
            else {
                continue;
            };
            if rules.iter().any(|r| r.kind == kind) {
                errors.push(format!("rules[{i}].kind"), "duplicate_kind", format!("{kind} has more than one rule"));
                continue;
            }
            let min = kind.min_months();
            match u32::try_from(rule.months) {
                Ok(m) if (min..=MAX_RETENTION_MONTHS).contains(&m) => rules.push(RetentionRule { kind, months: m }),
                _ => errors.push(
                    format!("rules[{i}].months"),
                    if rule.months >= 1 && (rule.months as u64) < u64::from(min) {
                        "below_minimum"
                    } else {
                        "out_of_range"
                    },
                    format!("months for {kind} must be from {min} to {MAX_RETENTION_MONTHS}"),
                ),
            }
        }
        errors.finish(|| RetentionRules::new(rules))
    }
}

impl RetentionRules {
    /// Rules from already valid values (sorted by kind; a later duplicate is dropped).
    fn new(mut rules: Vec<RetentionRule>) -> Self {
        rules.sort_by_key(|r| r.kind);
        rules.dedup_by_key(|r| r.kind);
        RetentionRules(rules)
    }

    /// Rebuilds rules read back from storage as `(kind, months)`, checking them again.
    pub fn from_stored(rows: Vec<(String, i64)>) -> Result<Self, ValidationErrors> {
        RetentionRulesInput {
            rules: rows.into_iter().map(|(kind, months)| RetentionRuleInput { kind, months }).collect(),
        }
        .parse()
    }

    /// The rules, in kind order.
    pub fn rules(&self) -> &[RetentionRule] {
        &self.0
    }

    /// The period of `kind`, when it has a rule.
    pub fn months(&self, kind: RetentionKind) -> Option<u32> {
        self.0.iter().find(|r| r.kind == kind).map(|r| r.months)
    }

    /// True when there is no rule.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each rule with its cut-off at `now`: data older than the cut-off goes.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> Vec<(RetentionKind, DateTime<Utc>)> {
        self.0.iter().map(|r| (r.kind, retention_cutoff(now, r.months))).collect()
    }
}

/// `months` calendar months before `now` (clamped to the month's end: 31 March minus one month is
/// 28 or 29 February).
pub fn retention_cutoff(now: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(months)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn policy_input() -> PolicyItemInput {
        PolicyItemInput {
            kind: Some("principle".into()),
            title: Some("  Least privilege ".into()),
            objective: Some("Only who needs it sees personal data".into()),
            scope: Some("All staff and systems".into()),
            owner_email: Some("Ana@Acme.com".into()),
            review_date: Some("2026-06-30".into()),
            status: None,
        }
    }

    #[test]
    fn policy_items_parse_and_report_every_problem() {
        let item = policy_input().parse().unwrap();
        assert_eq!(item.title, "Least privilege");
        assert_eq!(item.owner_email.as_str(), "ana@acme.com");
        assert_eq!(item.status, PolicyStatus::Draft);
        let err = PolicyItemInput {
            kind: Some("rule".into()),
            title: Some(" ".into()),
            review_date: Some("30/06/2026".into()),
            owner_email: Some("nobody".into()),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "title", "objective", "scope", "owner_email", "review_date"], "{err:?}");
        assert_eq!(err.first_code(), "invalid_kind");
    }

    #[test]
    fn a_patch_overlays_the_stored_item_and_null_clears() {
        let item = policy_input().parse().unwrap();
        let patch = json!({"status": "active", "review_date": "2027-01-31"});
        let patched: PolicyItemInput = patch_input(item.to_input(), patch.as_object().unwrap()).unwrap();
        let patched = patched.parse().unwrap();
        assert_eq!((patched.status, patched.review_date.to_string()), (PolicyStatus::Active, "2027-01-31".into()));
        assert_eq!(patched.title, item.title);
        let bad = patch_input::<PolicyItemInput>(item.to_input(), json!({"colour": "red"}).as_object().unwrap());
        assert_eq!(bad.unwrap_err().first_code(), "invalid_body");
        let cleared: PolicyItemInput =
            patch_input(item.to_input(), json!({"title": null}).as_object().unwrap()).unwrap();
        assert_eq!(cleared.parse().unwrap_err().first_code(), "required");
    }

    #[test]
    fn overdue_reviews_and_policy_stats() {
        let today = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let mk = |id, kind, status, date: &str| PolicyItem {
            id: PolicyItemId(id),
            org_id: OrgId(1),
            fields: PolicyItemFields {
                kind,
                status,
                review_date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
                ..policy_input().parse().unwrap()
            },
            created_at: t("2026-01-01T00:00:00Z"),
            updated_at: t("2026-01-01T00:00:00Z"),
        };
        let items = vec![
            mk(1, PolicyKind::Principle, PolicyStatus::Active, "2026-07-01"),
            mk(2, PolicyKind::Audit, PolicyStatus::Active, "2026-06-30"),
            mk(3, PolicyKind::Principle, PolicyStatus::Active, "2027-01-01"),
            mk(4, PolicyKind::Supervision, PolicyStatus::Draft, "2026-01-01"),
            mk(5, PolicyKind::Responsibility, PolicyStatus::Retired, "2020-01-01"),
        ];
        assert!(!items[0].review_overdue(today), "due today is in time");
        assert!(items[1].review_overdue(today));
        assert!(!items[4].review_overdue(today), "retired items are never overdue");
        let stats = policy_stats(&items, today);
        assert_eq!(
            stats,
            PolicyStats {
                items: 5,
                active: 3,
                active_reviewed_in_time: 2,
                overdue: 2,
                kinds_covered: vec![PolicyKind::Principle, PolicyKind::Audit],
            }
        );
    }

    fn incident_input() -> IncidentInput {
        IncidentInput {
            title: Some("Lost laptop".into()),
            description: None,
            occurred_at: Some("2026-03-01T08:00:00Z".into()),
            detected_at: Some("2026-03-01T10:00:00Z".into()),
            data_affected: Some("Customer names and e-mails of the North region".into()),
            customers_affected: Some(120),
            severity: Some("high".into()),
            actions_taken: None,
            notified_to: Some(vec!["DPO".into(), " DPO ".into(), "Authority".into()]),
            closed_at: None,
        }
    }

    #[test]
    fn incidents_parse_with_time_order_and_closing_rules() {
        let now = t("2026-03-02T00:00:00Z");
        let i = incident_input().parse(now).unwrap();
        assert!(i.is_open());
        assert_eq!(i.notified_to, ["DPO", "Authority"]);
        let err = IncidentInput {
            detected_at: Some("2026-03-01T07:00:00Z".into()),
            closed_at: Some("2026-03-05T00:00:00Z".into()),
            customers_affected: Some(-1),
            severity: Some("urgent".into()),
            ..incident_input()
        }
        .parse(now)
        .unwrap_err();
        let codes: Vec<&str> = err.0.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["out_of_range", "invalid_severity", "in_future", "before_occurred", "actions_required"]);
        let closed = IncidentInput {
            closed_at: Some("2026-03-01T16:00:00Z".into()),
            actions_taken: Some("Remote wipe".into()),
            ..incident_input()
        }
        .parse(now)
        .unwrap();
        assert!(!closed.is_open());
        // Reopening: null clears closed_at.
        let reopened: IncidentInput =
            patch_input(closed.to_input(), json!({"closed_at": null}).as_object().unwrap()).unwrap();
        assert!(reopened.parse(now).unwrap().is_open());
        let missing = IncidentInput::default().parse(now).unwrap_err();
        assert_eq!(missing.0.len(), 6, "{missing:?}");
    }

    #[test]
    fn incident_stats_count_and_average_time_to_close() {
        let d = t("2026-03-01T00:00:00Z");
        let stats = incident_stats(&[
            (d, Some(d + chrono::Duration::hours(10))),
            (d, Some(d + chrono::Duration::hours(30))),
            (d, None),
        ]);
        assert_eq!((stats.total, stats.open, stats.closed), (3, 1, 2));
        assert_eq!(stats.mean_hours_to_close, Some(20.0));
        assert_eq!(incident_stats(&[]).mean_hours_to_close, None);
    }

    #[test]
    fn retention_rules_have_bounds_and_the_audit_log_a_minimum() {
        let parse = |v: Value| serde_json::from_value::<RetentionRulesInput>(v).unwrap().parse();
        let rules = parse(json!({"rules": [
            {"kind": "audit_log", "months": 24},
            {"kind": "inactive_customer_contact", "months": 36}
        ]}))
        .unwrap();
        assert_eq!(rules.rules()[0].kind, RetentionKind::InactiveCustomerContact, "kept in kind order");
        assert_eq!(rules.months(RetentionKind::AuditLog), Some(24));
        assert_eq!(rules.months(RetentionKind::FreeText), None);
        let err = parse(json!({"rules": [
            {"kind": "audit_log", "months": 6},
            {"kind": "free_text", "months": 0},
            {"kind": "free_text", "months": 12},
            {"kind": "free_text", "months": 12},
            {"kind": "photos", "months": 12}
        ]}))
        .unwrap_err();
        let codes: Vec<(&str, &str)> = err.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            codes,
            [
                ("rules[0].months", "below_minimum"),
                ("rules[1].months", "out_of_range"),
                ("rules[3].kind", "duplicate_kind"),
                ("rules[4].kind", "invalid_kind")
            ]
        );
        assert!(parse(json!({"rules": []})).unwrap().is_empty());
        assert_eq!(
            RetentionRules::from_stored(vec![("closed_case_notes".into(), 6)])
                .unwrap()
                .months(RetentionKind::ClosedCaseNotes),
            Some(6)
        );
    }

    #[test]
    fn cutoffs_count_calendar_months_back() {
        let now = Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap();
        assert_eq!(retention_cutoff(now, 1), Utc.with_ymd_and_hms(2026, 2, 28, 12, 0, 0).unwrap());
        assert_eq!(retention_cutoff(now, 12), Utc.with_ymd_and_hms(2025, 3, 31, 12, 0, 0).unwrap());
        let rules = RetentionRules::new(vec![RetentionRule { kind: RetentionKind::FreeText, months: 24 }]);
        assert_eq!(
            rules.cutoffs(now),
            vec![(RetentionKind::FreeText, Utc.with_ymd_and_hms(2024, 3, 31, 12, 0, 0).unwrap())]
        );
    }
}
