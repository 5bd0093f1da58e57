//! Error analysis of the model-free fallback (`lexicon-v1`) on the team-written development
//! corpus `bench/text/train/cx_train_*.jsonl`:
//!
//! `cargo run --release -p escucha-text --example fallback_errors [-- OPTIONS]`
//!
//! Prints sentiment macro-F1 (and pos/neg AUC, confusion) per language, multi-label topic
//! macro-F1 over the nine default ids with precision and recall per topic, and, on request,
//! the misclassified corpus rows:
//! - `--sentiment`: the sentiment confusions (`--sentiment=es` or `=en` for one language);
//! - `--topic ID`: false negatives and false positives of one topic (`--topic all`: every one).
//!
//! `--dev` also prints the **aggregate** figures of `es_cx_dev` (from `../shared/data/text`),
//! the separately written check set: never its rows, so nothing is tuned on its errors.

use escucha_text::eval::{self, Confusion, load_jsonl};
use escucha_text::topics::DEFAULT_TOPIC_IDS;
use escucha_text::{Analysis, Pipeline};
use serde_json::Value;

struct Row {
    text: String,
    lang: String,
    sentiment: String,
    topics: Vec<String>,
    source: String,
}

fn load_corpus() -> Vec<Row> {
    let files = escucha_text::eval::training_corpus_files();
    assert!(!files.is_empty(), "bench/text/train/*.jsonl not found");
    let mut rows = Vec::new();
    for f in files {
        for v in load_jsonl(&f).expect("corpus file readable") {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            rows.push(Row {
                text: s("text"),
                lang: s("lang"),
                sentiment: s("sentiment"),
                topics: v["topics"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default(),
                source: s("source"),
            });
        }
    }
    rows
}

fn f1(tp: usize, fp: usize, fn_: usize) -> (f64, f64, f64) {
    let p = if tp + fp == 0 { 0.0 } else { tp as f64 / (tp + fp) as f64 };
    let r = if tp + fn_ == 0 { 0.0 } else { tp as f64 / (tp + fn_) as f64 };
    let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
    (p, r, f)
}

fn topic_line(a: &Analysis) -> String {
    a.topics.iter().map(|t| format!("{}:{:.2}", t.id, t.confidence)).collect::<Vec<_>>().join(",")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let show_sentiment: Option<Option<String>> = args.iter().find_map(|a| {
        if a == "--sentiment" { Some(None) } else { a.strip_prefix("--sentiment=").map(|l| Some(l.to_string())) }
    });
    let show_topic = args.iter().position(|a| a == "--topic").and_then(|i| args.get(i + 1)).cloned();
    let dev = args.iter().any(|a| a == "--dev");

    let pipeline = Pipeline::fallback();
    let rows = load_corpus();
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let analyses = pipeline.analyze_batch(&texts, None);

    println!("# Fallback on the development corpus bench/text/train ({} rows)\n", rows.len());
    println!("## Sentiment\n");
    println!(
        "| lang | n | accuracy | macro-F1 | AUC | confusion (rows gold neg/neu/pos) |\n|---|---:|---:|---:|---:|---|"
    );
    for lang in ["es", "en"] {
        let mut c = Confusion::new(&["negative", "neutral", "positive"]);
        let (mut pos, mut neg) = (Vec::new(), Vec::new());
        for (r, a) in rows.iter().zip(&analyses).filter(|(r, _)| r.lang == lang) {
            c.add(&r.sentiment, a.sentiment.label.as_str());
            match r.sentiment.as_str() {
                "positive" => pos.push(a.sentiment.score),
                "negative" => neg.push(a.sentiment.score),
                _ => {}
            }
        }
        let m: Vec<String> =
            c.m.iter().map(|row| row.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("/")).collect();
        println!(
            "| {lang} | {} | {:.3} | {:.3} | {:.3} | {} |",
            c.total(),
            c.accuracy(),
            c.macro_f1(),
            eval::auc(&pos, &neg),
            m.join(" · ")
        );
    }

    println!("\n## Topics (multi-label, nine ids)\n");
    println!(
        "| topic | gold | pred | TP | FP | FN | precision | recall | F1 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut macro_all = 0.0;
    let mut per_lang = [(0.0f64, "es"), (0.0, "en")];
    for id in DEFAULT_TOPIC_IDS {
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        let mut lang_counts = [(0, 0, 0); 2];
        for (r, a) in rows.iter().zip(&analyses) {
            let g = r.topics.iter().any(|t| t == id);
            let p = a.topics.iter().any(|t| t.id == id);
            let li = usize::from(r.lang == "en");
            match (g, p) {
                (true, true) => {
                    tp += 1;
                    lang_counts[li].0 += 1
                }
                (false, true) => {
                    fp += 1;
                    lang_counts[li].1 += 1
                }
                (true, false) => {
                    fn_ += 1;
                    lang_counts[li].2 += 1
                }
                _ => {}
            }
        }
        let (p, r, f) = f1(tp, fp, fn_);
        macro_all += f;
        for (k, c) in lang_counts.iter().enumerate() {
            per_lang[k].0 += f1(c.0, c.1, c.2).2;
        }
        println!("| {id} | {} | {} | {tp} | {fp} | {fn_} | {p:.3} | {r:.3} | {f:.3} |", tp + fn_, tp + fp);
    }
    let k = DEFAULT_TOPIC_IDS.len() as f64;
    println!("\nTopic macro-F1: **{:.3}** (es {:.3}, en {:.3})", macro_all / k, per_lang[0].0 / k, per_lang[1].0 / k);

    if let Some(lang) = show_sentiment {
        println!("\n## Sentiment confusions\n");
        for (r, a) in rows.iter().zip(&analyses) {
            if r.sentiment != a.sentiment.label.as_str() && lang.as_ref().is_none_or(|l| *l == r.lang) {
                println!(
                    "[{} gold {} pred {} {:+.2}] ({}) {}",
                    r.lang,
                    r.sentiment,
                    a.sentiment.label.as_str(),
                    a.sentiment.score,
                    r.source,
                    r.text
                );
            }
        }
    }
    if let Some(topic) = show_topic {
        let ids: Vec<&str> = if topic == "all" { DEFAULT_TOPIC_IDS.to_vec() } else { vec![topic.as_str()] };
        for id in ids {
            println!("\n## {id}: false negatives\n");
            for (r, a) in rows.iter().zip(&analyses) {
                if r.topics.iter().any(|t| t == id) && !a.topics.iter().any(|t| t.id == id) {
                    println!("[{} gold {:?} pred {}] {}", r.lang, r.topics, topic_line(a), r.text);
                }
            }
            println!("\n## {id}: false positives\n");
            for (r, a) in rows.iter().zip(&analyses) {
                if !r.topics.iter().any(|t| t == id) && a.topics.iter().any(|t| t.id == id) {
                    println!("[{} gold {:?} pred {}] {}", r.lang, r.topics, topic_line(a), r.text);
                }
            }
        }
    }

    if dev {
        // Aggregate figures only: es_cx_dev is the check that changes generalise.
        match eval::data_dir() {
            None => println!("\nes_cx_dev: data folder not found (set ESCUCHA_TEXT_DATA)"),
            Some(dir) => {
                let cx = load_jsonl(&dir.join("es_cx_dev.jsonl")).unwrap_or_default();
                println!("\n## es_cx_dev (aggregate only)\n");
                for lang in ["es", "en"] {
                    let e = eval::eval_sentiment(&pipeline, "es_cx_dev", lang, &cx, true);
                    println!(
                        "sentiment {lang}: n {} accuracy {:.3} macro-F1 {:.3} AUC {:.3}",
                        e.n,
                        e.confusion.accuracy(),
                        e.confusion.macro_f1(),
                        e.auc
                    );
                }
                let t = eval::eval_topics_multilabel(&pipeline, &cx);
                let per: Vec<String> = t.f1.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
                println!("topics: macro-F1 {:.3} ({})", t.macro_f1, per.join(", "));
            }
        }
    }
}
