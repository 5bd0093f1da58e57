//! Durable background jobs: work a write causes (notify, analyse text) recorded in the same
//! transaction as the write (an outbox), then run by workers with retries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CaseId, JobId, OrgId, ResponseId};

/// What a job does, with its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobKind {
    /// Tell a case's owner that they have a customer to get back to.
    NotifyCaseOwner {
        /// The case.
        case_id: CaseId,
    },
    /// Tell the owner's manager about the same case.
    NotifyCaseManager {
        /// The case.
        case_id: CaseId,
    },
    /// Run text analytics over a response's verbatim.
    AnalyzeResponseText {
        /// The response.
        response_id: ResponseId,
    },
}

impl JobKind {
    /// Short stable name, stored in its own column for filtering.
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::NotifyCaseOwner { .. } => "notify_case_owner",
            JobKind::NotifyCaseManager { .. } => "notify_case_manager",
            JobKind::AnalyzeResponseText { .. } => "analyze_response_text",
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting to run (or to retry) at `run_at`.
    Pending,
    /// Taken by a worker.
    Running,
    /// Finished.
    Done,
    /// Gave up after the maximum attempts.
    Failed,
}

impl JobStatus {
    /// Wire and column name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    /// Parses a column value.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Running, Self::Done, Self::Failed].into_iter().find(|s| s.as_str() == raw)
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Store id.
    pub id: JobId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// What to do.
    pub kind: JobKind,
    /// State.
    pub status: JobStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// Not before.
    pub run_at: DateTime<Utc>,
    /// Last failure, for operators.
    pub last_error: Option<String>,
    /// When queued.
    pub created_at: DateTime<Utc>,
}

/// The jobs a newly stored response causes: text analysis when it carries a verbatim.
pub fn jobs_for_response(response_id: ResponseId, has_verbatim: bool) -> Vec<JobKind> {
    if has_verbatim { vec![JobKind::AnalyzeResponseText { response_id }] } else { Vec::new() }
}

/// The jobs a newly opened case causes: notify its owner and, when known, the owner's manager.
pub fn jobs_for_case(case_id: CaseId, has_manager: bool) -> Vec<JobKind> {
    let mut jobs = vec![JobKind::NotifyCaseOwner { case_id }];
    if has_manager {
        jobs.push(JobKind::NotifyCaseManager { case_id });
    }
    jobs
}

/// Delay before retry number `attempts` (1-based): 30 s doubling, capped at one hour.
pub fn retry_backoff_seconds(attempts: i32) -> i64 {
    let exp = attempts.clamp(1, 8) - 1;
    (30_i64 << exp).min(3_600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(retry_backoff_seconds(1), 30);
        assert_eq!(retry_backoff_seconds(2), 60);
        assert_eq!(retry_backoff_seconds(4), 240);
        assert_eq!(retry_backoff_seconds(8), 3_600);
        assert_eq!(retry_backoff_seconds(50), 3_600);
    }

    #[test]
    fn kinds_serialize_with_a_tag() {
        let k = JobKind::NotifyCaseOwner { case_id: CaseId(3) };
        assert_eq!(serde_json::to_value(&k).unwrap(), serde_json::json!({"kind": "notify_case_owner", "case_id": 3}));
    }
}
