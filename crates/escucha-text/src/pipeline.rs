//! The pipeline: runs the analysers in order (language, redaction, sentiment, emotions, topics,
//! key phrases) over one text or a batch.

use crate::emotions::{EmotionDetector, EmotionResult, LexiconEmotions};
use crate::keyphrases::{KeyPhrase, KeyPhraseExtractor, StatKeyPhrases};
use crate::lang::{HeuristicLanguageIdentifier, LanguageIdentifier, LanguageResult};
use crate::redact::{Redaction, Redactor, RuleRedactor};
use crate::sentiment::{LexiconSentiment, SentimentAnalyzer, SentimentResult};
use crate::topics::{RuleTopicClassifier, Taxonomy, TopicClassifier, TopicResult};
use crate::{AnalyzerInfo, Doc, ENGINE_FALLBACK, Lang, MAX_TEXT_BYTES, truncate_at_char_boundary};
use serde::Serialize;

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
        }
    }

    /// Names and versions of the analysers, in the order they run.
    pub fn analyzers(&self) -> Vec<AnalyzerInfo> {
        vec![
            self.language.info(),
            self.redactor.info(),
            self.sentiment.info(),
            self.emotions.info(),
            self.topics.info(),
            self.key_phrases.info(),
        ]
    }

    /// Analyses one text. `lang` forces the language (`None`: detect it).
    pub fn analyze(&self, text: &str, lang: Option<Lang>) -> Analysis {
        let original_len = text.len();
        let text = truncate_at_char_boundary(text, MAX_TEXT_BYTES);
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
        let sentiment = self.sentiment.sentiment(&doc);
        let emotions = self.emotions.detect(&doc, &sentiment);
        let topics = self.topics.classify(&doc);
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

    /// Analyses a batch, in order.
    pub fn analyze_batch(&self, texts: &[&str], lang: Option<Lang>) -> Vec<Analysis> {
        texts.iter().map(|t| self.analyze(t, lang)).collect()
    }
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
