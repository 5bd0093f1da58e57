//! Language identification restricted to Spanish and English.
//!
//! `whatlang` (trigrams, restricted to es/en) is combined with evidence that is strong on short
//! texts: function words of each language and Spanish orthography (`ñ`, accents, `¿ ¡`). A text
//! with no usable evidence (empty, numbers, emojis only) is [`Lang::Unknown`]; a text whose
//! sentences clearly alternate between the two is [`Lang::Mixed`].

use crate::text::{Token, TokenKind};
use crate::{AnalyzerInfo, Lang};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::OnceLock;

/// The detected language with its confidence in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LanguageResult {
    /// Detected language.
    pub lang: Lang,
    /// For [`Lang::Mixed`], the language with most evidence (used to pick lexicons).
    pub primary: Lang,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// Which analyser produced it.
    pub analyzer: AnalyzerInfo,
}

/// Identifies the language of a text.
pub trait LanguageIdentifier: Send + Sync {
    /// Name and version of this analyser.
    fn info(&self) -> AnalyzerInfo;
    /// Identifies the language of `text`, whose tokens are `tokens`.
    fn identify(&self, text: &str, tokens: &[Token]) -> LanguageResult;
}

/// The default identifier: whatlang (es/en only) plus function words and orthography.
#[derive(Debug, Clone)]
pub struct HeuristicLanguageIdentifier {
    detector: whatlang::Detector,
}

impl Default for HeuristicLanguageIdentifier {
    fn default() -> Self {
        Self::new()
    }
}

fn word_sets() -> &'static (HashSet<&'static str>, HashSet<&'static str>) {
    static SETS: OnceLock<(HashSet<&'static str>, HashSet<&'static str>)> = OnceLock::new();
    SETS.get_or_init(|| (ES_WORDS.iter().copied().collect(), EN_WORDS.iter().copied().collect()))
}

const ES_WORDS: &[&str] = &[
    "de",
    "la",
    "que",
    "el",
    "en",
    "y",
    "los",
    "se",
    "del",
    "las",
    "un",
    "por",
    "con",
    "una",
    "su",
    "para",
    "es",
    "al",
    "lo",
    "como",
    "mas",
    "pero",
    "sus",
    "le",
    "ya",
    "fue",
    "este",
    "ha",
    "si",
    "porque",
    "esta",
    "son",
    "entre",
    "cuando",
    "muy",
    "sin",
    "sobre",
    "hasta",
    "hay",
    "donde",
    "quien",
    "desde",
    "todo",
    "nos",
    "todos",
    "les",
    "ni",
    "otros",
    "ese",
    "eso",
    "ante",
    "ellos",
    "esto",
    "antes",
    "algunos",
    "unos",
    "yo",
    "otro",
    "otras",
    "otra",
    "el",
    "tanto",
    "esa",
    "estos",
    "mucho",
    "nada",
    "muchos",
    "cual",
    "poco",
    "ella",
    "estar",
    "estas",
    "algo",
    "mi",
    "mis",
    "tu",
    "te",
    "ti",
    "tus",
    "os",
    "tengo",
    "estoy",
    "hola",
    "gracias",
    "pues",
    "tambien",
    "aunque",
    "cuanto",
    "nunca",
    "siempre",
    "hace",
    "hacer",
    "puede",
    "bien",
    "mal",
    "ahora",
    "ser",
    "tiene",
    "dice",
    "muy",
    "asi",
    "vez",
    "dia",
    "dias",
    "usted",
    "ustedes",
    "nosotros",
    "queria",
    "estaba",
    "llevo",
    "nadie",
    "cada",
    "aqui",
    "alla",
    "sea",
    "era",
    "fui",
    "hoy",
    "manana",
    "luego",
    "despues",
    "tras",
    "hacia",
    "segun",
    "cuenta",
    "pedido",
    "servicio",
    "atencion",
    "esperando",
    "solo",
    "gente",
    "vida",
    "amor",
    "hombre",
    "mujer",
    "quiere",
    "sabe",
    "dos",
    "tres",
    "gusta",
    "gusto",
    "encanta",
    "vale",
    "cosas",
    "cosa",
    "mejor",
    "tan",
    "sino",
    "e",
    "u",
    "ay",
    "oye",
];

const EN_WORDS: &[&str] = &[
    "the", "and", "to", "of", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with", "as", "i",
    "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "not", "but", "what", "all", "were",
    "we", "when", "your", "can", "said", "there", "an", "each", "which", "she", "do", "how", "their", "if", "will",
    "up", "about", "out", "many", "then", "them", "these", "so", "some", "her", "would", "make", "like", "him", "into",
    "has", "more", "my", "just", "get", "got", "thanks", "please", "our", "been", "im", "dont", "its", "very", "why",
    "still", "cant", "didnt", "doesnt", "wont", "isnt", "who", "could", "should", "than", "now", "only", "over",
    "after", "again", "never", "always", "any", "other", "time", "day", "hours", "flight", "thank", "love", "good",
    "great", "bad", "service", "help", "know", "think", "going", "way", "well", "people", "man", "woman", "life",
    "world", "you're", "ive", "youre", "thats", "theres", "here", "where", "yes", "because", "today", "back", "what",
    "does", "did", "being", "those", "us", "too", "off", "much", "may", "every", "while", "without", "nothing",
    "someone", "anyone",
];

fn word_lang(w: &str) -> (bool, bool) {
    // "no", "me", "a" and the like are ambiguous and counted for neither.
    let (es, en) = word_sets();
    (es.contains(w), en.contains(w))
}

/// Evidence counts for one span of tokens.
#[derive(Debug, Default, Clone, Copy)]
struct Evidence {
    es: f32,
    en: f32,
    words: usize,
}

fn evidence(text: &str, tokens: &[Token]) -> Evidence {
    let mut ev = Evidence::default();
    for t in tokens {
        if t.kind != TokenKind::Word {
            continue;
        }
        ev.words += 1;
        let (es, en) = word_lang(&t.norm);
        if es && !en {
            ev.es += 1.0;
        } else if en && !es {
            ev.en += 1.0;
        }
        let n = t.norm.as_str();
        if n.ends_with("cion") || n.ends_with("mente") || n.ends_with("ado") || n.ends_with("ido") {
            ev.es += 0.3;
        }
        if n.ends_with("ing") || n.ends_with("tion") || n.contains("th") || n.contains('w') {
            ev.en += 0.3;
        }
        if n.ends_with("ly") || n.ends_with("ed") && n.len() > 4 {
            ev.en += 0.2;
        }
        if n.ends_with("os") || n.ends_with("as") && n.len() > 3 {
            ev.es += 0.15;
        }
    }
    for c in text.chars().take(4000) {
        match c {
            'ñ' | 'Ñ' | '¿' | '¡' => ev.es += 1.5,
            'á' | 'é' | 'í' | 'ó' | 'ú' | 'Á' | 'É' | 'Í' | 'Ó' | 'Ú' => ev.es += 0.8,
            _ => {}
        }
    }
    ev
}

impl HeuristicLanguageIdentifier {
    /// A new identifier.
    pub fn new() -> Self {
        HeuristicLanguageIdentifier {
            detector: whatlang::Detector::with_allowlist(vec![whatlang::Lang::Spa, whatlang::Lang::Eng]),
        }
    }

    fn classify(&self, text: &str, tokens: &[Token]) -> (Lang, f32) {
        let ev = evidence(text, tokens);
        if ev.words == 0 {
            return (Lang::Unknown, 0.0);
        }
        let mut es = ev.es;
        let mut en = ev.en;
        // Trigram statistics (whatlang) only when function words and spelling do not settle it:
        // they cost more than everything else here.
        let decided = (es - en).abs() >= 3.0 && es.max(en) >= 3.0 * es.min(en).max(0.5);
        if !decided {
            let sample = crate::truncate_at_char_boundary(text, 600);
            if let Some(info) = self.detector.detect(sample) {
                // weak on a few words: scale the vote by length
                let w = (1.0 + 2.0 * info.confidence() as f32) * (ev.words as f32 / 6.0).min(1.0);
                match info.lang() {
                    whatlang::Lang::Spa => es += w,
                    whatlang::Lang::Eng => en += w,
                    _ => {}
                }
            }
        }
        let total = es + en;
        if total < 0.5 {
            return (Lang::Unknown, 0.0);
        }
        let (lang, margin) = if es >= en { (Lang::Es, es - en) } else { (Lang::En, en - es) };
        let confidence = (margin / total).clamp(0.0, 1.0) * (1.0 - (-total / 3.0).exp());
        (lang, 0.5 + 0.5 * confidence)
    }
}

impl LanguageIdentifier for HeuristicLanguageIdentifier {
    fn info(&self) -> AnalyzerInfo {
        AnalyzerInfo::new("heuristic-lid", "1")
    }

    fn identify(&self, text: &str, tokens: &[Token]) -> LanguageResult {
        let (lang, confidence) = self.classify(text, tokens);
        let mut result = LanguageResult { lang, primary: lang, confidence, analyzer: self.info() };
        if lang == Lang::Unknown {
            return result;
        }
        // Mixed: at least two sentences of 4+ words each clearly in a different language.
        let mut sentence_langs = [0usize; 2];
        let mut start = 0;
        for (i, t) in tokens.iter().enumerate() {
            let boundary = t.kind == TokenKind::Punct && matches!(t.norm.as_str(), "." | "!" | "?" | "\n" | "…" | ";");
            if boundary || i + 1 == tokens.len() {
                let span = &tokens[start..=i];
                let words = span.iter().filter(|t| t.kind == TokenKind::Word).count();
                if words >= 4 {
                    let ev = evidence(&text[span[0].start..span[span.len() - 1].end], span);
                    if ev.es >= 2.0 && ev.es >= 3.0 * ev.en.max(0.3) {
                        sentence_langs[0] += 1;
                    } else if ev.en >= 2.0 && ev.en >= 3.0 * ev.es.max(0.3) {
                        sentence_langs[1] += 1;
                    }
                }
                start = i + 1;
            }
        }
        if sentence_langs[0] >= 1 && sentence_langs[1] >= 1 {
            result.lang = Lang::Mixed;
            result.confidence = 0.6;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::tokenize;

    fn id(s: &str) -> Lang {
        HeuristicLanguageIdentifier::new().identify(s, &tokenize(s)).lang
    }

    #[test]
    fn short_texts() {
        assert_eq!(id("no me gusta"), Lang::Es);
        assert_eq!(id("muy mal servicio"), Lang::Es);
        assert_eq!(id("the app is down"), Lang::En);
        assert_eq!(id("thanks!"), Lang::En);
        assert_eq!(id("¿Cuándo llega?"), Lang::Es);
        assert_eq!(id("Great service, thank you"), Lang::En);
    }

    #[test]
    fn unknown_and_mixed() {
        assert_eq!(id(""), Lang::Unknown);
        assert_eq!(id("😡😡😡 12345"), Lang::Unknown);
        assert_eq!(
            id("El servicio fue muy malo y nadie me ayudó. The staff was rude and they never called me back."),
            Lang::Mixed
        );
    }
}
