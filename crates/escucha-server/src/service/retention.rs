//! Retention: applies an organisation's rules per data kind (see
//! [`escucha_core::governance::RetentionKind`]), for the CLI (`escucha retention run`), the API
//! and the daily background run. Every applied run is recorded in the audit log as
//! `retention.applied` with its counts; a dry run only counts.
//!
//! Inactive customers are erased exactly as on a data-subject request
//! ([`crate::service::erasure`]), so their scores stay, anonymous, and the metrics do not move;
//! free text is redacted with the same rule (answers keep scores and options).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use escucha_core::governance::RetentionKind;
use escucha_core::ids::OrgId;
use escucha_store::{NewAuditEntry, RetentionSweep, Store, StoreResult};

/// Records handled per store call.
const PAGE: i64 = 500;

/// What one rule did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleOutcome {
    /// The data kind.
    pub kind: RetentionKind,
    /// The rule's period.
    pub months: u32,
    /// Data from before this time was affected.
    pub cutoff: DateTime<Utc>,
    /// Records affected, by what they are (`customers`, `responses`, `feedback`,
    /// `audit_entries`, `cases`).
    pub counts: BTreeMap<&'static str, u64>,
}

impl RuleOutcome {
    /// All records affected by the rule.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// The outcome of a retention run over one organisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetentionReport {
    /// True when nothing was changed.
    pub dry_run: bool,
    /// When the run started (cut-offs count back from it).
    pub ran_at: DateTime<Utc>,
    /// One outcome per rule in force, in kind order.
    pub rules: Vec<RuleOutcome>,
}

impl RetentionReport {
    /// The counts as audit detail / JSON: `{kind: {what: n}}`.
    pub fn counts_json(&self) -> serde_json::Value {
        self.rules.iter().map(|r| (r.kind.as_str().to_string(), json!(r.counts))).collect()
    }
}

/// Applies (or with `dry_run`, counts) the organisation's retention rules at `now`; an applied
/// run with at least one rule is audited as `retention.applied` by `actor`.
pub async fn run(
    store: &dyn Store,
    org: OrgId,
    now: DateTime<Utc>,
    dry_run: bool,
    actor: &str,
) -> StoreResult<RetentionReport> {
    let rules = store.retention_rules(org).await?;
    let mut outcomes = Vec::new();
    for rule in rules.rules() {
        let cutoff = escucha_core::governance::retention_cutoff(now, rule.months);
        let mut counts = BTreeMap::new();
        match rule.kind {
            RetentionKind::InactiveCustomerContact => {
                counts.insert("customers", erase_inactive(store, org, cutoff, now, dry_run).await?);
            }
            RetentionKind::FreeText => {
                counts.insert("responses", redact_responses(store, org, cutoff, dry_run).await?);
                let feedback = store.retention_sweep(org, RetentionSweep::FeedbackText, cutoff, now, dry_run).await?;
                counts.insert("feedback", feedback);
            }
            RetentionKind::AuditLog => {
                let n = store.retention_sweep(org, RetentionSweep::AuditLog, cutoff, now, dry_run).await?;
                counts.insert("audit_entries", n);
            }
            RetentionKind::ClosedCaseNotes => {
                let n = store.retention_sweep(org, RetentionSweep::ClosedCaseNotes, cutoff, now, dry_run).await?;
                counts.insert("cases", n);
            }
        }
        outcomes.push(RuleOutcome { kind: rule.kind, months: rule.months, cutoff, counts });
    }
    let report = RetentionReport { dry_run, ran_at: now, rules: outcomes };
    // A run without rules did nothing, so there is nothing to record.
    if !dry_run && !report.rules.is_empty() {
        let entry = NewAuditEntry {
            at: Utc::now(),
            actor: actor.to_string(),
            action: "retention.applied".into(),
            target: None,
            detail: json!({"counts": report.counts_json()}),
            ip: None,
        };
        store.append_audit(org, entry).await?;
    }
    Ok(report)
}

/// Erases the customers inactive since `cutoff`; returns how many (would be) erased.
async fn erase_inactive(
    store: &dyn Store,
    org: OrgId,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
    dry_run: bool,
) -> StoreResult<u64> {
    let mut surveys = HashMap::new();
    let mut after = None;
    let mut n = 0;
    loop {
        let page = store.inactive_customers(org, cutoff, after, PAGE).await?;
        let Some(last) = page.last().copied() else { break };
        after = Some(last);
        for customer in page {
            if !dry_run {
                match crate::service::erasure::erase_customer(store, org, customer, &mut surveys, now).await {
                    Ok(_) => {}
                    // Gone meanwhile: nothing left to erase.
                    Err(escucha_store::StoreError::NotFound(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            n += 1;
        }
    }
    Ok(n)
}

/// Redacts the free text of responses submitted before `cutoff`; returns how many.
async fn redact_responses(store: &dyn Store, org: OrgId, cutoff: DateTime<Utc>, dry_run: bool) -> StoreResult<u64> {
    let mut surveys = HashMap::new();
    let mut after = None;
    let mut n = 0;
    loop {
        let page = store.responses_with_text_before(org, cutoff, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        if dry_run {
            n += page.len() as u64;
        } else {
            let redacted = crate::service::erasure::answers_without_free_text(store, org, &page, &mut surveys).await?;
            n += store.redact_responses(org, redacted).await?;
        }
    }
    Ok(n)
}

/// When the background run first looks at the rules after start-up.
pub const FIRST_RUN_DELAY: Duration = Duration::from_secs(10 * 60);
/// How often the background run applies the rules.
pub const RUN_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// The background run: after `first_delay`, then every `period`, applies the rules of every
/// organisation that has some, until `stop` changes. A failure is logged and retried at the
/// next period. With several processes on one PostgreSQL each runs it; a second run finds
/// nothing left to do (and is audited with zero counts).
pub async fn worker(
    store: std::sync::Arc<dyn Store>,
    first_delay: Duration,
    period: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut wait = first_delay;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        wait = period;
        let orgs = match store.orgs_with_retention_rules().await {
            Ok(orgs) => orgs,
            Err(e) => {
                tracing::warn!(error = %e, "retention: cannot list organisations with rules");
                continue;
            }
        };
        for org in orgs {
            match run(store.as_ref(), org, Utc::now(), false, "system:retention").await {
                Ok(report) => tracing::info!(org = org.0, counts = %report.counts_json(), "retention applied"),
                Err(e) => tracing::warn!(org = org.0, error = %e, "retention run failed"),
            }
        }
    }
}
