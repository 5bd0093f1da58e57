//! Benchmark and evaluation of the model route (USE multilingual v3 in Rust): load time,
//! tokenizer and embedding throughput on one core, peak memory, sentiment macro-F1 on
//! en_airline_tweets (evaluation only) and positive/negative AUC on es_evomsa_tweets, topic
//! macro-F1 on es_cx_dev with a threshold sweep, and topic figures on the airline complaint
//! reasons. Prints Markdown for `bench/text/MODEL.md`.
//!
//! Run: `cargo bench -p escucha-text --bench model_bench` with the model installed (see
//! `tests/model.rs` for where it is looked up) and `../shared/data/text` present; it prints
//! "SKIPPED" and exits 0 otherwise.

use std::path::PathBuf;
use std::time::Instant;

use escucha_text::eval::{Confusion, airline_topic, auc, data_dir, load_jsonl, peak_rss_kib};
use escucha_text::model::{self, DIM, Encoder, Int8Kernel, ModelSentiment, ModelTopics, default_prototypes};
use escucha_text::sentiment::SentimentLabel;
use serde_json::Value;

fn model_path() -> Option<PathBuf> {
    let dir = std::env::var_os("ESCUCHA_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| model::model_dir(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("escucha-data")));
    dir.join(model::MANIFEST_FILE).is_file().then_some(dir)
}

/// CPU time of the calling thread in seconds (Linux `schedstat`), so figures are per core even
/// on a busy machine; falls back to `None` elsewhere.
fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// Runs `f`, returning its result with (wall seconds, CPU seconds of this thread).
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let c0 = thread_cpu_s();
    let t = Instant::now();
    let out = f();
    let wall = t.elapsed().as_secs_f64();
    let cpu = match (c0, thread_cpu_s()) {
        (Some(a), Some(b)) => b - a,
        _ => wall,
    };
    (out, wall, cpu)
}

fn texts(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["text"].as_str().unwrap_or("")).collect()
}

fn main() {
    let Some(dir) = model_path() else {
        println!("SKIPPED: model not installed (set ESCUCHA_MODEL_DIR)");
        return;
    };
    let Some(data) = data_dir() else {
        println!("SKIPPED: ../shared/data/text not found (set ESCUCHA_TEXT_DATA)");
        return;
    };
    let load = |name: &str| load_jsonl(&data.join(format!("{name}.jsonl"))).unwrap_or_default();

    let (enc, load_wall, load_cpu) = timed(|| Encoder::load(&dir).expect("model loads"));
    let rss_loaded = peak_rss_kib().unwrap_or(0);
    println!("## Model route: USE multilingual v3 in Rust\n");
    println!(
        "- load time: {load_cpu:.2} s of CPU ({load_wall:.2} s wall); peak RSS after load: {} MiB",
        rss_loaded / 1024
    );

    // Throughput on one core (this process embeds on the calling thread only).
    let airline = load("en_airline_tweets");
    let evomsa = load("es_evomsa_tweets");
    let cx = load("es_cx_dev");
    let mut corpus: Vec<&str> = texts(&airline);
    corpus.extend(texts(&evomsa));
    corpus.extend(texts(&cx));
    let (n_tokens, _, tok_s) = timed(|| corpus.iter().map(|s| enc.token_ids(s).len()).sum::<usize>());
    let _ = enc.embed(&corpus[..256.min(corpus.len())]); // warm-up
    let (vecs, emb_wall, emb_s) = timed(|| enc.embed(&corpus));
    {
        // The exact f32 pass (what CPUs without an 8-bit kernel run) and every 8-bit kernel this
        // CPU has (the AVX2 one forced even where VNNI is the default), on the same sample.
        let sample = &corpus[..6000.min(corpus.len())];
        let mut e = Encoder::load(&dir).expect("model loads").with_int8(false);
        let (ev, _, cpu) = timed(|| e.embed(sample));
        println!(
            "- 8-bit kernel in use: {}; the exact f32 pass: {:.0} texts per CPU-second ({} texts)",
            enc.int8_kernel().map_or("none (exact f32 pass)", Int8Kernel::name),
            sample.len() as f64 / cpu,
            sample.len()
        );
        for kernel in Int8Kernel::ALL.into_iter().filter(|k| k.supported()) {
            e = e.with_int8_kernel(Some(kernel));
            let _ = e.embed(&sample[..256.min(sample.len())]); // warm-up
            let (v, _, cpu) = timed(|| e.embed(sample));
            let (mut worst, mut worst_cos) = (0f32, 1f32);
            for (a, b) in ev.iter().zip(&v) {
                worst = worst.max(a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max));
                worst_cos = worst_cos.min(a.iter().zip(b.iter()).map(|(x, y)| x * y).sum());
            }
            println!(
                "- 8-bit kernel {}: {:.0} texts per CPU-second; vs the exact pass over the same texts: max abs \
                 difference {worst:.1e}, min cosine {worst_cos:.5}",
                kernel.name(),
                sample.len() as f64 / cpu
            );
        }
    }
    let n = corpus.len() as f64;
    println!(
        "- corpus: {} texts (airline + evomsa + es_cx_dev), {:.1} pieces per text on average",
        corpus.len(),
        n_tokens as f64 / n
    );
    println!(
        "- tokenizer alone: {:.0} texts per CPU-second; embedding (tokenizer + encoder) on one \
         thread: **{:.0} texts per CPU-second** ({:.0} pieces/s; {:.0} texts/s of wall time on \
         this shared machine)",
        n / tok_s,
        n / emb_s,
        n_tokens as f64 / emb_s,
        n / emb_wall
    );
    let reps = 300;
    let ((), _, one_s) = timed(|| {
        for _ in 0..reps {
            let _ = enc.embed(&["La app no me deja pagar y nadie contesta el teléfono"]);
        }
    });
    println!("- one short comment per call (no batching): {:.0} texts per CPU-second", reps as f64 / one_s);

    // Size of the per-id cache (precomputed rows of the most probable pieces), with the kernel in use.
    println!("\n| cached ids | extra memory | load (CPU s) | texts per CPU-second |");
    println!("| --- | --- | --- | --- |");
    let sp = std::fs::read(dir.join(model::SP_MODEL_FILE)).expect("sp.model");
    let npz = std::fs::read(dir.join(model::WEIGHTS_FILE)).expect("weights");
    for k in [0usize, 1024, 4096, 16384] {
        let (e, _, load_cpu) = timed(|| {
            Encoder::from_bytes(&sp, &npz).expect("loads").with_cached_ids(k).with_int8_kernel(enc.int8_kernel())
        });
        let sample = &corpus[..6000.min(corpus.len())];
        let (_, _, cpu) = timed(|| e.embed(sample));
        println!("| {k} | {:.0} MB | {load_cpu:.2} | {:.0} |", k as f64 * 13312.0 / 1e6, sample.len() as f64 / cpu);
    }
    drop((sp, npz));

    // Sentiment.
    // ESCUCHA_SENTIMENT_WEIGHTS evaluates a candidate head instead of the shipped one.
    let head = match std::env::var("ESCUCHA_SENTIMENT_WEIGHTS") {
        Ok(p) => ModelSentiment::from_json(&std::fs::read_to_string(p).expect("weights file")).expect("weights"),
        Err(_) => ModelSentiment::builtin().expect("weights"),
    };
    println!("\n### Sentiment (shipped head: {})\n", head.trained_on);
    let air_vecs = &vecs[..airline.len()];
    let mut conf = Confusion::new(&["negative", "neutral", "positive"]);
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for (r, v) in airline.iter().zip(air_vecs) {
        let Some(gold) = r["label"].as_str().and_then(SentimentLabel::parse) else {
            continue;
        };
        let (label, score, _) = head.predict(v);
        conf.add(gold.as_str(), label.as_str());
        match gold {
            SentimentLabel::Positive => pos.push(score),
            SentimentLabel::Negative => neg.push(score),
            SentimentLabel::Neutral => {}
        }
    }
    println!(
        "- en_airline_tweets (evaluation only, {} rows): accuracy {:.3}, macro-F1 **{:.3}**, \
         pos/neg AUC {:.3}",
        conf.total(),
        conf.accuracy(),
        conf.macro_f1(),
        auc(&pos, &neg)
    );
    println!("\n{}", conf.to_markdown());
    let ev_vecs = &vecs[airline.len()..airline.len() + evomsa.len()];
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for (r, v) in evomsa.iter().zip(ev_vecs) {
        let score = head.predict(v).1;
        match r["label"].as_str() {
            Some("positive") => pos.push(score),
            Some("negative") => neg.push(score),
            _ => {}
        }
    }
    println!("- es_evomsa_tweets positive vs negative ({} / {}): AUC **{:.3}**", pos.len(), neg.len(), auc(&pos, &neg));
    let cx_vecs = &vecs[airline.len() + evomsa.len()..];
    for lang in ["es", "en"] {
        let mut c = Confusion::new(&["negative", "neutral", "positive"]);
        let (mut pos, mut neg) = (Vec::new(), Vec::new());
        for (r, v) in cx.iter().zip(cx_vecs) {
            if r["lang"].as_str() != Some(lang) {
                continue;
            }
            let Some(gold) = r["sentiment"].as_str().and_then(SentimentLabel::parse) else {
                continue;
            };
            let (label, score, _) = head.predict(v);
            c.add(gold.as_str(), label.as_str());
            match gold {
                SentimentLabel::Positive => pos.push(score),
                SentimentLabel::Negative => neg.push(score),
                SentimentLabel::Neutral => {}
            }
        }
        println!(
            "- es_cx_dev ({lang}, {} rows): accuracy {:.3}, macro-F1 {:.3}, pos/neg AUC {:.3}",
            c.total(),
            c.accuracy(),
            c.macro_f1(),
            auc(&pos, &neg)
        );
    }

    // Neutral-offset sweep: chosen on es_cx_dev (development data); airline shown for reference
    // only (it is evaluation data and never used to choose).
    let f1_at = |offset: f32, rows: &[Value], vs: &[[f32; DIM]], field: &str| -> f64 {
        let mut h = head.clone();
        h.neutral_offset = offset;
        let mut c = Confusion::new(&["negative", "neutral", "positive"]);
        for (r, v) in rows.iter().zip(vs) {
            if let Some(g) = r[field].as_str().and_then(SentimentLabel::parse) {
                c.add(g.as_str(), h.predict(v).0.as_str());
            }
        }
        c.macro_f1()
    };
    println!("\n| neutral offset | es_cx_dev macro-F1 (chooses) | en_airline macro-F1 (reference) |");
    println!("| --- | --- | --- |");
    let mut best_off = (f64::MIN, 0f32);
    for k in -16..=8 {
        let off = k as f32 * 0.25;
        let dev = f1_at(off, &cx, cx_vecs, "sentiment");
        if dev > best_off.0 + 1e-9 {
            best_off = (dev, off);
        }
        if k % 2 == 0 {
            println!("| {off:+.2} | {dev:.3} | {:.3} |", f1_at(off, &airline, air_vecs, "label"));
        }
    }
    println!(
        "\n- best offset on es_cx_dev: {:+.2} (macro-F1 {:.3}); shipped offset {:+.2}",
        best_off.1, best_off.0, head.neutral_offset
    );

    // Alternative decision rule: thresholds on the polarity score (neutral between them).
    let band_f1 = |lo: f32, hi: f32, rows: &[Value], vs: &[[f32; DIM]], field: &str| -> f64 {
        let mut c = Confusion::new(&["negative", "neutral", "positive"]);
        for (r, v) in rows.iter().zip(vs) {
            if let Some(g) = r[field].as_str().and_then(SentimentLabel::parse) {
                let sc = head.predict(v).1;
                let p = if sc <= lo {
                    "negative"
                } else if sc >= hi {
                    "positive"
                } else {
                    "neutral"
                };
                c.add(g.as_str(), p);
            }
        }
        c.macro_f1()
    };
    let mut best_band = (f64::MIN, 0f32, 0f32);
    for a in 0..=18 {
        for b in 0..=18 {
            let (lo, hi) = (-(a as f32) * 0.05, b as f32 * 0.05);
            let dev = band_f1(lo, hi, &cx, cx_vecs, "sentiment");
            if dev > best_band.0 + 1e-9 {
                best_band = (dev, lo, hi);
            }
        }
    }
    println!(
        "- score-band rule (neutral when {:.2} < score < {:.2}, chosen on es_cx_dev: macro-F1 {:.3}): \
         en_airline macro-F1 {:.3}",
        best_band.1,
        best_band.2,
        best_band.0,
        band_f1(best_band.1, best_band.2, &airline, air_vecs, "label")
    );

    // Topics.
    let t = Instant::now();
    let topics = ModelTopics::new(&enc, &default_prototypes());
    let proto_s = t.elapsed().as_secs_f64();
    let ids = topics.ids().to_vec();
    let sims: Vec<Vec<f32>> = cx_vecs.iter().map(|v| topics.similarities(v)).collect();
    let gold: Vec<Vec<bool>> = cx
        .iter()
        .map(|r| {
            let g: Vec<&str> =
                r["topics"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            ids.iter().map(|id| g.contains(&id.as_str())).collect()
        })
        .collect();
    let f1_with = |sims: &[Vec<f32>], threshold: f32, margin: f32, lang: Option<&str>| -> (f64, Vec<f64>) {
        let mut counts = vec![(0usize, 0usize, 0usize); ids.len()];
        for ((s, g), r) in sims.iter().zip(&gold).zip(&cx) {
            if lang.is_some_and(|l| r["lang"].as_str() != Some(l)) {
                continue;
            }
            let best = s.iter().copied().fold(f32::MIN, f32::max);
            for i in 0..ids.len() {
                let p = s[i] >= threshold && s[i] >= best - margin;
                match (g[i], p) {
                    (true, true) => counts[i].0 += 1,
                    (false, true) => counts[i].1 += 1,
                    (true, false) => counts[i].2 += 1,
                    _ => {}
                }
            }
        }
        let f1: Vec<f64> = counts
            .iter()
            .map(|&(tp, fp, fn_)| if tp == 0 { 0.0 } else { 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64 })
            .collect();
        (f1.iter().sum::<f64>() / f1.len() as f64, f1)
    };
    let macro_f1 = |threshold: f32, margin: f32, lang: Option<&str>| f1_with(&sims, threshold, margin, lang);
    // Alternative scorer for comparison: cosine to each topic's centroid.
    let centroids: Vec<Vec<f32>> = default_prototypes()
        .iter()
        .map(|p| {
            let phrases: Vec<&str> = p.phrases.iter().map(String::as_str).collect();
            let vs = enc.embed(&phrases);
            let mut c = vec![0f32; DIM];
            for v in &vs {
                for (a, x) in c.iter_mut().zip(v.iter()) {
                    *a += x;
                }
            }
            let n = c.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
            c.iter().map(|x| x / n).collect()
        })
        .collect();
    let csims: Vec<Vec<f32>> = cx_vecs
        .iter()
        .map(|v| centroids.iter().map(|c| c.iter().zip(v.iter()).map(|(a, b)| a * b).sum()).collect())
        .collect();
    let mut cbest = (0.0, 0.0f32, 0.0f32);
    for ti in 5..=70 {
        for m in [1.0f32, 0.10, 0.05] {
            let f = f1_with(&csims, ti as f32 / 100.0, m, None).0;
            if f > cbest.0 {
                cbest = (f, ti as f32 / 100.0, m);
            }
        }
    }
    println!(
        "\n### Topics (nearest prototype; {} prototypes embedded in {:.2} s)\n",
        default_prototypes().iter().map(|p| p.phrases.len()).sum::<usize>(),
        proto_s
    );
    println!("| threshold | margin 1.0 | margin 0.10 | margin 0.05 |\n| --- | --- | --- | --- |");
    let mut best = (0.0, 0.0f32, 0.0f32);
    for ti in 5..=60 {
        let th = ti as f32 / 100.0;
        let row: Vec<f64> = [1.0f32, 0.10, 0.05].iter().map(|&m| macro_f1(th, m, None).0).collect();
        for (k, &m) in [1.0f32, 0.10, 0.05].iter().enumerate() {
            if row[k] > best.0 {
                best = (row[k], th, m);
            }
        }
        if ti % 5 == 0 {
            println!("| {th:.2} | {:.3} | {:.3} | {:.3} |", row[0], row[1], row[2]);
        }
    }
    println!(
        "\n- best on es_cx_dev: macro-F1 **{:.3}** at threshold {:.2}, margin {:.2}; shipped default \
         threshold {:.2}, margin {:.2}: {:.3}",
        best.0,
        best.1,
        best.2,
        model::DEFAULT_THRESHOLD,
        model::DEFAULT_MARGIN,
        macro_f1(model::DEFAULT_THRESHOLD, model::DEFAULT_MARGIN, None).0
    );
    for lang in ["es", "en"] {
        println!(
            "- at the shipped default, {lang} rows only: macro-F1 {:.3}",
            macro_f1(model::DEFAULT_THRESHOLD, model::DEFAULT_MARGIN, Some(lang)).0
        );
    }
    println!(
        "- for comparison, cosine to each topic's centroid: best macro-F1 {:.3} at threshold {:.2}, margin {:.2}",
        cbest.0, cbest.1, cbest.2
    );
    let (_, per) = macro_f1(model::DEFAULT_THRESHOLD, model::DEFAULT_MARGIN, None);
    println!(
        "- per topic F1 at the default: {}",
        ids.iter().zip(&per).map(|(i, f)| format!("{i} {f:.2}")).collect::<Vec<_>>().join(", ")
    );

    // Airline complaint reasons mapped to our ids (single label among five): with the
    // threshold (as the pipeline reports topics) and best-of-five without it.
    let targets = ["staff", "wait_time", "product_quality", "delivery", "digital"];
    for use_threshold in [true, false] {
        let mut c = Confusion::new(&["staff", "wait_time", "product_quality", "delivery", "digital", "none"]);
        for (r, v) in airline.iter().zip(air_vecs) {
            let Some(g) = r["topic"].as_str().and_then(airline_topic) else {
                continue;
            };
            let s = topics.similarities(v);
            let pred = ids
                .iter()
                .zip(&s)
                .filter(|(id, _)| targets.contains(&id.as_str()))
                .filter(|(_, s)| !use_threshold || **s >= topics.threshold())
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or("none", |(id, _)| id.as_str());
            c.add(g, pred);
        }
        let f1s: Vec<f64> = (0..targets.len()).map(|i| c.f1(i)).collect();
        println!(
            "- airline complaint reasons mapped to our ids ({} rows, {}): accuracy {:.3}, \
             macro-F1 over the five ids {:.3}",
            c.total(),
            if use_threshold { "with the threshold" } else { "best of five, no threshold" },
            c.accuracy(),
            f1s.iter().sum::<f64>() / f1s.len() as f64
        );
        println!("\n{}", c.to_markdown());
    }
    drop(topics);
    drop(enc);
    pipeline_with_model(&dir, &data, &corpus);
    println!("\n- peak RSS of the whole run: {} MiB", peak_rss_kib().unwrap_or(0) / 1024);
    let _ = DIM;
}

/// The whole pipeline with the model attached (what `escucha text analyze` runs when the model
/// is installed): load time, throughput per CPU-second on one thread, and its figures on every
/// set (hybrid sentiment and topics).
fn pipeline_with_model(dir: &std::path::Path, data: &std::path::Path, corpus: &[&str]) {
    use escucha_text::eval;
    let options = escucha_text::AnalyzeOptions { model_dir: Some(dir.to_path_buf()), ..Default::default() };
    let ((pipeline, note), load_wall, load_cpu) = timed(|| escucha_text::open_pipeline(&options));
    println!("\n## Whole pipeline with the model ({note})\n");
    println!("- load (encoder, per-id cache, prototypes, lexicons): {load_cpu:.2} s CPU ({load_wall:.2} s wall)");
    let _ = pipeline.analyze_batch(&corpus[..256.min(corpus.len())], None);
    let (n, wall, cpu) = timed(|| {
        let mut n = 0;
        for chunk in corpus.chunks(256) {
            n += pipeline.analyze_batch(chunk, None).len();
        }
        n
    });
    println!(
        "- whole pipeline (language, redaction, embedding, hybrid sentiment, emotions, hybrid topics, key \
         phrases), one thread, batches of 256: **{:.0} comments per CPU-second** ({n} comments; {:.0}/s wall)",
        n as f64 / cpu,
        n as f64 / wall
    );
    println!("- peak RSS so far: {} MiB", peak_rss_kib().unwrap_or(0) / 1024);
    let load = |name: &str| load_jsonl(&data.join(format!("{name}.jsonl"))).unwrap_or_default();
    println!("\n| set | lang | n | accuracy | macro-F1 | pos/neg AUC |\n|---|---|---:|---:|---:|---:|");
    for (set, lang) in eval::SENTIMENT_SETS {
        let e = eval::eval_sentiment(&pipeline, set, lang, &load(set), true);
        println!(
            "| {set} | {lang} | {} | {:.3} | {:.3} | {:.3} |",
            e.n,
            e.confusion.accuracy(),
            e.confusion.macro_f1(),
            e.auc
        );
        if *set == "en_airline_tweets" {
            println!("\n{}\n", e.confusion.to_markdown());
        }
    }
    println!("\n- emotions on the team-written emotion sets (bench/text/emotions/), model route:\n");
    print!("{}", eval::emotion_report(&pipeline, &["a", "b"]));
    let cx = eval::eval_topics_multilabel(&pipeline, &load("es_cx_dev"));
    println!(
        "\n- topics, es_cx_dev multi-label (development): macro-F1 **{:.3}** ({})",
        cx.macro_f1,
        cx.f1.iter().map(|(k, v)| format!("{k} {v:.2}")).collect::<Vec<_>>().join(", ")
    );
    let air = eval::eval_topics_airline(&pipeline, &load("en_airline_tweets"));
    println!(
        "- topics, airline complaint reasons mapped to our ids (evaluation only): accuracy {:.3}, macro-F1 **{:.3}** ({})",
        air.accuracy.unwrap_or(0.0),
        air.macro_f1,
        air.f1.iter().map(|(k, v)| format!("{k} {v:.2}")).collect::<Vec<_>>().join(", ")
    );
    if let Some(c) = &air.confusion {
        println!("\n{}", c.to_markdown());
    }
}
