//! Customer journeys: stages and the touchpoints where the customer meets the company, each
//! with its importance and whether it is a moment of truth.

use serde::{Deserialize, Serialize};

use crate::ids::{JourneyId, OrgId};
use crate::validation::{Collector, ValidationErrors};

/// A journey (onboarding, support…) as an ordered list of stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    /// Store id.
    pub id: JourneyId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// Stable key, e.g. `support`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Stages in order.
    pub stages: Vec<Stage>,
}

/// One stage of a journey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Stable key, unique within the journey.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Touchpoints in this stage.
    pub touchpoints: Vec<Touchpoint>,
}

/// A place where the customer meets the company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Touchpoint {
    /// Stable key, unique within the organisation (responses name it in their context).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Channel (phone, web, store, technician…).
    pub channel: String,
    /// Relative importance weight, > 0.
    pub importance: f64,
    /// A moment of truth decides the relationship.
    pub moment_of_truth: bool,
}

impl Journey {
    /// Checks the journey's internal rules: non-empty keys, unique stage and touchpoint keys,
    /// positive importance.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = Collector::default();
        if !is_key(&self.key) {
            errors.push("key", "invalid_key", "use 1 to 64 characters a-z, 0-9, '_' or '-'");
        }
        if self.stages.is_empty() {
            errors.push("stages", "empty", "a journey needs at least one stage");
        }
        let mut seen_stage = std::collections::HashSet::new();
        let mut seen_tp = std::collections::HashSet::new();
        for (i, s) in self.stages.iter().enumerate() {
            if !is_key(&s.key) || !seen_stage.insert(&s.key) {
                errors.push(format!("stages[{i}].key"), "invalid_key", "stage keys must be unique keys");
            }
            for (j, t) in s.touchpoints.iter().enumerate() {
                if !is_key(&t.key) || !seen_tp.insert(&t.key) {
                    errors.push(
                        format!("stages[{i}].touchpoints[{j}].key"),
                        "invalid_key",
                        "touchpoint keys must be unique keys",
                    );
                }
                if !(t.importance.is_finite() && t.importance > 0.0) {
                    errors.push(
                        format!("stages[{i}].touchpoints[{j}].importance"),
                        "out_of_range",
                        "importance must be a positive number",
                    );
                }
            }
        }
        errors.finish(|| ())
    }

    /// Finds a touchpoint by key with the stage it belongs to.
    pub fn touchpoint(&self, key: &str) -> Option<(&Stage, &Touchpoint)> {
        self.stages.iter().find_map(|s| s.touchpoints.iter().find(|t| t.key == key).map(|t| (s, t)))
    }
}

/// True for a stable key: 1–64 of `a-z 0-9 _ -`.
pub fn is_key(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}
