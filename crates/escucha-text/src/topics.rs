//! Topics: a customer-experience taxonomy held as data, and a multi-label classifier over it.
//!
//! A [`Taxonomy`] is JSON: topics with an `id`, names and descriptions per language, weighted
//! `terms` per language (phrases of folded words, `*` for prefixes, `:0.6` for a weight other
//! than 1), co-occurrence `rules`, and `examples`. Language keys `es` and `en` apply to texts in
//! that language (both for mixed or unknown texts); any other key (`pt`, `any`…) always applies.
//! The default taxonomy has exactly the nine ids of [`DEFAULT_TOPIC_IDS`]; an organisation file
//! is merged on top ([`Taxonomy::merge`]): new ids add topics, existing ids extend them
//! (`data/example_org_taxonomy.json` is a worked example).
//!
//! The classifier sums the weights of the terms and rules found for each topic, adds a few-shot
//! bonus for similarity to the topic's examples (taxonomy examples plus those taught with
//! [`TopicClassifier::learn`]), and turns the sum into a confidence `1 − e^(−score)`.

use crate::text::{PhraseMatcher, TokenKind, fold, normalise_pattern};
use crate::{AnalyzerInfo, Doc, Lang, TextError};
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The ids of the default taxonomy, in order.
pub const DEFAULT_TOPIC_IDS: [&str; 9] =
    ["billing", "price", "wait_time", "staff", "resolution", "product_quality", "delivery", "digital", "communication"];

/// A co-occurrence rule: every term must appear in the text (anywhere).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicRule {
    /// Language the rule applies to (`es`, `en`, other codes: always); none: always.
    #[serde(default)]
    pub lang: Option<String>,
    /// Terms (folded words, `*` for prefixes) that must all be present.
    pub all: Vec<String>,
    /// Score added when the rule fires.
    #[serde(default = "one")]
    pub weight: f32,
}

fn one() -> f32 {
    1.0
}

/// One topic of a taxonomy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicDef {
    /// Stable id (snake_case), e.g. `billing`.
    pub id: String,
    /// Display name per language code.
    #[serde(default)]
    pub name: BTreeMap<String, String>,
    /// What the topic covers, per language code.
    #[serde(default)]
    pub description: BTreeMap<String, String>,
    /// Weighted term patterns per language code (`"factura*"`, `"pago:0.5"`).
    #[serde(default)]
    pub terms: BTreeMap<String, Vec<String>>,
    /// Co-occurrence rules.
    #[serde(default)]
    pub rules: Vec<TopicRule>,
    /// Example phrases per language code (used for few-shot similarity).
    #[serde(default)]
    pub examples: BTreeMap<String, Vec<String>>,
}

/// A set of topics, loadable from JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taxonomy {
    /// Taxonomy name.
    #[serde(default)]
    pub name: String,
    /// Taxonomy version (reported with results).
    #[serde(default)]
    pub version: String,
    /// The topics.
    pub topics: Vec<TopicDef>,
}

impl Taxonomy {
    /// The built-in customer-experience taxonomy (ids in [`DEFAULT_TOPIC_IDS`]).
    pub fn default_cx() -> Taxonomy {
        Taxonomy::from_json(include_str!("../data/default_taxonomy.json")).expect("built-in taxonomy is valid")
    }

    /// Parses and validates a taxonomy from JSON.
    pub fn from_json(json: &str) -> Result<Taxonomy, TextError> {
        let t: Taxonomy = serde_json::from_str(json)?;
        t.validate()?;
        Ok(t)
    }

    /// Checks ids are non-empty and unique.
    pub fn validate(&self) -> Result<(), TextError> {
        let mut seen = HashSet::new();
        for t in &self.topics {
            if t.id.trim().is_empty() {
                return Err(TextError::TaxonomyRule("a topic has an empty id".into()));
            }
            if !seen.insert(t.id.as_str()) {
                return Err(TextError::TaxonomyRule(format!("duplicate topic id {:?}", t.id)));
            }
        }
        Ok(())
    }

    /// Merges an organisation's taxonomy: new ids are appended, existing ids are extended
    /// (names/descriptions replaced per language, terms, rules and examples added).
    pub fn merge(&mut self, other: Taxonomy) {
        for o in other.topics {
            if let Some(t) = self.topics.iter_mut().find(|t| t.id == o.id) {
                t.name.extend(o.name);
                t.description.extend(o.description);
                for (k, v) in o.terms {
                    t.terms.entry(k).or_default().extend(v);
                }
                t.rules.extend(o.rules);
                for (k, v) in o.examples {
                    t.examples.entry(k).or_default().extend(v);
                }
            } else {
                self.topics.push(o);
            }
        }
    }

    /// The ids, in order.
    pub fn ids(&self) -> Vec<&str> {
        self.topics.iter().map(|t| t.id.as_str()).collect()
    }
}

/// A topic found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicResult {
    /// Topic id.
    pub id: String,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// Which analyser produced it.
    #[serde(skip)]
    pub analyzer: AnalyzerInfo,
}

/// A text labelled with topics by a person (for few-shot learning).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledExample {
    /// The text.
    pub text: String,
    /// Its language, if known (`es`, `en`).
    #[serde(default)]
    pub lang: Option<String>,
    /// Topic ids that apply (may be empty: a negative example for every topic).
    pub topics: Vec<String>,
}

/// Assigns topics to a text (multi-label).
pub trait TopicClassifier: Send + Sync {
    /// Name and version of this analyser.
    fn info(&self) -> AnalyzerInfo;
    /// Topics found in a prepared document, most confident first.
    fn classify(&self, doc: &Doc) -> Vec<TopicResult>;
    /// Learns from labelled examples; returns how many were used. Unknown topic ids are an error.
    fn learn(&mut self, examples: &[LabelledExample]) -> Result<usize, TextError>;
    /// The taxonomy in use.
    fn taxonomy(&self) -> &Taxonomy;
}

#[derive(Debug, Clone, Copy)]
enum LangKey {
    Es,
    En,
    Always,
}

impl LangKey {
    fn of(code: &str) -> LangKey {
        match code {
            "es" => LangKey::Es,
            "en" => LangKey::En,
            _ => LangKey::Always,
        }
    }
    fn applies(self, lang: Lang) -> bool {
        match self {
            LangKey::Es => lang != Lang::En,
            LangKey::En => lang != Lang::Es,
            LangKey::Always => true,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct TermRef {
    topic: usize,
    weight: f32,
    pattern: usize,
}

type SparseVec = HashMap<String, f32>;

/// The default topic classifier: weighted terms and rules, plus few-shot example similarity.
pub struct RuleTopicClassifier {
    taxonomy: Taxonomy,
    es_terms: PhraseMatcher<TermRef>,
    en_terms: PhraseMatcher<TermRef>,
    any_terms: PhraseMatcher<TermRef>,
    rules: Vec<(LangKey, Vec<String>, usize, f32)>,
    centroids: Vec<SparseVec>,
    sums: Vec<SparseVec>,
    example_counts: Vec<usize>,
    es_stemmer: Stemmer,
    en_stemmer: Stemmer,
    /// Minimum confidence for a topic to be reported.
    pub threshold: f32,
    /// Score added per unit of cosine similarity to a topic's examples.
    pub example_weight: f32,
    patterns: usize,
}

impl std::fmt::Debug for RuleTopicClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleTopicClassifier")
            .field("topics", &self.taxonomy.ids())
            .field("patterns", &self.patterns)
            .field("threshold", &self.threshold)
            .finish()
    }
}

impl Default for RuleTopicClassifier {
    fn default() -> Self {
        Self::new(Taxonomy::default_cx())
    }
}

fn parse_term(s: &str) -> (&str, f32) {
    if let Some((p, w)) = s.rsplit_once(':')
        && let Ok(w) = w.trim().parse::<f32>()
    {
        return (p.trim(), w);
    }
    (s.trim(), 1.0)
}

fn term_matches(term: &str, tok: &str) -> bool {
    match term.strip_suffix('*') {
        Some(p) => tok.starts_with(p),
        None => term == tok,
    }
}

fn norm(v: &mut SparseVec) {
    let n = v.values().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.values_mut().for_each(|x| *x /= n);
    }
}

impl RuleTopicClassifier {
    /// A classifier over `taxonomy`.
    pub fn new(taxonomy: Taxonomy) -> Self {
        let mut c = RuleTopicClassifier {
            es_terms: PhraseMatcher::new(),
            en_terms: PhraseMatcher::new(),
            any_terms: PhraseMatcher::new(),
            rules: Vec::new(),
            centroids: vec![SparseVec::new(); taxonomy.topics.len()],
            sums: vec![SparseVec::new(); taxonomy.topics.len()],
            example_counts: vec![0; taxonomy.topics.len()],
            es_stemmer: Stemmer::create(Algorithm::Spanish),
            en_stemmer: Stemmer::create(Algorithm::English),
            threshold: 0.5,
            example_weight: 1.2,
            patterns: 0,
            taxonomy,
        };
        for (ti, t) in c.taxonomy.topics.iter().enumerate() {
            for (code, terms) in &t.terms {
                let m = match LangKey::of(code) {
                    LangKey::Es => &mut c.es_terms,
                    LangKey::En => &mut c.en_terms,
                    LangKey::Always => &mut c.any_terms,
                };
                for term in terms {
                    let (p, w) = parse_term(term);
                    // Written any way ("can't log in", "log-in", "Log in"), matched like text.
                    let p = normalise_pattern(p).unwrap_or_else(|| fold(p).replace('-', " "));
                    m.add(&p, TermRef { topic: ti, weight: w, pattern: c.patterns });
                    c.patterns += 1;
                }
            }
            for r in &t.rules {
                let key = r.lang.as_deref().map_or(LangKey::Always, LangKey::of);
                let all = r.all.iter().map(|s| fold(s)).collect();
                c.rules.push((key, all, ti, r.weight));
            }
        }
        let mut seeds = Vec::new();
        for t in &c.taxonomy.topics {
            for (code, ex) in &t.examples {
                for e in ex {
                    seeds.push(LabelledExample {
                        text: e.clone(),
                        lang: Some(code.clone()),
                        topics: vec![t.id.clone()],
                    });
                }
            }
        }
        // Examples come from the taxonomy itself, so ids are known.
        let _ = c.learn(&seeds);
        c
    }

    fn stems(&self, doc: &Doc) -> SparseVec {
        let stemmer = if doc.lang == Lang::En { &self.en_stemmer } else { &self.es_stemmer };
        let mut v = SparseVec::new();
        for t in &doc.tokens {
            if t.kind == TokenKind::Word && t.norm.len() >= 3 && !crate::keyphrases::is_stopword(&t.norm) {
                *v.entry(stemmer.stem(&t.norm).into_owned()).or_default() += 1.0;
            }
        }
        norm(&mut v);
        v
    }

    /// Raw scores per topic (before the confidence transform), in taxonomy order.
    pub fn scores(&self, doc: &Doc) -> Vec<f32> {
        let n = self.taxonomy.topics.len();
        let mut scores = vec![0f32; n];
        let norms: Vec<&str> = doc.tokens.iter().map(|t| t.norm.as_str()).collect();
        let mut seen: HashSet<usize> = HashSet::new();
        let matchers: [(&PhraseMatcher<TermRef>, bool); 3] =
            [(&self.es_terms, doc.lang != Lang::En), (&self.en_terms, doc.lang != Lang::Es), (&self.any_terms, true)];
        for (m, on) in matchers {
            if !on || m.is_empty() {
                continue;
            }
            for i in 0..norms.len() {
                if doc.tokens[i].kind != TokenKind::Word && doc.tokens[i].kind != TokenKind::Number {
                    continue;
                }
                m.each_at(&norms, i, |pm| {
                    if seen.insert(pm.value.pattern) {
                        scores[pm.value.topic] += pm.value.weight;
                    }
                });
            }
        }
        for (key, all, ti, w) in &self.rules {
            if key.applies(doc.lang) && all.iter().all(|a| norms.iter().any(|t| term_matches(a, t))) {
                scores[*ti] += w;
            }
        }
        if self.example_counts.iter().any(|c| *c > 0) {
            let v = self.stems(doc);
            if !v.is_empty() {
                for (ti, c) in self.centroids.iter().enumerate() {
                    let sim: f32 = v.iter().filter_map(|(k, x)| c.get(k).map(|y| x * y)).sum();
                    if sim > 0.15 {
                        scores[ti] += self.example_weight * sim;
                    }
                }
            }
        }
        scores
    }
}

impl TopicClassifier for RuleTopicClassifier {
    fn info(&self) -> AnalyzerInfo {
        AnalyzerInfo::new("rule-topics", "1")
    }

    fn classify(&self, doc: &Doc) -> Vec<TopicResult> {
        let info = self.info();
        let mut out: Vec<TopicResult> = self
            .scores(doc)
            .iter()
            .enumerate()
            .map(|(i, s)| (i, 1.0 - (-s).exp()))
            .filter(|(_, c)| *c >= self.threshold)
            .map(|(i, c)| TopicResult { id: self.taxonomy.topics[i].id.clone(), confidence: c, analyzer: info })
            .collect();
        out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        out
    }

    fn learn(&mut self, examples: &[LabelledExample]) -> Result<usize, TextError> {
        let index: HashMap<String, usize> =
            self.taxonomy.topics.iter().enumerate().map(|(i, t)| (t.id.clone(), i)).collect();
        for e in examples {
            for t in &e.topics {
                if !index.contains_key(t) {
                    return Err(TextError::TaxonomyRule(format!("unknown topic id {t:?}")));
                }
            }
        }
        let mut used = 0;
        for e in examples {
            let lang = e.lang.as_deref().map_or(Lang::Es, Lang::from_code);
            let lang = if lang == Lang::Unknown { Lang::Es } else { lang };
            let doc = Doc::new(&e.text, lang);
            let v = self.stems(&doc);
            if v.is_empty() {
                continue;
            }
            used += 1;
            for t in &e.topics {
                let ti = index[t];
                for (k, x) in &v {
                    *self.sums[ti].entry(k.clone()).or_default() += x;
                }
                self.example_counts[ti] += 1;
            }
        }
        // Similarity uses the normalised sum of the examples' unit vectors.
        self.centroids = self.sums.clone();
        for c in self.centroids.iter_mut() {
            norm(c);
        }
        Ok(used)
    }

    fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(text: &str, lang: Lang) -> Vec<String> {
        let c = RuleTopicClassifier::default();
        c.classify(&Doc::new(text, lang)).into_iter().map(|t| t.id).collect()
    }

    #[test]
    fn default_taxonomy_has_exactly_the_nine_ids() {
        assert_eq!(Taxonomy::default_cx().ids(), DEFAULT_TOPIC_IDS.to_vec());
    }

    #[test]
    fn classifies_spanish_and_english() {
        assert!(topics("Me cobraron dos veces la factura", Lang::Es).contains(&"billing".into()));
        assert!(topics("llevo 40 minutos en espera", Lang::Es).contains(&"wait_time".into()));
        assert!(topics("la app no me deja iniciar sesión", Lang::Es).contains(&"digital".into()));
        assert!(topics("The agent was very rude", Lang::En).contains(&"staff".into()));
        assert!(topics("My parcel never arrived", Lang::En).contains(&"delivery".into()));
        assert!(topics("hola", Lang::Es).is_empty());
    }

    #[test]
    fn organisation_file_adds_topics_in_any_language() {
        let mut t = Taxonomy::default_cx();
        let org = Taxonomy::from_json(
            r#"{"topics":[{"id":"parking","name":{"pt":"Estacionamento"},
                "terms":{"pt":["estacionamento"],"es":["estacionamiento","parqueo"]}}]}"#,
        )
        .unwrap();
        t.merge(org);
        let c = RuleTopicClassifier::new(t);
        let r = c.classify(&Doc::new("o estacionamento estava lotado", Lang::Unknown));
        assert_eq!(r[0].id, "parking");
    }

    /// An organisation's terms match however they are written: apostrophes, hyphens, capitals.
    #[test]
    fn organisation_terms_are_matched_like_text() {
        let mut t = Taxonomy::default_cx();
        let org = Taxonomy::from_json(
            r#"{"topics":[{"id":"access","name":{"en":"Access"},
                "terms":{"en":["can't log in","Sign-On"]}}]}"#,
        )
        .unwrap();
        t.merge(org);
        let c = RuleTopicClassifier::new(t);
        for text in ["I can't log in since Monday", "single sign on keeps failing", "CANT LOG IN"] {
            let r = c.classify(&Doc::new(text, Lang::En));
            assert!(r.iter().any(|x| x.id == "access"), "{text}: {r:?}");
        }
    }

    #[test]
    fn example_organisation_file_adds_a_topic_and_extends_billing() {
        let mut t = Taxonomy::default_cx();
        t.merge(Taxonomy::from_json(include_str!("../data/example_org_taxonomy.json")).unwrap());
        assert_eq!(t.topics.len(), 10, "one new topic, billing extended in place");
        let c = RuleTopicClassifier::new(t);
        let ids =
            |text: &str, lang| -> Vec<String> { c.classify(&Doc::new(text, lang)).into_iter().map(|r| r.id).collect() };
        // co-occurrence rule ("lugar" + "auto") and a plain term
        assert!(ids("no había lugar para el auto", Lang::Es).contains(&"parking".to_string()));
        assert!(ids("the car park was closed", Lang::En).contains(&"parking".to_string()));
        assert!(ids("me subieron la cuota de socio", Lang::Es).contains(&"billing".to_string()));
    }

    #[test]
    fn invalid_taxonomies_are_errors() {
        assert!(Taxonomy::from_json("{").is_err());
        assert!(Taxonomy::from_json(r#"{"topics":[{"id":"a"},{"id":"a"}]}"#).is_err());
    }

    #[test]
    fn few_shot_examples_teach_a_new_topic() {
        let mut t = Taxonomy::default_cx();
        t.merge(Taxonomy::from_json(r#"{"topics":[{"id":"pets","name":{"en":"Pets"}}]}"#).unwrap());
        let mut c = RuleTopicClassifier::new(t);
        let doc = Doc::new("they would not let my dog into the cabin", Lang::En);
        assert!(!c.classify(&doc).iter().any(|r| r.id == "pets"));
        let ex = |s: &str| LabelledExample { text: s.into(), lang: Some("en".into()), topics: vec!["pets".into()] };
        let n = c
            .learn(&[
                ex("my dog was not allowed in the cabin"),
                ex("travelling with a dog is a nightmare"),
                ex("the cat carrier rules for the cabin are unclear"),
            ])
            .unwrap();
        assert_eq!(n, 3);
        assert!(c.classify(&doc).iter().any(|r| r.id == "pets"));
        let bad = LabelledExample { text: "x".into(), lang: None, topics: vec!["nope".into()] };
        assert!(c.learn(&[bad]).is_err());
    }
}
