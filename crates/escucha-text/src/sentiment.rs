//! Lexicon-and-rules sentiment for Spanish and English (the model-free fallback).
//!
//! The method follows VADER (Hutto & Gilbert, 2014): word valences on a −4..4 scale, boosted
//! by intensifiers and capitals, flipped by a preceding negation, weighted around contrast
//! words ("but"/"pero" makes what follows count more), summed and squashed into [−1, 1].
//! English uses VADER's MIT-licensed lexicon; Spanish uses our own lexicon with prefix entries
//! for inflection and a Snowball-stem fallback. On top of VADER: customer-experience phrases
//! in both languages ("sigo esperando", "on hold", "cobro doble"), Spanish negative concord
//! ("no estuvo nada mal" is one negation of "mal"), `-ísimo` superlatives, and a sarcasm rule
//! (a positive interjection at the start of a clause, followed by a complaint, counts negative:
//! "genial, otra vez sin luz").

use crate::text::{PhraseMatcher, Token, TokenKind, collapse_runs, normalise_pattern, parse_weighted_list};
use crate::{AnalyzerInfo, Doc, Lang};
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Sentiment classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum SentimentLabel {
    /// Negative feeling.
    Negative,
    /// Neither (or balanced).
    Neutral,
    /// Positive feeling.
    Positive,
}

impl SentimentLabel {
    /// The label's API name.
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Negative => "negative",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Positive => "positive",
        }
    }

    /// Parses `negative`/`neutral`/`positive` (and `none` as neutral); `None` otherwise.
    pub fn parse(s: &str) -> Option<SentimentLabel> {
        match s {
            "negative" | "neg" => Some(SentimentLabel::Negative),
            "neutral" | "neu" | "none" => Some(SentimentLabel::Neutral),
            "positive" | "pos" => Some(SentimentLabel::Positive),
            _ => None,
        }
    }
}

/// A comment labelled with its sentiment by a person (an organisation teaching the model route
/// its own language: [`crate::Pipeline::learn_sentiment`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledSentiment {
    /// The text.
    pub text: String,
    /// Its language, if known (`es`, `en`); detected otherwise.
    #[serde(default)]
    pub lang: Option<String>,
    /// The person's label.
    pub sentiment: SentimentLabel,
}

/// A sentiment judgement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SentimentResult {
    /// The class.
    pub label: SentimentLabel,
    /// Polarity in [−1, 1].
    pub score: f32,
    /// True when the text carries clear positive *and* negative feelings (the label then gives
    /// the dominant one), e.g. "la app bien pero el cobro fatal". Experimental: precision 0.24,
    /// recall 0.63 against es_cx_dev's `mixed` rows, so it is not written by the CLI yet.
    pub mixed: bool,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// How much positive feeling the lexicon found, in [0, 1], apart from the negative (the
    /// score nets the two out); the model route's head reads both. 0 where not measured.
    pub positive_evidence: f32,
    /// How much negative feeling the lexicon found, in [0, 1] (a magnitude). 0 where not measured.
    pub negative_evidence: f32,
    /// Which analyser produced it.
    pub analyzer: AnalyzerInfo,
}

/// Judges the overall feeling of a text.
pub trait SentimentAnalyzer: Send + Sync {
    /// Name and version of this analyser.
    fn info(&self) -> AnalyzerInfo;
    /// The sentiment of a prepared document.
    fn sentiment(&self, doc: &Doc) -> SentimentResult;
}

const B_INCR: f32 = 0.293;
const N_SCALAR: f32 = -0.74;
const CAPS_INCR: f32 = 0.733;

const NEGATORS_ES: &[&str] =
    &["no", "nunca", "jamas", "ni", "tampoco", "sin", "nadie", "nada", "ningun", "ninguno", "ninguna", "nop"];
const NEGATORS_EN: &[&str] = &[
    "not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor", "cannot", "cant", "dont", "doesnt",
    "didnt", "isnt", "wasnt", "werent", "arent", "aint", "wont", "wouldnt", "shouldnt", "couldnt", "hasnt", "havent",
    "hadnt", "mustnt", "without", "rarely", "seldom", "nope", "neednt",
];
const BOOSTERS_ES: &[&str] = &[
    "muy",
    "mucho",
    "muchisimo",
    "muchisima",
    "super",
    "re",
    "requete",
    "recontra",
    "demasiado",
    "demasiada",
    "bastante",
    "tan",
    "totalmente",
    "completamente",
    "absolutamente",
    "extremadamente",
    "realmente",
    "sumamente",
    "increiblemente",
    "enormemente",
    "tremendamente",
    "mega",
    "ultra",
    "excesivamente",
    "terriblemente",
    "altamente",
    "especialmente",
    "harto",
    "verdaderamente",
    "profundamente",
    "mas",
    "tremendo",
    "tremenda",
    "sper",
];
const DAMPENERS_ES: &[&str] = &["poco", "algo", "apenas", "medio", "ligeramente", "casi", "relativamente", "un_poco"];
const BOOSTERS_EN: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerably",
    "decidedly",
    "deeply",
    "enormously",
    "entirely",
    "especially",
    "exceptionally",
    "extremely",
    "fabulously",
    "greatly",
    "highly",
    "hugely",
    "incredibly",
    "intensely",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "totally",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utterly",
    "very",
    "super",
    "too",
    "such",
    "freaking",
    "fucking",
    "damn",
    "seriously",
    "truly",
    "pretty",
];
const DAMPENERS_EN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "kindof",
    "less",
    "little",
    "marginally",
    "occasionally",
    "partly",
    "scarcely",
    "slightly",
    "somewhat",
    "sorta",
    "bit",
];
const SCOPE_BREAKERS: &[&str] = &["porque", "pero", "aunque", "but", "because", "although"];
const CONTRAST: &[&str] = &["pero", "but", "however", "embargo", "sino", "contrario"];
const CONCESSIVE: &[&str] = &["aunque", "although", "though", "despite", "pese"];
const SARCASM_TRIGGERS: &[&str] = &[
    "genial",
    "excelente",
    "perfecto",
    "perfecta",
    "fantastico",
    "maravilloso",
    "estupendo",
    "bravo",
    "felicidades",
    "great",
    "awesome",
    "fantastic",
    "wonderful",
    "perfect",
    "brilliant",
    "lovely",
    "love",
    "nice",
    "thanks",
    "gracias",
    "bueno",
    "super",
    "cool",
    "yay",
    "increible",
    "maravilla",
    "felicitaciones",
];
/// Words that make a text a request, whose closing thanks is politeness.
const REQUEST_CUES: &[&str] = &[
    "solicito",
    "solicitamos",
    "quisiera",
    "quisieramos",
    "necesito",
    "necesitamos",
    "podrian",
    "podria",
    "agradeceria",
    "adjunto",
    "envienme",
    "indicarme",
    "quedo",
    "quedamos",
    "could",
    "would",
    "please",
    "kindly",
    "attached",
    "request",
];
const SARCASM_FOLLOWERS: &[&str] =
    &["otra", "again", "de", "otro", "another", "una", "sin", "ya", "como", "siempre", "thanks"];

/// Emoji and emoticon valences (−4..4), written for Escucha.
const EMOJI: &[(&str, f32)] = &[
    ("😀", 2.0),
    ("😃", 2.2),
    ("😄", 2.2),
    ("😁", 2.2),
    ("😆", 2.0),
    ("😊", 2.2),
    ("🙂", 1.2),
    ("😉", 1.2),
    ("😍", 3.0),
    ("🥰", 3.0),
    ("😘", 2.4),
    ("🤩", 3.0),
    ("😎", 1.8),
    ("👍", 2.0),
    ("👏", 2.2),
    ("🙌", 2.4),
    ("💪", 1.8),
    ("❤", 2.8),
    ("💙", 2.4),
    ("💚", 2.4),
    ("💯", 2.4),
    ("🎉", 2.2),
    ("✨", 1.4),
    ("⭐", 1.6),
    ("🌟", 1.8),
    ("🙏", 1.4),
    ("🤗", 2.2),
    ("😂", 1.0),
    ("🤣", 1.0),
    ("✅", 1.0),
    ("🥳", 2.6),
    ("😇", 2.0),
    ("😋", 2.0),
    ("👌", 1.8),
    ("😞", -2.2),
    ("😔", -2.0),
    ("😢", -2.2),
    ("😭", -2.6),
    ("😡", -3.0),
    ("🤬", -3.4),
    ("😠", -2.8),
    ("😤", -2.4),
    ("👎", -2.4),
    ("💩", -2.6),
    ("🙄", -1.8),
    ("😒", -2.0),
    ("😩", -2.2),
    ("😫", -2.2),
    ("😖", -2.2),
    ("😣", -2.0),
    ("😟", -1.8),
    ("😕", -1.4),
    ("🙁", -1.6),
    ("☹", -2.0),
    ("😰", -2.0),
    ("😱", -2.0),
    ("😓", -1.6),
    ("🤦", -2.0),
    ("💔", -2.6),
    ("😑", -1.2),
    ("😐", -0.6),
    ("🤢", -2.6),
    ("🤮", -3.0),
    ("😪", -1.2),
    ("😴", -1.0),
    ("⏳", -0.8),
    ("⌛", -0.8),
    ("😬", -1.0),
    ("🥵", -1.0),
    ("🙃", -0.8),
    (":)", 1.8),
    (":-)", 1.8),
    (":D", 2.2),
    (":-D", 2.2),
    (";)", 1.2),
    (";-)", 1.2),
    ("=)", 1.6),
    ("<3", 2.6),
    ("xD", 1.4),
    ("XD", 1.4),
    (":P", 1.0),
    (":p", 1.0),
    (":(", -1.9),
    (":-(", -1.9),
    ("=(", -1.8),
    (":'(", -2.2),
    (":/", -1.0),
    (":-/", -1.0),
    (":|", -0.6),
];

fn algorithm_is_spanish(a: &Algorithm) -> bool {
    matches!(a, Algorithm::Spanish)
}

/// A language's word list: exact words, prefix entries, and a stem fallback.
struct Lexicon {
    exact: HashMap<String, f32>,
    prefixes: PhraseMatcher<f32>,
    stems: HashMap<String, f32>,
    stemmer: Stemmer,
    use_stems: bool,
}

impl Lexicon {
    fn build(entries: &[(&str, f32)], algorithm: Algorithm, phrases: &mut PhraseMatcher<f32>) -> Self {
        let stemmer = Stemmer::create(algorithm);
        let mut exact = HashMap::new();
        let mut prefixes = PhraseMatcher::new();
        let mut stem_sum: HashMap<String, (f32, f32)> = HashMap::new();
        for &(term, v) in entries {
            if term.contains('_') || (term.contains(' ') && term.len() > 1) {
                if let Some(p) = normalise_pattern(term) {
                    phrases.add(&p, v);
                }
            } else if term.ends_with('*') {
                if let Some(p) = normalise_pattern(term) {
                    prefixes.add(&p, v);
                }
            } else {
                let t = crate::text::fold(term);
                if t.chars().all(|c| c.is_alphabetic()) && t.len() >= 4 {
                    let e = stem_sum.entry(stemmer.stem(&t).into_owned()).or_default();
                    e.0 += v;
                    e.1 += 1.0;
                }
                exact.entry(t).or_insert(v);
            }
        }
        let stems = stem_sum.into_iter().map(|(k, (s, n))| (k, s / n)).collect();
        Lexicon {
            exact,
            prefixes,
            stems,
            stemmer,
            // English lexicons list inflected forms; Spanish inflects too much to list them.
            use_stems: algorithm_is_spanish(&algorithm),
        }
    }

    fn lookup(&self, word: &str, elongated: bool) -> Option<f32> {
        if let Some(v) = self.exact.get(word) {
            return Some(*v);
        }
        if elongated {
            for keep in [2, 1] {
                let w = collapse_runs(word, keep);
                if let Some(v) = self.exact.get(&w) {
                    return Some(*v);
                }
                if let Some(v) = self.prefix(&w) {
                    return Some(v);
                }
            }
        }
        if let Some(v) = self.prefix(word) {
            return Some(v);
        }
        if self.use_stems && word.len() >= 5 && word.chars().all(|c| c.is_ascii_alphabetic()) {
            return self.stems.get(self.stemmer.stem(word).as_ref()).copied();
        }
        None
    }

    fn prefix(&self, word: &str) -> Option<f32> {
        if self.prefixes.is_empty() {
            return None;
        }
        self.prefixes.longest_at(&[word], 0).map(|m| *m.value)
    }
}

/// The default sentiment analyser: lexicons, phrases and rules for Spanish and English.
pub struct LexiconSentiment {
    es: Lexicon,
    en: Lexicon,
    es_phrases: PhraseMatcher<f32>,
    en_phrases: PhraseMatcher<f32>,
    emoji: HashMap<&'static str, f32>,
    /// Compound score at or above which a text is positive.
    pub positive_threshold: f32,
    /// Compound score at or below which a text is negative.
    pub negative_threshold: f32,
    /// Valence each side must reach for a text to be `mixed`.
    pub mixed_threshold: f32,
}

impl std::fmt::Debug for LexiconSentiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexiconSentiment")
            .field("es_words", &self.es.exact.len())
            .field("en_words", &self.en.exact.len())
            .field("positive_threshold", &self.positive_threshold)
            .field("negative_threshold", &self.negative_threshold)
            .finish()
    }
}

impl Default for LexiconSentiment {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    valence: f32,
    /// Valence from a phrase that already contains its negation ("no funciona", "nada mal").
    immune: bool,
    /// Covered by a phrase whose valence sits on its first token.
    covered: bool,
}

impl LexiconSentiment {
    /// Loads the built-in lexicons.
    pub fn new() -> Self {
        let mut es_phrases = PhraseMatcher::new();
        let mut en_phrases = PhraseMatcher::new();
        let es = Lexicon::build(
            &parse_weighted_list(include_str!("../data/es_lexicon.tsv")),
            Algorithm::Spanish,
            &mut es_phrases,
        );
        let en = Lexicon::build(
            &parse_weighted_list(include_str!("../data/en_vader_lexicon.tsv")),
            Algorithm::English,
            &mut en_phrases,
        );
        for line in include_str!("../data/cx_phrases.tsv").lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut p = line.split('\t');
            let (Some(lang), Some(phrase), Some(v)) = (p.next(), p.next(), p.next()) else {
                continue;
            };
            let Ok(v) = v.trim().parse::<f32>() else {
                continue;
            };
            let Some(phrase) = normalise_pattern(phrase) else {
                continue;
            };
            match lang {
                "es" => es_phrases.add(&phrase, v),
                "en" => en_phrases.add(&phrase, v),
                _ => {}
            }
        }
        LexiconSentiment {
            es,
            en,
            es_phrases,
            en_phrases,
            emoji: EMOJI.iter().copied().collect(),
            positive_threshold: 0.1,
            negative_threshold: -0.1,
            mixed_threshold: 0.75,
        }
    }

    fn is_negator(lang: Lang, w: &str) -> bool {
        match lang {
            Lang::Es => NEGATORS_ES.contains(&w),
            Lang::En => NEGATORS_EN.contains(&w),
            _ => NEGATORS_ES.contains(&w) || NEGATORS_EN.contains(&w),
        }
    }

    fn booster(lang: Lang, w: &str) -> f32 {
        let (b, d): (&[&str], &[&str]) = match lang {
            Lang::Es => (BOOSTERS_ES, DAMPENERS_ES),
            Lang::En => (BOOSTERS_EN, DAMPENERS_EN),
            _ => {
                let es = Self::booster(Lang::Es, w);
                return if es != 0.0 { es } else { Self::booster(Lang::En, w) };
            }
        };
        if b.contains(&w) {
            B_INCR
        } else if d.contains(&w) {
            -B_INCR
        } else {
            0.0
        }
    }

    fn word_valence(&self, lang: Lang, t: &Token) -> Option<f32> {
        let w = t.norm.as_str();
        let es = |w: &str| {
            self.es.lookup(w, t.elongated).or_else(|| {
                // Superlatives: carísimo → caro (boosted)
                for suf in ["isimo", "isima", "isimos", "isimas"] {
                    if let Some(base) = w.strip_suffix(suf) {
                        let gender = if suf.contains('a') { "a" } else { "o" };
                        let cand = format!("{base}{gender}");
                        let cand = cand.replace("qu", "c");
                        if let Some(v) = self.es.lookup(&cand, false) {
                            return Some(v + v.signum() * 2.0 * B_INCR);
                        }
                    }
                }
                None
            })
        };
        match lang {
            Lang::Es => es(w),
            Lang::En => self.en.lookup(w, t.elongated),
            _ => es(w).or_else(|| self.en.lookup(w, t.elongated)),
        }
    }

    /// The raw (unnormalised) valence sum and the compound score of a document.
    pub fn score(&self, doc: &Doc) -> (f32, f32) {
        let s = self.score_parts(doc);
        (s.0, s.1)
    }

    /// Valence sum, compound score, and the sums of the positive and of the negative parts.
    fn score_parts(&self, doc: &Doc) -> (f32, f32, f32, f32) {
        let lang = match doc.lang {
            Lang::Es | Lang::En => doc.lang,
            _ => Lang::Unknown,
        };
        let toks = &doc.tokens;
        let norms: Vec<&str> = toks.iter().map(|t| t.norm.as_str()).collect();
        let mut slots = vec![Slot::default(); toks.len()];
        let matchers: Vec<&PhraseMatcher<f32>> = match lang {
            Lang::Es => vec![&self.es_phrases],
            Lang::En => vec![&self.en_phrases],
            _ => vec![&self.es_phrases, &self.en_phrases],
        };
        for m in matchers {
            for pm in m.find_all(&norms) {
                if slots[pm.start..pm.start + pm.len].iter().any(|s| s.covered) {
                    continue;
                }
                let negated_inside = norms[pm.start..pm.start + pm.len].iter().any(|w| Self::is_negator(lang, w));
                for (k, s) in slots[pm.start..pm.start + pm.len].iter_mut().enumerate() {
                    s.covered = true;
                    s.immune = negated_inside || *pm.value == 0.0;
                    if k == 0 {
                        s.valence = *pm.value;
                    }
                }
            }
        }
        let text_all_caps = toks.iter().filter(|t| t.kind == TokenKind::Word).all(|t| t.caps);
        let mut clause_start = 0;
        let mut sarcasm_candidates = Vec::new();
        for i in 0..toks.len() {
            let t = &toks[i];
            if t.kind == TokenKind::Punct {
                clause_start = i + 1;
                continue;
            }
            if slots[i].covered {
                // phrase valence sits on the first token; modifiers still apply below
                if slots[i].valence == 0.0 {
                    continue;
                }
            } else if t.kind == TokenKind::Emoji {
                if let Some(v) = self.emoji.get(t.norm.as_str()) {
                    slots[i].valence = *v;
                    slots[i].immune = true;
                }
                continue;
            } else if Self::is_negator(lang, &t.norm) || Self::booster(lang, &t.norm) != 0.0 {
                continue;
            } else if let Some(v) = self.word_valence(lang, t) {
                slots[i].valence = v;
            } else {
                continue;
            }
            let mut v = slots[i].valence;
            if v == 0.0 {
                continue;
            }
            // Intensifiers within the clause, up to 3 tokens back.
            for (k, j) in (clause_start..i).rev().take(3).enumerate() {
                let b = Self::booster(lang, &toks[j].norm);
                if b != 0.0 && !slots[j].covered {
                    v += v.signum() * b * [1.0, 0.95, 0.9][k];
                }
            }
            if t.caps && !text_all_caps {
                v += v.signum() * CAPS_INCR;
            }
            if t.elongated {
                v += v.signum() * B_INCR;
            }
            // Negation (one flip whatever the number of negators: Spanish negative concord).
            if !slots[i].immune {
                let mut negated = false;
                for (dist, j) in (clause_start..i).rev().take(3).enumerate() {
                    let w = toks[j].norm.as_str();
                    if SCOPE_BREAKERS.contains(&w) {
                        break;
                    }
                    if slots[j].covered || !Self::is_negator(lang, w) {
                        continue;
                    }
                    // Post-verbal "nada"/"nadie"/"ni" negate only what they directly precede.
                    let reach = match w {
                        "nada" | "nadie" | "ninguno" | "ninguna" => 0,
                        "ni" => 1,
                        _ => 2,
                    };
                    if dist <= reach {
                        negated = true;
                        break;
                    }
                }
                if negated {
                    v *= N_SCALAR;
                }
            }
            slots[i].valence = v;
            // Sarcasm trigger: a positive interjection opening the text or a clause, followed by
            // punctuation, an eye-roll, or a complaint word.
            let first_in_clause = (clause_start..i).all(|j| {
                matches!(
                    toks[j].norm.as_str(),
                    "que"
                        | "oh"
                        | "ah"
                        | "ay"
                        | "just"
                        | "so"
                        | "how"
                        | "muy"
                        | "pues"
                        | "well"
                        | "oh,"
                        | "what"
                        | "a"
                        | "que,"
                        | "y"
                        | "and"
                        | "ohh"
                        | "simplemente"
                )
            });
            if v > 0.0 && first_in_clause && SARCASM_TRIGGERS.contains(&t.norm.as_str()) {
                let next = toks.get(i + 1);
                let followed = next.is_none_or(|n| {
                    n.kind == TokenKind::Punct
                        || n.norm == "🙄"
                        || n.norm == "🙃"
                        || n.norm == "😒"
                        || SARCASM_FOLLOWERS.contains(&n.norm.as_str())
                });
                // "¡Qué maravilla esperar 2 horas!": an exclamative needs no punctuation after it.
                let exclamative = i > clause_start && toks[i - 1].norm == "que";
                if (followed || exclamative) && next.is_some() {
                    sarcasm_candidates.push(i);
                }
            }
        }
        // A closing "Brilliant." after a complaint is sarcastic too.
        if let Some(last) = (0..toks.len()).rev().find(|&k| toks[k].kind == TokenKind::Word) {
            let only_marks_after =
                toks[last + 1..].iter().all(|t| matches!(t.kind, TokenKind::Punct | TokenKind::Emoji));
            let before: f32 = slots[..last].iter().map(|s| s.valence).sum();
            if only_marks_after
                && slots[last].valence > 0.0
                && before < -0.5
                && SARCASM_TRIGGERS.contains(&toks[last].norm.as_str())
                && !sarcasm_candidates.contains(&last)
            {
                slots[last].valence = -slots[last].valence.abs() * 0.9 - 0.5;
            }
        }
        // An upside-down or eye-rolling face turns the praise around it into irony.
        if toks.iter().any(|t| t.norm == "🙃" || t.norm == "🙄") {
            for (k, s) in slots.iter_mut().enumerate() {
                if s.valence > 0.0 && toks[k].kind == TokenKind::Word {
                    s.valence *= -0.5;
                }
            }
        }
        // Sarcasm: the trigger turns negative when what follows is negative.
        for &i in &sarcasm_candidates {
            let rest: f32 = slots[i + 1..].iter().map(|s| s.valence).sum();
            let complaint =
                norms[i + 1..].windows(2).any(|w| {
                    matches!((w[0], w[1]), ("otra", "vez") | ("de", "nuevo") | ("once", "again") | ("yet", "again"))
                        || w[0] == "sin" && !matches!(w[1], "problema" | "problemas" | "duda")
                }) || norms[i + 1..].iter().any(|w| matches!(*w, "again" | "esperar" | "horas" | "hours" | "wait"));
            if rest < -0.5 || complaint {
                slots[i].valence = -slots[i].valence.abs() * 0.9 - 0.5;
            }
        }
        // Contrast: "but"/"pero" halves what came before and boosts what follows.
        if let Some(b) = norms.iter().position(|w| CONTRAST.contains(w)) {
            let sino_embargo = norms[b] == "embargo" && b > 0 && norms[b - 1] == "sin";
            if norms[b] != "embargo" || sino_embargo {
                for (k, s) in slots.iter_mut().enumerate() {
                    if k < b {
                        s.valence *= 0.5;
                    } else if k > b {
                        s.valence *= 1.5;
                    }
                }
            }
        }
        // Clause-final "though" ("the app is awful though") works like a preceding "but".
        if !norms.iter().any(|w| CONTRAST.contains(w)) {
            for (k, w) in norms.iter().enumerate() {
                let ends_clause = toks.get(k + 1).is_none_or(|t| matches!(t.kind, TokenKind::Punct | TokenKind::Emoji));
                if *w == "though" && ends_clause {
                    let start = (0..k).rev().find(|&j| toks[j].kind == TokenKind::Punct).map_or(0, |j| j + 1);
                    if start > 0 {
                        for (j, s) in slots.iter_mut().enumerate() {
                            s.valence *= if j < start { 0.5 } else { 1.5 };
                        }
                    }
                    break;
                }
            }
        }
        // Concessive clauses ("aunque…", "although…") count less.
        for (k, w) in norms.iter().enumerate() {
            if CONCESSIVE.contains(w) {
                for j in k + 1..toks.len() {
                    if toks[j].kind == TokenKind::Punct {
                        break;
                    }
                    slots[j].valence *= 0.6;
                }
            }
        }
        // Praise inside a question is mostly a request ("can you make it nice?"): halve it.
        let mut question_clause = false;
        for k in (0..toks.len()).rev() {
            let t = &toks[k];
            if t.kind == TokenKind::Punct {
                question_clause = t.norm == "?";
            } else if question_clause && slots[k].valence > 0.0 {
                slots[k].valence *= 0.5;
            }
        }
        // "…? Gracias." closing a request is politeness, not praise; so is the thanks of a
        // written request without a question mark ("Solicito el duplicado… Gracias.").
        if norms.contains(&"?") || norms.iter().any(|w| REQUEST_CUES.contains(w)) {
            for (k, w) in norms.iter().enumerate() {
                if matches!(*w, "gracias" | "thanks" | "thank" | "agradezco" | "agradeceria") {
                    slots[k].valence *= 0.3;
                }
            }
        }
        let mut sum: f32 = slots.iter().map(|s| s.valence).sum();
        let positive: f32 = slots.iter().map(|s| s.valence.max(0.0)).sum();
        let negative: f32 = slots.iter().map(|s| s.valence.min(0.0)).sum();
        if sum != 0.0 {
            let excl = toks.iter().filter(|t| t.norm == "!").count().min(4) as f32;
            sum += sum.signum() * excl * 0.292;
            let q = toks.iter().filter(|t| t.norm == "?").count();
            if q > 1 {
                sum += sum.signum() * (q.min(3) as f32) * 0.18;
            }
        }
        (sum, squash(sum), positive, negative)
    }
}

/// VADER's normalisation of a valence sum into (−1, 1): `x / sqrt(x² + 15)`.
fn squash(x: f32) -> f32 {
    x / (x * x + 15.0).sqrt()
}

impl SentimentAnalyzer for LexiconSentiment {
    fn info(&self) -> AnalyzerInfo {
        AnalyzerInfo::new("lexicon-sentiment", "1")
    }

    fn sentiment(&self, doc: &Doc) -> SentimentResult {
        let (_, compound, positive, negative) = self.score_parts(doc);
        let label = if compound >= self.positive_threshold {
            SentimentLabel::Positive
        } else if compound <= self.negative_threshold {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        };
        let confidence = match label {
            SentimentLabel::Neutral => 1.0 - 0.5 * compound.abs() / self.positive_threshold.max(0.01),
            _ => 0.5 + 0.5 * compound.abs(),
        }
        .clamp(0.0, 1.0);
        SentimentResult {
            label,
            score: compound.clamp(-1.0, 1.0),
            mixed: positive >= self.mixed_threshold && -negative >= self.mixed_threshold,
            confidence,
            positive_evidence: squash(positive),
            negative_evidence: squash(-negative),
            analyzer: self.info(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every phrase and prefix of the lexicons (cx_phrases.tsv, and the es/en lexicons') with a
    /// letter in it survives normalisation, so none is dropped at load.
    #[test]
    fn every_lexicon_phrase_with_words_loads() {
        let mut phrases: Vec<&str> = include_str!("../data/cx_phrases.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split('\t').nth(1))
            .collect();
        for list in [include_str!("../data/es_lexicon.tsv"), include_str!("../data/en_vader_lexicon.tsv")] {
            phrases.extend(
                crate::text::parse_weighted_list(list)
                    .into_iter()
                    .map(|(t, _)| t)
                    .filter(|t| t.contains('_') || (t.contains(' ') && t.len() > 1) || t.ends_with('*')),
            );
        }
        let dropped: Vec<&str> = phrases
            .into_iter()
            .filter(|p| p.chars().filter(|c| c.is_alphabetic()).count() > 1 && normalise_pattern(p).is_none())
            .collect();
        assert!(dropped.is_empty(), "phrases dropped at load: {dropped:?}");
    }

    fn label(text: &str, lang: Lang) -> SentimentLabel {
        let doc = Doc::new(text, lang);
        LexiconSentiment::new().sentiment(&doc).label
    }

    #[test]
    fn spanish_cases() {
        use SentimentLabel::*;
        assert_eq!(label("no estuvo nada mal", Lang::Es), Positive);
        assert_eq!(label("la app bien pero el cobro fatal", Lang::Es), Negative);
        assert_eq!(label("genial, otra vez sin luz", Lang::Es), Negative);
        assert_eq!(label("Excelente atención, muy amables!", Lang::Es), Positive);
        assert_eq!(label("pesimo servicio, nadie responde", Lang::Es), Negative);
        assert_eq!(label("no me gusto nada xq tardo mucho", Lang::Es), Negative);
        assert_eq!(label("¿Tienen stock del modelo en color verde?", Lang::Es), Neutral);
        assert_eq!(label("todo bien tb con la entrega 👍", Lang::Es), Positive);
        assert_eq!(label("carísimo y malísimo", Lang::Es), Negative);
        assert_eq!(label("😡😡", Lang::Unknown), Negative);
    }

    /// The evidence apart: praise and complaint in one text score on both sides (the score nets
    /// them out); a plain complaint or plain praise only on its own side; nothing on neither.
    #[test]
    fn positive_and_negative_evidence_are_kept_apart() {
        let r = |text: &str| LexiconSentiment::new().sentiment(&Doc::new(text, Lang::Es));
        let mixed = r("la app bien pero el cobro fatal");
        assert!(mixed.positive_evidence > 0.0 && mixed.negative_evidence > 0.0, "{mixed:?}");
        let complaint = r("pésimo servicio, nadie responde");
        assert!(complaint.negative_evidence > 0.0 && complaint.positive_evidence == 0.0, "{complaint:?}");
        let praise = r("Excelente atención, muy amables");
        assert!(praise.positive_evidence > 0.0 && praise.negative_evidence == 0.0, "{praise:?}");
        let plain = r("el pedido llegó el martes");
        assert_eq!((plain.positive_evidence, plain.negative_evidence), (0.0, 0.0));
        for e in [mixed, complaint, praise] {
            assert!(e.positive_evidence < 1.0 && e.negative_evidence < 1.0, "{e:?}");
        }
    }

    #[test]
    fn english_cases() {
        use SentimentLabel::*;
        assert_eq!(label("The staff were great, thank you!", Lang::En), Positive);
        assert_eq!(label("not bad at all", Lang::En), Positive);
        assert_eq!(label("I have been on hold for 2 hours", Lang::En), Negative);
        assert_eq!(label("Great, my flight is delayed again", Lang::En), Negative);
        assert_eq!(label("The food was good but the service was terrible", Lang::En), Negative);
        assert_eq!(label("Can I change my seat?", Lang::En), Neutral);
        assert_eq!(label("Great staff, the app is awful though", Lang::En), Negative);
    }

    #[test]
    fn intensifiers_and_dampeners_move_the_score() {
        let s = LexiconSentiment::new();
        let score = |t: &str| s.sentiment(&Doc::new(t, Lang::Es)).score;
        assert!(score("muy bueno") > score("bueno"));
        assert!(score("algo malo") > score("malo"));
        assert!(score("MALÍSIMO el servicio") < score("malísimo el servicio"));
        let en = |t: &str| s.sentiment(&Doc::new(t, Lang::En)).score;
        assert!(en("extremely good") > en("good"));
        assert!(en("good!!!") > en("good"));
    }

    #[test]
    fn contrast_is_flagged_as_mixed() {
        let s = LexiconSentiment::new();
        let r = s.sentiment(&Doc::new("la app bien pero el cobro fatal", Lang::Es));
        assert!(r.mixed && r.label == SentimentLabel::Negative);
        assert!(!s.sentiment(&Doc::new("todo excelente", Lang::Es)).mixed);
    }

    #[test]
    fn score_is_bounded() {
        let s = LexiconSentiment::new();
        let text = "excelente ".repeat(500);
        let doc = Doc::new(&text, Lang::Es);
        let r = s.sentiment(&doc);
        assert!(r.score <= 1.0 && r.score > 0.9);
    }
}
