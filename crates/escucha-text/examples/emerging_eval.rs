//! Development tool: how well emerging-topic clustering groups comments, TF-IDF stems vs the
//! model's sentence embeddings, over the team-written corpus (`bench/text/train/`, rows with
//! exactly one topic; the topic ids are the reference). Prints, per similarity threshold: how
//! many clusters (of ≥ 3 members), the share of comments clustered (coverage), the share of
//! clustered comments whose cluster's majority topic is theirs (purity), the criterion that
//! chose `EMBEDDED_SIMILARITY` — F0.5 of purity and coverage (purity counts twice: people read
//! the clusters, and a mixed one misleads while an unclustered comment merely waits) — and
//! the share of clusters holding both Spanish and English comments.
//!
//! Run: `ESCUCHA_MODEL_DIR=… cargo run --release -p escucha-text --example emerging_eval`

use escucha_text::eval::load_jsonl;
use escucha_text::model::Encoder;
use escucha_text::{EmergingOptions, EmergingTopic, emerging_topics, emerging_topics_embedded};
use std::collections::HashMap;
use std::path::PathBuf;

fn report(name: &str, threshold: f32, clusters: &[EmergingTopic], gold: &[&str], langs: &[&str]) {
    let clustered: usize = clusters.iter().map(|c| c.members.len()).sum();
    let majority: usize = clusters
        .iter()
        .map(|c| {
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for &m in &c.members {
                *counts.entry(gold[m]).or_default() += 1;
            }
            counts.values().copied().max().unwrap_or(0)
        })
        .sum();
    let coverage = clustered as f64 / gold.len() as f64;
    let purity = if clustered == 0 { 0.0 } else { majority as f64 / clustered as f64 };
    let f = if coverage + purity > 0.0 { 1.25 * purity * coverage / (0.25 * purity + coverage) } else { 0.0 };
    let bilingual = clusters
        .iter()
        .filter(|c| c.members.iter().any(|&m| langs[m] == "es") && c.members.iter().any(|&m| langs[m] == "en"))
        .count();
    println!(
        "| {name} | {threshold:.2} | {} | {coverage:.3} | {purity:.3} | {f:.3} | {:.2} |",
        clusters.len(),
        bilingual as f64 / clusters.len().max(1) as f64
    );
}

fn main() {
    let dir = PathBuf::from(std::env::var("ESCUCHA_MODEL_DIR").expect("set ESCUCHA_MODEL_DIR"));
    let files = escucha_text::eval::training_corpus_files();
    let mut rows = Vec::new();
    for f in files {
        rows.extend(load_jsonl(&f).expect("corpus file"));
    }
    let rows: Vec<_> = rows.into_iter().filter(|r| r["topics"].as_array().is_some_and(|a| a.len() == 1)).collect();
    let texts: Vec<&str> = rows.iter().map(|r| r["text"].as_str().unwrap_or("")).collect();
    let gold: Vec<&str> = rows.iter().map(|r| r["topics"][0].as_str().unwrap_or("")).collect();
    let langs: Vec<&str> = rows.iter().map(|r| r["lang"].as_str().unwrap_or("")).collect();
    println!("{} single-topic comments of the corpus\n", texts.len());
    println!("| vectors | similarity | clusters | coverage | purity | F0.5 (criterion) | bilingual clusters |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for t in [0.1, 0.15, 0.2, 0.25, 0.3, 0.35] {
        let c = emerging_topics(&texts, &EmergingOptions { similarity: t, ..EmergingOptions::default() });
        report("TF-IDF stems", t, &c, &gold, &langs);
    }
    let enc = Encoder::load(&dir).expect("model");
    let vecs = enc.embed(&texts);
    for t in [0.3, 0.35, 0.4, 0.45, 0.5, 0.55] {
        let c =
            emerging_topics_embedded(&texts, &vecs, &EmergingOptions { similarity: t, ..EmergingOptions::embedded() });
        report("embeddings", t, &c, &gold, &langs);
    }
}
