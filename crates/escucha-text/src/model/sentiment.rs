//! Sentiment on top of the sentence embeddings: a 3-class (negative / neutral / positive)
//! multinomial logistic regression over the 512-d vector.
//!
//! The shipped weights (`sentiment_weights.json`, 1,539 numbers) were trained only on the
//! MIT-licensed VADER sets (tweets, movie reviews, NYT editorial snippets) by
//! [`train_sentiment`], run from the `#[ignore]`d test `train_sentiment_weights` in
//! `tests/model.rs`. Classes are weighted to balance them, since those sets are short of
//! neutrals and customer feedback is mostly negative. Because the encoder is cross-lingual,
//! English training transfers to Spanish. The polarity score is `P(pos) − P(neg)`, in [−1, 1].

use serde::{Deserialize, Serialize};

use super::{DIM, ModelError};
use crate::AnalyzerInfo;
use crate::sentiment::SentimentLabel;

/// Name and version of the model-backed sentiment analyser.
pub const SENTIMENT_ANALYZER: AnalyzerInfo = AnalyzerInfo::new("use-v3-logreg-sentiment", "1");

const CLASSES: [SentimentLabel; 3] = [SentimentLabel::Negative, SentimentLabel::Neutral, SentimentLabel::Positive];

/// The weights shipped with the crate.
const BUILTIN: &str = include_str!("sentiment_weights.json");

/// A logistic-regression sentiment head over USE embeddings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSentiment {
    /// What the weights were trained on (documentation carried with them).
    pub trained_on: String,
    /// Class order of the rows of `weights` (`negative`, `neutral`, `positive`).
    pub classes: Vec<String>,
    /// 3 × 512 weights, row-major.
    pub weights: Vec<f32>,
    /// 3 biases.
    pub bias: Vec<f32>,
    /// Added to the neutral logit at prediction time (a decision threshold, not a trained
    /// weight): calibrated for macro-F1 on es_cx_dev, because the VADER sets are short of
    /// neutrals and class balancing over-corrects.
    #[serde(default)]
    pub neutral_offset: f32,
}

/// One labelled embedding for [`train_sentiment`].
#[derive(Debug, Clone)]
pub struct SentimentTrainingExample {
    /// The text's embedding.
    pub embedding: [f32; DIM],
    /// Its class.
    pub label: SentimentLabel,
}

fn class_index(l: SentimentLabel) -> usize {
    match l {
        SentimentLabel::Negative => 0,
        SentimentLabel::Neutral => 1,
        SentimentLabel::Positive => 2,
    }
}

fn softmax(z: [f32; 3]) -> [f32; 3] {
    let m = z[0].max(z[1]).max(z[2]);
    let e = [(z[0] - m).exp(), (z[1] - m).exp(), (z[2] - m).exp()];
    let s = e[0] + e[1] + e[2];
    [e[0] / s, e[1] / s, e[2] / s]
}

impl ModelSentiment {
    /// The weights shipped with the crate (trained on the VADER sets only).
    pub fn builtin() -> Result<ModelSentiment, ModelError> {
        ModelSentiment::from_json(BUILTIN)
    }

    /// Parses weights written by [`ModelSentiment::to_json`], checking their shapes.
    pub fn from_json(json: &str) -> Result<ModelSentiment, ModelError> {
        let m: ModelSentiment =
            serde_json::from_str(json).map_err(|e| ModelError::Format(format!("sentiment weights: {e}")))?;
        if m.weights.len() != 3 * DIM || m.bias.len() != 3 {
            return Err(ModelError::Format("sentiment weights: wrong shape".into()));
        }
        if m.weights.iter().chain(&m.bias).any(|v| !v.is_finite()) || !m.neutral_offset.is_finite() {
            return Err(ModelError::Format("sentiment weights: not finite".into()));
        }
        Ok(m)
    }

    /// Serialises the weights (compact JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Class probabilities `[negative, neutral, positive]` of an embedding (including the
    /// neutral offset). Weights of the wrong shape (the fields are public) give uniform
    /// probabilities.
    pub fn probabilities(&self, embedding: &[f32; DIM]) -> [f32; 3] {
        if self.weights.len() != 3 * DIM || self.bias.len() != 3 {
            return [1.0 / 3.0; 3];
        }
        let mut z = [0f32; 3];
        for (c, zc) in z.iter_mut().enumerate() {
            *zc = self.bias[c] + super::encoder::dot8(&self.weights[c * DIM..(c + 1) * DIM], embedding);
        }
        z[1] += self.neutral_offset;
        softmax(z)
    }

    /// The class, polarity in [−1, 1] (`P(pos) − P(neg)`) and confidence (the class's
    /// probability) of an embedding.
    pub fn predict(&self, embedding: &[f32; DIM]) -> (SentimentLabel, f32, f32) {
        let p = self.probabilities(embedding);
        let best = (0..3).fold(0, |b, c| if p[c] > p[b] { c } else { b });
        (CLASSES[best], (p[2] - p[0]).clamp(-1.0, 1.0), p[best])
    }
}

/// The weights of the hybrid head shipped with the crate.
const HYBRID_BUILTIN: &str = include_str!("hybrid_weights.json");
/// What the lexicon engine and the raw text tell the hybrid head beside the embedding.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LexiconFeatures {
    /// The lexicon's score in [−1, 1], already multiplied by the language's weight.
    pub score: f32,
    /// The lexicon's positive evidence in [0, 1], weighted the same way.
    pub positive: f32,
    /// The lexicon's negative evidence in [0, 1], weighted the same way.
    pub negative: f32,
    /// Whether the text holds a question mark.
    pub question: bool,
}

impl LexiconFeatures {
    /// The features of `text` from the lexicon engine's result on it, with the lexicon's
    /// numbers multiplied by `weight` ([`HybridSentimentHead::lexicon_weight`] of its language).
    pub fn of(lexicon: &crate::SentimentResult, weight: f32, text: &str) -> LexiconFeatures {
        LexiconFeatures {
            score: lexicon.score * weight,
            positive: lexicon.positive_evidence * weight,
            negative: lexicon.negative_evidence * weight,
            question: text.contains('?'),
        }
    }
}

/// One feature the hybrid head reads after the embedding, by its name in the weights file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ExtraFeature {
    Score,
    AbsScore,
    Question,
    Positive,
    Negative,
}

impl ExtraFeature {
    fn parse(name: &str) -> Option<ExtraFeature> {
        Some(match name {
            "lexicon_score" => ExtraFeature::Score,
            "abs_lexicon_score" => ExtraFeature::AbsScore,
            "has_question_mark" => ExtraFeature::Question,
            "lexicon_positive" => ExtraFeature::Positive,
            "lexicon_negative" => ExtraFeature::Negative,
            _ => return None,
        })
    }

    fn value(self, f: &LexiconFeatures) -> f32 {
        match self {
            ExtraFeature::Score => f.score,
            ExtraFeature::AbsScore => f.score.abs(),
            ExtraFeature::Question => f32::from(u8::from(f.question)),
            ExtraFeature::Positive => f.positive,
            ExtraFeature::Negative => f.negative,
        }
    }
}

/// The extra features of heads written before the file named them.
const LEGACY_EXTRA_FEATURES: [&str; 3] = ["lexicon_score", "abs_lexicon_score", "has_question_mark"];

/// The model route's sentiment head: a 3-class logistic regression over the embedding plus
/// the lexicon engine's evidence (its score, the score's magnitude, its positive and negative
/// evidence apart) and whether the text asks a question — the features its file names.
///
/// Trained only on permissively licensed data (the VADER sets, es_cx_dev and the team-written
/// corpus `bench/text/train/`) by `bench/text/train_heads.py`; chosen by cross-validation on
/// those sets, never on en_airline_tweets. The lexicon features carry its negation,
/// contrast, sarcasm and request rules; the embedding carries what no word list has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridSentimentHead {
    /// What the weights were trained on.
    pub trained_on: String,
    /// Feature names, in weight order: `embedding[512]`, then the extra features.
    #[serde(default)]
    pub features: Vec<String>,
    /// 3 × (512 + extra features) weights, row-major (negative, neutral, positive).
    pub weights: Vec<f32>,
    /// 3 biases.
    pub bias: Vec<f32>,
    /// Factor on the lexicon features of Spanish text (1 for other languages): our Spanish
    /// lexicon finds evidence in fewer texts than VADER's English one (the ratio of their
    /// coverage of the unlabelled fortunes), so its score counts less; the head was trained
    /// with the same factor.
    #[serde(default = "unit_weight")]
    pub spanish_lexicon_weight: f32,
    /// The extra features, parsed from `features` when the head is read.
    #[serde(skip)]
    extra: Vec<ExtraFeature>,
}

/// Default lexicon weight of heads written before the weight existed.
fn unit_weight() -> f32 {
    1.0
}

impl HybridSentimentHead {
    /// The factor the lexicon's score gets for text in `lang` before it enters the head.
    pub fn lexicon_weight(&self, lang: crate::Lang) -> f32 {
        if lang == crate::Lang::Es { self.spanish_lexicon_weight } else { 1.0 }
    }

    /// The head shipped with the crate.
    pub fn builtin() -> Result<HybridSentimentHead, ModelError> {
        HybridSentimentHead::from_json(HYBRID_BUILTIN)
    }

    /// Parses and checks a head written by `bench/text/train_heads.py`.
    pub fn from_json(json: &str) -> Result<HybridSentimentHead, ModelError> {
        let bad = |what: String| ModelError::Format(format!("hybrid sentiment weights: {what}"));
        let mut h: HybridSentimentHead = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let names: Vec<&str> = match h.features.split_first() {
            None => LEGACY_EXTRA_FEATURES.to_vec(),
            Some((first, rest)) if first == "embedding[512]" => rest.iter().map(String::as_str).collect(),
            Some((first, _)) => return Err(bad(format!("the first feature must be embedding[512], not {first}"))),
        };
        h.extra = names
            .iter()
            .map(|n| ExtraFeature::parse(n).ok_or_else(|| bad(format!("unknown feature {n}"))))
            .collect::<Result<_, _>>()?;
        if h.weights.len() != 3 * (DIM + h.extra.len()) || h.bias.len() != 3 {
            return Err(bad("wrong shape".into()));
        }
        if h.weights.iter().chain(&h.bias).any(|v| !v.is_finite()) || !(0.0..=1.0).contains(&h.spanish_lexicon_weight) {
            return Err(bad("not finite".into()));
        }
        Ok(h)
    }

    /// Class probabilities `[negative, neutral, positive]` from an embedding and the lexicon
    /// features of the same text.
    pub fn probabilities(&self, embedding: &[f32; DIM], lexicon: &LexiconFeatures) -> [f32; 3] {
        let width = DIM + self.extra.len();
        if self.weights.len() != 3 * width || self.bias.len() != 3 {
            return [1.0 / 3.0; 3];
        }
        let mut z = [0f32; 3];
        for (c, zc) in z.iter_mut().enumerate() {
            let w = &self.weights[c * width..(c + 1) * width];
            *zc = self.bias[c]
                + super::encoder::dot8(&w[..DIM], embedding)
                + w[DIM..].iter().zip(&self.extra).map(|(a, f)| a * f.value(lexicon)).sum::<f32>();
        }
        softmax(z)
    }
}

/// Prior precision (τ) of [`HybridSentimentHead::adapted`]: how firmly an organisation's refit
/// stays at the shipped weights. Chosen by the adaptation protocol of `bench/text/train_heads.py`
/// (`cv … adapt`: τ ∈ {1, 3, 10, 30, 100} on three permitted domains the base head had not seen;
/// 1 won, at the edge of the grid) before the airline tweets were measured; see
/// bench/text/MODEL.md, "Adapting sentiment to an organisation".
pub const ADAPTATION_PRIOR_PRECISION: f32 = 1.0;

/// Most accelerated-gradient steps of an adaptation; it stops earlier once converged.
const ADAPTATION_MAX_STEPS: usize = 4000;

/// One comment an organisation labelled, as the hybrid head reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentimentExample {
    /// The comment's sentence embedding.
    pub embedding: [f32; DIM],
    /// The lexicon engine's evidence on the comment (already weighted for its language).
    pub lexicon: LexiconFeatures,
    /// The organisation's label.
    pub label: SentimentLabel,
}

impl HybridSentimentHead {
    /// The head refitted on an organisation's labelled comments: the maximum a posteriori
    /// weights under a Gaussian prior of precision `tau` centred on this head's, i.e. the
    /// minimiser of Σ cross-entropy + τ/2 ‖θ − θ₀‖² (biases included). A few examples nudge
    /// the shipped weights; hundreds move them toward the organisation's own language and class
    /// mix. The objective is strongly convex, so the answer does not depend on example order;
    /// no examples (or `tau` ≤ 0) give the head back unchanged.
    pub fn adapted(&self, examples: &[SentimentExample], tau: f32) -> HybridSentimentHead {
        let width = DIM + self.extra.len();
        if examples.is_empty() || tau.is_nan() || tau <= 0.0 || self.weights.len() != 3 * width {
            return self.clone();
        }
        // Rows [features…, 1] and θ = per class [weights…, bias], in f64 for a clean optimum.
        let cols = width + 1;
        let xs: Vec<Vec<f64>> = examples
            .iter()
            .map(|e| {
                let mut x: Vec<f64> = e.embedding.iter().map(|&v| f64::from(v)).collect();
                x.extend(self.extra.iter().map(|f| f64::from(f.value(&e.lexicon))));
                x.push(1.0);
                x
            })
            .collect();
        let labels: Vec<usize> = examples.iter().map(|e| class_index(e.label)).collect();
        let mut theta0 = vec![0f64; 3 * cols];
        for c in 0..3 {
            for j in 0..width {
                theta0[c * cols + j] = f64::from(self.weights[c * width + j]);
            }
            theta0[c * cols + width] = f64::from(self.bias[c]);
        }
        let tau = f64::from(tau);
        let n = xs.len() as f64;
        // F(θ) = (Σ CE + τ/2 ‖θ − θ₀‖²) / n is (τ/n)-strongly convex and L-smooth with
        // L ≤ (λmax(XᵀX)/2 + τ) / n, since the softmax Hessian is at most I/2 per row.
        let smooth = (largest_gram_eigenvalue(&xs) * 0.5 + tau) / n;
        let strong = tau / n;
        let kappa_root = (smooth / strong).sqrt();
        let momentum = (kappa_root - 1.0) / (kappa_root + 1.0);
        let step = 1.0 / smooth;
        let mut theta = theta0.clone();
        let mut previous = theta0.clone();
        let mut look = theta0.clone();
        let mut grad = vec![0f64; 3 * cols];
        for _ in 0..ADAPTATION_MAX_STEPS {
            for i in 0..theta.len() {
                look[i] = theta[i] + momentum * (theta[i] - previous[i]);
            }
            for (g, (l, t0)) in grad.iter_mut().zip(look.iter().zip(&theta0)) {
                *g = tau * (l - t0);
            }
            for (x, &y) in xs.iter().zip(&labels) {
                let z: [f64; 3] =
                    std::array::from_fn(|c| look[c * cols..(c + 1) * cols].iter().zip(x).map(|(w, v)| w * v).sum());
                let m = z[0].max(z[1]).max(z[2]);
                let e = z.map(|v| (v - m).exp());
                let sum = e[0] + e[1] + e[2];
                for c in 0..3 {
                    let r = e[c] / sum - if c == y { 1.0 } else { 0.0 };
                    for (g, v) in grad[c * cols..(c + 1) * cols].iter_mut().zip(x) {
                        *g += r * v;
                    }
                }
            }
            let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt() / n;
            previous.clone_from(&theta);
            for ((t, l), g) in theta.iter_mut().zip(&look).zip(&grad) {
                *t = l - step * g / n;
            }
            if norm < 1e-7 {
                break;
            }
        }
        let mut out = self.clone();
        for c in 0..3 {
            for j in 0..width {
                out.weights[c * width + j] = theta[c * cols + j] as f32;
            }
            out.bias[c] = theta[c * cols + width] as f32;
        }
        out.trained_on = format!(
            "{}; then refitted on {} of the organisation's labelled comments (MAP, prior precision {tau})",
            self.trained_on,
            examples.len()
        );
        out
    }
}

/// An upper estimate of the largest eigenvalue of XᵀX for the rows `xs` (which sets the
/// gradient step): 50 power iterations with 10% headroom, never above the trace.
fn largest_gram_eigenvalue(xs: &[Vec<f64>]) -> f64 {
    let cols = xs.first().map_or(0, Vec::len);
    let trace: f64 = xs.iter().map(|x| x.iter().map(|v| v * v).sum::<f64>()).sum();
    let mut v = vec![1.0 / (cols.max(1) as f64).sqrt(); cols];
    let mut estimate = 0.0;
    for _ in 0..50 {
        let mut next = vec![0f64; cols];
        for x in xs {
            let d: f64 = x.iter().zip(&v).map(|(a, b)| a * b).sum();
            for (nx, a) in next.iter_mut().zip(x) {
                *nx += d * a;
            }
        }
        let norm = next.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm == 0.0 {
            return trace;
        }
        estimate = norm;
        v = next.into_iter().map(|a| a / norm).collect();
    }
    // Power iteration approaches λmax from below; 10% headroom keeps the step safe.
    (estimate * 1.1).min(trace)
}

/// Trains an L2-regularised 3-class logistic regression by full-batch gradient descent with
/// Nesterov momentum (deterministic: same data, same weights); `balanced` weights each class
/// inversely to its frequency.
pub fn train_sentiment(
    examples: &[SentimentTrainingExample],
    l2: f32,
    epochs: usize,
    balanced: bool,
    trained_on: &str,
) -> ModelSentiment {
    let mut w = vec![0f32; 3 * DIM];
    let mut b = [0f32; 3];
    let mut vw = vec![0f32; 3 * DIM];
    let mut vb = [0f32; 3];
    let mut counts = [0usize; 3];
    for e in examples {
        counts[class_index(e.label)] += 1;
    }
    let n = examples.len().max(1) as f32;
    let present = counts.iter().filter(|&&c| c > 0).count().max(1) as f32;
    let class_w: Vec<f32> = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else if balanced {
                n / (present * c as f32)
            } else {
                1.0
            }
        })
        .collect();
    let (lr, mu) = (0.5f32, 0.9f32);
    let mut gw = vec![0f32; 3 * DIM];
    let mut look = vec![0f32; 3 * DIM];
    for _ in 0..epochs {
        // Nesterov: gradient at the look-ahead point.
        for i in 0..3 * DIM {
            look[i] = w[i] + mu * vw[i];
        }
        let lb = [b[0] + mu * vb[0], b[1] + mu * vb[1], b[2] + mu * vb[2]];
        gw.fill(0.0);
        let mut gb = [0f32; 3];
        for e in examples {
            let y = class_index(e.label);
            let mut z = [0f32; 3];
            for (c, zc) in z.iter_mut().enumerate() {
                *zc = lb[c] + super::encoder::dot8(&look[c * DIM..(c + 1) * DIM], &e.embedding);
            }
            let p = softmax(z);
            let cw = class_w[y] / n;
            for c in 0..3 {
                let g = (p[c] - if c == y { 1.0 } else { 0.0 }) * cw;
                gb[c] += g;
                for (gi, &x) in gw[c * DIM..(c + 1) * DIM].iter_mut().zip(&e.embedding) {
                    *gi += g * x;
                }
            }
        }
        for i in 0..3 * DIM {
            let g = gw[i] + l2 * look[i];
            vw[i] = mu * vw[i] - lr * g;
            w[i] += vw[i];
        }
        for c in 0..3 {
            vb[c] = mu * vb[c] - lr * gb[c];
            b[c] += vb[c];
        }
    }
    ModelSentiment {
        trained_on: trained_on.to_string(),
        classes: CLASSES.iter().map(|c| c.as_str().to_string()).collect(),
        weights: w,
        bias: b.to_vec(),
        neutral_offset: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_weights_parse_and_predict_in_range() {
        let m = ModelSentiment::builtin().expect("shipped weights parse");
        let mut e = [0f32; DIM];
        e[0] = 1.0;
        let (_, score, conf) = m.predict(&e);
        assert!((-1.0..=1.0).contains(&score));
        assert!((0.0..=1.0).contains(&conf));
    }

    #[test]
    fn training_separates_a_toy_problem() {
        let mk = |k: usize, label| {
            let mut embedding = [0f32; DIM];
            embedding[k] = 1.0;
            SentimentTrainingExample { embedding, label }
        };
        let data =
            vec![mk(0, SentimentLabel::Negative), mk(1, SentimentLabel::Neutral), mk(2, SentimentLabel::Positive)];
        let m = train_sentiment(&data, 1e-4, 200, true, "toy");
        for ex in &data {
            assert_eq!(m.predict(&ex.embedding).0, ex.label);
        }
    }

    #[test]
    fn hybrid_head_parses_and_reads_the_lexicon_features() {
        let h = HybridSentimentHead::builtin().expect("shipped hybrid weights parse");
        let e = [0f32; DIM];
        let neg = h.probabilities(&e, &LexiconFeatures { score: -0.9, negative: 0.9, ..Default::default() });
        let pos = h.probabilities(&e, &LexiconFeatures { score: 0.9, positive: 0.9, ..Default::default() });
        assert!(neg[0] > pos[0] && pos[2] > neg[2], "{neg:?} {pos:?}");
        assert!((neg.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(HybridSentimentHead::from_json(r#"{"trained_on":"x","weights":[1.0],"bias":[0,0,0]}"#).is_err());
        assert!(h.features.iter().any(|f| f == "lexicon_negative"), "{:?}", h.features);
        assert!(h.lexicon_weight(crate::Lang::Es) > 0.0 && h.lexicon_weight(crate::Lang::Es) < 1.0);
        assert_eq!(h.lexicon_weight(crate::Lang::En), 1.0);
    }

    /// Hand-made heads: the legacy three features when the file names none, each named
    /// feature read from its own slot, unknown names and shapes refused.
    #[test]
    fn hybrid_head_reads_the_features_its_file_names() {
        let head = |features: &str, extra: &[f32]| {
            let mut w = vec![0f32; 3 * (DIM + extra.len())];
            w[2 * (DIM + extra.len()) + DIM..].copy_from_slice(extra);
            let w: Vec<String> = w.iter().map(|v| v.to_string()).collect();
            HybridSentimentHead::from_json(&format!(
                r#"{{"trained_on":"t",{features}"weights":[{}],"bias":[0,0,0]}}"#,
                w.join(",")
            ))
        };
        let e = [0f32; DIM];
        let f = LexiconFeatures { score: -0.5, positive: 0.25, negative: 0.75, question: true };
        // Positive logit = the sum of the named features' weights times their values.
        let logit = |p: [f32; 3]| (p[2] / p[0]).ln();
        let legacy = head("", &[1.0, 2.0, 4.0]).expect("legacy head");
        assert!((logit(legacy.probabilities(&e, &f)) - (-0.5 + 2.0 * 0.5 + 4.0)).abs() < 1e-5);
        let named = head(r#""features":["embedding[512]","lexicon_negative","lexicon_positive"],"#, &[1.0, 3.0])
            .expect("named head");
        assert!((logit(named.probabilities(&e, &f)) - (0.75 + 3.0 * 0.25)).abs() < 1e-5);
        assert!(head(r#""features":["embedding[512]","colour"],"#, &[1.0]).is_err());
        assert!(head(r#""features":["lexicon_score"],"#, &[1.0]).is_err());
        assert!(head(r#""features":["embedding[512]","lexicon_score"],"#, &[1.0, 2.0]).is_err());
    }

    #[test]
    fn malformed_weights_are_rejected() {
        assert!(ModelSentiment::from_json("{}").is_err());
        assert!(
            ModelSentiment::from_json(r#"{"trained_on":"x","classes":[],"weights":[1.0],"bias":[0,0,0]}"#).is_err()
        );
    }

    /// The gradient of the adaptation's objective, Σ CE + τ/2 ‖θ − θ₀‖², written out again here
    /// (not shared with the fit) to check the fit's answer is its minimiser.
    fn objective_gradient(
        base: &HybridSentimentHead,
        head: &HybridSentimentHead,
        ex: &[SentimentExample],
        tau: f32,
    ) -> f64 {
        let width = DIM + base.extra.len();
        let mut g = vec![0f64; 3 * (width + 1)];
        for e in ex {
            let p = head.probabilities(&e.embedding, &e.lexicon);
            let y = class_index(e.label);
            let x: Vec<f64> = e
                .embedding
                .iter()
                .map(|&v| f64::from(v))
                .chain(base.extra.iter().map(|f| f64::from(f.value(&e.lexicon))))
                .chain([1.0])
                .collect();
            for c in 0..3 {
                let r = f64::from(p[c]) - if c == y { 1.0 } else { 0.0 };
                for (gi, v) in g[c * (width + 1)..(c + 1) * (width + 1)].iter_mut().zip(&x) {
                    *gi += r * v;
                }
            }
        }
        for c in 0..3 {
            for j in 0..width {
                g[c * (width + 1) + j] +=
                    f64::from(tau) * f64::from(head.weights[c * width + j] - base.weights[c * width + j]);
            }
            g[c * (width + 1) + width] += f64::from(tau) * f64::from(head.bias[c] - base.bias[c]);
        }
        g.iter().map(|v| v * v).sum::<f64>().sqrt()
    }

    fn toy_examples() -> Vec<SentimentExample> {
        // Comments along three directions of the embedding, labelled against what the shipped
        // head would say for a plain direction: an organisation's own reading.
        (0..60)
            .map(|i| {
                let mut embedding = [0f32; DIM];
                let axis = i % 3;
                embedding[axis * 7] = 0.9;
                embedding[100 + i] = 0.3;
                let norm = embedding.iter().map(|v| v * v).sum::<f32>().sqrt();
                embedding.iter_mut().for_each(|v| *v /= norm);
                let label = [SentimentLabel::Positive, SentimentLabel::Negative, SentimentLabel::Neutral][axis];
                let lexicon =
                    LexiconFeatures { score: -0.3, negative: 0.3, question: i % 5 == 0, ..Default::default() };
                SentimentExample { embedding, lexicon, label }
            })
            .collect()
    }

    #[test]
    fn adaptation_finds_the_map_optimum_and_learns_the_organisations_reading() {
        let base = HybridSentimentHead::builtin().expect("shipped head");
        let examples = toy_examples();
        let adapted = base.adapted(&examples, ADAPTATION_PRIOR_PRECISION);
        // At the minimiser the gradient vanishes (f32 weights: a small residue).
        let at_optimum = objective_gradient(&base, &adapted, &examples, ADAPTATION_PRIOR_PRECISION);
        let at_start = objective_gradient(&base, &base, &examples, ADAPTATION_PRIOR_PRECISION);
        assert!(at_optimum < 1e-3 * at_start.max(1.0), "gradient {at_start:.4} -> {at_optimum:.6}");
        let right = examples
            .iter()
            .filter(|e| {
                let p = adapted.probabilities(&e.embedding, &e.lexicon);
                (0..3).fold(0, |b, c| if p[c] > p[b] { c } else { b }) == class_index(e.label)
            })
            .count();
        assert_eq!(right, examples.len());
        assert!(adapted.trained_on.contains("60 of the organisation's labelled comments"), "{}", adapted.trained_on);
        // The order of the examples does not matter (a strongly convex objective).
        let reversed: Vec<SentimentExample> = examples.iter().rev().cloned().collect();
        let again = base.adapted(&reversed, ADAPTATION_PRIOR_PRECISION);
        let gap = adapted.weights.iter().zip(&again.weights).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(gap < 1e-3, "{gap}");
    }

    #[test]
    fn a_firmer_prior_moves_the_head_less_and_no_examples_change_nothing() {
        let base = HybridSentimentHead::builtin().expect("shipped head");
        let examples = toy_examples();
        let distance = |h: &HybridSentimentHead| {
            h.weights
                .iter()
                .zip(&base.weights)
                .chain(h.bias.iter().zip(&base.bias))
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f32>()
        };
        let loose = distance(&base.adapted(&examples, 1.0));
        let firm = distance(&base.adapted(&examples, 100.0));
        assert!(firm < loose && firm > 0.0, "{firm} vs {loose}");
        assert_eq!(base.adapted(&[], 1.0), base);
        assert_eq!(base.adapted(&examples, 0.0), base);
        assert_eq!(base.adapted(&examples, f32::NAN), base);
    }
}
