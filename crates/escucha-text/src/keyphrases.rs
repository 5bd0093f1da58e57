//! Key phrases of one comment, and emerging topics over a batch of comments.
//!
//! Key phrases are RAKE-style (Rose et al., 2010): candidate phrases are runs of up to three
//! content words between stop words and punctuation; a word scores its degree over its
//! frequency and a phrase the sum of its words. Personal data never becomes a key phrase.
//!
//! Emerging topics cluster comments that fit no topic: each comment becomes a TF-IDF vector of
//! word stems ([`emerging_topics`], no model) or its sentence embedding
//! ([`emerging_topics_embedded`], the model route: paraphrases and the other language join);
//! a leader clustering (two passes, cosine similarity) groups them; clusters smaller than
//! `min_size` are dropped; each cluster is named by the phrases most shared by its members.

use crate::lang::{HeuristicLanguageIdentifier, LanguageIdentifier};
use crate::text::{Token, TokenKind};
use crate::{AnalyzerInfo, Doc, Lang};
use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;
use std::collections::HashMap;

const STOPWORDS: &[&str] = &[
    // Spanish
    "a", "al", "algo", "algun", "alguna", "algunas", "alguno", "algunos", "ante", "antes", "aqui", "asi", "aun",
    "aunque", "bien", "cada", "como", "con", "contra", "cual", "cuando", "de", "del", "desde", "donde", "dos",
    "durante", "e", "el", "ella", "ellas", "ellos", "en", "entre", "era", "eran", "es", "esa", "esas", "ese", "eso",
    "esos", "esta", "estaba", "estado", "estan", "estar", "estas", "este", "esto", "estos", "estoy", "fue", "fueron",
    "ha", "habia", "han", "hasta", "hay", "he", "hemos", "la", "las", "le", "les", "lo", "los", "mas", "me", "mi",
    "mis", "mucho", "muy", "nada", "ni", "no", "nos", "o", "otra", "otro", "para", "pero", "poco", "por", "porque",
    "que", "se", "sea", "ser", "si", "sin", "sobre", "solo", "son", "su", "sus", "tambien", "tan", "te", "tengo",
    "tiene", "todo", "todos", "tu", "tus", "u", "un", "una", "uno", "unos", "y", "ya", "yo", "hace", "hola", "buenas",
    "buenos", "dias", "tardes", "noches", "gracias", "favor", "usted", "ustedes", "vez", "veces", "q", "pues", "les",
    "nuestro", "nuestra", "sido", "tenia", "tener", "hacer", "puede", "pueden", "cuenta", "dice", "dicen", "decir",
    "ahora", "luego", "despues", "siempre", "nunca", "ningun", "ninguna", "nadie", "mismo", "misma", "estuvo", "fui",
    "voy", "van", "vamos", "quiero", // English
    "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been",
    "before", "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "get", "got", "had",
    "has", "have", "having", "her", "here", "hers", "him", "his", "how", "i", "if", "im", "in", "into", "is", "it",
    "its", "just", "my", "of", "off", "on", "once", "only", "or", "our", "out", "over", "own", "so", "some", "such",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "up",
    "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "would",
    "you", "your", "dont", "didnt", "not", "no", "still", "thanks", "thank", "please", "hi", "hello", "ive", "youre",
    "cant", "wont", "isnt", "me", "us", "she", "he", "one", "even", "way", "now", "should", "been", "more", "much",
    "really",
];

/// True for Spanish and English function words (folded).
pub fn is_stopword(w: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| STOPWORDS.iter().copied().collect()).contains(w)
}

/// A key phrase of a comment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyPhrase {
    /// The phrase as written (lowercased).
    pub text: String,
    /// RAKE score, normalised to [0, 1] within the comment.
    pub score: f32,
}

/// Extracts key phrases from a comment.
pub trait KeyPhraseExtractor: Send + Sync {
    /// Name and version of this analyser.
    fn info(&self) -> AnalyzerInfo;
    /// Up to `max` key phrases of a prepared document, best first.
    fn extract(&self, doc: &Doc, max: usize) -> Vec<KeyPhrase>;
}

/// The default extractor (RAKE over stop words of both languages).
#[derive(Debug, Clone, Default)]
pub struct StatKeyPhrases;

fn content(doc: &Doc, i: usize) -> bool {
    let t: &Token = &doc.tokens[i];
    t.kind == TokenKind::Word && t.norm.chars().count() >= 3 && !is_stopword(&t.norm) && !doc.is_pii(i)
}

/// Candidate phrases: runs (max 3 words) of content words, as token index ranges.
fn candidates(doc: &Doc) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = doc.tokens.len();
    while i < n {
        if content(doc, i) {
            let s = i;
            while i < n && content(doc, i) && i - s < 3 {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

impl KeyPhraseExtractor for StatKeyPhrases {
    fn info(&self) -> AnalyzerInfo {
        AnalyzerInfo::new("rake-keyphrases", "1")
    }

    fn extract(&self, doc: &Doc, max: usize) -> Vec<KeyPhrase> {
        let cands = candidates(doc);
        // word → (frequency, degree); comments are short, a linear table beats hashing
        let mut table: Vec<(&str, f32, f32)> = Vec::new();
        for &(s, e) in &cands {
            for t in &doc.tokens[s..e] {
                match table.iter_mut().find(|x| x.0 == t.norm) {
                    Some(x) => {
                        x.1 += 1.0;
                        x.2 += (e - s) as f32;
                    }
                    None => table.push((t.norm.as_str(), 1.0, (e - s) as f32)),
                }
            }
        }
        let mut scored: Vec<(usize, usize, f32)> = Vec::with_capacity(cands.len());
        for &(s, e) in &cands {
            let dup = scored.iter().any(|&(a, b, _)| {
                b - a == e - s && (0..e - s).all(|k| doc.tokens[a + k].norm == doc.tokens[s + k].norm)
            });
            if dup {
                continue;
            }
            let score: f32 =
                doc.tokens[s..e].iter().map(|t| table.iter().find(|x| x.0 == t.norm).map_or(0.0, |x| x.2 / x.1)).sum();
            scored.push((s, e, score));
        }
        scored.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        let top = scored.first().map_or(1.0, |s| s.2.max(1e-6));
        scored
            .into_iter()
            .take(max)
            .map(|(s, e, score)| KeyPhrase {
                text: doc.text[doc.tokens[s].start..doc.tokens[e - 1].end].to_lowercase(),
                score: score / top,
            })
            .collect()
    }
}

/// A cluster of comments that fit no known topic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergingTopic {
    /// A name built from the cluster's top key phrases.
    pub label: String,
    /// The phrases most shared by its members, best first.
    pub key_phrases: Vec<String>,
    /// Indices (into the input) of the comments in the cluster.
    pub members: Vec<usize>,
}

/// Options for [`emerging_topics`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmergingOptions {
    /// Smallest cluster reported.
    pub min_size: usize,
    /// Cosine similarity to a cluster centroid needed to join it.
    pub similarity: f32,
    /// Key phrases kept per cluster.
    pub max_phrases: usize,
}

impl Default for EmergingOptions {
    fn default() -> Self {
        EmergingOptions { min_size: 3, similarity: 0.25, max_phrases: 3 }
    }
}

impl EmergingOptions {
    /// Defaults for [`emerging_topics_embedded`]: similarity [`EMBEDDED_SIMILARITY`].
    pub fn embedded() -> Self {
        EmergingOptions { similarity: EMBEDDED_SIMILARITY, ..Self::default() }
    }
}

type Sparse = Vec<(u32, f32)>;

fn dot(a: &Sparse, b: &HashMap<u32, f32>) -> f32 {
    a.iter().filter_map(|(k, x)| b.get(k).map(|y| x * y)).sum()
}

/// Clusters `texts` (comments that fit no topic) by the TF-IDF vectors of their word stems and
/// names each cluster; largest first. Works without the model, within one language at a time
/// (stems do not cross languages); see [`emerging_topics_embedded`] for the model's vectors.
pub fn emerging_topics(texts: &[&str], options: &EmergingOptions) -> Vec<EmergingTopic> {
    let prepared = Prepared::new(texts);
    let assign = leader_clusters(&prepared.tfidf_vectors(), options.similarity);
    prepared.name_clusters(&assign, options)
}

/// Default similarity for clustering sentence embeddings (cosine to a cluster's centre),
/// chosen on the team-written corpus by `examples/emerging_eval.rs` (see `bench/text/MODEL.md`,
/// "Emerging topics").
pub const EMBEDDED_SIMILARITY: f32 = 0.45;

/// Like [`emerging_topics`], but clusters by the sentence embeddings of the texts (one unit
/// vector per text, in order, e.g. from the model route's encoder), so comments that say the
/// same thing in other words, or in the other language, fall together; clusters are still
/// named by their shared key phrases. Use `options.similarity` around
/// [`EMBEDDED_SIMILARITY`] (cosine similarities of embeddings run higher than TF-IDF ones).
pub fn emerging_topics_embedded(
    texts: &[&str],
    embeddings: &[[f32; crate::model::DIM]],
    options: &EmergingOptions,
) -> Vec<EmergingTopic> {
    assert_eq!(texts.len(), embeddings.len(), "one embedding per text");
    let prepared = Prepared::new(texts);
    let vecs: Vec<Vec<f32>> = embeddings
        .iter()
        .zip(&prepared.docs_terms)
        .map(|(e, terms)| if terms.is_empty() { Vec::new() } else { e.to_vec() })
        .collect();
    let assign = leader_clusters(&vecs, options.similarity);
    prepared.name_clusters(&assign, options)
}

/// Per text: content-word stems, key phrases, and the surface forms of each stem.
struct Prepared {
    docs_terms: Vec<Vec<u32>>,
    docs_phrases: Vec<Vec<String>>,
    surface: HashMap<u32, HashMap<String, usize>>,
}

impl Prepared {
    fn new(texts: &[&str]) -> Prepared {
        let lid = HeuristicLanguageIdentifier::new();
        let es = Stemmer::create(Algorithm::Spanish);
        let en = Stemmer::create(Algorithm::English);
        let redactor = crate::redact::RuleRedactor::new();
        use crate::redact::Redactor;
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let mut surface: HashMap<u32, HashMap<String, usize>> = HashMap::new();
        let mut docs_terms: Vec<Vec<u32>> = Vec::with_capacity(texts.len());
        let mut docs_phrases: Vec<Vec<String>> = Vec::with_capacity(texts.len());
        for text in texts {
            let text = crate::truncate_at_char_boundary(text, crate::MAX_TEXT_BYTES);
            let mut doc = Doc::new(text, Lang::Unknown);
            doc.lang = lid.identify(text, &doc.tokens).primary;
            doc.pii = redactor.redact(text).spans.iter().map(|s| (s.start, s.end)).collect();
            let stemmer = if doc.lang == Lang::En { &en } else { &es };
            let mut terms = Vec::new();
            for (i, t) in doc.tokens.iter().enumerate() {
                if content(&doc, i) {
                    let st = stemmer.stem(&t.norm).into_owned();
                    let n = vocab.len() as u32;
                    let id = *vocab.entry(st).or_insert(n);
                    *surface.entry(id).or_default().entry(t.norm.clone()).or_default() += 1;
                    terms.push(id);
                }
            }
            terms.sort_unstable();
            terms.dedup();
            docs_terms.push(terms);
            let phrases = StatKeyPhrases.extract(&doc, 8).into_iter().map(|k| k.text).collect();
            docs_phrases.push(phrases);
        }
        Prepared { docs_terms, docs_phrases, surface }
    }

    /// Unit TF-IDF vectors over the stems seen in at least two texts.
    fn tfidf_vectors(&self) -> Vec<Sparse> {
        let n = self.docs_terms.len().max(1) as f32;
        let mut df: HashMap<u32, f32> = HashMap::new();
        for d in &self.docs_terms {
            for t in d {
                *df.entry(*t).or_default() += 1.0;
            }
        }
        self.docs_terms
            .iter()
            .map(|d| {
                let mut v: Sparse = d
                    .iter()
                    .filter(|t| df[t] >= 2.0) // a stem seen once cannot link comments
                    .map(|t| (*t, (n / df[t]).ln() + 1.0))
                    .collect();
                let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|(_, x)| *x /= norm.max(1e-6));
                v
            })
            .collect()
    }

    /// The clusters of `assign` with at least `min_size` members, named; largest first.
    fn name_clusters(&self, assign: &[Option<usize>], options: &EmergingOptions) -> Vec<EmergingTopic> {
        let mut clusters: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, a) in assign.iter().enumerate() {
            if let Some(c) = a {
                clusters.entry(*c).or_default().push(i);
            }
        }
        let mut out: Vec<EmergingTopic> = clusters
            .into_values()
            .filter(|m| m.len() >= options.min_size.max(2))
            .map(|members| {
                let key_phrases = self.cluster_phrases(&members, options.max_phrases);
                EmergingTopic { label: key_phrases.join(" / "), key_phrases, members }
            })
            .collect();
        out.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.label.cmp(&b.label)));
        out
    }

    /// Phrases shared by most members, then the most common stems' surface words.
    fn cluster_phrases(&self, members: &[usize], max_phrases: usize) -> Vec<String> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for &m in members {
            for p in &self.docs_phrases[m] {
                *counts.entry(p.as_str()).or_default() += 1;
            }
        }
        let mut phrases: Vec<(&str, usize)> = counts.into_iter().filter(|(_, c)| *c >= 2).collect();
        phrases.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut key_phrases: Vec<String> = phrases.iter().take(max_phrases).map(|(p, _)| p.to_string()).collect();
        if key_phrases.len() < max_phrases {
            let mut stems: HashMap<u32, usize> = HashMap::new();
            for &m in members {
                for t in &self.docs_terms[m] {
                    *stems.entry(*t).or_default() += 1;
                }
            }
            let mut stems: Vec<(u32, usize)> = stems.into_iter().filter(|(_, c)| *c >= 2).collect();
            stems.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            for (id, _) in stems {
                if key_phrases.len() >= max_phrases {
                    break;
                }
                let word = self.surface[&id]
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(w, _)| w.clone())
                    .unwrap_or_default();
                if !key_phrases.iter().any(|p| p.contains(&word)) {
                    key_phrases.push(word);
                }
            }
        }
        key_phrases
    }
}

/// A vector the leader clustering can compare with a cluster's centre and sum into one.
trait ClusterVector {
    /// A cluster's centre (and the running sum it is normalised from).
    type Centre: Clone + Default;
    /// A text without usable content, never clustered.
    fn is_blank(&self) -> bool;
    /// Cosine similarity to a unit centre.
    fn similarity(&self, centre: &Self::Centre) -> f32;
    /// Adds this vector to a running sum.
    fn add_to(&self, sum: &mut Self::Centre);
    /// The unit vector of a sum, `None` when the sum is zero.
    fn normalise(sum: &Self::Centre) -> Option<Self::Centre>;
}

impl ClusterVector for Sparse {
    type Centre = HashMap<u32, f32>;
    fn is_blank(&self) -> bool {
        self.is_empty()
    }
    fn similarity(&self, centre: &Self::Centre) -> f32 {
        dot(self, centre)
    }
    fn add_to(&self, sum: &mut Self::Centre) {
        for (k, x) in self {
            *sum.entry(*k).or_default() += x;
        }
    }
    fn normalise(sum: &Self::Centre) -> Option<Self::Centre> {
        let norm = sum.values().map(|x| x * x).sum::<f32>().sqrt();
        (norm > 0.0).then(|| sum.iter().map(|(k, x)| (*k, x / norm)).collect())
    }
}

impl ClusterVector for Vec<f32> {
    type Centre = Vec<f32>;
    fn is_blank(&self) -> bool {
        self.is_empty()
    }
    fn similarity(&self, centre: &Self::Centre) -> f32 {
        self.iter().zip(centre).map(|(x, y)| x * y).sum()
    }
    fn add_to(&self, sum: &mut Self::Centre) {
        if sum.is_empty() {
            sum.resize(self.len(), 0.0);
        }
        sum.iter_mut().zip(self).for_each(|(s, x)| *s += x);
    }
    fn normalise(sum: &Self::Centre) -> Option<Self::Centre> {
        let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
        (norm > 0.0).then(|| sum.iter().map(|x| x / norm).collect())
    }
}

/// Leader clustering over unit vectors, in two passes: the first opens a cluster for each
/// vector that no centre reaches `similarity` with (updating centres as members join), the
/// second assigns every vector to its nearest final centre, or to none below `similarity`.
/// Blank vectors stay unassigned. (Merging close centres between the passes was tried and
/// lowered the corpus criterion of `examples/emerging_eval.rs`; see MODEL.md.)
fn leader_clusters<V: ClusterVector>(vecs: &[V], similarity: f32) -> Vec<Option<usize>> {
    let mut centroids: Vec<V::Centre> = Vec::new();
    let mut sums: Vec<V::Centre> = Vec::new();
    for v in vecs.iter().filter(|v| !v.is_blank()) {
        let best =
            centroids.iter().enumerate().map(|(c, cen)| (c, v.similarity(cen))).max_by(|a, b| a.1.total_cmp(&b.1));
        let c = match best {
            Some((c, s)) if s >= similarity => c,
            _ => {
                centroids.push(V::Centre::default());
                sums.push(V::Centre::default());
                centroids.len() - 1
            }
        };
        v.add_to(&mut sums[c]);
        // update the leader incrementally so later comments see the cluster's centre
        if let Some(n) = V::normalise(&sums[c]) {
            centroids[c] = n;
        }
    }
    vecs.iter()
        .map(|v| {
            if v.is_blank() {
                return None;
            }
            centroids
                .iter()
                .enumerate()
                .map(|(c, cen)| (c, v.similarity(cen)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .filter(|(_, s)| *s >= similarity)
                .map(|(c, _)| c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_phrases_skip_stopwords_and_pii() {
        let mut doc = Doc::new("El cobro doble de la tarjeta, llamen a Juan Pérez", Lang::Es);
        let start = doc.text.find("Juan").unwrap();
        doc.pii = vec![(start, doc.text.len())];
        let k: Vec<String> = StatKeyPhrases.extract(&doc, 5).into_iter().map(|k| k.text).collect();
        assert!(k.contains(&"cobro doble".to_string()), "{k:?}");
        assert!(!k.iter().any(|p| p.contains("juan")), "{k:?}");
    }

    #[test]
    fn embedded_clustering_follows_the_vectors_not_the_words() {
        // Two directions; the words differ inside each group, and one text is blank.
        let unit = |k: usize, noise: f32| {
            let mut v = [0f32; crate::model::DIM];
            v[k] = 1.0;
            v[k + 1] = noise;
            let n = (1.0 + noise * noise).sqrt();
            v.iter_mut().for_each(|x| *x /= n);
            v
        };
        let texts = [
            "no hay donde estacionar",
            "the car park is always full",
            "imposible aparcar el sábado",
            "music in the store is far too loud",
            "la música de la tienda a todo volumen",
            "demasiado ruido en el local",
            "   ",
        ];
        let vecs =
            [unit(0, 0.1), unit(0, 0.2), unit(0, 0.0), unit(10, 0.1), unit(10, 0.0), unit(10, 0.2), unit(20, 0.0)];
        let t = emerging_topics_embedded(&texts, &vecs, &EmergingOptions::embedded());
        assert_eq!(t.len(), 2, "{t:?}");
        let mut groups: Vec<Vec<usize>> = t.iter().map(|c| c.members.clone()).collect();
        groups.sort();
        assert_eq!(groups, vec![vec![0, 1, 2], vec![3, 4, 5]]);
    }

    #[test]
    fn emerging_topics_group_similar_comments() {
        let texts = [
            "el estacionamiento del local siempre está lleno",
            "no hay lugar en el estacionamiento los sábados",
            "estacionamiento lleno otra vez, imposible aparcar",
            "the parking lot is always full",
            "parking lot full again on saturday",
            "parking was full, had to leave",
            "hola",
        ];
        let t = emerging_topics(&texts, &EmergingOptions::default());
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t.iter().any(|c| c.label.contains("estacionamiento")));
        assert!(t.iter().any(|c| c.label.contains("parking")));
    }
}
