//! The pipeline: runs the analysers in order (language, redaction, sentiment, emotions, topics,
//! key phrases) over one text or a batch.
//!
//! With the model attached ([`Pipeline::with_model`], engine [`ENGINE_MODEL`]) a batch is
//! embedded once and each embedding joins the lexicon analysers:
//! - **sentiment** ([`HYBRID_SENTIMENT`]): the hybrid head ([`crate::model::HybridSentimentHead`]), a
//!   logistic regression over the embedding plus the lexicon engine's score, its absolute value,
//!   its positive and negative evidence apart, and whether the text asks a question — so the
//!   lexicon's negation, contrast, sarcasm and request rules and the model's reading of
//!   everything else are weighed together (the lexicon's numbers count 0.60 for Spanish text,
//!   whose lexicon is sparser). Trained on the VADER sets (Amazon reviews included),
//!   es_cx_dev and the team-written corpus `bench/text/train/` only, chosen by
//!   cross-validation (never on en_airline_tweets); see `bench/text/MODEL.md`, "Round 6".
//!   Label: the most probable class; score `P(pos) − P(neg)`;
//! - **emotions** ([`HYBRID_EMOTIONS`]): the trained emotion head ([`crate::model::EmotionHead`]:
//!   per emotion a logistic regression over the embedding, the cue detector's confidences and
//!   the sentiment score, with a threshold per emotion, at most two), trained on the
//!   team-written emotion sets `bench/text/emotions/` (parts a, c and d; part b is held out);
//! - **topics** ([`HYBRID_TOPICS`]): the nine default topics come from the trained topic head
//!   ([`crate::model::HybridTopicHead`]: per topic a logistic regression over the embedding, the
//!   rule engine's confidences and the prototype similarities, with a threshold per topic);
//!   an organisation's own topics score the rule engine's confidence plus
//!   `max(similarity − 0.1, 0)` to their nearest prototype, reported at ≥ 0.4 and within 0.3
//!   of the best ([`hybrid_topics`]).

use crate::emotions::{EmotionDetector, EmotionResult, LexiconEmotions};
use crate::keyphrases::{
    EmergingOptions, EmergingTopic, KeyPhrase, KeyPhraseExtractor, StatKeyPhrases, emerging_topics,
    emerging_topics_embedded,
};
use crate::lang::{HeuristicLanguageIdentifier, LanguageIdentifier, LanguageResult};
use crate::model::{DIM, ENGINE_MODEL, EmotionHead, LexiconFeatures, ModelRoute, PerEmotion, SentimentExample};
use crate::model::{FewShotTopics, HybridTopicHead, PerTopic};
use crate::redact::{Redaction, Redactor, RuleRedactor};
use crate::sentiment::SentimentLabel;
use crate::sentiment::{LexiconSentiment, SentimentAnalyzer, SentimentResult};
use crate::topics::{DEFAULT_TOPIC_IDS, RuleTopicClassifier, Taxonomy, TopicClassifier, TopicResult};
use crate::{AnalyzerInfo, Doc, ENGINE_FALLBACK, Lang, MAX_TEXT_BYTES, truncate_at_char_boundary};
use serde::Serialize;

/// Sentiment of the model route: the lexicon's rules blended with the model's polarity.
pub const HYBRID_SENTIMENT: AnalyzerInfo = AnalyzerInfo::new("use-v3-lexicon-hybrid-sentiment", "5");
/// Emotions of the model route: the trained emotion head over the embedding, the cue
/// detector's confidences and the sentiment score.
pub const HYBRID_EMOTIONS: AnalyzerInfo = AnalyzerInfo::new("use-v3-cue-hybrid-emotions", "1");
/// Topics of the model route: the trained topic head (default topics) and rule matches plus
/// similarity to the prototypes (an organisation's own topics).
pub const HYBRID_TOPICS: AnalyzerInfo = AnalyzerInfo::new("use-v3-rule-hybrid-topics", "2");

/// Similarity below which a prototype adds nothing to a topic's score.
const TOPIC_SIM_FLOOR: f32 = 0.1;
/// Hybrid topic score at which a topic is reported.
const TOPIC_THRESHOLD: f32 = 0.4;
/// A topic is reported only within this of the best topic's hybrid score.
const TOPIC_MARGIN: f32 = 0.3;

/// Everything the engine says about one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Language.
    pub language: LanguageResult,
    /// The text with personal data masked, and the spans masked (byte offsets into the input).
    pub redaction: Redaction,
    /// Overall sentiment.
    pub sentiment: SentimentResult,
    /// NEV emotions, most confident first.
    pub emotions: Vec<EmotionResult>,
    /// Topics, most confident first.
    pub topics: Vec<TopicResult>,
    /// Key phrases (never containing personal data), best first.
    pub key_phrases: Vec<KeyPhrase>,
    /// When the text was longer than [`MAX_TEXT_BYTES`]: its original length in bytes (only
    /// the first [`MAX_TEXT_BYTES`] were analysed and are in `redaction.text`).
    pub truncated_from: Option<usize>,
    /// Which engine produced the analysis ([`ENGINE_FALLBACK`] when no model was used).
    pub engine: &'static str,
}

/// The analysers, run in order. Build with [`Pipeline::fallback`] or assemble your own.
pub struct Pipeline {
    /// Language identification.
    pub language: Box<dyn LanguageIdentifier>,
    /// Personal-data redaction.
    pub redactor: Box<dyn Redactor>,
    /// Sentiment.
    pub sentiment: Box<dyn SentimentAnalyzer>,
    /// Emotions.
    pub emotions: Box<dyn EmotionDetector>,
    /// Topics.
    pub topics: Box<dyn TopicClassifier>,
    /// Key phrases.
    pub key_phrases: Box<dyn KeyPhraseExtractor>,
    /// Key phrases kept per text.
    pub max_key_phrases: usize,
    /// Engine name written in outputs.
    pub engine: &'static str,
    /// The model route, when installed and attached ([`Pipeline::with_model`]).
    pub model: Option<ModelRoute>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("analyzers", &self.analyzers()).field("engine", &self.engine).finish()
    }
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::fallback()
    }
}

impl Pipeline {
    /// The model-free engine with the default taxonomy.
    pub fn fallback() -> Self {
        Self::fallback_with_taxonomy(Taxonomy::default_cx())
    }

    /// The model-free engine with a given taxonomy (e.g. default merged with an organisation's).
    pub fn fallback_with_taxonomy(taxonomy: Taxonomy) -> Self {
        Pipeline {
            language: Box::new(HeuristicLanguageIdentifier::new()),
            redactor: Box::new(RuleRedactor::new()),
            sentiment: Box::new(LexiconSentiment::new()),
            emotions: Box::new(LexiconEmotions::new()),
            topics: Box::new(RuleTopicClassifier::new(taxonomy)),
            key_phrases: Box::new(StatKeyPhrases),
            max_key_phrases: 5,
            engine: ENGINE_FALLBACK,
            model: None,
        }
    }

    /// The model-route prototypes for a taxonomy: the built-in ones of the default topics, plus
    /// the descriptions and examples a taxonomy adds beyond the default one (an organisation's
    /// own topics, or extra examples for a default topic).
    pub fn prototypes_for(taxonomy: &Taxonomy) -> Vec<crate::model::TopicPrototype> {
        let mut protos = crate::model::default_prototypes();
        let default = Taxonomy::default_cx();
        let known: std::collections::HashSet<&String> =
            default.topics.iter().flat_map(|t| t.description.values().chain(t.examples.values().flatten())).collect();
        for t in &taxonomy.topics {
            let phrases =
                t.description.values().chain(t.examples.values().flatten()).filter(|p| !known.contains(p)).cloned();
            match protos.iter_mut().find(|p| p.id == t.id) {
                Some(p) => p.phrases.extend(phrases),
                None => protos.push(crate::model::TopicPrototype { id: t.id.clone(), phrases: phrases.collect() }),
            }
        }
        protos.retain(|p| !p.phrases.is_empty());
        protos
    }

    /// The examples a taxonomy adds beyond the default one, as `(text, topic id)`: what an
    /// organisation's taxonomy file teaches (the model route fits its few-shot regressions on them).
    pub fn organisation_examples(taxonomy: &Taxonomy) -> Vec<(String, String)> {
        let default = Taxonomy::default_cx();
        let known: std::collections::HashSet<&String> =
            default.topics.iter().flat_map(|t| t.examples.values().flatten()).collect();
        taxonomy
            .topics
            .iter()
            .flat_map(|t| {
                t.examples.values().flatten().filter(|e| !known.contains(e)).map(|e| (e.clone(), t.id.clone()))
            })
            .collect()
    }

    /// Learns labelled examples an organisation adds (few-shot): the rule engine's example
    /// similarity and, with the model attached, its prototypes and few-shot regressions. Unknown
    /// topic ids are an error and nothing is learned; returns how many examples were used.
    pub fn learn_topics(&mut self, examples: &[crate::topics::LabelledExample]) -> Result<usize, crate::TextError> {
        let used = self.topics.learn(examples)?;
        if let Some(m) = &mut self.model {
            let pairs: Vec<(&str, Vec<&str>)> =
                examples.iter().map(|e| (e.text.as_str(), e.topics.iter().map(String::as_str).collect())).collect();
            let refs: Vec<(&str, &[&str])> = pairs.iter().map(|(t, ids)| (*t, ids.as_slice())).collect();
            m.learn_topics(&refs);
        }
        Ok(used)
    }

    /// Learns comments an organisation labelled with their sentiment: with the model attached,
    /// the hybrid sentiment head is refitted over every example taught so far, starting from the
    /// shipped weights ([`crate::model::HybridSentimentHead::adapted`]). The lexicon engine does
    /// not learn from examples, so without the model nothing is learned. Empty texts are
    /// skipped. Returns how many examples the model route now holds (0 without it).
    pub fn learn_sentiment(&mut self, examples: &[crate::sentiment::LabelledSentiment]) -> usize {
        let Some(route) = &self.model else {
            return 0;
        };
        let kept: Vec<&crate::sentiment::LabelledSentiment> =
            examples.iter().filter(|e| !e.text.trim().is_empty()).collect();
        let capped: Vec<&str> = kept.iter().map(|e| truncate_at_char_boundary(&e.text, MAX_TEXT_BYTES)).collect();
        let vecs = route.encoder().embed(&capped);
        let head = route.hybrid_sentiment();
        let learned: Vec<SentimentExample> = kept
            .iter()
            .zip(&capped)
            .zip(vecs)
            .map(|((e, text), embedding)| {
                let lang = e.lang.as_deref().map(Lang::from_code);
                let (doc, _, _) = self.prepare(text, lang);
                let lexicon = self.sentiment.sentiment(&doc);
                SentimentExample {
                    embedding,
                    lexicon: LexiconFeatures::of(&lexicon, head.lexicon_weight(doc.lang), text),
                    label: e.sentiment,
                }
            })
            .collect();
        match &mut self.model {
            Some(route) => route.learn_sentiment(learned),
            None => 0,
        }
    }

    /// Attaches the model route: batches are embedded once and sentiment and topics become
    /// the hybrids described in the module docs; outputs say engine [`ENGINE_MODEL`].
    pub fn with_model(mut self, route: ModelRoute) -> Self {
        self.engine = ENGINE_MODEL;
        self.model = Some(route);
        self
    }

    /// Names and versions of the analysers, in the order they run.
    pub fn analyzers(&self) -> Vec<AnalyzerInfo> {
        let hybrid = self.model.is_some();
        vec![
            self.language.info(),
            self.redactor.info(),
            if hybrid { HYBRID_SENTIMENT } else { self.sentiment.info() },
            if hybrid { HYBRID_EMOTIONS } else { self.emotions.info() },
            if hybrid { HYBRID_TOPICS } else { self.topics.info() },
            self.key_phrases.info(),
        ]
    }

    /// Analyses one text. `lang` forces the language (`None`: detect it). With the model
    /// attached, prefer [`Pipeline::analyze_batch`]: embedding one text at a time is ~2× slower.
    pub fn analyze(&self, text: &str, lang: Option<Lang>) -> Analysis {
        match &self.model {
            Some(m) => {
                let capped = truncate_at_char_boundary(text, MAX_TEXT_BYTES);
                let e = m.encoder().embed(&[capped]);
                self.analyze_with(text, lang, e.first())
            }
            None => self.analyze_with(text, lang, None),
        }
    }

    /// The prepared document of an already capped `text`: its language (`lang` forces it) and
    /// personal-data spans, which the lexicon analysers skip.
    fn prepare<'t>(&self, text: &'t str, lang: Option<Lang>) -> (Doc<'t>, LanguageResult, Redaction) {
        let mut doc = Doc::new(text, Lang::Unknown);
        let language = match lang {
            Some(l) => {
                LanguageResult { lang: l, primary: l, confidence: 1.0, analyzer: AnalyzerInfo::new("forced", "1") }
            }
            None => self.language.identify(text, &doc.tokens),
        };
        doc.lang = language.primary;
        let redaction = self.redactor.redact(text);
        doc.pii = redaction.spans.iter().map(|s| (s.start, s.end)).collect();
        (doc, language, redaction)
    }

    /// Analyses one text, with its embedding when the model is attached.
    fn analyze_with(&self, text: &str, lang: Option<Lang>, embedding: Option<&[f32; DIM]>) -> Analysis {
        let original_len = text.len();
        let text = truncate_at_char_boundary(text, MAX_TEXT_BYTES);
        let (doc, language, redaction) = self.prepare(text, lang);
        let mut sentiment = self.sentiment.sentiment(&doc);
        let mut topics = self.topics.classify(&doc);
        if let (Some(m), Some(e)) = (&self.model, embedding) {
            let head = m.hybrid_sentiment();
            let p = head.probabilities(e, &LexiconFeatures::of(&sentiment, head.lexicon_weight(doc.lang), text));
            sentiment = hybrid_sentiment(sentiment, p);
            let sims = m.topics().similarities(e);
            topics = head_topics(&topics, m.topic_head(), e, m.topics().ids(), &sims, m.few_shot());
        }
        let mut emotions = self.emotions.detect(&doc, &sentiment);
        if let (Some(m), Some(e)) = (&self.model, embedding) {
            emotions = head_emotions(&emotions, m.emotion_head(), e, sentiment.score);
        }
        let key_phrases = self.key_phrases.extract(&doc, self.max_key_phrases);
        Analysis {
            language,
            redaction,
            sentiment,
            emotions,
            topics,
            key_phrases,
            truncated_from: (original_len > MAX_TEXT_BYTES).then_some(original_len),
            engine: self.engine,
        }
    }

    /// Analyses a batch, in order (with the model, one embedding pass over the whole batch).
    pub fn analyze_batch(&self, texts: &[&str], lang: Option<Lang>) -> Vec<Analysis> {
        match &self.model {
            Some(m) => {
                let capped: Vec<&str> = texts.iter().map(|t| truncate_at_char_boundary(t, MAX_TEXT_BYTES)).collect();
                let vecs = m.encoder().embed(&capped);
                texts.iter().zip(&vecs).map(|(t, e)| self.analyze_with(t, lang, Some(e))).collect()
            }
            None => texts.iter().map(|t| self.analyze_with(t, lang, None)).collect(),
        }
    }
}

impl Pipeline {
    /// Emerging topics over `texts` (comments that fit no topic): by sentence embeddings when the
    /// model is attached (paraphrases and both languages join; [`EmergingOptions::embedded`]),
    /// else by TF-IDF stems ([`EmergingOptions::default`]); `min_size` and `max_phrases` as in
    /// [`EmergingOptions`].
    pub fn emerging_topics(&self, texts: &[&str], min_size: usize, max_phrases: usize) -> Vec<EmergingTopic> {
        match &self.model {
            Some(m) => {
                let capped: Vec<&str> = texts.iter().map(|t| truncate_at_char_boundary(t, MAX_TEXT_BYTES)).collect();
                let vecs = m.encoder().embed(&capped);
                let options = EmergingOptions { min_size, max_phrases, ..EmergingOptions::embedded() };
                emerging_topics_embedded(texts, &vecs, &options)
            }
            None => emerging_topics(texts, &EmergingOptions { min_size, max_phrases, ..EmergingOptions::default() }),
        }
    }
}

/// The model route's emotions: the emotion head's, reading the cue detector's results `cues`
/// (its confidence per emotion, 0 where it found none), the embedding and the sentiment score.
pub fn head_emotions(
    cues: &[EmotionResult],
    head: &EmotionHead,
    embedding: &[f32; DIM],
    score: f32,
) -> Vec<EmotionResult> {
    let mut confidences: PerEmotion = [0.0; crate::emotions::Emotion::ALL.len()];
    for c in cues {
        confidences[c.emotion as usize] = c.confidence;
    }
    head.detect(embedding, &confidences, score)
        .into_iter()
        .map(|(emotion, p)| EmotionResult { emotion, confidence: p, analyzer: HYBRID_EMOTIONS })
        .collect()
}

/// The model route's sentiment from the hybrid head's probabilities `[negative, neutral,
/// positive]` (which already include the lexicon's score): the most probable class, score
/// `P(pos) − P(neg)`, confidence the class's probability; the lexicon's `mixed` flag is kept.
pub fn hybrid_sentiment(lexicon: SentimentResult, p: [f32; 3]) -> SentimentResult {
    let best = (0..3).fold(0, |b, c| if p[c] > p[b] { c } else { b });
    let label = [SentimentLabel::Negative, SentimentLabel::Neutral, SentimentLabel::Positive][best];
    SentimentResult {
        label,
        score: (p[2] - p[0]).clamp(-1.0, 1.0),
        mixed: lexicon.mixed,
        confidence: p[best].clamp(0.0, 1.0),
        positive_evidence: lexicon.positive_evidence,
        negative_evidence: lexicon.negative_evidence,
        analyzer: HYBRID_SENTIMENT,
    }
}

/// The model route's topics: the default topics the head reports (confidence = its
/// probability), then any other topic (an organisation's own) scored by [`hybrid_topics`];
/// most confident first. `rule` is the rule engine's result, `ids` and `sims` the prototype
/// similarities of every topic. Where an organisation's examples taught a topic (`few_shot`,
/// indexed like `ids`), its score and its reporting threshold are blended with what the
/// examples say ([`FewShotTopics::blend`]; a regression's natural threshold is 0.5).
pub fn head_topics(
    rule: &[TopicResult],
    head: &HybridTopicHead,
    embedding: &[f32; DIM],
    ids: &[String],
    sims: &[f32],
    few_shot: &FewShotTopics,
) -> Vec<TopicResult> {
    let per_topic = |value: &dyn Fn(&str) -> Option<f32>| -> PerTopic {
        std::array::from_fn(|k| value(DEFAULT_TOPIC_IDS[k]).unwrap_or(0.0))
    };
    let rule_conf = per_topic(&|id| rule.iter().find(|t| t.id == id).map(|t| t.confidence));
    let default_sims = per_topic(&|id| ids.iter().position(|x| x == id).and_then(|i| sims.get(i).copied()));
    let mut probabilities = head.probabilities(embedding, &rule_conf, &default_sims);
    let mut thresholds = head.thresholds.clone();
    for (k, id) in head.topics.iter().enumerate() {
        if let Some(i) = ids.iter().position(|x| x == id) {
            probabilities[k] = few_shot.blend(i, embedding, probabilities[k]);
            thresholds[k] = few_shot.blend_threshold(i, thresholds[k]);
        }
    }
    let mut out: Vec<TopicResult> = head
        .select(&probabilities, &thresholds)
        .into_iter()
        .map(|(id, p)| TopicResult { id: id.to_string(), confidence: p.min(0.99), analyzer: HYBRID_TOPICS })
        .collect();
    let blended = |i: usize, score: f32| few_shot.blend(i, embedding, score);
    let threshold = |i: usize| few_shot.blend_threshold(i, TOPIC_THRESHOLD);
    out.extend(
        scored_topics(rule, ids, sims, &blended, &threshold)
            .into_iter()
            .filter(|t| !DEFAULT_TOPIC_IDS.contains(&t.id.as_str())),
    );
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    out
}

/// Topics by rules and similarity: each topic's rule confidence plus `max(similarity − 0.1, 0)`,
/// reported at [`TOPIC_THRESHOLD`] and within [`TOPIC_MARGIN`] of the best; most confident
/// first. Topics the prototypes do not know keep their rule confidence.
pub fn hybrid_topics(rule: &[TopicResult], ids: &[String], sims: &[f32]) -> Vec<TopicResult> {
    scored_topics(rule, ids, sims, &|_, score| score, &|_| TOPIC_THRESHOLD)
}

/// [`hybrid_topics`] with each prototype topic's score passed through `adjust(index in ids,
/// score)` and reported at `threshold(index in ids)`.
fn scored_topics(
    rule: &[TopicResult],
    ids: &[String],
    sims: &[f32],
    adjust: &dyn Fn(usize, f32) -> f32,
    threshold: &dyn Fn(usize) -> f32,
) -> Vec<TopicResult> {
    let mut scored: Vec<(String, f32, f32)> = ids
        .iter()
        .zip(sims)
        .enumerate()
        .map(|(i, (id, &s))| {
            let r = rule.iter().find(|t| &t.id == id).map_or(0.0, |t| t.confidence);
            (id.clone(), adjust(i, r + (s - TOPIC_SIM_FLOOR).max(0.0)), threshold(i))
        })
        .collect();
    for t in rule {
        if !ids.contains(&t.id) {
            scored.push((t.id.clone(), t.confidence, TOPIC_THRESHOLD));
        }
    }
    let best = scored.iter().map(|(_, s, _)| *s).fold(0.0f32, f32::max);
    let mut out: Vec<TopicResult> = scored
        .into_iter()
        .filter(|(_, s, th)| *s >= *th && *s >= best - TOPIC_MARGIN)
        .map(|(id, s, _)| TopicResult { id, confidence: s.min(0.99), analyzer: HYBRID_TOPICS })
        .collect();
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_every_analyser_and_reports_them() {
        let p = Pipeline::fallback();
        let a = p.analyze("Me cobraron dos veces y nadie responde. Escribidme a ana@example.com", None);
        assert_eq!(a.language.lang, Lang::Es);
        assert_eq!(a.sentiment.label, crate::SentimentLabel::Negative);
        assert!(a.topics.iter().any(|t| t.id == "billing"));
        assert!(a.redaction.text.contains("[EMAIL]"));
        assert!(!a.key_phrases.iter().any(|k| k.text.contains("ana@")));
        assert_eq!(a.engine, ENGINE_FALLBACK);
        assert_eq!(p.analyzers().len(), 6);
    }

    #[test]
    fn hybrid_sentiment_takes_the_most_probable_class() {
        let lex = SentimentResult {
            label: SentimentLabel::Neutral,
            score: 0.0,
            mixed: true,
            confidence: 0.5,
            positive_evidence: 0.6,
            negative_evidence: 0.4,
            analyzer: HYBRID_SENTIMENT,
        };
        let s = hybrid_sentiment(lex, [0.7, 0.2, 0.1]);
        assert_eq!(s.label, SentimentLabel::Negative);
        assert!((s.score + 0.6).abs() < 1e-6 && (s.confidence - 0.7).abs() < 1e-6 && s.mixed);
        assert_eq!(hybrid_sentiment(lex, [0.2, 0.5, 0.3]).label, SentimentLabel::Neutral);
        assert_eq!(hybrid_sentiment(lex, [0.1, 0.1, 0.8]).label, SentimentLabel::Positive);
    }

    #[test]
    fn hybrid_topics_add_similarity_to_rules() {
        let ids = vec!["billing".to_string(), "staff".to_string()];
        let rule = [TopicResult { id: "billing".into(), confidence: 0.5, analyzer: HYBRID_TOPICS }];
        let t = hybrid_topics(&rule, &ids, &[0.3, 0.2]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].id, "billing");
        assert!((t[0].confidence - 0.7).abs() < 1e-6);
        // Similarity alone can carry a topic the rules missed.
        let t = hybrid_topics(&[], &ids, &[0.1, 0.55]);
        assert_eq!(t.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), ["staff"]);
        // A topic only the taxonomy knows keeps its rule confidence.
        let org = [TopicResult { id: "parking".into(), confidence: 0.8, analyzer: HYBRID_TOPICS }];
        assert_eq!(hybrid_topics(&org, &ids, &[0.0, 0.0])[0].id, "parking");
    }

    #[test]
    fn decomposed_accents_do_not_split_words() {
        let p = Pipeline::fallback();
        let a = p.analyze("pe\u{301}simo servicio", Some(Lang::Es));
        assert_eq!(a.sentiment.label, crate::SentimentLabel::Negative);
    }

    #[test]
    fn long_text_is_capped_and_says_so() {
        let p = Pipeline::fallback();
        let t = "muy bien ".repeat(10_000);
        let a = p.analyze(&t, Some(Lang::Es));
        assert_eq!(a.truncated_from, Some(t.len()));
        assert!(a.redaction.text.len() <= MAX_TEXT_BYTES);
    }
}
