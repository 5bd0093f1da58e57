//! Few-shot topics: what an organisation's own labelled examples teach the model route.
//!
//! The shipped topic head learned the default topics from our training data; an organisation's
//! examples only reached it through one similarity feature per topic, so even a hundred
//! examples per topic moved it little (bench `few_shot`). Here, for every topic with examples,
//! a logistic regression over the sentence embedding is fitted when the examples arrive:
//! positives are the topic's examples (and its built-in prototypes), negatives every other
//! example and prototype, the two classes weighted equally. Its probability is blended with the
//! built-in score by how many examples back it: weight `n / (n + PRIOR_EXAMPLES)`, so five
//! examples nudge the built-in head and a hundred mostly replace it. The constants are fixed a
//! priori (not tuned on any evaluation set): see bench/text/MODEL.md, "Few-shot topics".

use super::DIM;

/// Examples at which an organisation's evidence for a topic weighs as much as the built-in score.
pub const PRIOR_EXAMPLES: f32 = 10.0;
/// L2 penalty on the mean (class-balanced) logistic loss.
const L2: f32 = 1e-3;
/// Full-batch accelerated gradient steps (deterministic; converged well before for a few
/// thousand examples).
const STEPS: usize = 300;

/// One topic's fitted regression.
#[derive(Debug, Clone)]
struct TopicRegression {
    weights: Vec<f32>,
    bias: f32,
    /// Organisation examples behind it.
    examples: usize,
}

/// Per topic (in the order of the ids given to [`FewShotTopics::fit`]), the regression learned
/// from an organisation's examples, where it has any.
#[derive(Debug, Clone, Default)]
pub struct FewShotTopics {
    topics: Vec<Option<TopicRegression>>,
}

/// A labelled embedding: the topics (indices) it belongs to; none makes it a negative example
/// for every topic.
pub type LabelledVector<'a> = (&'a [f32; DIM], &'a [usize]);

impl FewShotTopics {
    /// Fits one regression per topic that has at least one organisation example. `examples` are
    /// the organisation's, `background` the built-in prototypes (which give every topic
    /// negatives and keep its own built-in meaning among the positives); `topics` is how many
    /// topic indices there are.
    pub fn fit(examples: &[LabelledVector<'_>], background: &[LabelledVector<'_>], topics: usize) -> FewShotTopics {
        let all: Vec<LabelledVector<'_>> = examples.iter().chain(background).copied().collect();
        let fitted = (0..topics)
            .map(|t| {
                let n = examples.iter().filter(|(_, labels)| labels.contains(&t)).count();
                if n == 0 {
                    return None;
                }
                let y: Vec<bool> = all.iter().map(|(_, labels)| labels.contains(&t)).collect();
                let (weights, bias) = fit_balanced_logistic(&all, &y)?;
                Some(TopicRegression { weights, bias, examples: n })
            })
            .collect();
        FewShotTopics { topics: fitted }
    }

    /// Whether any topic learned from examples.
    pub fn is_empty(&self) -> bool {
        self.topics.iter().all(Option::is_none)
    }

    /// Organisation examples behind topic `t` (0 when it has none).
    pub fn examples(&self, t: usize) -> usize {
        self.topics.get(t).and_then(Option::as_ref).map_or(0, |r| r.examples)
    }

    /// The weight of the organisation's evidence for topic `t` in a blend: `n / (n + 10)`.
    pub fn weight(&self, t: usize) -> f32 {
        let n = self.examples(t) as f32;
        n / (n + PRIOR_EXAMPLES)
    }

    /// Topic `t`'s probability for `embedding` by the organisation's examples (`None`: no
    /// examples for it).
    pub fn probability(&self, t: usize, embedding: &[f32; DIM]) -> Option<f32> {
        let r = self.topics.get(t)?.as_ref()?;
        Some(sigmoid(r.bias + dot(&r.weights, embedding)))
    }

    /// The reporting threshold of topic `t` once blended: the built-in `threshold` moved towards
    /// 0.5 (a balanced regression's natural threshold) by the examples' weight.
    pub fn blend_threshold(&self, t: usize, threshold: f32) -> f32 {
        let w = self.weight(t);
        (1.0 - w) * threshold + w * 0.5
    }

    /// Blends a built-in score (or probability) `builtin` of topic `t` with the examples'
    /// probability: unchanged where the topic has no examples.
    pub fn blend(&self, t: usize, embedding: &[f32; DIM], builtin: f32) -> f32 {
        match self.probability(t, embedding) {
            Some(p) => {
                let w = self.weight(t);
                (1.0 - w) * builtin + w * p
            }
            None => builtin,
        }
    }
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Class-balanced, L2-penalised logistic regression by Nesterov-accelerated gradient descent
/// (step 1/L with L the loss's smoothness bound: embeddings have norm ≤ 1). `None` when one
/// class is empty.
fn fit_balanced_logistic(xs: &[LabelledVector<'_>], y: &[bool]) -> Option<(Vec<f32>, f32)> {
    let positives = y.iter().filter(|&&v| v).count();
    let negatives = y.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Each class carries half of the loss.
    let sample_weight = |v: bool| if v { 0.5 / positives as f32 } else { 0.5 / negatives as f32 };
    let norm2 = xs.iter().map(|(x, _)| dot(&x[..], &x[..])).fold(0.0f32, f32::max).max(1.0);
    let step = 1.0 / (0.25 * (norm2 + 1.0) + L2);
    let mut w = vec![0.0f32; DIM + 1];
    let mut previous = w.clone();
    let mut grad = vec![0.0f32; DIM + 1];
    for k in 0..STEPS {
        // Look-ahead point.
        let momentum = k as f32 / (k as f32 + 3.0);
        let v: Vec<f32> = w.iter().zip(&previous).map(|(a, b)| a + momentum * (a - b)).collect();
        grad.iter_mut().for_each(|g| *g = 0.0);
        for ((x, _), &label) in xs.iter().zip(y) {
            let p = sigmoid(v[DIM] + dot(&v[..DIM], &x[..]));
            let r = sample_weight(label) * (p - if label { 1.0 } else { 0.0 });
            for (g, xi) in grad[..DIM].iter_mut().zip(x.iter()) {
                *g += r * xi;
            }
            grad[DIM] += r;
        }
        for (g, vi) in grad[..DIM].iter_mut().zip(&v[..DIM]) {
            *g += L2 * vi;
        }
        previous = std::mem::replace(&mut w, v.iter().zip(&grad).map(|(vi, g)| vi - step * g).collect());
    }
    let bias = w.pop().unwrap_or(0.0);
    Some((w, bias))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit vector mostly along axis `axis`, tilted a little along `tilt`.
    fn unit(axis: usize, tilt: usize, amount: f32) -> [f32; DIM] {
        let mut v = [0.0f32; DIM];
        v[axis] = 1.0;
        v[tilt] += amount;
        let n = dot(&v, &v).sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }

    #[test]
    fn examples_teach_their_topic_and_far_texts_stay_out() {
        // Topic 0's examples lie along axis 0, topic 1's along axis 1; the background prototype
        // of topic 2 along axis 2.
        let a: Vec<[f32; DIM]> = (0..6).map(|i| unit(0, 10 + i, 0.3)).collect();
        let b: Vec<[f32; DIM]> = (0..6).map(|i| unit(1, 20 + i, 0.3)).collect();
        let c = unit(2, 30, 0.1);
        let (l0, l1, l2) = ([0usize], [1usize], [2usize]);
        let mut examples: Vec<LabelledVector<'_>> = a.iter().map(|v| (v, &l0[..])).collect();
        examples.extend(b.iter().map(|v| (v, &l1[..])));
        let background = [(&c, &l2[..])];
        let fs = FewShotTopics::fit(&examples, &background, 3);
        assert_eq!((fs.examples(0), fs.examples(1), fs.examples(2)), (6, 6, 0));
        assert!(!fs.is_empty());
        let near_a = unit(0, 40, 0.2);
        let p0 = fs.probability(0, &near_a).expect("topic 0 learned");
        let p1 = fs.probability(1, &near_a).expect("topic 1 learned");
        assert!(p0 > 0.8 && p1 < 0.2, "p0 {p0}, p1 {p1}");
        // Something like the background topic is neither 0 nor 1.
        let near_c = unit(2, 41, 0.2);
        assert!(fs.probability(0, &near_c).unwrap() < 0.5 && fs.probability(1, &near_c).unwrap() < 0.5);
        // Topic 2 has no examples: no probability, and a blend leaves the built-in score alone.
        assert_eq!(fs.probability(2, &near_c), None);
        assert_eq!(fs.blend(2, &near_c, 0.37), 0.37);
    }

    #[test]
    fn the_blend_weight_grows_with_the_examples() {
        let vs: Vec<[f32; DIM]> = (0..30).map(|i| unit(i % 3, 100 + i, 0.2)).collect();
        let labels: Vec<[usize; 1]> = (0..30).map(|i| [i % 3]).collect();
        // Topic 0 gets 10 examples, topic 1 gets 10, topic 2 gets 10: weight 10 / 20 = 0.5.
        let examples: Vec<LabelledVector<'_>> = vs.iter().zip(&labels).map(|(v, l)| (v, &l[..])).collect();
        let fs = FewShotTopics::fit(&examples, &[], 3);
        assert_eq!(fs.weight(0), 0.5);
        let p = fs.probability(0, &vs[0]).unwrap();
        // blend = 0.5 × built-in + 0.5 × p
        assert!((fs.blend(0, &vs[0], 0.2) - (0.1 + 0.5 * p)).abs() < 1e-6);
        // Five examples: 5 / 15 = 1/3.
        let fs5 = FewShotTopics::fit(&examples[..15], &[], 3);
        assert!((fs5.weight(0) - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn a_topic_without_negatives_learns_nothing() {
        let v = unit(0, 1, 0.1);
        let l = [0usize];
        let fs = FewShotTopics::fit(&[(&v, &l[..])], &[], 1);
        assert!(fs.is_empty());
        assert_eq!(fs.weight(0), 0.0);
    }
}
