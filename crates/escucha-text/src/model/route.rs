//! The model route as one object: encoder, sentiment head and topic prototypes loaded together,
//! analysing a batch of texts in one pass (one embedding per text, shared by both heads).
//!
//! This is the seam for the pipeline: [`ModelRoute::open`] fails with
//! [`ModelError::NotInstalled`] when the install step has not run, which the caller reports
//! while falling back to the lexicon engine.

use std::path::Path;

use super::{
    ADAPTATION_PRIOR_PRECISION, DIM, ENGINE_MODEL, EmotionHead, Encoder, FewShotTopics, HybridSentimentHead,
    HybridTopicHead, InstalledModel, MANIFEST_FILE, ModelError, ModelSentiment, ModelTopics, SentimentExample,
    TopicMatch, TopicPrototype, default_prototypes, model_dir,
};
use crate::sentiment::SentimentLabel;

/// What the model route says about one text.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAnalysis {
    /// Sentiment class.
    pub label: SentimentLabel,
    /// Polarity in [−1, 1] (`P(pos) − P(neg)`).
    pub score: f32,
    /// Probability of the chosen class, in [0, 1].
    pub confidence: f32,
    /// Topics by similarity, most similar first.
    pub topics: Vec<TopicMatch>,
}

/// Encoder + sentiment head + topic prototypes.
#[derive(Debug)]
pub struct ModelRoute {
    encoder: Encoder,
    sentiment: ModelSentiment,
    /// The sentiment head in use: the shipped one, or its refit on `learned_sentiment`.
    hybrid: HybridSentimentHead,
    /// The shipped sentiment head, which every refit starts from.
    hybrid_builtin: HybridSentimentHead,
    /// Every labelled comment (sentiment) an organisation taught so far.
    learned_sentiment: Vec<SentimentExample>,
    topic_head: HybridTopicHead,
    emotion_head: EmotionHead,
    topics: ModelTopics,
    installed: InstalledModel,
    /// Every organisation example learned so far: its embedding and topic indices.
    learned: Vec<([f32; DIM], Vec<usize>)>,
    /// The regressions fitted on `learned` (empty until examples arrive).
    few_shot: FewShotTopics,
}

impl ModelRoute {
    /// Opens the model installed under the data folder `data_dir` (`<data>/models/use-v3`), with
    /// the shipped sentiment weights and the given topic prototypes.
    pub fn open(data_dir: &Path, prototypes: &[TopicPrototype]) -> Result<ModelRoute, ModelError> {
        ModelRoute::open_dir(&model_dir(data_dir), prototypes)
    }

    /// Like [`ModelRoute::open`], from the model folder itself.
    pub fn open_dir(dir: &Path, prototypes: &[TopicPrototype]) -> Result<ModelRoute, ModelError> {
        if !dir.join(MANIFEST_FILE).is_file() {
            return Err(ModelError::NotInstalled { dir: dir.to_path_buf() });
        }
        let installed = InstalledModel::open(dir)?;
        let encoder = Encoder::load(dir)?;
        let sentiment = ModelSentiment::builtin()?;
        let hybrid = HybridSentimentHead::builtin()?;
        let topic_head = HybridTopicHead::builtin()?;
        let emotion_head = EmotionHead::builtin()?;
        let topics = ModelTopics::new(&encoder, prototypes);
        Ok(ModelRoute {
            encoder,
            sentiment,
            hybrid_builtin: hybrid.clone(),
            hybrid,
            learned_sentiment: Vec::new(),
            topic_head,
            emotion_head,
            topics,
            installed,
            learned: Vec::new(),
            few_shot: FewShotTopics::default(),
        })
    }

    /// Engine name for outputs.
    pub fn engine(&self) -> &'static str {
        ENGINE_MODEL
    }

    /// The installed model's manifest and folder.
    pub fn installed(&self) -> &InstalledModel {
        &self.installed
    }

    /// The encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The sentiment head.
    pub fn sentiment(&self) -> &ModelSentiment {
        &self.sentiment
    }

    /// The hybrid sentiment head (embedding plus lexicon features) the pipeline uses.
    pub fn hybrid_sentiment(&self) -> &HybridSentimentHead {
        &self.hybrid
    }

    /// The trained topic head (embedding, rule and similarity features) the pipeline uses for
    /// the default topics.
    pub fn topic_head(&self) -> &HybridTopicHead {
        &self.topic_head
    }

    /// The trained emotion head (embedding, cue confidences and sentiment score) the pipeline
    /// uses for emotions.
    pub fn emotion_head(&self) -> &EmotionHead {
        &self.emotion_head
    }

    /// The topic classifier (mutable: add few-shot examples, change the threshold).
    pub fn topics_mut(&mut self) -> &mut ModelTopics {
        &mut self.topics
    }

    /// The topic classifier.
    pub fn topics(&self) -> &ModelTopics {
        &self.topics
    }

    /// What the organisation's examples taught (see [`FewShotTopics`]); empty until
    /// [`ModelRoute::learn_topics`] runs.
    pub fn few_shot(&self) -> &FewShotTopics {
        &self.few_shot
    }

    /// Learns an organisation's labelled examples `(text, topic ids)`: each becomes a prototype
    /// of its topics and the few-shot regressions are refitted over every example learned so
    /// far (an example with no topics is a negative for all). Examples naming a topic this route
    /// does not know are skipped (the pipeline checks ids first). Returns how many were used.
    pub fn learn_topics(&mut self, examples: &[(&str, &[&str])]) -> usize {
        self.topics.add_examples(&self.encoder, examples);
        self.fit_examples(examples)
    }

    /// The few-shot half of [`ModelRoute::learn_topics`], for examples that are already among the
    /// prototypes (an organisation's taxonomy file, whose examples
    /// [`crate::Pipeline::prototypes_for`] includes): remembers them and refits the regressions.
    pub fn fit_examples(&mut self, examples: &[(&str, &[&str])]) -> usize {
        let ids = self.topics.ids().to_vec();
        let index = |id: &str| ids.iter().position(|x| x == id);
        let known: Vec<&(&str, &[&str])> =
            examples.iter().filter(|(_, topics)| topics.iter().all(|t| index(t).is_some())).collect();
        if known.is_empty() {
            return 0;
        }
        let texts: Vec<&str> = known.iter().map(|(t, _)| *t).collect();
        for ((_, topics), v) in known.iter().zip(self.encoder.embed(&texts)) {
            self.learned.push((v, topics.iter().filter_map(|t| index(t)).collect()));
        }
        // The built-in prototypes: every topic's own meaning, and negatives for the others.
        let mut background_labels = Vec::new();
        let mut background_texts = Vec::new();
        for p in default_prototypes() {
            if let Some(i) = index(&p.id) {
                for phrase in p.phrases {
                    background_labels.push(vec![i]);
                    background_texts.push(phrase);
                }
            }
        }
        let refs: Vec<&str> = background_texts.iter().map(String::as_str).collect();
        let background_vecs = self.encoder.embed(&refs);
        let background: Vec<_> =
            background_vecs.iter().zip(&background_labels).map(|(v, l)| (v, l.as_slice())).collect();
        let learned: Vec<_> = self.learned.iter().map(|(v, l)| (v, l.as_slice())).collect();
        self.few_shot = FewShotTopics::fit(&learned, &background, ids.len());
        known.len()
    }

    /// Learns an organisation's labelled comments (sentiment): the hybrid head is refitted over
    /// every example learned so far, starting from the shipped weights
    /// ([`HybridSentimentHead::adapted`] with [`ADAPTATION_PRIOR_PRECISION`]). The pipeline builds
    /// the examples ([`crate::Pipeline::learn_sentiment`]). Returns how many examples it now holds.
    pub fn learn_sentiment(&mut self, examples: Vec<SentimentExample>) -> usize {
        self.learned_sentiment.extend(examples);
        self.hybrid = self.hybrid_builtin.adapted(&self.learned_sentiment, ADAPTATION_PRIOR_PRECISION);
        self.learned_sentiment.len()
    }

    /// Analyses a batch (sentiment and topics of each text, in order).
    pub fn analyze(&self, texts: &[&str]) -> Vec<ModelAnalysis> {
        self.encoder.embed(texts).iter().map(|v| self.analyze_embedding(v)).collect()
    }

    /// Sentiment and topics of one embedding.
    pub fn analyze_embedding(&self, embedding: &[f32; DIM]) -> ModelAnalysis {
        let (label, score, confidence) = self.sentiment.predict(embedding);
        ModelAnalysis { label, score, confidence, topics: self.topics.classify(embedding) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_model_says_not_installed() {
        let dir = std::env::temp_dir().join(format!("escucha-no-model-{}", std::process::id()));
        let err = ModelRoute::open(&dir, &[]).expect_err("nothing installed");
        assert!(matches!(err, ModelError::NotInstalled { .. }), "{err}");
        assert!(err.to_string().contains("escucha models install"), "{err}");
    }
}
