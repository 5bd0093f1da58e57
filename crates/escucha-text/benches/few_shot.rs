//! Few-shot learning curve on real complaints: how much do an organisation's own labelled
//! examples improve the default topics? The airline complaint reasons (evaluation only, never
//! shipped, never trained into shipped weights) are mapped to our ids with
//! [`eval::airline_topic`]; per id, a fixed pseudo-random pool of up to 100 tweets plays the
//! organisation's labelled examples and every other mapped tweet is the evaluation set (the same
//! for every k). For k in {0, 5, 10, 25, 50, 100}, the first k tweets of each pool are added to the
//! default taxonomy as English examples of their topic, exactly as an organisation's taxonomy
//! file adds them (`escucha text analyze --taxonomy`), and both routes are measured on the
//! evaluation set.
//!
//! A second curve does the same for sentiment: the first 1,000 tweets of a fixed pseudo-random
//! order of the whole set play the comments an organisation labelled (a random sample, so its
//! class mix is the organisation's), every other tweet is the evaluation set, and for k in
//! {0, 25, 50, 100, 200, 500, 1000} the model route learns the first k
//! ([`escucha_text::Pipeline::learn_sentiment`]); the lexicon engine learns nothing from them.
//!
//! This is not the default-taxonomy figure (k = 0 is, on a slightly smaller set): it
//! measures the few-shot API. Run: `cargo bench -p escucha-text --bench few_shot` (the model
//! route needs the installed model, found like `model_bench` finds it; prints SKIPPED without
//! `../shared/data/text`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use escucha_text::eval::{self, airline_topic, data_dir, load_jsonl, shuffle_key};
use escucha_text::model;
use escucha_text::{AnalyzeOptions, LabelledSentiment, SentimentLabel, Taxonomy, open_pipeline};
use serde_json::Value;

/// Examples per topic in each organisation's pool.
const POOL: usize = 100;
/// Examples per topic given to the engine.
const SHOTS: [usize; 6] = [0, 5, 10, 25, 50, 100];
/// Labelled comments in the organisation's sentiment pool.
const SENTIMENT_POOL: usize = 1000;
/// Labelled comments (sentiment) given to the engine.
const SENTIMENT_SHOTS: [usize; 7] = [0, 25, 50, 100, 200, 500, 1000];

fn model_path() -> Option<PathBuf> {
    let dir = std::env::var_os("ESCUCHA_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| model::model_dir(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("escucha-data")));
    dir.join(model::MANIFEST_FILE).is_file().then_some(dir)
}

fn main() {
    let Some(data) = data_dir() else {
        println!("SKIPPED: ../shared/data/text not found (set ESCUCHA_TEXT_DATA)");
        return;
    };
    let rows = load_jsonl(&data.join("en_airline_tweets.jsonl")).unwrap_or_default();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| shuffle_key(i));
    let mut pools: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut evaluation: Vec<Value> = Vec::new();
    for i in order {
        let r = &rows[i];
        let (Some(text), Some(id)) = (r["text"].as_str(), r["topic"].as_str().and_then(airline_topic)) else {
            continue;
        };
        let pool = pools.entry(id).or_default();
        if pool.len() < POOL {
            pool.push(text.to_string());
        } else {
            evaluation.push(r.clone());
        }
    }
    println!("## Few-shot learning curve: airline complaint reasons → our ids\n");
    println!(
        "Pools of {POOL} tweets per id ({}); evaluation set: {} other tweets, the same for every k.\n",
        pools.iter().map(|(k, v)| format!("{k} {}", v.len())).collect::<Vec<_>>().join(", "),
        evaluation.len()
    );
    let model_dir = model_path();
    if model_dir.is_none() {
        println!("(model route SKIPPED: model not installed; set ESCUCHA_MODEL_DIR)\n");
    }
    println!("| examples per topic | route | accuracy | macro-F1 | per topic |\n|---:|---|---:|---:|---|");
    for k in SHOTS {
        let mut taxonomy = Taxonomy::default_cx();
        for topic in taxonomy.topics.iter_mut() {
            if let Some(pool) = pools.get(topic.id.as_str()) {
                topic.examples.entry("en".into()).or_default().extend(pool.iter().take(k).cloned());
            }
        }
        let routes = [("fallback", None), ("model", model_dir.clone())];
        for (route, dir) in routes {
            if route == "model" && dir.is_none() {
                continue;
            }
            let options = AnalyzeOptions { model_dir: dir, taxonomy: Some(taxonomy.clone()), ..Default::default() };
            let (pipeline, _) = open_pipeline(&options);
            let e = eval::eval_topics_airline(&pipeline, &evaluation);
            println!(
                "| {k} | {route} | {:.3} | **{:.3}** | {} |",
                e.accuracy.unwrap_or(0.0),
                e.macro_f1,
                e.f1.iter().map(|(id, f)| format!("{id} {f:.2}")).collect::<Vec<_>>().join(", ")
            );
        }
    }
    sentiment_curve(&rows, model_dir);
}

/// The sentiment learning curve described in the module docs.
fn sentiment_curve(rows: &[Value], model_dir: Option<PathBuf>) {
    let Some(dir) = model_dir else {
        println!("\n(sentiment curve SKIPPED: model not installed; set ESCUCHA_MODEL_DIR)");
        return;
    };
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| shuffle_key(i));
    let labelled: Vec<(LabelledSentiment, &Value)> = order
        .iter()
        .filter_map(|&i| {
            let r = &rows[i];
            let sentiment = r["label"].as_str().and_then(SentimentLabel::parse)?;
            let text = r["text"].as_str()?.to_string();
            Some((LabelledSentiment { text, lang: None, sentiment }, r))
        })
        .collect();
    let (pool, evaluation) = labelled.split_at(SENTIMENT_POOL.min(labelled.len()));
    let pool: Vec<LabelledSentiment> = pool.iter().map(|(l, _)| l.clone()).collect();
    let evaluation: Vec<Value> = evaluation.iter().map(|(_, r)| (*r).clone()).collect();
    let mix = |labels: &[LabelledSentiment]| {
        ["negative", "neutral", "positive"]
            .iter()
            .map(|c| format!("{c} {}", labels.iter().filter(|l| l.sentiment.as_str() == *c).count()))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    println!("\n## Sentiment adaptation curve: airline tweets\n");
    println!(
        "Pool: the first {} tweets of a fixed pseudo-random order ({}); evaluation set: the other {} tweets, \
         the same for every k. Model route.\n",
        pool.len(),
        mix(&pool),
        evaluation.len()
    );
    println!(
        "| labelled comments | learning (s, embedding included) | accuracy | macro-F1 | pos/neg AUC | confusion (rows gold neg / neu / pos) |\n|---:|---:|---:|---:|---:|---|"
    );
    for k in SENTIMENT_SHOTS {
        let options = AnalyzeOptions { model_dir: Some(dir.clone()), ..Default::default() };
        let (mut pipeline, _) = open_pipeline(&options);
        let started = std::time::Instant::now();
        let learned = pipeline.learn_sentiment(&pool[..k.min(pool.len())]);
        let learn_seconds = started.elapsed().as_secs_f64();
        let e = eval::eval_sentiment(&pipeline, "en_airline_tweets", "en", &evaluation, true);
        let c = &e.confusion;
        let row = |g: usize| c.m[g].iter().map(usize::to_string).collect::<Vec<_>>().join(" / ");
        println!(
            "| {learned} | {learn_seconds:.2} | {:.3} | **{:.3}** | {:.3} | {}; {}; {} |",
            c.accuracy(),
            c.macro_f1(),
            e.auc,
            row(0),
            row(1),
            row(2)
        );
    }
    // Cost of learning many examples (timing only: these overlap the evaluation set).
    let many: Vec<LabelledSentiment> = labelled.iter().take(5000).map(|(l, _)| l.clone()).collect();
    let (mut pipeline, _) = open_pipeline(&AnalyzeOptions { model_dir: Some(dir), ..Default::default() });
    let started = std::time::Instant::now();
    let learned = pipeline.learn_sentiment(&many);
    println!(
        "\nLearning {learned} labelled comments at once: {:.2} s (embedding included).",
        started.elapsed().as_secs_f64()
    );
}
