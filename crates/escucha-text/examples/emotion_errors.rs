//! Emotion figures on the team-written emotion sets (`bench/text/emotions/`), and the errors of
//! the **development part only**:
//!
//! `cargo run --release -p escucha-text --example emotion_errors [-- --errors]`
//!
//! Prints `eval::emotion_report` on part a for the fallback (and for the model route when
//! `ESCUCHA_MODEL_DIR` names an installed model); `--errors` lists part a's rows where the
//! fallback's emotions differ from the labels. Part b is held out: its rows are never printed,
//! and its figures only with `--heldout` (the benches print them too).

use escucha_text::eval::{self, load_jsonl};
use escucha_text::{AnalyzeOptions, Pipeline};

fn main() {
    let parts: &[&str] = if std::env::args().any(|a| a == "--heldout") { &["a", "b"] } else { &["a"] };
    let fallback = Pipeline::fallback();
    println!("## Fallback (lexicon-v1)\n\n{}", eval::emotion_report(&fallback, parts));
    if let Some(dir) = std::env::var_os("ESCUCHA_MODEL_DIR") {
        let options = AnalyzeOptions { model_dir: Some(dir.into()), ..Default::default() };
        let (model, note) = escucha_text::open_pipeline(&options);
        println!("## Model route ({note})\n\n{}", eval::emotion_report(&model, parts));
    }
    if !std::env::args().any(|a| a == "--errors") {
        return;
    }
    println!("## Part a rows where the fallback disagrees (gold → detected)\n");
    for file in eval::emotion_set_files("a") {
        for row in load_jsonl(&file).expect("emotion set") {
            let text = row["text"].as_str().unwrap_or("");
            let mut gold: Vec<&str> =
                row["emotions"].as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
            let analysis = fallback.analyze(text, None);
            let mut detected: Vec<&str> = analysis.emotions.iter().map(|e| e.emotion.id()).collect();
            gold.sort_unstable();
            detected.sort_unstable();
            if gold != detected {
                println!(
                    "- {} [{}] → [{}]: {text}",
                    row["id"].as_str().unwrap_or("?"),
                    gold.join(","),
                    detected.join(",")
                );
            }
        }
    }
}
