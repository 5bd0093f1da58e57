//! Evaluation harness: `cargo bench -p escucha-text --bench text_eval`.
//!
//! Reads the labelled sets in `../shared/data/text` (relative to the workspace root) and the
//! fake-data redaction set shipped with the crate, and prints Markdown: sentiment accuracy,
//! macro-F1, confusion matrix and AUC per set and language; language-id accuracy; topic
//! macro-F1 (airline complaint reasons mapped to our ids, and es_cx_dev multi-label);
//! redaction precision/recall; throughput per core; peak memory. Without the data folder only
//! the redaction set and throughput on it are measured, and the harness says so.

use escucha_text::eval::{self, load_jsonl};
use escucha_text::{AnalyzeOptions, Pipeline, analyze_stream};
use std::time::Instant;

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cores} cores, {cpu}")
}

/// CPU seconds used so far by `who` (`thread-self` or `self`), from /proc (Linux).
fn cpu_seconds(who: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{who}/stat")).ok()?;
    // fields after the command name (which is in parentheses and may contain spaces)
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    // `cargo bench` passes --bench; nothing else is accepted.
    println!("# escucha-text evaluation\n");
    println!("Machine: {}; engine {} (no model).\n", machine(), escucha_text::ENGINE_FALLBACK);
    let t0 = Instant::now();
    let pipeline = Pipeline::fallback();
    let load_ms = t0.elapsed().as_secs_f64() * 1000.0;
    println!("Pipeline load time: {load_ms:.1} ms\n");

    let mut all_texts: Vec<String> = Vec::new();
    let redaction_rows = load_jsonl(&eval::redaction_set_path()).unwrap_or_default();
    match eval::data_dir() {
        None => {
            println!(
                "**SKIPPED**: labelled data folder ../shared/data/text not found (set ESCUCHA_TEXT_DATA); \
                 only redaction on the shipped fake set and throughput are measured.\n"
            );
        }
        Some(dir) => {
            let load = |name: &str| load_jsonl(&dir.join(format!("{name}.jsonl"))).unwrap_or_default();
            println!("## Sentiment (language detected per text)\n");
            println!("| set | lang | n | accuracy | macro-F1 | pos/neg AUC |\n|---|---|---:|---:|---:|---:|");
            let mut matrices = String::new();
            for (set, lang) in eval::SENTIMENT_SETS {
                let rows = load(set);
                let e = eval::eval_sentiment(&pipeline, set, lang, &rows, true);
                println!(
                    "| {} | {} | {} | {:.3} | {:.3} | {:.3} |",
                    e.set,
                    e.lang,
                    e.n,
                    e.confusion.accuracy(),
                    e.confusion.macro_f1(),
                    e.auc
                );
                matrices.push_str(&format!("\n**{} ({})**\n\n{}", e.set, e.lang, e.confusion.to_markdown()));
            }
            println!("\nConfusion matrices (rows gold, columns predicted):\n{matrices}");
            let (mp, mr, mn) = eval::eval_mixed(&pipeline, &load("es_cx_dev"));
            println!("Mixed-feelings flag on es_cx_dev ({mn} rows marked mixed): precision {mp:.3}, recall {mr:.3}.\n");
            // es_evomsa positive/negative only, as in the README baselines
            println!("## Language identification\n");
            println!("| set | n | accuracy |\n|---|---:|---:|");
            for (set, field) in [("lid_es_en_fortunes", "label"), ("es_cx_dev", "lang"), ("es_evomsa_tweets", "lang")] {
                let rows = load(set);
                let (n, acc) = eval::eval_language(&pipeline, &rows, field);
                println!("| {set} | {n} | {acc:.4} |");
            }
            println!("\n## Topics\n");
            let airline = load("en_airline_tweets");
            let t = eval::eval_topics_airline(&pipeline, &airline);
            println!(
                "Airline complaint reasons mapped to our ids (Customer Service Issue and Flight Attendant Complaints → staff; \
                 Late Flight and long lines → wait_time; Cancelled Flight and Bad Flight → product_quality; \
                 Lost and Damaged Luggage → delivery; Flight Booking Problems → digital; Can't Tell left out); \
                 prediction = most confident of those ids, else none. n = {}, accuracy {:.3}, **macro-F1 {:.3}**.\n",
                t.n,
                t.accuracy.unwrap_or(0.0),
                t.macro_f1
            );
            println!("| topic | F1 |\n|---|---:|");
            for (k, v) in &t.f1 {
                println!("| {k} | {v:.3} |");
            }
            if let Some(c) = &t.confusion {
                println!("\n{}", c.to_markdown());
            }
            let cx = load("es_cx_dev");
            let t = eval::eval_topics_multilabel(&pipeline, &cx);
            println!("es_cx_dev multi-label (development set), n = {}, **macro-F1 {:.3}**:\n", t.n, t.macro_f1);
            println!("| topic | F1 |\n|---|---:|");
            for (k, v) in &t.f1 {
                println!("| {k} | {v:.3} |");
            }
            println!("\n## Redaction on es_cx_dev (development set)\n");
            let r = eval::eval_redaction(pipeline.redactor.as_ref(), &cx, false);
            println!(
                "rows {}, gold items {}, found {}, predicted {}, correct {}: precision **{:.3}**, recall **{:.3}**\n",
                r.rows,
                r.gold,
                r.found,
                r.predicted,
                r.correct,
                r.precision(),
                r.recall()
            );
            for name in [
                "en_airline_tweets",
                "en_vader_tweets",
                "en_vader_movie_reviews",
                "en_vader_nyt_editorials",
                "es_evomsa_tweets",
                "es_cx_dev",
                "lid_es_en_fortunes",
            ] {
                all_texts.extend(load(name).iter().filter_map(|r| r["text"].as_str().map(str::to_string)));
            }
        }
    }
    println!("## Redaction on the fake-data test set (crates/escucha-text/tests/data/redaction_fake.jsonl)\n");
    let r = eval::eval_redaction(pipeline.redactor.as_ref(), &redaction_rows, true);
    println!(
        "rows {}, gold items {}, found {}, predicted {}, correct {}: precision **{:.3}**, recall **{:.3}**\n",
        r.rows,
        r.gold,
        r.found,
        r.predicted,
        r.correct,
        r.precision(),
        r.recall()
    );
    println!("| kind | predicted | correct |\n|---|---:|---:|");
    for (k, (p, c)) in &r.by_kind {
        println!("| {k} | {p} | {c} |");
    }
    if !r.missed.is_empty() || !r.spurious.is_empty() {
        println!("\nMissed (fake data): {:?}\n\nSpurious (fake data): {:?}\n", r.missed, r.spurious);
    }
    all_texts.extend(redaction_rows.iter().filter_map(|r| r["text"].as_str().map(str::to_string)));

    println!("\n## Emotions on the team-written emotion sets (bench/text/emotions/)\n");
    print!("{}", eval::emotion_report(&pipeline, &["a", "b"]));

    println!("\n## Throughput\n");
    let n = all_texts.len();
    let bytes: usize = all_texts.iter().map(String::len).sum();
    let t0 = Instant::now();
    let c0 = cpu_seconds("thread-self");
    let mut checksum = 0usize;
    for t in &all_texts {
        checksum += pipeline.analyze(t, None).topics.len();
    }
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds("thread-self").zip(c0).map(|(a, b)| a - b);
    println!(
        "Whole pipeline, one thread: {n} comments ({:.0} bytes on average) in {secs:.2} s wall = **{:.0} comments/s** wall-clock{}; checksum {checksum}.",
        bytes as f64 / n.max(1) as f64,
        n as f64 / secs,
        cpu.map_or(String::new(), |c| format!(
            ", {c:.2} s of CPU = **{:.0} comments per CPU-second** (per core, unaffected by other load on the machine)",
            n as f64 / c
        ))
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("\nLoad average while measuring: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    }
    // Time per analyser (same texts, one thread).
    {
        use escucha_text::{Doc, Lang};
        let mut times = [0f64; 7];
        for t in &all_texts {
            let t = escucha_text::truncate_at_char_boundary(t, escucha_text::MAX_TEXT_BYTES);
            let s = Instant::now();
            let mut doc = Doc::new(t, Lang::Unknown);
            times[0] += s.elapsed().as_secs_f64();
            let s = Instant::now();
            let l = pipeline.language.identify(t, &doc.tokens);
            times[1] += s.elapsed().as_secs_f64();
            doc.lang = l.primary;
            let s = Instant::now();
            let r = pipeline.redactor.redact(t);
            times[2] += s.elapsed().as_secs_f64();
            doc.pii = r.spans.iter().map(|s| (s.start, s.end)).collect();
            let s = Instant::now();
            let se = pipeline.sentiment.sentiment(&doc);
            times[3] += s.elapsed().as_secs_f64();
            let s = Instant::now();
            let _ = pipeline.emotions.detect(&doc, &se);
            times[4] += s.elapsed().as_secs_f64();
            let s = Instant::now();
            let _ = pipeline.topics.classify(&doc);
            times[5] += s.elapsed().as_secs_f64();
            let s = Instant::now();
            let _ = pipeline.key_phrases.extract(&doc, 5);
            times[6] += s.elapsed().as_secs_f64();
        }
        println!(
            "\nTime per stage (µs per comment): tokenise {:.1}, language {:.1}, redaction {:.1}, sentiment {:.1}, emotions {:.1}, topics {:.1}, key phrases {:.1}.",
            times[0] * 1e6 / n as f64,
            times[1] * 1e6 / n as f64,
            times[2] * 1e6 / n as f64,
            times[3] * 1e6 / n as f64,
            times[4] * 1e6 / n as f64,
            times[5] * 1e6 / n as f64,
            times[6] * 1e6 / n as f64
        );
    }
    let mut input = String::with_capacity(bytes + n * 16);
    for t in &all_texts {
        input.push_str(&serde_json::json!({ "text": t }).to_string());
        input.push('\n');
    }
    let t0 = Instant::now();
    let c0 = cpu_seconds("self");
    let mut sink = std::io::sink();
    let summary = analyze_stream(input.as_bytes(), &mut sink, &AnalyzeOptions::default()).expect("stream to a sink");
    let secs = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds("self").zip(c0).map(|(a, b)| a - b);
    println!(
        "\n`analyze_stream` (JSON in and out, all cores): {} lines in {secs:.2} s wall = **{:.0} lines/s**{}.",
        summary.lines,
        summary.lines as f64 / secs,
        cpu.map_or(String::new(), |c| format!(
            ", {c:.2} s of CPU = {:.0} lines per CPU-second",
            summary.lines as f64 / c
        ))
    );
    if let Some(kib) = eval::peak_rss_kib() {
        println!(
            "\nPeak memory (VmHWM, whole bench process with every data set loaded): **{:.1} MiB**.",
            kib as f64 / 1024.0
        );
    }
}
