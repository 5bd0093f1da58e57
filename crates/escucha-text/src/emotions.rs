//! Emotions for Net Emotional Value (NEV).
//!
//! **One set for the whole product**: the text engine detects exactly the survey emotion
//! catalogue of `escucha-core` (`escucha_core::emotions::Emotion`, what respondents can pick in
//! an `emotions` question), with the same ids and polarity, so emotions read from comments and
//! emotions picked in surveys add up in one NEV. Positive — `pleased`, `trusting`, `valued`,
//! `cared_for`, `happy`, `safe`; negative — `frustrated`, `disappointed`, `neglected`,
//! `stressed`, `angry`, `hurried`. (Until version 2 of the detector the text set had
//! `grateful`, which is not in the catalogue: thanks now count as `pleased`.) A test
//! (`tests/text/emotions.rs`) fails if the two sets ever drift apart.
//!
//! Detection: cue phrases per emotion in Spanish and English, each hit raising the confidence;
//! a few are inferred from the sentiment when the text is clearly polar but names no feeling
//! (a strongly negative comment about waiting is `frustrated`). Emotions whose polarity
//! contradicts a confident sentiment are dropped.
//!
//! **NEV formula** ([`net_emotional_value`]) is the survey one of `escucha-core`
//! (`respondent_nev`): per comment, `100 × (positive − negative) / (positive + negative)` over
//! the emotions detected; comments with none are left out; the result is the mean, in
//! [−100, 100].

use crate::sentiment::{SentimentLabel, SentimentResult};
use crate::text::PhraseMatcher;
use crate::{AnalyzerInfo, Doc, Lang};
use serde::Serialize;

/// An emotion of the NEV set (the survey emotion catalogue of `escucha-core`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Emotion {
    /// Satisfied with the experience; thankful.
    Pleased,
    /// Confident in the company: it keeps its word.
    Trusting,
    /// Feels important, recognised as a customer.
    Valued,
    /// Feels looked after.
    CaredFor,
    /// Happy, delighted, loves it.
    Happy,
    /// Feels safe, secure, at ease.
    Safe,
    /// Blocked, made to repeat or wait.
    Frustrated,
    /// Expectations not met.
    Disappointed,
    /// Ignored, abandoned, nobody answers.
    Neglected,
    /// Worried, anxious, under pressure.
    Stressed,
    /// Angry, outraged.
    Angry,
    /// Rushed, pressed for time by the company.
    Hurried,
}

impl Emotion {
    /// Every emotion, positive first (the order of the survey catalogue).
    pub const ALL: [Emotion; 12] = [
        Emotion::Pleased,
        Emotion::Trusting,
        Emotion::Valued,
        Emotion::CaredFor,
        Emotion::Happy,
        Emotion::Safe,
        Emotion::Frustrated,
        Emotion::Disappointed,
        Emotion::Neglected,
        Emotion::Stressed,
        Emotion::Angry,
        Emotion::Hurried,
    ];

    /// True for the positive half of the set.
    pub fn is_positive(self) -> bool {
        matches!(
            self,
            Emotion::Pleased | Emotion::Trusting | Emotion::Valued | Emotion::CaredFor | Emotion::Happy | Emotion::Safe
        )
    }

    /// The emotion's id (`cared_for`), identical to the survey catalogue's.
    pub fn id(self) -> &'static str {
        match self {
            Emotion::Pleased => "pleased",
            Emotion::Trusting => "trusting",
            Emotion::Valued => "valued",
            Emotion::CaredFor => "cared_for",
            Emotion::Happy => "happy",
            Emotion::Safe => "safe",
            Emotion::Frustrated => "frustrated",
            Emotion::Disappointed => "disappointed",
            Emotion::Neglected => "neglected",
            Emotion::Stressed => "stressed",
            Emotion::Angry => "angry",
            Emotion::Hurried => "hurried",
        }
    }

    /// Parses an id of the set.
    pub fn parse(id: &str) -> Option<Emotion> {
        Emotion::ALL.into_iter().find(|e| e.id() == id)
    }
}

/// An emotion found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EmotionResult {
    /// Which emotion.
    pub emotion: Emotion,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// Which analyser produced it.
    #[serde(skip)]
    pub analyzer: AnalyzerInfo,
}

/// Detects NEV emotions.
pub trait EmotionDetector: Send + Sync {
    /// Name and version of this analyser.
    fn info(&self) -> AnalyzerInfo;
    /// Emotions in a prepared document, given its sentiment; most confident first.
    fn detect(&self, doc: &Doc, sentiment: &SentimentResult) -> Vec<EmotionResult>;
}

const CUES: &[(Emotion, &str, &[&str])] = &[
    (
        Emotion::Pleased,
        "es",
        &[
            "content*",
            "satisfech*",
            "encant*",
            "genial",
            "excelente*",
            "perfect*",
            "maravill*",
            "impecable*",
            "me gusto",
            "me gusta",
            "recomiendo",
            "de diez",
            "buenisim*",
            "estupend*",
            "fantastic*",
            "espectacular*",
        ],
    ),
    (
        Emotion::Pleased,
        "en",
        &[
            "pleased",
            "satisfied",
            "great",
            "excellent",
            "perfect",
            "amazing",
            "awesome",
            "fantastic",
            "wonderful",
            "brilliant",
            "recommend",
            "impressed",
            "enjoyed",
        ],
    ),
    (
        Emotion::Trusting,
        "es",
        &[
            "confi*",
            "cumpl*",
            "fiable*",
            "siempre cumplen",
            "de confianza",
            "garantia",
            "transparen*",
            "honest*",
            "serios",
            "seriedad",
        ],
    ),
    (
        Emotion::Trusting,
        "en",
        &[
            "trust*",
            "reliable",
            "reliably",
            "confident",
            "honest*",
            "transparent",
            "dependable",
            "consistent*",
            "always deliver*",
        ],
    ),
    (
        Emotion::Valued,
        "es",
        &[
            "valorad*",
            "me valoran",
            "importante",
            "me hicieron sentir",
            "me escucharon",
            "me escucho",
            "escuchad*",
            "reconoc*",
            "premi*",
            "fidelidad",
            "cliente de",
            "detalle",
            "un detalle",
            "me avisaron de un descuento",
            "se acordaron",
        ],
    ),
    (
        Emotion::Valued,
        "en",
        &[
            "valued",
            "appreciated",
            "listened",
            "listen",
            "heard",
            "felt heard",
            "made me feel",
            "recognised",
            "recognized",
            "loyal*",
            "special",
            "vip",
            "remembered",
            "personal touch",
        ],
    ),
    (
        Emotion::CaredFor,
        "es",
        &[
            "atent*",
            "amable*",
            "paciencia",
            "pacient*",
            "preocup* por",
            "se preocup*",
            "cuidad*",
            "me acompan*",
            "acompanad*",
            "humano",
            "humanidad",
            "un encanto",
            "carino*",
            "dedicacion",
            "empatia",
            "empatic*",
            "con calma",
            "se tomo el tiempo",
            "me ayudo",
            "me ayudaron",
            "servicial*",
        ],
    ),
    (
        Emotion::CaredFor,
        "en",
        &[
            "caring",
            "cared",
            "care of",
            "took care",
            "looked after",
            "kind",
            "kindness",
            "patient",
            "patience",
            "attentive",
            "empath*",
            "compassion*",
            "took the time",
            "went above and beyond",
            "above and beyond",
            "helpful",
            "thoughtful",
        ],
    ),
    (Emotion::Pleased, "es", &["gracias", "agradec*", "agradecid*", "mil gracias", "muchas gracias", "eternamente"]),
    (Emotion::Pleased, "en", &["thank*", "grateful", "gratitude", "appreciate", "cheers", "thx"]),
    (Emotion::Happy, "es", &["feliz", "felices", "alegr*", "encantad*", "me encanto", "me encanta", "ilusion*"]),
    (Emotion::Happy, "en", &["happy", "love", "loved", "delighted", "thrilled", "joy*", "overjoyed", "glad"]),
    (
        Emotion::Safe,
        "es",
        &["segur*", "tranquil*", "protegid*", "a salvo", "sin preocupaciones", "respaldad*", "en buenas manos"],
    ),
    (
        Emotion::Safe,
        "en",
        &["safe", "secure", "peace of mind", "reassur*", "protected", "in good hands", "at ease", "relieved"],
    ),
    (
        Emotion::Hurried,
        "es",
        &[
            "prisa*",
            "apurad*",
            "me apuraron",
            "me metieron prisa",
            "con prisas",
            "a las carreras",
            "atropellad*",
            "me presionaron",
            "presion*",
            "sin tiempo para",
            "no me dejaron terminar",
        ],
    ),
    (
        Emotion::Hurried,
        "en",
        &["rushed", "hurried", "in a hurry", "rush*", "pressured", "pressure", "pushy", "hard sell", "cut me off"],
    ),
    (
        Emotion::Frustrated,
        "es",
        &[
            "frustra*",
            "harto",
            "harta",
            "hartos",
            "cansad*",
            "otra vez",
            "de nuevo",
            "una vez mas",
            "sigo esperando",
            "sigo sin",
            "sigue sin",
            "llevo",
            "tres veces",
            "cinco veces",
            "mil veces",
            "varias veces",
            "no funciona",
            "no sirve",
            "imposible",
            "complicad*",
            "engorros*",
            "largas",
            "me dieron largas",
            "esperando",
            "en espera",
            "perdi el tiempo",
            "perdida de tiempo",
            "ya no se que hacer",
        ],
    ),
    (
        Emotion::Frustrated,
        "en",
        &[
            "frustrat*",
            "fed up",
            "sick of",
            "tired of",
            "again",
            "still waiting",
            "on hold",
            "waste of time",
            "impossible",
            "ridiculous",
            "useless",
            "keeps",
            "every time",
            "three times",
            "multiple times",
            "doesnt work",
            "not working",
            "still not",
            "annoy*",
        ],
    ),
    (
        Emotion::Disappointed,
        "es",
        &[
            "decepci*",
            "decepcionad*",
            "defraud*",
            "esperaba mas",
            "esperaba otra",
            "lastima",
            "una pena",
            "que pena",
            "pena",
            "no es lo que",
            "deja mucho que desear",
            "dejan mucho que desear",
            "ya no es",
            "antes era",
            "empeor*",
            "cada vez peor",
            "mediocre*",
            "triste*",
        ],
    ),
    (
        Emotion::Disappointed,
        "en",
        &[
            "disappoint*",
            "let down",
            "expected better",
            "expected more",
            "shame",
            "pity",
            "used to be",
            "not what",
            "mediocre",
            "sad",
            "underwhelm*",
            "worse",
        ],
    ),
    (
        Emotion::Neglected,
        "es",
        &[
            "nadie",
            "ignor*",
            "abandon*",
            "olvidad*",
            "no me llamaron",
            "nunca me llamaron",
            "nadie me llamo",
            "no contestan",
            "no responden",
            "sin respuesta",
            "ni caso",
            "no me hacen caso",
            "no dan la cara",
            "nadie da la cara",
            "dar la cara",
            "me colgaron",
            "ni un vaso",
        ],
    ),
    (
        Emotion::Neglected,
        "en",
        &[
            "nobody",
            "no one",
            "ignored",
            "ignoring",
            "ignore",
            "abandoned",
            "forgotten",
            "never called",
            "no response",
            "no reply",
            "no answer",
            "hung up",
            "left us",
            "left me",
            "don't care",
            "dont care",
            "doesnt care",
        ],
    ),
    (
        Emotion::Stressed,
        "es",
        &[
            "estres*",
            "angusti*",
            "preocupad*",
            "preocupa",
            "ansied*",
            "nervios*",
            "desesper*",
            "urgente*",
            "urgencia",
            "miedo",
            "susto",
            "agobi*",
            "no puedo pagar",
            "sin luz",
            "sin agua",
            "mis hijos",
            "fiebre",
            "emergencia",
        ],
    ),
    (
        Emotion::Stressed,
        "en",
        &[
            "stress*",
            "anxious",
            "anxiety",
            "worried",
            "worry",
            "panic*",
            "urgent*",
            "desperate",
            "scared",
            "afraid",
            "nervous",
            "overwhelm*",
            "emergency",
            "couldnt pay",
            "stranded",
        ],
    ),
    (
        Emotion::Angry,
        "es",
        &[
            "furios*",
            "indignad*",
            "indignacion",
            "indignante",
            "enojad*",
            "enfadad*",
            "rabia",
            "verguenza",
            "una verguenza",
            "estafa*",
            "ladron*",
            "robo",
            "exijo",
            "inaceptable*",
            "inadmisible*",
            "denuncia*",
            "sancionen",
            "abuso",
            "abusiv*",
            "tomadura de pelo",
            "una burla",
            "burla*",
            "asco",
            "mierda",
        ],
    ),
    (
        Emotion::Angry,
        "en",
        &[
            "angry",
            "furious",
            "outrage*",
            "livid",
            "disgust*",
            "disgrace*",
            "scam",
            "scammers",
            "thieves",
            "rip off",
            "ripoff",
            "unacceptable",
            "demand",
            "shameful",
            "pissed",
            "wtf",
            "hate",
            "worst",
        ],
    ),
];

/// The default emotion detector: cue phrases and sentiment-based inference.
pub struct LexiconEmotions {
    es: PhraseMatcher<Emotion>,
    en: PhraseMatcher<Emotion>,
    /// Minimum confidence reported.
    pub threshold: f32,
}

impl std::fmt::Debug for LexiconEmotions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexiconEmotions").field("es_cues", &self.es.len()).field("en_cues", &self.en.len()).finish()
    }
}

impl Default for LexiconEmotions {
    fn default() -> Self {
        Self::new()
    }
}

impl LexiconEmotions {
    /// Builds the cue matchers.
    pub fn new() -> Self {
        let mut es = PhraseMatcher::new();
        let mut en = PhraseMatcher::new();
        for (e, lang, cues) in CUES {
            for c in *cues {
                if *lang == "es" {
                    es.add(c, *e);
                } else {
                    en.add(c, *e);
                }
            }
        }
        LexiconEmotions { es, en, threshold: 0.4 }
    }
}

impl EmotionDetector for LexiconEmotions {
    fn info(&self) -> AnalyzerInfo {
        AnalyzerInfo::new("lexicon-emotions", "2")
    }

    fn detect(&self, doc: &Doc, sentiment: &SentimentResult) -> Vec<EmotionResult> {
        let norms: Vec<&str> = doc.tokens.iter().map(|t| t.norm.as_str()).collect();
        let mut hits = [0u32; Emotion::ALL.len()];
        let mut scan = |m: &PhraseMatcher<Emotion>| {
            for pm in m.find_all(&norms) {
                hits[*pm.value as usize] += 1;
            }
        };
        match doc.lang {
            Lang::Es => scan(&self.es),
            Lang::En => scan(&self.en),
            _ => {
                scan(&self.es);
                scan(&self.en);
            }
        }
        let polar = sentiment.score.abs();
        let caps_or_bangs = doc.tokens.iter().filter(|t| t.caps).count() >= 2
            || doc.tokens.iter().filter(|t| t.norm == "!").count() >= 3;
        if sentiment.label == SentimentLabel::Negative && caps_or_bangs {
            hits[Emotion::Angry as usize] += 1;
        }
        let mut out = Vec::new();
        for e in Emotion::ALL {
            let h = hits[e as usize];
            if h == 0 {
                continue;
            }
            // Drop emotions that contradict a confident sentiment ("no fue nada frustrante").
            let agrees = match sentiment.label {
                SentimentLabel::Positive => e.is_positive(),
                SentimentLabel::Negative => !e.is_positive(),
                SentimentLabel::Neutral => true,
            };
            if !agrees && polar > 0.3 {
                continue;
            }
            let mut c = 1.0 - 0.5f32.powi(h as i32);
            c *= if agrees { 0.7 + 0.3 * polar } else { 0.6 };
            if c >= self.threshold {
                out.push(EmotionResult { emotion: e, confidence: c.min(0.99), analyzer: self.info() });
            }
        }
        // A clearly polar comment naming no feeling gets the most generic one of its side.
        if out.is_empty() && polar >= 0.5 {
            let e = if sentiment.label == SentimentLabel::Positive {
                Emotion::Pleased
            } else if sentiment.label == SentimentLabel::Negative {
                Emotion::Disappointed
            } else {
                return out;
            };
            out.push(EmotionResult { emotion: e, confidence: 0.4 + 0.2 * polar, analyzer: self.info() });
        }
        out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        out
    }
}

/// NEV over a set of comments, with the survey formula of `escucha-core`: per comment
/// `100 × (positive − negative) / (positive + negative)` over its emotions, averaged over the
/// comments that have any. `None` when none has.
pub fn net_emotional_value<'a, I>(comments: I) -> Option<f64>
where
    I: IntoIterator<Item = &'a [EmotionResult]>,
{
    let (mut n, mut sum) = (0usize, 0f64);
    for c in comments {
        let pos = c.iter().filter(|e| e.emotion.is_positive()).count() as f64;
        let neg = c.len() as f64 - pos;
        if pos + neg > 0.0 {
            n += 1;
            sum += 100.0 * (pos - neg) / (pos + neg);
        }
    }
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentiment::{LexiconSentiment, SentimentAnalyzer};

    fn emotions(text: &str, lang: Lang) -> Vec<Emotion> {
        let doc = Doc::new(text, lang);
        let s = LexiconSentiment::new().sentiment(&doc);
        LexiconEmotions::new().detect(&doc, &s).into_iter().map(|e| e.emotion).collect()
    }

    #[test]
    fn detects_typical_feelings() {
        assert!(emotions("Llevo tres semanas esperando y nadie me llama", Lang::Es).contains(&Emotion::Neglected));
        assert!(emotions("Muchas gracias, muy amables y atentos", Lang::Es).contains(&Emotion::Pleased));
        assert!(emotions("Es una vergüenza, exijo una solución ya", Lang::Es).contains(&Emotion::Angry));
        assert!(emotions("I was on hold again for an hour, so frustrating", Lang::En).contains(&Emotion::Frustrated));
        assert!(emotions("hola", Lang::Es).is_empty());
    }

    #[test]
    fn nev_formula() {
        let info = AnalyzerInfo::new("t", "1");
        let p = [EmotionResult { emotion: Emotion::Pleased, confidence: 0.9, analyzer: info }];
        let n = [EmotionResult { emotion: Emotion::Angry, confidence: 0.9, analyzer: info }];
        let none: [EmotionResult; 0] = [];
        let set: Vec<&[EmotionResult]> = vec![&p, &p, &n, &none];
        // Comments with emotions: +100, +100, −100 (the one with none is left out).
        assert!((net_emotional_value(set).unwrap() - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(net_emotional_value(Vec::<&[EmotionResult]>::new()), None);
    }
}
