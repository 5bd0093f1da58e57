//! Property tests of the streaming analyser on outside input (issue 3): random bytes, random
//! lines of JSON-ish text and JSON objects with odd `text` values. It never panics, writes
//! exactly one JSON line per non-blank input line, and counts the lines it failed.
//!
//! Each run of the stream builds its pipeline (~0.1 s unoptimised), so the stream properties
//! take few cases of many lines each; the analysis itself takes 256 texts on one pipeline. Seeds
//! are fixed so CI is repeatable; a longer hunt is
//! `PROPTEST_CASES=10000 PROPTEST_RNG_SEED=$RANDOM cargo test -p escucha-text --test text fuzz`.

use escucha_text::{AnalyzeOptions, LangMode, Pipeline, analyze_stream};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::{Value, json};
use std::io::Cursor;

/// `cases` cases from a fixed seed, unless `PROPTEST_CASES` / `PROPTEST_RNG_SEED` say otherwise.
fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = RngSeed::Fixed(0x7e47);
    }
    c
}

/// Text that stresses the analysers: PII-like runs next to multi-byte characters, combining
/// marks, emoji sequences, digits and separators, and arbitrary Unicode.
fn nasty_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        ".{0,12}",
        "[0-9 .+()/-]{1,16}",
        "[A-ZÁÉÑ][a-záéíóúñ]{1,8}",
        prop::sample::select(vec![
            "ana@example.com",
            "ana@exámple.com",
            "+34 600 123 456",
            "12345678Z",
            "X1234567L",
            "ES91 2100 0418 4502 0005 1332",
            "4111 1111 1111 1111",
            "Calle Mayor 5",
            "me llamo",
            "my name is",
            "DNI",
            "€",
            "ß",
            "İ",
            "e\u{301}",
            "🙂",
            "👩‍👩‍👧",
            "\u{feff}",
            "\u{200b}",
            "\u{202e}",
            "\t",
            "\u{0}",
            "\\u0000",
            "no",
            "muy mal",
            "great!!!",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|parts| parts.concat())
}

/// One input line: a JSON object with a text (and sometimes odd fields), or something else.
fn line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        5 => nasty_text().prop_map(|t| json!({ "text": t }).to_string().into_bytes()),
        1 => (nasty_text(), prop::sample::select(vec!["language", "sentiment", "error", "id", "pii"]))
            .prop_map(|(t, k)| json!({ k: 1, "text": t }).to_string().into_bytes()),
        1 => prop::sample::select(vec![
            "{\"text\": 5}", "{\"text\": null}", "{}", "[1]", "\"text\"", "{\"text\": \"a\"", "{\"text\": \"\\ud800\"}",
            "{\"text\": \"a\"} trailing", "  {\"text\": \"a\"}  ", "\u{feff}{\"text\": \"hola\"}", "{\"text\": \"a\", \"text\": \"b\"}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>().prop_filter("no line break", |b| *b != b'\n'), 0..60),
        1 => prop::sample::select(vec!["", " ", "\r", "\t \r"]).prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn non_blank_lines(input: &[u8]) -> usize {
    input.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count()
}

/// Runs the stream and checks its contract; returns the output lines.
fn run_and_check(input: &[u8], threads: usize, lang: LangMode) -> Result<Vec<Value>, TestCaseError> {
    let mut out = Vec::new();
    let options = AnalyzeOptions { lang, threads, ..Default::default() };
    let summary = analyze_stream(Cursor::new(input), &mut out, &options).expect("in-memory I/O");
    let text = String::from_utf8(out).map_err(|e| TestCaseError::fail(format!("output is not UTF-8: {e}")))?;
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {l}"))))
        .collect::<Result<_, _>>()?;
    prop_assert_eq!(lines.len(), non_blank_lines(input), "one output line per non-blank input line");
    prop_assert_eq!(summary.lines, lines.len());
    let failed = lines.iter().filter(|l| l.get("error").is_some_and(|e| e.get("code").is_some())).count();
    prop_assert_eq!(summary.failed, failed);
    for l in &lines {
        prop_assert!(l.is_object());
        prop_assert!(l.get("error").is_some() || l.get("sentiment").is_some(), "{l}");
    }
    Ok(lines)
}

/// One pipeline for every analysis case (building one is the slow part).
fn pipeline() -> &'static Pipeline {
    static PIPELINE: std::sync::OnceLock<Pipeline> = std::sync::OnceLock::new();
    PIPELINE.get_or_init(Pipeline::fallback)
}

proptest! {
    #![proptest_config(config(8))]

    #[test]
    fn random_bytes_get_one_line_each(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..120), 0..100),
    ) {
        run_and_check(&chunks.concat(), 1, LangMode::Auto)?;
    }

    #[test]
    fn random_lines_get_one_line_each_in_order(
        lines in prop::collection::vec(line(), 0..100),
        crlf in any::<bool>(),
        trailing in any::<bool>(),
        lang in prop::sample::select(vec![LangMode::Auto, LangMode::Es, LangMode::En]),
    ) {
        let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut input = lines.join(eol);
        if trailing {
            input.extend_from_slice(eol);
        }
        let out = run_and_check(&input, 1, lang)?;
        // Output order is input order: each good line's text comes back as sent.
        let texts: Vec<Option<String>> = input
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(|l| {
                let l = String::from_utf8_lossy(l);
                let l = l.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
                serde_json::from_str::<Value>(l).ok().and_then(|v| v.get("text")?.as_str().map(str::to_string))
            })
            .collect();
        for (o, t) in out.iter().zip(&texts) {
            if o.get("error").is_none() {
                prop_assert_eq!(o.get("text").and_then(Value::as_str), t.as_deref());
            }
        }
    }

}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn analysis_of_any_text_keeps_its_promises(text in nasty_text()) {
        let a = pipeline().analyze(&text, None);
        prop_assert!((-1.0..=1.0).contains(&a.sentiment.score));
        for span in &a.redaction.spans {
            prop_assert!(span.start < span.end && span.end <= text.len());
            prop_assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        }
    }
}

proptest! {
    #![proptest_config(config(3))]

    /// Enough lines to take the multi-threaded path: same contract.
    #[test]
    fn many_lines_over_threads_keep_count_and_order(lines in prop::collection::vec(line(), 16..80)) {
        let input = lines.join(&b"\n"[..]);
        let one = run_and_check(&input, 1, LangMode::Auto)?;
        let many = run_and_check(&input, 3, LangMode::Auto)?;
        prop_assert_eq!(one, many);
    }
}
