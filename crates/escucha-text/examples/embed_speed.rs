//! Development tool: embedding throughput per CPU-second of the calling thread, exact f32 pass
//! against the 8-bit second convolution, and how far apart their vectors are.
//!
//! Run: `ESCUCHA_MODEL_DIR=… cargo run --release -p escucha-text --example embed_speed`

use escucha_text::eval::{data_dir, load_jsonl};
use escucha_text::model::Encoder;
use std::path::PathBuf;

fn thread_cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    s.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1e9
}

fn main() {
    let dir = PathBuf::from(std::env::var("ESCUCHA_MODEL_DIR").expect("set ESCUCHA_MODEL_DIR"));
    let data = data_dir().expect("data folder");
    let rows = load_jsonl(&data.join("en_airline_tweets.jsonl")).expect("set");
    let mut texts: Vec<String> = rows.iter().map(|r| r["text"].as_str().unwrap_or("").to_string()).collect();
    for set in ["es_evomsa_tweets", "es_cx_dev"] {
        let rows = load_jsonl(&data.join(format!("{set}.jsonl"))).expect("set");
        texts.extend(rows.iter().map(|r| r["text"].as_str().unwrap_or("").to_string()));
    }
    let n: usize = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(6000).min(texts.len());
    let refs: Vec<&str> = texts[..n].iter().map(String::as_str).collect();
    let mut exact = None;
    // ONLY_INT8=1 skips the exact pass (for profiling).
    let modes: &[bool] = if std::env::var_os("ONLY_INT8").is_some() { &[true] } else { &[false, true] };
    for &int8 in modes {
        let e = Encoder::load(&dir).expect("model").with_int8(int8);
        let _ = e.embed(&refs[..200]);
        let c0 = thread_cpu_s();
        let v = e.embed(&refs);
        let cpu = thread_cpu_s() - c0;
        println!("int8={} (active {}): {:.0} texts per CPU-second ({n} texts)", int8, e.int8(), n as f64 / cpu);
        if let Some(x) = &exact {
            let x: &Vec<[f32; 512]> = x;
            let (mut worst_d, mut worst_cos) = (0f32, 1f32);
            for (a, b) in x.iter().zip(&v) {
                let d = a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
                let cos: f32 = a.iter().zip(b).map(|(p, q)| p * q).sum();
                worst_d = worst_d.max(d);
                worst_cos = worst_cos.min(cos);
            }
            println!("int8 vs exact: max abs difference {worst_d:.2e}, min cosine {worst_cos:.5}");
        } else {
            exact = Some(v);
        }
    }
}
