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
use crate::text::{PhraseMatcher, normalise_pattern};
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

/// Cue phrases per emotion and language (`"es"`, `"en"`, or `"any"`: matched in both).
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
            "asi da gusto",
            "da gusto",
            "asi si",
            "asi si pe",
            "sin quejas",
            "nada que objetar",
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
            "cant fault",
            "spot on",
            "no complaints",
            "sorted",
            "top notch",
            "well done",
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
            "nunca me han fallado",
            "nunca fallan",
            "nunca me fallan",
            "tal como me dijeron",
            "tal como dijeron",
            "como prometieron",
            "lo que prometieron",
            "en el plazo",
            "sin letra pequena",
            "sin sorpresas",
            "palabra",
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
            "never once",
            "never let me down",
            "never let us down",
            "as promised",
            "no surprises",
            "exactly what it says",
            "straight with me",
            "straight with us",
            "kept their word",
            "as quoted",
            "within the timeframe",
            "no small print",
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
            "me reconocieron",
            "por mi nombre",
            "por ser cliente",
            "cliente antiguo",
            "clientes antiguos",
            "se acuerdan",
            "se acordaba",
            "me felicitaron",
            "mi cumpleanos",
            "me hicieron pasar",
            "de toda la vida",
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
            "my name",
            "remembered my",
            "long standing",
            "longstanding",
            "loyal customer",
            "as a customer",
            "thank you card",
            "thank you card",
            "my birthday",
            "dedicated manager",
            "like a person",
            "treated me like",
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
            "para ver como estaba",
            "para ver como iba",
            "ver como estaba",
            "como iba",
            "me tranquiliz*",
            "nos tranquiliz*",
            "alivio",
            "sin que tuviera que pedir",
            "sin que lo pidiera",
            "sin que yo lo pidiera",
            "se ocuparon",
            "se encargaron de todo",
            "paso a paso",
            "me llamaron para preguntar",
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
            "check how",
            "checked in",
            "checking in",
            "to see how",
            "step by step",
            "gently",
            "handled everything",
            "walked me through",
            "walked through",
            "no judgement",
            "no judgment",
            "sorted everything",
            "made sure",
        ],
    ),
    (Emotion::Pleased, "es", &["gracias", "agradec*", "agradecid*", "mil gracias", "muchas gracias", "eternamente"]),
    (Emotion::Pleased, "en", &["thank*", "grateful", "gratitude", "appreciate", "cheers"]),
    (
        Emotion::Happy,
        "es",
        &[
            "feliz",
            "felices",
            "alegr*",
            "encantad*",
            "me encanto",
            "me encanta",
            "ilusion*",
            "detallazo",
            "la amo",
            "lo amo",
            "me alegro el dia",
            "emocionad*",
            "de lujo",
            "barbaro",
            "me hizo el dia",
            "contentisim*",
        ],
    ),
    (
        Emotion::Happy,
        "en",
        &[
            "happy",
            "love",
            "loved",
            "delighted",
            "thrilled",
            "joy*",
            "overjoyed",
            "glad",
            "over the moon",
            "made my day",
            "best ever",
            "cant wait",
            "ecstatic",
        ],
    ),
    (
        Emotion::Safe,
        "es",
        &[
            "segur*",
            "tranquil*",
            "protegid*",
            "a salvo",
            "sin preocupaciones",
            "respaldad*",
            "en buenas manos",
            "sin peligro",
            "me siento segur*",
            "proteccion",
            "protegen",
        ],
    ),
    (
        Emotion::Safe,
        "en",
        &[
            "safe",
            "secure",
            "peace of mind",
            "reassur*",
            "protected",
            "in good hands",
            "at ease",
            "relieved",
            "felt safe",
            "feel safe",
            "no danger",
            "protect*",
            "safely",
        ],
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
            "firme aqui",
            "firmara ya",
            "firmar ya",
            "en ese momento",
            "ni leer",
            "sin leer",
            "no me dejo leer",
            "no me dejaron leer",
            "se acaba la promo",
            "solo por hoy",
            "hoy mismo",
            "en el acto",
            "me insisti*",
            "insistio",
            "insistieron",
            "para decidir",
            "ni chance",
            "antes de que cierre",
            "vence hoy",
            "vencia en",
        ],
    ),
    (
        Emotion::Hurried,
        "en",
        &[
            "rushed",
            "hurried",
            "in a hurry",
            "rush*",
            "pressured",
            "pressure",
            "pushy",
            "hard sell",
            "cut me off",
            "only good today",
            "today only",
            "on the spot",
            "before id read",
            "before i read",
            "before i understood",
            "no time to",
            "sign now",
            "expires at midnight",
            "expires today",
            "kept pushing",
            "pushed me",
            "hung up on me so",
            "no time",
        ],
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
            "cada vez",
            "vuelta a empezar",
            "de un lado a otro",
            "me mandan de",
            "me pasan de",
            "por cuarta vez",
            "por tercera vez",
            "dos veces",
            "cuatro veces",
            "mamera",
            "no hay forma",
            "ni forma",
            "el mismo documento",
            "repetir",
            "repitiendo",
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
            "from scratch",
            "round in circles",
            "going round",
            "runaround",
            "run around",
            "fourth",
            "third time",
            "yet again",
            "chase",
            "chasing",
            "start over",
            "repeat myself",
            "four different",
            "five times",
            "twice",
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
            "esperaba",
            "pense que eran",
            "mucha promesa",
            "no es lo mismo",
            "no vale lo que",
            "para lo que cuesta",
            "para lo que pague",
            "no cumple",
            "no cumplio",
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
            "expected",
            "not impressed",
            "meh",
            "gutted",
            "for the price",
            "still treated like",
            "regret",
            "not worth",
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
            "nadie me",
            "sin avisar",
            "nadie aviso",
            "ni un mensaje",
            "ni un aviso",
            "no acudio",
            "no vino",
            "no se presento",
            "sin noticias",
            "sin novedades",
            "ni siquiera",
            "no me devuelven",
            "nadie me devuelve",
            "me devuelva la llamada",
            "devuelto la llamada",
            "estamos a",
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
            "dont care",
            "doesnt care",
            "no update",
            "nobody even",
            "no one even",
            "never showed",
            "didnt show",
            "no show",
            "not a word",
            "heard nothing",
            "no callback",
            "never heard back",
            "nobody has called",
            "no one has called",
            "still open",
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
            "no pego ojo",
            "no puedo dormir",
            "no voy a poder ni dormir",
            "que voy a hacer",
            "no se que hacer",
            "de los nervios",
            "en vilo",
            "panico",
            "me da miedo",
            "acorralad*",
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
            "cant sleep",
            "terrified",
            "losing sleep",
            "dont know what",
            "freaking out",
            "cornered",
            "on edge",
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
            "vergonzos*",
            "ridicul*",
            "que manera de",
            "una broma",
            "de risa",
            "es un chiste",
            "nunca mas",
            "no hay derecho",
            "caradura*",
            "sinverguenza*",
            "indignant*",
            "pesim*",
            "no hay palabras",
            "harta de",
            "harto de",
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
            "a joke",
            "outrageous",
            "appalling",
            "never again",
            "how dare",
            "unbelievable",
            "absurd",
            "utterly fed up",
            "terrible",
            "awful",
            "your system",
        ],
    ),
    // Emojis, read in any language.
    (Emotion::Happy, "any", &["😍", "🥹", "😀", "😁", "🙌", "🎉"]),
    (Emotion::Stressed, "any", &["😰", "😱", "😟"]),
    (Emotion::Angry, "any", &["😡", "🤬", "😤", "🙃", "🙄"]),
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
                // Emojis are their own token; words are normalised like text.
                let pattern =
                    if c.chars().any(char::is_alphanumeric) { normalise_pattern(c) } else { Some(c.to_string()) };
                let Some(pattern) = pattern else { continue };
                if *lang != "en" {
                    es.add(&pattern, *e);
                }
                if *lang != "es" {
                    en.add(&pattern, *e);
                }
            }
        }
        LexiconEmotions { es, en, threshold: 0.35 }
    }
}

impl EmotionDetector for LexiconEmotions {
    fn info(&self) -> AnalyzerInfo {
        AnalyzerInfo::new("lexicon-emotions", "3")
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
    nev_of_counts(comments.into_iter().map(|c| {
        let pos = c.iter().filter(|e| e.emotion.is_positive()).count();
        (pos, c.len() - pos)
    }))
}

/// [`net_emotional_value`] from each comment's (positive, negative) emotion counts.
pub fn nev_of_counts<I>(comments: I) -> Option<f64>
where
    I: IntoIterator<Item = (usize, usize)>,
{
    let (mut n, mut sum) = (0usize, 0f64);
    for (pos, neg) in comments {
        if pos + neg > 0 {
            n += 1;
            sum += 100.0 * (pos as f64 - neg as f64) / (pos + neg) as f64;
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

    /// Every cue can match: written as the tokenizer normalises text (folded accents, no
    /// apostrophes or hyphens inside a term), or it would silently never fire.
    #[test]
    fn every_cue_is_written_as_the_tokenizer_normalises() {
        let mut unreachable = Vec::new();
        for (_, _, cues) in CUES {
            for cue in *cues {
                let terms: Vec<&str> = cue.split(' ').filter(|w| !w.is_empty()).collect();
                let literal: Vec<String> = terms.iter().map(|t| t.trim_end_matches('*').to_string()).collect();
                let norms: Vec<String> =
                    crate::text::tokenize(&literal.join(" ")).into_iter().map(|t| t.norm).collect();
                if norms != literal {
                    unreachable.push(format!("{cue:?} → {norms:?}"));
                }
            }
        }
        assert!(unreachable.is_empty(), "cues the tokenizer never produces: {unreachable:#?}");
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
