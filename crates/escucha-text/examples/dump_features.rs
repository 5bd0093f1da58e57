//! Development tool: writes, per labelled row of ../shared/data/text, the model's sentiment
//! probabilities and topic similarities beside the lexicon engine's results, as JSON lines, so
//! blends and thresholds can be studied offline (see bench/text/MODEL.md for what may be
//! chosen on which set: never on en_airline_tweets).
//!
//! Run: `ESCUCHA_MODEL_DIR=… cargo run --release -p escucha-text --example dump_features > feats.jsonl`

use escucha_text::eval::{data_dir, load_jsonl};
use escucha_text::model::{Encoder, ModelSentiment, ModelTopics, default_prototypes};
use escucha_text::{Lang, Pipeline};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("ESCUCHA_MODEL_DIR").expect("set ESCUCHA_MODEL_DIR"));
    let data = data_dir().expect("data folder");
    let enc = Encoder::load(&dir).expect("model");
    let mut head = ModelSentiment::builtin().expect("head");
    head.neutral_offset = 0.0;
    let topics = ModelTopics::new(&enc, &default_prototypes());
    let p = Pipeline::fallback();
    // EMBEDDINGS=path also writes every row's 512 floats (little-endian f32), in output order.
    let mut emb_out = std::env::var_os("EMBEDDINGS")
        .map(|p| std::io::BufWriter::new(std::fs::File::create(p).expect("embeddings file")));
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let sets = [
        "en_airline_tweets",
        "en_vader_tweets",
        "en_vader_movie_reviews",
        "en_vader_nyt_editorials",
        "es_evomsa_tweets",
        "es_cx_dev",
        // Unlabelled for sentiment (label = language): lexicon coverage per language.
        "lid_es_en_fortunes",
    ];
    // The team-written training corpus (bench/text/train/*.jsonl), one set per file.
    let train_files = escucha_text::eval::training_corpus_files();
    // EXTRA_SETS="name=path;name=path" adds labelled sets from outside ../shared/data/text
    // (e.g. bench/text/vader_amazon.py's output).
    let mut inputs: Vec<(String, PathBuf)> =
        sets.iter().map(|s| (s.to_string(), data.join(format!("{s}.jsonl")))).collect();
    for f in train_files {
        let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        inputs.push((stem, f));
    }
    for pair in std::env::var("EXTRA_SETS").unwrap_or_default().split(';').filter(|p| !p.is_empty()) {
        let (name, path) = pair.split_once('=').expect("EXTRA_SETS entries are name=path");
        inputs.push((name.to_string(), PathBuf::from(path)));
    }
    eprintln!("topic ids (rule and sim order): {:?} / {:?}", escucha_text::topics::DEFAULT_TOPIC_IDS, topics.ids());
    for (set, path) in &inputs {
        let set = set.as_str();
        let rows = load_jsonl(path).expect("set");
        let texts: Vec<&str> = rows.iter().map(|r| r["text"].as_str().unwrap_or("")).collect();
        let vecs = enc.embed(&texts);
        for ((r, t), v) in rows.iter().zip(&texts).zip(&vecs) {
            if let Some(f) = emb_out.as_mut() {
                for x in v {
                    let _ = f.write_all(&x.to_le_bytes());
                }
            }
            let forced = if set == "en_airline_tweets" { Some(Lang::En) } else { None };
            let a = p.analyze(t, forced);
            let rule: Vec<f32> = escucha_text::topics::DEFAULT_TOPIC_IDS
                .iter()
                .map(|id| a.topics.iter().find(|x| x.id == *id).map_or(0.0, |x| x.confidence))
                .collect();
            let line = json!({
                "set": set,
                "lang": r["lang"],
                "gold": r["sentiment"].as_str().or(r["label"].as_str()),
                "topic": r["topic"],
                "topics": r["topics"],
                "p": head.probabilities(v),
                "lex": a.sentiment.score,
                "lexl": a.sentiment.label.as_str(),
                "lexpos": a.sentiment.positive_evidence,
                "lexneg": a.sentiment.negative_evidence,
                "rule": rule,
                "sim": topics.similarities(v),
                "q": t.contains('?'),
                "n": t.split_whitespace().count(),
                "text": if set == "en_airline_tweets" { Value::Null } else { json!(t) },
                "industry": r["industry"],
            });
            let _ = writeln!(out, "{line}");
        }
    }
}
