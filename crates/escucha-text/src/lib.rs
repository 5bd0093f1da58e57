//! Escucha's text analytics: language, personal-data redaction, sentiment, emotions, topics,
//! key phrases and emerging topics for Spanish and English customer comments.
//!
//! Key decisions:
//! - **One trait per analyser** ([`LanguageIdentifier`], [`Redactor`], [`SentimentAnalyzer`],
//!   [`EmotionDetector`], [`TopicClassifier`], [`KeyPhraseExtractor`]), composed by a
//!   [`Pipeline`] that runs them in order over a batch. Every result names the analyser and
//!   version that produced it and carries a confidence, so a model-backed analyser can replace
//!   a rule-based one without changing callers.
//! - **The fallback engine needs no model**: lexicons, phrases and rules, all data compiled
//!   into the binary (`data/`), reported as engine [`ENGINE_FALLBACK`]. It analyses tens of
//!   thousands of comments per second per core.
//! - **Text is tokenised once** into a [`Doc`] (folded tokens with offsets into the original);
//!   analysers share it. Redaction runs on the original text and its spans are used to keep
//!   personal data out of key phrases and emerging-topic names.
//! - **The topic taxonomy is data** ([`Taxonomy`], serde-loadable JSON); an organisation file
//!   can add topics with descriptions, examples and rules in any language, and labelled
//!   examples teach the classifier ([`TopicClassifier::learn`]).
//! - **Long texts are capped** at [`MAX_TEXT_BYTES`] and the output says so.
//! - The evaluation code ([`eval`]) lives in the library so the `text_eval` bench and the tests
//!   measure exactly the same thing.
//!
//! The command-line entry point is [`analyze_stream`].

pub mod emotions;
pub mod eval;
pub mod keyphrases;
pub mod labelled;
pub mod lang;
pub mod model;
pub mod pipeline;
pub mod redact;
pub mod sentiment;
pub mod stream;
pub mod text;
pub mod topics;

pub use emotions::{Emotion, EmotionDetector, EmotionResult, LexiconEmotions, net_emotional_value};
pub use keyphrases::{
    EMBEDDED_SIMILARITY, EmergingOptions, EmergingTopic, KeyPhrase, KeyPhraseExtractor, StatKeyPhrases,
    emerging_topics, emerging_topics_embedded,
};
pub use labelled::{LabelledComments, LabelledLineError, parse_labelled_comments};
pub use lang::{HeuristicLanguageIdentifier, LanguageIdentifier, LanguageResult};
pub use pipeline::{Analysis, Pipeline};
pub use redact::{PiiKind, PiiSpan, Redaction, Redactor, RuleRedactor};
pub use sentiment::{LabelledSentiment, LexiconSentiment, SentimentAnalyzer, SentimentLabel, SentimentResult};
pub use stream::{AnalyzeOptions, LangMode, StreamSummary, analyze_stream, analyze_stream_with, open_pipeline};
pub use topics::{LabelledExample, RuleTopicClassifier, Taxonomy, TopicClassifier, TopicDef, TopicResult};

use serde::Serialize;

/// Engine name written in outputs when no model was used (lexicons and rules only).
pub const ENGINE_FALLBACK: &str = "lexicon-v1";

/// Texts longer than this many bytes are analysed up to this length only (and say so).
pub const MAX_TEXT_BYTES: usize = 32 * 1024;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// A taxonomy file could not be parsed.
    #[error("invalid taxonomy: {0}")]
    Taxonomy(#[from] serde_json::Error),
    /// A taxonomy was parsed but is inconsistent (duplicate or empty ids, unknown language).
    #[error("invalid taxonomy: {0}")]
    TaxonomyRule(String),
    /// A language mode other than `auto`, `es` or `en`.
    #[error("unknown language mode {0:?} (expected auto, es or en)")]
    LangMode(String),
}

/// A language as reported by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub enum Lang {
    /// Spanish.
    #[serde(rename = "es")]
    Es,
    /// English.
    #[serde(rename = "en")]
    En,
    /// Clearly both (whole sentences in each).
    #[serde(rename = "mixed")]
    Mixed,
    /// No usable evidence (empty, numbers or emojis only, another language).
    #[serde(rename = "und")]
    Unknown,
}

impl Lang {
    /// The code used in outputs: `es`, `en`, `mixed`, `und`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
            Lang::Mixed => "mixed",
            Lang::Unknown => "und",
        }
    }

    /// Parses `es`/`en` (case-insensitive, `es-MX` style accepted); others are `Unknown`.
    pub fn from_code(s: &str) -> Lang {
        let s = s.to_ascii_lowercase();
        if s.starts_with("es") {
            Lang::Es
        } else if s.starts_with("en") {
            Lang::En
        } else {
            Lang::Unknown
        }
    }
}

/// Which analyser (and version) produced a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnalyzerInfo {
    /// Analyser name, e.g. `lexicon-sentiment`.
    pub name: &'static str,
    /// Analyser version; changes whenever its outputs may change.
    pub version: &'static str,
}

impl AnalyzerInfo {
    /// A new descriptor.
    pub const fn new(name: &'static str, version: &'static str) -> Self {
        AnalyzerInfo { name, version }
    }
}

/// A text prepared for analysis: its tokens and the language used to pick lexicons.
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    /// The original text (possibly capped).
    pub text: &'a str,
    /// Its tokens.
    pub tokens: Vec<text::Token>,
    /// The language the analysers should assume (`Mixed`/`Unknown` use both lexicons).
    pub lang: Lang,
    /// Byte spans holding personal data (excluded from key phrases).
    pub pii: Vec<(usize, usize)>,
}

impl<'a> Doc<'a> {
    /// Tokenises `text` for analysis in `lang`.
    pub fn new(text: &'a str, lang: Lang) -> Self {
        Doc { text, tokens: text::tokenize(text), lang, pii: Vec::new() }
    }

    /// True when token `i` overlaps personal data.
    pub fn is_pii(&self, i: usize) -> bool {
        let t = &self.tokens[i];
        self.pii.iter().any(|(s, e)| t.start < *e && t.end > *s)
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_at_char_boundary("año", 2), "a");
        assert_eq!(truncate_at_char_boundary("año", 3), "añ");
        assert_eq!(truncate_at_char_boundary("abc", 10), "abc");
    }

    #[test]
    fn lang_codes_round_trip() {
        assert_eq!(Lang::from_code("es-MX"), Lang::Es);
        assert_eq!(Lang::from_code("EN"), Lang::En);
        assert_eq!(Lang::from_code("pt"), Lang::Unknown);
        assert_eq!(Lang::Mixed.code(), "mixed");
    }
}
