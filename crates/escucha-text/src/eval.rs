//! Evaluation: metrics and the labelled data sets, shared by the `text_eval` bench and the tests
//! so both measure exactly the same thing.
//!
//! Data lives in `../shared/data/text/` relative to the workspace root (override with
//! `ESCUCHA_TEXT_DATA`); see that folder's README for the sets and their licences.
//! `en_airline_tweets` is CC BY-NC-SA and used **for evaluation only**: nothing shipped is
//! trained or tuned on it.

use crate::emotions::{Emotion, nev_of_counts};
use crate::pipeline::Pipeline;
use crate::redact::PiiKind;
use crate::sentiment::SentimentLabel;
use crate::{Lang, Redactor};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The sentiment sets evaluated (file stem, language).
pub const SENTIMENT_SETS: &[(&str, &str)] = &[
    ("en_airline_tweets", "en"),
    ("en_vader_tweets", "en"),
    ("en_vader_movie_reviews", "en"),
    ("en_vader_nyt_editorials", "en"),
    ("es_evomsa_tweets", "es"),
    ("es_cx_dev", "es"),
    ("es_cx_dev", "en"),
];

/// The folder of labelled text, if present.
pub fn data_dir() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("ESCUCHA_TEXT_DATA") {
        let p = PathBuf::from(p);
        return p.is_dir().then_some(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = root.join("../shared/data/text");
    p.is_dir().then_some(p)
}

/// The team-written training corpus (`bench/text/train/*.jsonl` in the repository), sorted by
/// name; empty when the folder is absent (an installed crate).
pub fn training_corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/text/train");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "jsonl")).collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The fake-data redaction test set shipped with the crate.
pub fn redaction_set_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/redaction_fake.jsonl")
}

/// Reads a JSON-lines file; lines that are not JSON objects are skipped.
pub fn load_jsonl(path: &Path) -> std::io::Result<Vec<Value>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(Value::is_object).collect())
}

/// A confusion matrix over string labels (rows: gold, columns: predicted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Confusion {
    /// Labels, in display order.
    pub labels: Vec<String>,
    /// Counts: `m[gold][pred]`.
    pub m: Vec<Vec<usize>>,
}

impl Confusion {
    /// An empty matrix over `labels`.
    pub fn new(labels: &[&str]) -> Self {
        Confusion {
            labels: labels.iter().map(|s| s.to_string()).collect(),
            m: vec![vec![0; labels.len()]; labels.len()],
        }
    }

    fn index(&mut self, l: &str) -> usize {
        match self.labels.iter().position(|x| x == l) {
            Some(i) => i,
            None => {
                self.labels.push(l.to_string());
                for row in &mut self.m {
                    row.push(0);
                }
                self.m.push(vec![0; self.labels.len()]);
                self.labels.len() - 1
            }
        }
    }

    /// Counts one (gold, predicted) pair.
    pub fn add(&mut self, gold: &str, pred: &str) {
        let g = self.index(gold);
        let p = self.index(pred);
        self.m[g][p] += 1;
    }

    /// Number of pairs.
    pub fn total(&self) -> usize {
        self.m.iter().flatten().sum()
    }

    /// Share of correct predictions.
    pub fn accuracy(&self) -> f64 {
        let t = self.total();
        if t == 0 {
            return 0.0;
        }
        (0..self.labels.len()).map(|i| self.m[i][i]).sum::<usize>() as f64 / t as f64
    }

    /// F1 of one class.
    pub fn f1(&self, i: usize) -> f64 {
        let tp = self.m[i][i] as f64;
        let pred: usize = self.m.iter().map(|r| r[i]).sum();
        let gold: usize = self.m[i].iter().sum();
        if tp == 0.0 {
            return 0.0;
        }
        let p = tp / pred as f64;
        let r = tp / gold as f64;
        2.0 * p * r / (p + r)
    }

    /// Mean F1 over the classes that occur in the gold labels.
    pub fn macro_f1(&self) -> f64 {
        let classes: Vec<usize> = (0..self.labels.len()).filter(|&i| self.m[i].iter().sum::<usize>() > 0).collect();
        if classes.is_empty() {
            return 0.0;
        }
        classes.iter().map(|&i| self.f1(i)).sum::<f64>() / classes.len() as f64
    }

    /// A Markdown table (rows gold, columns predicted).
    pub fn to_markdown(&self) -> String {
        let mut s = String::from("| gold \\ predicted |");
        for l in &self.labels {
            let _ = write!(s, " {l} |");
        }
        s.push_str("\n|---|");
        for _ in &self.labels {
            s.push_str("---:|");
        }
        for (i, l) in self.labels.iter().enumerate() {
            let _ = write!(s, "\n| {l} |");
            for c in &self.m[i] {
                let _ = write!(s, " {c} |");
            }
        }
        s.push('\n');
        s
    }
}

/// Area under the ROC curve of scores for positives against negatives (ties count half).
pub fn auc(pos: &[f32], neg: &[f32]) -> f64 {
    if pos.is_empty() || neg.is_empty() {
        return 0.5;
    }
    let mut all: Vec<(f32, bool)> = pos.iter().map(|s| (*s, true)).chain(neg.iter().map(|s| (*s, false))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann–Whitney U with average ranks for ties.
    let mut rank_sum = 0f64;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += all[i..=j].iter().filter(|x| x.1).count() as f64 * avg;
        i = j + 1;
    }
    let np = pos.len() as f64;
    let nn = neg.len() as f64;
    (rank_sum - np * (np + 1.0) / 2.0) / (np * nn)
}

/// Our topic id for an airline complaint reason (`None`: not mapped, e.g. "Can't Tell").
pub fn airline_topic(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "Customer Service Issue" | "Flight Attendant Complaints" => "staff",
        "Late Flight" | "long lines" => "wait_time",
        "Cancelled Flight" | "Bad Flight" => "product_quality",
        "Lost Luggage" | "Damaged Luggage" => "delivery",
        "Flight Booking Problems" => "digital",
        _ => return None,
    })
}

/// Sentiment figures for one set and language.
#[derive(Debug, Clone, PartialEq)]
pub struct SentimentEval {
    /// Set name.
    pub set: String,
    /// Language of the rows evaluated.
    pub lang: String,
    /// Rows evaluated.
    pub n: usize,
    /// Confusion matrix.
    pub confusion: Confusion,
    /// Positive-vs-negative AUC of the score.
    pub auc: f64,
}

/// A fixed pseudo-random sort key for row `i` (SplitMix64 of the index): sorting rows by it
/// gives a reproducible shuffle, for splitting an evaluation set into "an organisation's
/// labelled examples" and the rest.
pub fn shuffle_key(i: usize) -> u64 {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Evaluates sentiment on a set (rows with `label` or `sentiment`), with the given language
/// forced or detected.
pub fn eval_sentiment(
    pipeline: &Pipeline,
    set: &str,
    lang: &str,
    rows: &[Value],
    detect_language: bool,
) -> SentimentEval {
    let mut confusion = Confusion::new(&["negative", "neutral", "positive"]);
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    let forced = if detect_language { None } else { Some(Lang::from_code(lang)) };
    let mut items = Vec::new();
    for r in rows {
        if r["lang"].as_str().is_some_and(|l| l != lang) {
            continue;
        }
        let gold = r["sentiment"].as_str().or(r["label"].as_str()).and_then(SentimentLabel::parse);
        let (Some(gold), Some(text)) = (gold, r["text"].as_str()) else {
            continue;
        };
        items.push((gold, text));
    }
    let n = items.len();
    for (gold, a) in batched(pipeline, items, forced) {
        confusion.add(gold.as_str(), a.sentiment.label.as_str());
        match gold {
            SentimentLabel::Positive => pos.push(a.sentiment.score),
            SentimentLabel::Negative => neg.push(a.sentiment.score),
            SentimentLabel::Neutral => {}
        }
    }
    SentimentEval { set: set.into(), lang: lang.into(), n, confusion, auc: auc(&pos, &neg) }
}

/// Analyses `(label, text)` items in batches (so the model route embeds many texts at once),
/// returning each label with its analysis.
fn batched<T>(pipeline: &Pipeline, items: Vec<(T, &str)>, lang: Option<Lang>) -> Vec<(T, crate::Analysis)> {
    let mut out = Vec::with_capacity(items.len());
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let chunk: Vec<(T, &str)> = items.by_ref().take(512).collect();
        let texts: Vec<&str> = chunk.iter().map(|(_, t)| *t).collect();
        let analyses = pipeline.analyze_batch(&texts, lang);
        out.extend(chunk.into_iter().map(|(g, _)| g).zip(analyses));
    }
    out
}

/// Precision, recall and gold count of the `mixed` flag against rows with `mixed: true`
/// (es_cx_dev marks the lines with mixed feelings).
pub fn eval_mixed(pipeline: &Pipeline, rows: &[Value]) -> (f64, f64, usize) {
    let (mut tp, mut fp, mut gold_n) = (0usize, 0usize, 0usize);
    for r in rows {
        let Some(text) = r["text"].as_str() else {
            continue;
        };
        let gold = r["mixed"].as_bool().unwrap_or(false);
        let pred = pipeline.analyze(text, None).sentiment.mixed;
        gold_n += gold as usize;
        match (gold, pred) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            _ => {}
        }
    }
    let p = if tp + fp == 0 { 0.0 } else { tp as f64 / (tp + fp) as f64 };
    let r = if gold_n == 0 { 0.0 } else { tp as f64 / gold_n as f64 };
    (p, r, gold_n)
}

/// Language-identification accuracy over rows with a `lang`/`label` of `es` or `en`.
pub fn eval_language(pipeline: &Pipeline, rows: &[Value], gold_field: &str) -> (usize, f64) {
    let mut n = 0;
    let mut ok = 0;
    for r in rows {
        let (Some(gold), Some(text)) = (r[gold_field].as_str(), r["text"].as_str()) else {
            continue;
        };
        n += 1;
        let doc = crate::Doc::new(text, Lang::Unknown);
        let got = pipeline.language.identify(text, &doc.tokens);
        if got.primary.code() == gold {
            ok += 1;
        }
    }
    (n, if n == 0 { 0.0 } else { ok as f64 / n as f64 })
}

/// Multi-label topic figures: per-label F1 and their mean.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicEval {
    /// Rows evaluated.
    pub n: usize,
    /// F1 per topic id.
    pub f1: BTreeMap<String, f64>,
    /// Mean of `f1`.
    pub macro_f1: f64,
    /// For single-label sets: share of rows whose best topic is the gold one.
    pub accuracy: Option<f64>,
    /// For single-label sets: confusion of gold against best predicted topic (or `none`).
    pub confusion: Option<Confusion>,
}

fn f1_of(tp: usize, fp: usize, fn_: usize) -> f64 {
    if tp == 0 {
        return 0.0;
    }
    let p = tp as f64 / (tp + fp) as f64;
    let r = tp as f64 / (tp + fn_) as f64;
    2.0 * p * r / (p + r)
}

/// Multi-label evaluation on es_cx_dev-style rows (`topics` arrays of our ids).
pub fn eval_topics_multilabel(pipeline: &Pipeline, rows: &[Value]) -> TopicEval {
    let ids = crate::topics::DEFAULT_TOPIC_IDS;
    let mut counts = vec![(0usize, 0usize, 0usize); ids.len()];
    let mut items = Vec::new();
    for r in rows {
        let (Some(text), Some(gold)) = (r["text"].as_str(), r["topics"].as_array()) else {
            continue;
        };
        items.push((gold.iter().filter_map(Value::as_str).collect::<Vec<&str>>(), text));
    }
    let n = items.len();
    for (gold, a) in batched(pipeline, items, None) {
        for (i, id) in ids.iter().enumerate() {
            let g = gold.contains(id);
            let p = a.topics.iter().any(|t| t.id == *id);
            match (g, p) {
                (true, true) => counts[i].0 += 1,
                (false, true) => counts[i].1 += 1,
                (true, false) => counts[i].2 += 1,
                _ => {}
            }
        }
    }
    let f1: BTreeMap<String, f64> =
        ids.iter().zip(&counts).map(|(id, c)| (id.to_string(), f1_of(c.0, c.1, c.2))).collect();
    let macro_f1 = f1.values().sum::<f64>() / f1.len() as f64;
    TopicEval { n, f1, macro_f1, accuracy: None, confusion: None }
}

/// The team-written emotion sets (`bench/text/emotions/cx_emotions_<part><n>.jsonl` in the
/// repository) of one part, `"a"` (development: cues may be edited while reading its errors) or
/// `"b"` (held out: only measured), sorted by name; empty when the folder is absent.
pub fn emotion_set_files(part: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/text/emotions");
    let prefix = format!("cx_emotions_{part}");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "jsonl")
                        && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// All rows of one part of the emotion sets ([`emotion_set_files`]); empty when absent.
pub fn emotion_rows(part: &str) -> std::io::Result<Vec<Value>> {
    let mut rows = Vec::new();
    for f in emotion_set_files(part) {
        rows.extend(load_jsonl(&f).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", f.display())))?);
    }
    Ok(rows)
}

/// Emotion figures on rows labelled with `emotions` (ids of the NEV catalogue, possibly none).
#[derive(Debug, Clone, PartialEq)]
pub struct EmotionEval {
    /// Rows evaluated.
    pub n: usize,
    /// Per emotion id: (true positives, false positives, false negatives).
    pub counts: BTreeMap<String, (usize, usize, usize)>,
    /// Mean F1 over the emotions that occur in the gold labels.
    pub macro_f1: f64,
    /// F1 over all (row, emotion) decisions pooled.
    pub micro_f1: f64,
    /// Rows without any gold emotion that got none detected, over rows without any gold emotion.
    pub none_accuracy: f64,
    /// Rows with gold emotions of one polarity only (all positive or all negative) whose detected
    /// emotions are non-empty and all of that polarity, over those rows.
    pub polarity_accuracy: f64,
    /// Net Emotional Value of the set from the gold labels and from the detected emotions (the
    /// figure a dashboard would show), with the survey formula.
    pub nev_gold: Option<f64>,
    /// See `nev_gold`.
    pub nev_detected: Option<f64>,
}

impl EmotionEval {
    /// F1 of one emotion id (0 when it never occurs and is never predicted).
    pub fn f1(&self, id: &str) -> f64 {
        self.counts.get(id).map_or(0.0, |&(tp, fp, fn_)| f1_of(tp, fp, fn_))
    }
}

/// Scores detected emotions against gold ones: `items` pairs each row's gold ids with the ids
/// detected on it. Pure, so the figures can be checked by hand.
pub fn score_emotions(items: &[(Vec<Emotion>, Vec<Emotion>)]) -> EmotionEval {
    let mut counts: BTreeMap<String, (usize, usize, usize)> =
        Emotion::ALL.iter().map(|e| (e.id().to_string(), (0, 0, 0))).collect();
    let (mut none_rows, mut none_ok, mut polar_rows, mut polar_ok) = (0usize, 0usize, 0usize, 0usize);
    for (gold, pred) in items {
        for e in Emotion::ALL {
            let c = counts.get_mut(e.id()).expect("every id");
            match (gold.contains(&e), pred.contains(&e)) {
                (true, true) => c.0 += 1,
                (false, true) => c.1 += 1,
                (true, false) => c.2 += 1,
                _ => {}
            }
        }
        if gold.is_empty() {
            none_rows += 1;
            none_ok += usize::from(pred.is_empty());
        } else if gold.iter().all(|e| e.is_positive()) || gold.iter().all(|e| !e.is_positive()) {
            polar_rows += 1;
            let positive = gold[0].is_positive();
            polar_ok += usize::from(!pred.is_empty() && pred.iter().all(|e| e.is_positive() == positive));
        }
    }
    let occurring: Vec<f64> =
        counts.values().filter(|c| c.0 + c.2 > 0).map(|&(tp, fp, fn_)| f1_of(tp, fp, fn_)).collect();
    let pooled = counts.values().fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
    let ratio = |ok: usize, n: usize| if n == 0 { 0.0 } else { ok as f64 / n as f64 };
    let counts_of = |set: &Vec<Emotion>| {
        let pos = set.iter().filter(|e| e.is_positive()).count();
        (pos, set.len() - pos)
    };
    EmotionEval {
        n: items.len(),
        macro_f1: if occurring.is_empty() { 0.0 } else { occurring.iter().sum::<f64>() / occurring.len() as f64 },
        micro_f1: f1_of(pooled.0, pooled.1, pooled.2),
        counts,
        none_accuracy: ratio(none_ok, none_rows),
        polarity_accuracy: ratio(polar_ok, polar_rows),
        nev_gold: nev_of_counts(items.iter().map(|i| counts_of(&i.0))),
        nev_detected: nev_of_counts(items.iter().map(|i| counts_of(&i.1))),
    }
}

/// Runs the pipeline over rows with `text` and `emotions` (ids; unknown ids are an error in the
/// set, reported by row number) and scores what it detects with [`score_emotions`].
pub fn eval_emotions(pipeline: &Pipeline, rows: &[Value]) -> Result<EmotionEval, String> {
    let mut items = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (Some(text), Some(gold)) = (r["text"].as_str(), r["emotions"].as_array()) else {
            return Err(format!("row {}: needs text and emotions", i + 1));
        };
        let gold = gold
            .iter()
            .map(|g| g.as_str().and_then(Emotion::parse).ok_or_else(|| format!("row {}: unknown emotion {g}", i + 1)))
            .collect::<Result<Vec<Emotion>, String>>()?;
        items.push((gold, text));
    }
    let scored: Vec<(Vec<Emotion>, Vec<Emotion>)> = batched(pipeline, items, None)
        .into_iter()
        .map(|(gold, a)| (gold, a.emotions.iter().map(|e| e.emotion).collect()))
        .collect();
    Ok(score_emotions(&scored))
}

/// A markdown table of [`eval_emotions`] on parts of the team-written emotion sets (`"a"`:
/// development, `"b"`: held out, `"c"`: training), or a line saying they are absent; errors in
/// a set are reported in the table's place.
pub fn emotion_report(pipeline: &Pipeline, parts: &[&str]) -> String {
    let mut out = String::from(
        "| part | rows | macro-F1 | micro-F1 | no-emotion rows right | one-polarity rows right | NEV gold / detected |\n\
         |---|---:|---:|---:|---:|---:|---|\n",
    );
    let mut per_emotion = String::new();
    for &part in parts {
        let name = match part {
            "a" => "a (development)",
            "b" => "b (held out)",
            "c" => "c (training)",
            other => other,
        };
        let rows = match emotion_rows(part) {
            Ok(rows) if rows.is_empty() => return "emotion sets not found (bench/text/emotions/)\n".into(),
            Ok(rows) => rows,
            Err(e) => return format!("part {part}: {e}\n"),
        };
        let e = match eval_emotions(pipeline, &rows) {
            Ok(e) => e,
            Err(msg) => return format!("part {part}: {msg}\n"),
        };
        let nev = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:+.1}"));
        let _ = writeln!(
            out,
            "| {name} | {} | **{:.3}** | {:.3} | {:.3} | {:.3} | {} / {} |",
            e.n,
            e.macro_f1,
            e.micro_f1,
            e.none_accuracy,
            e.polarity_accuracy,
            nev(e.nev_gold),
            nev(e.nev_detected)
        );
        let _ = writeln!(
            per_emotion,
            "- part {part}, F1 per emotion (tp/fp/fn): {}",
            e.counts
                .iter()
                .map(|(id, &(tp, fp, fn_))| format!("{id} {:.2} ({tp}/{fp}/{fn_})", f1_of(tp, fp, fn_)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out + "\n" + &per_emotion
}

/// Single-label evaluation on the airline complaint reasons mapped with [`airline_topic`]:
/// the prediction is the most confident of the mapped ids, or `none`.
pub fn eval_topics_airline(pipeline: &Pipeline, rows: &[Value]) -> TopicEval {
    let targets = ["staff", "wait_time", "product_quality", "delivery", "digital"];
    let mut confusion = Confusion::new(&["staff", "wait_time", "product_quality", "delivery", "digital", "none"]);
    let mut items = Vec::new();
    for r in rows {
        let (Some(text), Some(reason)) = (r["text"].as_str(), r["topic"].as_str()) else {
            continue;
        };
        if let Some(gold) = airline_topic(reason) {
            items.push((gold, text));
        }
    }
    for (gold, a) in batched(pipeline, items, Some(Lang::En)) {
        let pred = a.topics.iter().find(|t| targets.contains(&t.id.as_str())).map_or("none", |t| t.id.as_str());
        confusion.add(gold, pred);
    }
    let f1: BTreeMap<String, f64> = targets
        .iter()
        .map(|t| {
            let i = confusion.labels.iter().position(|l| l == t).unwrap_or(0);
            (t.to_string(), confusion.f1(i))
        })
        .collect();
    let macro_f1 = f1.values().sum::<f64>() / f1.len() as f64;
    TopicEval { n: confusion.total(), f1, macro_f1, accuracy: Some(confusion.accuracy()), confusion: Some(confusion) }
}

/// Redaction precision and recall (span overlap of at least half of the shorter span).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RedactionEval {
    /// Rows evaluated.
    pub rows: usize,
    /// Gold items.
    pub gold: usize,
    /// Gold items found.
    pub found: usize,
    /// Spans predicted.
    pub predicted: usize,
    /// Predicted spans matching a gold item.
    pub correct: usize,
    /// Per kind of predicted span: (predicted, correct).
    pub by_kind: BTreeMap<String, (usize, usize)>,
    /// Gold items missed (for inspection; the test set is fake data).
    pub missed: Vec<String>,
    /// Predicted spans matching nothing.
    pub spurious: Vec<String>,
}

impl RedactionEval {
    /// Share of predicted spans that are personal data.
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 { 1.0 } else { self.correct as f64 / self.predicted as f64 }
    }
    /// Share of personal data found.
    pub fn recall(&self) -> f64 {
        if self.gold == 0 { 1.0 } else { self.found as f64 / self.gold as f64 }
    }
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    let inter = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let shorter = (a.1 - a.0).min(b.1 - b.0).max(1);
    inter * 2 >= shorter
}

/// Evaluates redaction over rows with `text` and `pii` (literal substrings).
pub fn eval_redaction(redactor: &dyn Redactor, rows: &[Value], keep_examples: bool) -> RedactionEval {
    let mut e = RedactionEval::default();
    for r in rows {
        let (Some(text), Some(pii)) = (r["text"].as_str(), r["pii"].as_array()) else {
            continue;
        };
        e.rows += 1;
        let mut gold: Vec<(usize, usize)> = Vec::new();
        for p in pii.iter().filter_map(Value::as_str) {
            if let Some(s) = text.find(p) {
                gold.push((s, s + p.len()));
            }
        }
        let red = redactor.redact(text);
        e.gold += gold.len();
        for g in &gold {
            if red.spans.iter().any(|s| overlaps(*g, (s.start, s.end))) {
                e.found += 1;
            } else if keep_examples {
                e.missed.push(text[g.0..g.1].to_string());
            }
        }
        for s in &red.spans {
            e.predicted += 1;
            let ok = gold.iter().any(|g| overlaps(*g, (s.start, s.end)));
            let kind =
                serde_json::to_value(s.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let k = e.by_kind.entry(kind).or_default();
            k.0 += 1;
            if ok {
                e.correct += 1;
                k.1 += 1;
            } else if keep_examples {
                e.spurious.push(format!("{:?}: {}", s.kind, &text[s.start..s.end]));
            }
        }
    }
    e
}

/// Kinds in a stable order (for reports).
pub fn pii_kinds() -> [PiiKind; 7] {
    [PiiKind::Email, PiiKind::Phone, PiiKind::NationalId, PiiKind::Card, PiiKind::Iban, PiiKind::Address, PiiKind::Name]
}

/// Peak resident memory of this process in KiB (Linux), if known.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four rows scored by hand (P = pleased, A = angry, F = frustrated):
    /// 1. gold [P], detected [P]: P tp; polar row, right.
    /// 2. gold [A, F], detected [A]: A tp, F fn; polar row, right.
    /// 3. gold [], detected [F]: F fp; none row, wrong.
    /// 4. gold [], detected []: none row, right.
    ///
    /// P: F1 1; A: F1 1; F: tp 0, F1 0; macro over the three gold emotions = 2/3. Pooled: tp 2,
    /// fp 1, fn 1, so P = R = 2/3 and micro-F1 2/3. NEV gold: +100, −100 → 0; detected: +100,
    /// −100, −100 → −100/3.
    #[test]
    fn emotion_scores_by_hand() {
        use Emotion::{Angry as A, Frustrated as F, Pleased as P};
        let items = vec![(vec![P], vec![P]), (vec![A, F], vec![A]), (vec![], vec![F]), (vec![], vec![])];
        let e = score_emotions(&items);
        assert_eq!(e.n, 4);
        assert_eq!(e.counts["pleased"], (1, 0, 0));
        assert_eq!(e.counts["angry"], (1, 0, 0));
        assert_eq!(e.counts["frustrated"], (0, 1, 1));
        assert!((e.macro_f1 - 2.0 / 3.0).abs() < 1e-12, "{}", e.macro_f1);
        assert!((e.micro_f1 - 2.0 / 3.0).abs() < 1e-12, "{}", e.micro_f1);
        assert_eq!((e.none_accuracy, e.polarity_accuracy), (0.5, 1.0));
        assert_eq!(e.nev_gold, Some(0.0));
        assert!((e.nev_detected.unwrap() + 100.0 / 3.0).abs() < 1e-12);
        assert_eq!(e.f1("pleased"), 1.0);
        // A mixed gold row (one positive, one negative) counts for neither polarity figure.
        let mixed = score_emotions(&[(vec![P, A], vec![A])]);
        assert_eq!(mixed.polarity_accuracy, 0.0);
        assert_eq!((mixed.nev_gold, mixed.nev_detected), (Some(0.0), Some(-100.0)));
    }

    #[test]
    fn confusion_metrics_hand_checked() {
        let mut c = Confusion::new(&["a", "b"]);
        for (g, p) in [("a", "a"), ("a", "a"), ("a", "b"), ("b", "b")] {
            c.add(g, p);
        }
        assert_eq!(c.total(), 4);
        assert!((c.accuracy() - 0.75).abs() < 1e-9);
        // a: p=1, r=2/3 → f1=0.8; b: p=0.5, r=1 → f1=2/3
        assert!((c.macro_f1() - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn auc_hand_checked() {
        assert!((auc(&[0.9, 0.8], &[0.1, 0.2]) - 1.0).abs() < 1e-9);
        assert!((auc(&[0.1], &[0.9]) - 0.0).abs() < 1e-9);
        assert!((auc(&[0.5], &[0.5]) - 0.5).abs() < 1e-9);
        assert!((auc(&[0.9, 0.3], &[0.5]) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn airline_reasons_map_to_our_ids() {
        assert_eq!(airline_topic("Late Flight"), Some("wait_time"));
        assert_eq!(airline_topic("Can't Tell"), None);
    }
}
