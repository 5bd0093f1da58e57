//! Development tool: writes, per row of the team-written emotion sets (`bench/text/emotions/`,
//! parts a to d), the features the emotion head reads — the sentence embedding, the cue
//! detector's confidence per emotion (given the model route's sentiment, as the pipeline runs
//! it) and the sentiment score — with the gold emotions, as JSON lines for
//! `bench/text/train_emotion_head.py`.
//!
//! Run: `ESCUCHA_MODEL_DIR=… cargo run --release -p escucha-text --example dump_emotion_features > emo.jsonl`

use escucha_text::eval::{emotion_set_files, load_jsonl};
use escucha_text::{AnalyzeOptions, Doc, Emotion, EmotionDetector, LexiconEmotions};
use serde_json::json;
use std::io::Write;

fn main() {
    let dir = std::env::var_os("ESCUCHA_MODEL_DIR").expect("set ESCUCHA_MODEL_DIR");
    let options = AnalyzeOptions { model_dir: Some(dir.into()), ..Default::default() };
    let (pipeline, note) = escucha_text::open_pipeline(&options);
    let model = pipeline.model.as_ref().unwrap_or_else(|| panic!("{note}"));
    let cues = LexiconEmotions::new();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for part in ["a", "b", "c", "d"] {
        for file in emotion_set_files(part) {
            let rows = load_jsonl(&file).expect("emotion set");
            let texts: Vec<&str> = rows.iter().map(|r| r["text"].as_str().unwrap_or("")).collect();
            let analyses = pipeline.analyze_batch(&texts, None);
            let embeddings = model.encoder().embed(&texts);
            for (((row, text), a), e) in rows.iter().zip(&texts).zip(&analyses).zip(&embeddings) {
                let mut conf = [0f32; Emotion::ALL.len()];
                for r in cues.detect(&Doc::new(text, a.language.primary), &a.sentiment) {
                    conf[r.emotion as usize] = r.confidence;
                }
                let line = json!({
                    "part": part,
                    "id": row["id"],
                    "lang": row["lang"],
                    "gold": row["emotions"],
                    "cues": conf,
                    "score": a.sentiment.score,
                    "emb": e.as_slice(),
                });
                let _ = writeln!(out, "{line}");
            }
        }
    }
}
