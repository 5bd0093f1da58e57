//! Closed-loop cases (seed 004, idea 1): a response that needs follow-up becomes a case for the
//! customer's account executive, with their manager named, a due time and a life cycle.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::Customer;
use crate::ids::{CaseId, CustomerId, OrgId, ResponseId};
use crate::survey::MetricScores;
use crate::validation::ValidationErrors;
use crate::values::Email;

/// Where a case is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Waiting for the owner.
    Open,
    /// The owner is working on it (customer contacted).
    InProgress,
    /// Root cause and resolution recorded.
    Resolved,
    /// Confirmed with the customer; the loop is closed.
    Closed,
}

impl CaseStatus {
    /// All statuses.
    pub const ALL: [CaseStatus; 4] =
        [CaseStatus::Open, CaseStatus::InProgress, CaseStatus::Resolved, CaseStatus::Closed];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Resolved => "resolved",
            CaseStatus::Closed => "closed",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        CaseStatus::ALL.into_iter().find(|s| s.as_str() == raw).ok_or_else(|| {
            ValidationErrors::one("status", "invalid_status", "status must be open, in_progress, resolved or closed")
        })
    }

    /// Still needs work (counts against the SLA).
    pub fn is_active(self) -> bool {
        matches!(self, CaseStatus::Open | CaseStatus::InProgress)
    }
}

/// How urgent a case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Normal.
    Normal,
    /// High: a strong detractor.
    High,
}

impl Priority {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::High => "high",
        }
    }
}

/// A case ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    /// Customer to get back to.
    pub customer_id: CustomerId,
    /// Response that triggered it.
    pub response_id: Option<ResponseId>,
    /// Account executive who must act.
    pub owner_email: Email,
    /// Their manager, notified at the same time.
    pub manager_email: Option<Email>,
    /// Why the case exists: a stable code, e.g. `nps_detractor`.
    pub reason: String,
    /// Urgency.
    pub priority: Priority,
    /// SLA deadline.
    pub due_at: DateTime<Utc>,
    /// When the case was opened (its `created_at`); the SLA runs from here.
    pub opened_at: DateTime<Utc>,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Store id.
    pub id: CaseId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// Customer.
    pub customer_id: CustomerId,
    /// Customer's external id.
    pub customer_external_id: String,
    /// Triggering response.
    pub response_id: Option<ResponseId>,
    /// Owner.
    pub owner_email: Email,
    /// Owner's manager.
    pub manager_email: Option<Email>,
    /// Reason code.
    pub reason: String,
    /// Urgency.
    pub priority: Priority,
    /// Life-cycle state.
    pub status: CaseStatus,
    /// SLA deadline.
    pub due_at: DateTime<Utc>,
    /// Root cause found.
    pub root_cause: Option<String>,
    /// What was done.
    pub resolution: Option<String>,
    /// Notes, oldest first.
    pub notes: Vec<CaseNote>,
    /// When opened.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// When resolved or closed.
    pub closed_at: Option<DateTime<Utc>>,
}

/// A note on a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseNote {
    /// When written.
    pub at: DateTime<Utc>,
    /// Who wrote it (user e-mail or token name).
    pub author: String,
    /// Text.
    pub text: String,
}

/// A change to a case (`PATCH /api/v1/cases/{id}`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseUpdate {
    /// New status.
    pub status: Option<CaseStatus>,
    /// Root cause.
    pub root_cause: Option<String>,
    /// Resolution.
    pub resolution: Option<String>,
    /// A note to append.
    pub note: Option<String>,
}

impl Case {
    /// Applies an update: resolving or closing needs a resolution (given now or before);
    /// a closed case can only be reopened to `open` or `in_progress`.
    pub fn apply(&mut self, update: CaseUpdate, author: &str, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
        let clean = |s: Option<String>, field: &str| -> Result<Option<String>, ValidationErrors> {
            match s.map(|s| s.trim().to_string()) {
                Some(s) if s.chars().count() > 5_000 => {
                    Err(ValidationErrors::one(field, "too_long", format!("{field} may have at most 5000 characters")))
                }
                Some(s) if s.is_empty() => Ok(None),
                other => Ok(other),
            }
        };
        let root_cause = clean(update.root_cause, "root_cause")?;
        let resolution = clean(update.resolution, "resolution")?;
        let note = clean(update.note, "note")?;
        if update.status.is_none() && root_cause.is_none() && resolution.is_none() && note.is_none() {
            return Err(ValidationErrors::one(
                "",
                "empty_update",
                "give at least one of status, root_cause, resolution, note",
            ));
        }
        if let Some(rc) = root_cause {
            self.root_cause = Some(rc);
        }
        if let Some(r) = resolution {
            self.resolution = Some(r);
        }
        if let Some(status) = update.status {
            if matches!(status, CaseStatus::Resolved | CaseStatus::Closed) && self.resolution.is_none() {
                return Err(ValidationErrors::one(
                    "resolution",
                    "resolution_required",
                    "say what was done (resolution) before resolving or closing a case",
                ));
            }
            self.closed_at = if status.is_active() { None } else { self.closed_at.or(Some(now)) };
            self.status = status;
        }
        if let Some(text) = note {
            self.notes.push(CaseNote { at: now, author: author.to_string(), text });
        }
        self.updated_at = now;
        Ok(())
    }
}

/// What makes a response open a case.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// An NPS answer at or below this value.
    NpsAtMost {
        /// Highest triggering score.
        score: u8,
    },
    /// A CSAT answer at or below this value.
    CsatAtMost {
        /// Highest triggering score.
        score: u8,
    },
}

/// A rule turning a response into a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    /// Stable code, also the case's reason.
    pub code: String,
    /// Condition.
    pub trigger: Trigger,
    /// Hours until the case is due.
    pub sla_hours: u32,
    /// Scores at or below this make the case high priority.
    pub high_priority_at_most: u8,
}

/// The rules every organisation starts with: an NPS detractor (0–6) or a dissatisfied CSAT
/// (1–2) opens a case due in 48 hours; NPS 0–3 and CSAT 1 are high priority.
pub fn default_alert_rules() -> Vec<AlertRule> {
    vec![
        AlertRule {
            code: "nps_detractor".into(),
            trigger: Trigger::NpsAtMost { score: 6 },
            sla_hours: 48,
            high_priority_at_most: 3,
        },
        AlertRule {
            code: "csat_dissatisfied".into(),
            trigger: Trigger::CsatAtMost { score: 2 },
            sla_hours: 48,
            high_priority_at_most: 1,
        },
    ]
}

/// Decides whether a response opens a case: the first matching rule wins; a customer without
/// an owner gets no case (there is nobody to assign it to). The owner's manager is looked up by
/// the caller and passed in.
pub fn case_for_response(
    rules: &[AlertRule],
    scores: &MetricScores,
    customer: &Customer,
    manager_email: Option<Email>,
    response_id: Option<ResponseId>,
    now: DateTime<Utc>,
) -> Option<NewCase> {
    let owner = customer.owner_email.clone()?;
    rules.iter().find_map(|rule| {
        let score = match rule.trigger {
            Trigger::NpsAtMost { score } => scores.nps.filter(|s| *s <= score),
            Trigger::CsatAtMost { score } => scores.csat.filter(|s| *s <= score),
        }?;
        Some(NewCase {
            customer_id: customer.id,
            response_id,
            owner_email: owner.clone(),
            manager_email: manager_email.clone(),
            reason: rule.code.clone(),
            priority: if score <= rule.high_priority_at_most { Priority::High } else { Priority::Normal },
            due_at: now + Duration::hours(i64::from(rule.sla_hours)),
            opened_at: now,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::ExternalId;

    fn customer(owner: Option<&str>) -> Customer {
        let mut c = Customer::blank(OrgId(1), ExternalId::parse("C1").unwrap(), Utc::now());
        c.id = CustomerId(7);
        c.owner_email = owner.map(|o| Email::parse(o).unwrap());
        c
    }

    #[test]
    fn detractors_open_cases_for_the_owner_with_manager() {
        let now = Utc::now();
        let rules = default_alert_rules();
        let boss = Some(Email::parse("boss@x.com").unwrap());
        let scores = |nps, csat| MetricScores { nps, csat, ..Default::default() };
        let c = case_for_response(&rules, &scores(Some(6), None), &customer(Some("ae@x.com")), boss.clone(), None, now)
            .unwrap();
        assert_eq!(c.owner_email.as_str(), "ae@x.com");
        assert_eq!(c.manager_email, boss);
        assert_eq!(c.reason, "nps_detractor");
        assert_eq!(c.priority, Priority::Normal);
        assert_eq!(c.due_at, now + Duration::hours(48));
        let high =
            case_for_response(&rules, &scores(Some(2), None), &customer(Some("ae@x.com")), None, None, now).unwrap();
        assert_eq!(high.priority, Priority::High);
        assert!(
            case_for_response(&rules, &scores(Some(7), Some(3)), &customer(Some("ae@x.com")), None, None, now)
                .is_none()
        );
        assert!(case_for_response(&rules, &scores(Some(0), None), &customer(None), None, None, now).is_none());
        let csat =
            case_for_response(&rules, &scores(None, Some(2)), &customer(Some("ae@x.com")), None, None, now).unwrap();
        assert_eq!(csat.reason, "csat_dissatisfied");
    }

    #[test]
    fn resolving_needs_a_resolution() {
        let now = Utc::now();
        let mut case = Case {
            id: CaseId(1),
            org_id: OrgId(1),
            customer_id: CustomerId(1),
            customer_external_id: "C1".into(),
            response_id: None,
            owner_email: Email::parse("ae@x.com").unwrap(),
            manager_email: None,
            reason: "nps_detractor".into(),
            priority: Priority::Normal,
            status: CaseStatus::Open,
            due_at: now,
            root_cause: None,
            resolution: None,
            notes: vec![],
            created_at: now,
            updated_at: now,
            closed_at: None,
        };
        let err =
            case.apply(CaseUpdate { status: Some(CaseStatus::Resolved), ..Default::default() }, "ae", now).unwrap_err();
        assert_eq!(err.first_code(), "resolution_required");
        assert_eq!(case.status, CaseStatus::Open);
        case.apply(
            CaseUpdate {
                status: Some(CaseStatus::Resolved),
                resolution: Some("Refund issued".into()),
                note: Some("Called".into()),
                ..Default::default()
            },
            "ae",
            now,
        )
        .unwrap();
        assert_eq!(case.status, CaseStatus::Resolved);
        assert_eq!(case.closed_at, Some(now));
        assert_eq!(case.notes.len(), 1);
        assert_eq!(case.apply(CaseUpdate::default(), "ae", now).unwrap_err().first_code(), "empty_update");
        case.apply(CaseUpdate { status: Some(CaseStatus::Open), ..Default::default() }, "ae", now).unwrap();
        assert_eq!(case.closed_at, None);
    }
}
