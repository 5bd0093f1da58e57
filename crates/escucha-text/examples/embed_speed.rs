//! Development tool: embedding throughput per CPU-second of the calling thread, exact f32 pass
//! against each 8-bit kernel this CPU has (VNNI, AVX2), and how far apart their vectors are.
//!
//! Run: `ESCUCHA_MODEL_DIR=… cargo run --release -p escucha-text --example embed_speed`
//! (`KERNELS=avx2` or `KERNELS=off,vnni` picks the passes; `N=…` the number of texts).

use escucha_text::eval::{data_dir, load_jsonl};
use escucha_text::model::{Encoder, Int8Kernel};
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
    let kernels = std::env::var("KERNELS").unwrap_or_else(|_| "off,vnni,avx2".into());
    let modes: Vec<Option<Int8Kernel>> = kernels.split(',').map(Int8Kernel::from_name).collect();
    let base = Encoder::load(&dir).expect("model").with_int8(false);
    let exact = base.embed(&refs);
    let mut enc = Some(base);
    for kernel in modes {
        let c0 = thread_cpu_s();
        let e = enc.take().expect("encoder").with_int8_kernel(kernel);
        let pack_ms = (thread_cpu_s() - c0) * 1e3;
        let name = e.int8_kernel().map_or("off (f32)", Int8Kernel::name);
        let _ = e.embed(&refs[..200]);
        let c0 = thread_cpu_s();
        let v = e.embed(&refs);
        let cpu = thread_cpu_s() - c0;
        let (mut worst_d, mut worst_cos) = (0f32, 1f32);
        for (a, b) in exact.iter().zip(&v) {
            let d = a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
            let cos: f32 = a.iter().zip(b).map(|(p, q)| p * q).sum();
            worst_d = worst_d.max(d);
            worst_cos = worst_cos.min(cos);
        }
        println!(
            "{name}: {:.0} texts per CPU-second ({n} texts); vs exact: max abs difference {worst_d:.2e}, min cosine \
             {worst_cos:.5}; weights quantised and packed in {pack_ms:.0} ms",
            n as f64 / cpu
        );
        enc = Some(e);
    }
}
