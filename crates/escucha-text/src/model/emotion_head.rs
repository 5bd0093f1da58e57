//! The trained emotion head of the model route: for each emotion of the NEV catalogue, a
//! logistic regression over the sentence embedding, the cue detector's confidence for each of
//! the twelve emotions and the sentiment score, so emotions implied by the situation ("three
//! weeks calling and nobody calls back" → neglected) are read without a cue word, while the
//! cues keep what they name precisely.
//!
//! Weights are trained offline by `bench/text/train_emotion_head.py` on the team-written
//! emotion sets (`bench/text/emotions/`, parts a, c and d; part b is held out for measuring) and
//! shipped in the source (`emotion_head_weights.json`). An emotion is reported when its
//! probability reaches its threshold (chosen per emotion by cross-validation on the training
//! rows), at most [`EmotionHead::max_emotions`] per text, most probable first.

use serde::{Deserialize, Serialize};

use super::{DIM, ModelError};
use crate::emotions::Emotion;

/// The shipped emotion head.
const EMOTION_HEAD_BUILTIN: &str = include_str!("emotion_head_weights.json");

/// Features after the embedding: one cue confidence per emotion, then the sentiment score.
pub const EMOTION_HEAD_EXTRA_FEATURES: usize = Emotion::ALL.len() + 1;

/// One value per emotion, in [`Emotion::ALL`] order.
pub type PerEmotion = [f32; Emotion::ALL.len()];

/// Per-emotion logistic regressions over `[embedding, cue confidences, sentiment score]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmotionHead {
    /// What the weights were trained on, and how.
    pub trained_on: String,
    /// Emotion ids, in weight order (the catalogue order of [`Emotion::ALL`]).
    pub emotions: Vec<String>,
    /// Feature names, in weight order within an emotion's row.
    pub features: Vec<String>,
    /// `emotions × (DIM + 13)` weights, row-major by emotion.
    pub weights: Vec<f32>,
    /// One bias per emotion.
    pub bias: Vec<f32>,
    /// Probability at which each emotion is reported.
    pub thresholds: Vec<f32>,
    /// At most this many emotions per text.
    pub max_emotions: usize,
}

impl EmotionHead {
    /// The head shipped with this version.
    pub fn builtin() -> Result<EmotionHead, ModelError> {
        EmotionHead::from_json(EMOTION_HEAD_BUILTIN)
    }

    /// Parses and checks a head written by `train_emotion_head.py`.
    pub fn from_json(json: &str) -> Result<EmotionHead, ModelError> {
        let h: EmotionHead =
            serde_json::from_str(json).map_err(|e| ModelError::Format(format!("emotion head weights: {e}")))?;
        let n = Emotion::ALL.len();
        if h.emotions.iter().map(String::as_str).ne(Emotion::ALL.iter().map(|e| e.id()))
            || h.features.len() != 1 + EMOTION_HEAD_EXTRA_FEATURES
            || h.weights.len() != n * (DIM + EMOTION_HEAD_EXTRA_FEATURES)
            || h.bias.len() != n
            || h.thresholds.len() != n
            || h.max_emotions == 0
            || h.weights.iter().chain(&h.bias).chain(&h.thresholds).any(|v| !v.is_finite())
        {
            return Err(ModelError::Format("emotion head weights: wrong shape, emotion ids or values".into()));
        }
        Ok(h)
    }

    /// Each emotion's probability, in [`Emotion::ALL`] order, from the embedding, the cue
    /// detector's confidence per emotion (0 where it found none) and the sentiment score.
    pub fn probabilities(&self, embedding: &[f32; DIM], cues: &PerEmotion, sentiment_score: f32) -> PerEmotion {
        let mut out = [0f32; Emotion::ALL.len()];
        for ((p, w), b) in
            out.iter_mut().zip(self.weights.chunks_exact(DIM + EMOTION_HEAD_EXTRA_FEATURES)).zip(&self.bias)
        {
            let (we, rest) = w.split_at(DIM);
            let (wc, ws) = rest.split_at(Emotion::ALL.len());
            let z = b
                + super::encoder::dot8(we, embedding)
                + wc.iter().zip(cues).map(|(a, c)| a * c).sum::<f32>()
                + ws[0] * sentiment_score;
            *p = 1.0 / (1.0 + (-z).exp());
        }
        out
    }

    /// The emotions to report: `(emotion, probability)` at or above their thresholds, most
    /// probable first, at most [`EmotionHead::max_emotions`].
    pub fn detect(&self, embedding: &[f32; DIM], cues: &PerEmotion, sentiment_score: f32) -> Vec<(Emotion, f32)> {
        let p = self.probabilities(embedding, cues, sentiment_score);
        let mut out: Vec<(Emotion, f32)> = Emotion::ALL
            .iter()
            .zip(p)
            .zip(&self.thresholds)
            .filter(|((_, p), t)| p >= *t)
            .map(|((e, p), _)| (*e, p))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out.truncate(self.max_emotions);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A head whose emotion k fires from its own cue feature with weight `cue_weight`.
    fn head(bias: f32, cue_weight: f32) -> EmotionHead {
        let width = DIM + EMOTION_HEAD_EXTRA_FEATURES;
        let mut weights = vec![0.0; Emotion::ALL.len() * width];
        for (k, row) in weights.chunks_exact_mut(width).enumerate() {
            row[DIM + k] = cue_weight;
        }
        EmotionHead {
            trained_on: "test".into(),
            emotions: Emotion::ALL.iter().map(|e| e.id().to_string()).collect(),
            features: std::iter::once("embedding[512]".to_string())
                .chain(Emotion::ALL.iter().map(|e| format!("cue_{}", e.id())))
                .chain(std::iter::once("sentiment_score".to_string()))
                .collect(),
            weights,
            bias: vec![bias; Emotion::ALL.len()],
            thresholds: vec![0.5; Emotion::ALL.len()],
            max_emotions: 2,
        }
    }

    #[test]
    fn an_emotion_is_reported_from_its_cue_and_the_cap_holds() {
        let h = head(-2.0, 4.0);
        let e = [0f32; DIM];
        let mut cues = [0f32; 12];
        assert!(h.detect(&e, &cues, 0.0).is_empty());
        cues[Emotion::Neglected as usize] = 1.0;
        let got = h.detect(&e, &cues, 0.0);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, Emotion::Neglected);
        // p = σ(−2 + 4) = σ(2)
        assert!((got[0].1 - 1.0 / (1.0 + (-2.0f32).exp())).abs() < 1e-6);
        cues[Emotion::Angry as usize] = 0.9;
        cues[Emotion::Pleased as usize] = 0.8;
        let got: Vec<Emotion> = h.detect(&e, &cues, 0.0).into_iter().map(|x| x.0).collect();
        assert_eq!(got, [Emotion::Neglected, Emotion::Angry]);
    }

    #[test]
    fn the_sentiment_score_feature_is_read() {
        let mut h = head(0.0, 0.0);
        let width = DIM + EMOTION_HEAD_EXTRA_FEATURES;
        h.weights[Emotion::Angry as usize * width + width - 1] = -3.0;
        let p = h.probabilities(&[0f32; DIM], &[0f32; 12], -1.0);
        // σ(−3 · −1) = σ(3) for angry; σ(0) = 0.5 for the others.
        assert!((p[Emotion::Angry as usize] - 1.0 / (1.0 + (-3.0f32).exp())).abs() < 1e-6);
        assert!((p[Emotion::Pleased as usize] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn the_shipped_head_parses_and_bad_shapes_are_refused() {
        let h = EmotionHead::builtin().expect("shipped emotion head parses");
        assert_eq!(h.emotions.len(), 12);
        assert!(h.thresholds.iter().all(|t| (0.0..1.0).contains(t)));
        let mut bad = h.clone();
        bad.weights.pop();
        assert!(EmotionHead::from_json(&serde_json::to_string(&bad).unwrap()).is_err());
        let mut bad = h.clone();
        bad.emotions.swap(0, 1);
        assert!(EmotionHead::from_json(&serde_json::to_string(&bad).unwrap()).is_err());
    }
}
