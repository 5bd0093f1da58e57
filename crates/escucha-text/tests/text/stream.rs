//! The `analyze_stream` contract and bad input.

use escucha_text::{AnalyzeOptions, LangMode, Pipeline, StreamSummary, analyze_stream};
use serde_json::Value;
use std::io::Cursor;

fn run_with(input: Vec<u8>, options: &AnalyzeOptions) -> (Vec<Value>, StreamSummary) {
    let mut out = Vec::new();
    let summary = analyze_stream(Cursor::new(input), &mut out, options).expect("in-memory I/O");
    let text = String::from_utf8(out).expect("output is UTF-8");
    let lines = text.lines().map(|l| serde_json::from_str(l).expect("every output line is JSON")).collect();
    (lines, summary)
}

fn run(input: Vec<u8>) -> (Vec<Value>, StreamSummary) {
    run_with(input, &AnalyzeOptions::default())
}

fn line(text: &str) -> Vec<u8> {
    let mut v = serde_json::json!({ "text": text }).to_string().into_bytes();
    v.push(b'\n');
    v
}

#[test]
fn every_line_gets_the_documented_fields_in_order() {
    let mut input = line("El técnico no vino y nadie avisó. Pésimo.");
    input.extend(line("Great staff, thanks a lot!"));
    input.extend(line("Mi DNI es 12345678Z y mi correo ana@example.com"));
    let (out, summary) = run(input);
    assert_eq!(summary, StreamSummary { lines: 3, failed: 0 });
    assert_eq!(out.len(), 3);
    for o in &out {
        for field in ["text", "language", "sentiment", "emotions", "topics", "redacted", "engine"] {
            assert!(o.get(field).is_some(), "missing {field} in {o}");
        }
        let score = o["sentiment"]["score"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&score));
        assert!(["negative", "neutral", "positive"].contains(&o["sentiment"]["label"].as_str().unwrap()));
        assert_eq!(o["engine"], "lexicon-v1");
    }
    assert_eq!(out[0]["language"], "es");
    assert_eq!(out[0]["sentiment"]["label"], "negative");
    assert_eq!(out[1]["language"], "en");
    assert_eq!(out[1]["sentiment"]["label"], "positive");
    assert_eq!(out[2]["redacted"], "Mi DNI es [ID] y mi correo [EMAIL]");
}

#[test]
fn forced_language_is_used() {
    let options = AnalyzeOptions { lang: LangMode::En, ..Default::default() };
    let (out, _) = run_with(line("sin problemas"), &options);
    assert_eq!(out[0]["language"], "en");
}

#[test]
fn one_megabyte_text_is_capped_and_says_so() {
    let big = "la atención fue excelente pero el cobro fatal. ".repeat(22_000);
    assert!(big.len() > 1_000_000);
    let (out, summary) = run(line(&big));
    assert_eq!(summary.failed, 0);
    assert_eq!(out[0]["truncated"]["original_bytes"], big.len());
    assert!(out[0]["redacted"].as_str().unwrap().len() <= escucha_text::MAX_TEXT_BYTES);
}

#[test]
fn garbage_html_emojis_and_mixed_languages_do_not_panic() {
    let mut input = Vec::new();
    input.extend(line(""));
    input.extend(line("😡😡😡"));
    input.extend(line("<script>alert('x')</script><b>hola</b> &amp; &#x27;"));
    input.extend(line("\u{0}\u{1}\u{7f}\u{fffd}\u{202e}ﷺ𝕏"));
    input.extend(line("El servicio fue pésimo y nadie me ayudó. The staff were rude and never called me back."));
    input.extend((0..300).map(|i| (i * 37 % 256) as u8).filter(|b| *b != b'\n'));
    input.push(b'\n');
    input.extend(b"{\"text\": \"unterminated\n");
    input.extend(b"{\"no_text\": 1}\n");
    input.extend(line("fin"));
    let (out, summary) = run(input);
    assert_eq!(out.len(), 9, "one output line per input line");
    assert_eq!(summary, StreamSummary { lines: 9, failed: 3 });
    assert_eq!(out[0]["language"], "und");
    assert_eq!(out[1]["sentiment"]["label"], "negative");
    assert_eq!(out[4]["language"], "mixed");
    assert!(out[5]["error"]["code"].is_string());
    assert_eq!(out[6]["error"]["code"], "invalid_json");
    assert_eq!(out[7]["error"]["code"], "missing_text");
    assert!(out[8].get("error").is_none());
}

#[test]
fn error_messages_never_quote_the_input() {
    let (out, _) = run(b"{\"text\": \"ana@example.com\" oops}\n".to_vec());
    let msg = out[0]["error"]["message"].as_str().unwrap();
    assert!(!msg.contains("ana@"), "{msg}");
}

#[test]
fn many_lines_keep_their_order_across_threads() {
    let mut input = Vec::new();
    for i in 0..2000 {
        input.extend(format!("{{\"n\":{i},\"text\":\"comentario número {i}, muy bien\"}}\n").into_bytes());
    }
    let options = AnalyzeOptions { threads: 2, ..Default::default() };
    let (out, summary) = run_with(input, &options);
    assert_eq!(summary.lines, 2000);
    for (i, o) in out.iter().enumerate() {
        assert_eq!(o["n"], i);
    }
}

#[test]
fn pipeline_results_name_their_analyser() {
    let a = Pipeline::fallback().analyze("Muy amable el asesor, gracias", None);
    assert_eq!(a.sentiment.analyzer.name, "lexicon-sentiment");
    assert_eq!(a.language.analyzer.name, "heuristic-lid");
    assert!(a.topics.iter().all(|t| t.analyzer.name == "rule-topics"));
    assert!(a.sentiment.confidence > 0.0);
}

#[test]
fn regression_linea_before_a_phone_number_is_a_phone_cue() {
    let (out, _) = run(line("quiero dar de baja la línea 712745786"));
    assert_eq!(out[0]["redacted"], "quiero dar de baja la línea [PHONE]");
}

#[test]
fn a_line_longer_than_the_limit_is_refused_and_the_next_one_analysed() {
    let mut input = Vec::with_capacity(escucha_text::stream::MAX_LINE_BYTES + 100);
    input.extend(b"{\"text\":\"");
    input.resize(escucha_text::stream::MAX_LINE_BYTES + 10, b'a');
    input.extend(b"\"}\n");
    input.extend(line("todo perfecto"));
    let (out, summary) = run(input);
    assert_eq!(summary, StreamSummary { lines: 2, failed: 1 });
    assert_eq!(out[0]["error"]["code"], "line_too_long");
    assert_eq!(out[1]["sentiment"]["label"], "positive");
}

#[test]
fn random_unicode_never_panics_and_spans_stay_on_char_boundaries() {
    // A fixed-seed generator over characters that stress the rules: multi-byte letters,
    // combining marks, emojis, digits with separators, @, :, ( ) and whitespace.
    const POOL: &[&str] = &[
        "a", "Á", "ñ", "e\u{301}", "Z", "x", "q", "@", ".", ",", ":", ")", "(", "-", "+", "/", "#", " ", " ", "\n",
        "\t", "0", "1", "5", "9", "😡", "👍", "🙃", "€", "$", "º", "¿", "!", "'", "Juan ", "Pérez ", "calle ", "DNI ",
        "ES91 ", "http://", "www.", "<b>", "&amp;", "\u{0}", "ß", "İ", "ﷺ", "𝕏", "中", "\u{feff}", "\u{301}",
    ];
    let pipeline = Pipeline::fallback();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..1500 {
        let mut text = String::new();
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let len = (seed >> 33) % 60;
        for _ in 0..len {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            text.push_str(POOL[((seed >> 33) as usize) % POOL.len()]);
        }
        let a = pipeline.analyze(&text, None);
        assert!((-1.0..=1.0).contains(&a.sentiment.score));
        for s in &a.redaction.spans {
            assert!(s.start < s.end && s.end <= text.len());
            assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        }
    }
}
