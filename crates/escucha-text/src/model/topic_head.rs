//! The trained topic head of the model route: for each of the nine default topics, a logistic
//! regression over the sentence embedding, the rule engine's confidences for the nine topics
//! and (when the head was trained with them) the similarity to each topic's nearest prototype,
//! so the model reads topics that are phrased without any taxonomy term, the rules keep what
//! they match precisely, and an organisation's added examples (extra prototypes) still move
//! the default topics.
//!
//! Weights are trained offline by `bench/text/train_heads.py` on permissively licensed data
//! only (the team-written corpus `bench/text/train/` and es_cx_dev; never on
//! `en_airline_tweets`), and shipped in the source (`topic_head_weights.json`). A topic is
//! reported when its probability reaches its threshold (chosen per topic by cross-validation
//! on the training data); topics the head does not know (an organisation's own) keep the rule +
//! similarity score of [`crate::pipeline::hybrid_topics`].

use serde::{Deserialize, Serialize};

use super::{DIM, ModelError};
use crate::topics::DEFAULT_TOPIC_IDS;

/// The shipped topic head.
const TOPIC_HEAD_BUILTIN: &str = include_str!("topic_head_weights.json");

/// Rule features after the embedding: the rule engine's confidence for each default topic.
pub const TOPIC_HEAD_RULE_FEATURES: usize = DEFAULT_TOPIC_IDS.len();

/// One value per default topic, in [`DEFAULT_TOPIC_IDS`] order.
pub type PerTopic = [f32; TOPIC_HEAD_RULE_FEATURES];

/// Per-topic logistic regressions over `[embedding, rule confidences, (similarities)]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HybridTopicHead {
    /// What the weights were trained on, and how.
    pub trained_on: String,
    /// Topic ids, in weight order (the nine default ids).
    pub topics: Vec<String>,
    /// Feature names, in weight order within a topic's row.
    pub features: Vec<String>,
    /// `topics × width` weights, row-major by topic; `width` is `DIM + 9`, or `DIM + 18` when
    /// the head uses prototype similarities.
    pub weights: Vec<f32>,
    /// One bias per topic.
    pub bias: Vec<f32>,
    /// Probability at which each topic is reported.
    pub thresholds: Vec<f32>,
    /// At most this many topics per text.
    pub max_topics: usize,
    /// When no topic reaches its threshold, the most probable one is still reported if its
    /// probability is at least this (a comment rarely has no topic at all).
    #[serde(default = "no_top_topic")]
    pub top_topic_threshold: f32,
}

fn no_top_topic() -> f32 {
    1.0
}

impl HybridTopicHead {
    /// The head shipped with this version.
    pub fn builtin() -> Result<HybridTopicHead, ModelError> {
        HybridTopicHead::from_json(TOPIC_HEAD_BUILTIN)
    }

    /// Parses and checks a head written by `train_heads.py`.
    pub fn from_json(json: &str) -> Result<HybridTopicHead, ModelError> {
        let h: HybridTopicHead =
            serde_json::from_str(json).map_err(|e| ModelError::Format(format!("topic head weights: {e}")))?;
        let n = h.topics.len();
        if h.topics.iter().map(String::as_str).ne(DEFAULT_TOPIC_IDS)
            || !matches!(h.features.len(), 10 | 19)
            || h.weights.len() != n * h.width()
            || h.bias.len() != n
            || h.thresholds.len() != n
            || h.max_topics == 0
        {
            return Err(ModelError::Format("topic head weights: wrong shape or topic ids".into()));
        }
        Ok(h)
    }

    /// Whether the head reads prototype similarities (features after the rule confidences).
    pub fn uses_similarities(&self) -> bool {
        self.features.len() == 19
    }

    fn width(&self) -> usize {
        DIM + if self.uses_similarities() { 2 } else { 1 } * TOPIC_HEAD_RULE_FEATURES
    }

    /// Each topic's probability, in [`HybridTopicHead::topics`] order. `rule` holds the rule
    /// engine's confidence and `sims` the similarity to the nearest prototype of each default
    /// topic (read only by heads that use similarities), both in [`DEFAULT_TOPIC_IDS`] order.
    pub fn probabilities(&self, embedding: &[f32; DIM], rule: &PerTopic, sims: &PerTopic) -> Vec<f32> {
        self.weights
            .chunks_exact(self.width())
            .zip(&self.bias)
            .map(|(w, b)| {
                let (we, rest) = w.split_at(DIM);
                let (wr, ws) = rest.split_at(TOPIC_HEAD_RULE_FEATURES);
                let z = b + dot(we, embedding) + dot(wr, rule) + dot(ws, sims);
                1.0 / (1.0 + (-z).exp())
            })
            .collect()
    }

    /// The topics to report: `(id, probability)` at or above their thresholds, most probable
    /// first, at most [`HybridTopicHead::max_topics`]; if none, the most probable topic when it
    /// reaches [`HybridTopicHead::top_topic_threshold`].
    pub fn classify(&self, embedding: &[f32; DIM], rule: &PerTopic, sims: &PerTopic) -> Vec<(&str, f32)> {
        self.select(&self.probabilities(embedding, rule, sims), &self.thresholds)
    }

    /// [`HybridTopicHead::classify`]'s choice from given probabilities and thresholds (both in
    /// [`HybridTopicHead::topics`] order), for callers that adjust them first.
    pub fn select(&self, probabilities: &[f32], thresholds: &[f32]) -> Vec<(&str, f32)> {
        let mut out: Vec<(&str, f32)> = self
            .topics
            .iter()
            .zip(probabilities)
            .zip(thresholds)
            .filter(|((_, p), t)| p >= t)
            .map(|((id, p), _)| (id.as_str(), *p))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out.truncate(self.max_topics);
        if out.is_empty() {
            let top = (0..probabilities.len()).max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]));
            if let Some(k) = top.filter(|&k| probabilities[k] >= self.top_topic_threshold) {
                out.push((self.topics[k].as_str(), probabilities[k]));
            }
        }
        out
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bias: f32, rule_weight: f32) -> HybridTopicHead {
        let width = DIM + TOPIC_HEAD_RULE_FEATURES;
        let features = std::iter::once("embedding[512]".to_string())
            .chain(DEFAULT_TOPIC_IDS.iter().map(|t| format!("rule_{t}")))
            .collect();
        let mut weights = vec![0.0; 9 * width];
        for (t, row) in weights.chunks_exact_mut(width).enumerate() {
            row[DIM + t] = rule_weight;
        }
        HybridTopicHead {
            trained_on: "test".into(),
            topics: DEFAULT_TOPIC_IDS.iter().map(|s| s.to_string()).collect(),
            features,
            weights,
            bias: vec![bias; 9],
            thresholds: vec![0.5; 9],
            max_topics: 2,
            top_topic_threshold: 0.3,
        }
    }

    #[test]
    fn a_topic_is_reported_from_its_rule_feature_and_the_cap_holds() {
        let h = head(-2.0, 4.0);
        let e = [0f32; DIM];
        let sims = [0.9f32; 9];
        let mut rule = [0f32; 9];
        assert!(h.classify(&e, &rule, &sims).is_empty());
        rule[0] = 1.0;
        let got = h.classify(&e, &rule, &sims);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "billing");
        // p = σ(−2 + 4) = σ(2)
        assert!((got[0].1 - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
        // Below every threshold, the top topic is still reported above top_topic_threshold:
        // σ(−2 + 4 · 0.3) = σ(−0.8) ≈ 0.31.
        rule = [0.0, 0.0, 0.0, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(h.classify(&e, &rule, &sims).iter().map(|x| x.0).collect::<Vec<_>>(), ["staff"]);
        rule[3] = 0.2; // σ(−1.2) ≈ 0.23: nothing
        assert!(h.classify(&e, &rule, &sims).is_empty());
        rule = [0.9, 1.0, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let got = h.classify(&e, &rule, &sims);
        assert_eq!(got.iter().map(|x| x.0).collect::<Vec<_>>(), ["price", "billing"]);
    }

    #[test]
    fn the_shipped_head_parses_and_bad_shapes_are_refused() {
        let h = HybridTopicHead::builtin().expect("shipped topic head parses");
        assert_eq!(h.topics.len(), 9);
        assert!(h.thresholds.iter().all(|t| (0.0..1.0).contains(t)));
        let mut bad = h.clone();
        bad.weights.pop();
        assert!(HybridTopicHead::from_json(&serde_json::to_string(&bad).unwrap()).is_err());
        let mut bad = h.clone();
        bad.topics.swap(0, 1);
        assert!(HybridTopicHead::from_json(&serde_json::to_string(&bad).unwrap()).is_err());
    }
}
