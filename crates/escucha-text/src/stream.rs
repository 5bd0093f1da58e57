//! The streaming entry point behind `escucha text analyze`: JSON lines in, JSON lines out.
//!
//! Each non-blank input line `{"text": …, …}` produces exactly one output line, in order: the
//! same object (its fields and their order kept) plus `language`, `language_confidence`,
//! `sentiment {label, score, confidence}`, `emotions[]`, `topics[]`, `key_phrases[]`,
//! `redacted`, `pii[]` (kinds and byte spans in the original text), `engine`, and `truncated`
//! when the text was longer than [`crate::MAX_TEXT_BYTES`]. A line that cannot be analysed
//! (invalid UTF-8, not JSON, not an object, no string `text`, longer than
//! [`MAX_LINE_BYTES`]) produces `{"error":{"code":…,"message":…}}` instead and the run
//! continues. Blank lines are skipped. Error messages never quote the input (it may hold
//! personal data). Lines are analysed in chunks spread over the available cores; output order
//! is input order.
//!
//! **Engine.** With [`AnalyzeOptions::model_dir`] pointing at an installed model (see
//! [`crate::model::install`]) the pipeline runs the model route (engine `use-v3`: each chunk is
//! embedded in one batch); without it, or when the model is not installed there, the lexicon
//! engine (`lexicon-v1`). Every output line names its `engine`, and [`open_pipeline`] returns a
//! one-line note saying which ran and why, for the command to print on stderr.

use crate::pipeline::{Analysis, Pipeline};
use crate::topics::Taxonomy;
use crate::{Lang, TextError};
use serde_json::{Map, Value, json};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::str::FromStr;

/// Input lines longer than this are rejected (`line_too_long`) without being held in memory.
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// Fields the output adds; an input object already holding one gets it overwritten.
const OUTPUT_FIELDS: &[&str] = &[
    "language",
    "language_confidence",
    "sentiment",
    "emotions",
    "topics",
    "key_phrases",
    "redacted",
    "pii",
    "engine",
    "truncated",
    "error",
];

/// How the language of each line is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LangMode {
    /// Detect it per line.
    #[default]
    Auto,
    /// Assume Spanish.
    Es,
    /// Assume English.
    En,
}

impl FromStr for LangMode {
    type Err = TextError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(LangMode::Auto),
            "es" => Ok(LangMode::Es),
            "en" => Ok(LangMode::En),
            _ => Err(TextError::LangMode(s.to_string())),
        }
    }
}

impl LangMode {
    fn forced(self) -> Option<Lang> {
        match self {
            LangMode::Auto => None,
            LangMode::Es => Some(Lang::Es),
            LangMode::En => Some(Lang::En),
        }
    }
}

/// Options of [`analyze_stream`].
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// Language detection or a forced language.
    pub lang: LangMode,
    /// Taxonomy to use (default: [`Taxonomy::default_cx`]).
    pub taxonomy: Option<Taxonomy>,
    /// Worker threads (0: the available parallelism).
    pub threads: usize,
    /// The installed model's folder (`<data>/models/use-v3`); `None`, or a folder without an
    /// installed model, runs the lexicon engine.
    pub model_dir: Option<PathBuf>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions { lang: LangMode::Auto, taxonomy: None, threads: 0, model_dir: None }
    }
}

/// Builds the pipeline [`analyze_stream`] runs for these options, and a one-line note saying
/// which engine it is and why (model loaded, not installed, or unreadable — then the lexicon
/// engine runs and the note gives the reason).
pub fn open_pipeline(options: &AnalyzeOptions) -> (Pipeline, String) {
    let taxonomy = options.taxonomy.clone().unwrap_or_else(Taxonomy::default_cx);
    let prototypes = Pipeline::prototypes_for(&taxonomy);
    let examples = Pipeline::organisation_examples(&taxonomy);
    let fallback = Pipeline::fallback_with_taxonomy(taxonomy);
    let Some(dir) = &options.model_dir else {
        return (fallback, format!("engine {}: lexicons and rules (no model requested)", crate::ENGINE_FALLBACK));
    };
    match crate::model::ModelRoute::open_dir(dir, &prototypes) {
        Ok(mut route) => {
            let pairs: Vec<(&str, [&str; 1])> = examples.iter().map(|(t, id)| (t.as_str(), [id.as_str()])).collect();
            let refs: Vec<(&str, &[&str])> = pairs.iter().map(|(t, id)| (*t, &id[..])).collect();
            route.fit_examples(&refs);
            let note = format!(
                "engine {}: multilingual sentence encoder from {}{}",
                crate::model::ENGINE_MODEL,
                dir.display(),
                route
                    .encoder()
                    .int8_kernel()
                    .map(|k| format!(" (8-bit products, {} kernel)", k.name()))
                    .unwrap_or_default()
            );
            (fallback.with_model(route), note)
        }
        Err(e) => (fallback, format!("engine {}: lexicons and rules, because {e}", crate::ENGINE_FALLBACK)),
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamSummary {
    /// Non-blank input lines read.
    pub lines: usize,
    /// Lines answered with an error object.
    pub failed: usize,
}

enum Line {
    Bytes(Vec<u8>),
    TooLong,
}

/// Reads one line (without its `\n`), refusing to buffer more than [`MAX_LINE_BYTES`].
fn read_line<R: BufRead>(input: &mut R, buf: &mut Vec<u8>) -> std::io::Result<Option<Line>> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        any = true;
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_LINE_BYTES {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = done.unwrap_or(available.len());
        input.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(if too_long { Line::TooLong } else { Line::Bytes(std::mem::take(buf)) }))
}

fn error_line(code: &str, message: String) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

fn r3(x: f32) -> f64 {
    ((x as f64) * 1000.0).round() / 1000.0
}

fn output_fields(a: &Analysis) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("language".into(), json!(a.language.lang.code()));
    m.insert("language_confidence".into(), json!(r3(a.language.confidence)));
    m.insert(
        "sentiment".into(),
        json!({
            "label": a.sentiment.label.as_str(),
            "score": r3(a.sentiment.score),
            "confidence": r3(a.sentiment.confidence),
        }),
    );
    m.insert(
        "emotions".into(),
        Value::Array(
            a.emotions
                .iter()
                .map(|e| {
                    json!({
                        "id": e.emotion.id(),
                        "polarity": if e.emotion.is_positive() { "positive" } else { "negative" },
                        "confidence": r3(e.confidence),
                    })
                })
                .collect(),
        ),
    );
    m.insert(
        "topics".into(),
        Value::Array(a.topics.iter().map(|t| json!({"id": t.id, "confidence": r3(t.confidence)})).collect()),
    );
    m.insert("key_phrases".into(), Value::Array(a.key_phrases.iter().map(|k| json!(k.text)).collect()));
    m.insert("redacted".into(), json!(a.redaction.text));
    m.insert(
        "pii".into(),
        Value::Array(
            a.redaction.spans.iter().map(|s| json!({"kind": s.kind, "start": s.start, "end": s.end})).collect(),
        ),
    );
    m.insert("engine".into(), json!(a.engine));
    if let Some(n) = a.truncated_from {
        m.insert("truncated".into(), json!({"original_bytes": n, "analyzed_bytes": a.redaction_source_len()}));
    }
    m
}

impl Analysis {
    fn redaction_source_len(&self) -> usize {
        // the analysed text is the capped prefix; its length is bounded by MAX_TEXT_BYTES
        self.truncated_from.map_or(0, |n| n.min(crate::MAX_TEXT_BYTES))
    }
}

/// A line ready for analysis: the trimmed JSON object, its text, and whether it already holds
/// one of the output fields.
struct Parsed<'a> {
    json: &'a str,
    text: String,
    collides: bool,
}

/// Parses one input line; `Err` holds its error line.
fn parse_line(no: usize, line: &Line) -> Result<Parsed<'_>, String> {
    let bytes = match line {
        Line::TooLong => {
            return Err(error_line("line_too_long", format!("line {no} is longer than {MAX_LINE_BYTES} bytes")));
        }
        Line::Bytes(b) => b,
    };
    let s = std::str::from_utf8(bytes)
        .map_err(|e| error_line("invalid_utf8", format!("line {no} is not valid UTF-8 (byte {})", e.valid_up_to())))?;
    let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let probe: Probe = if s.starts_with('{') {
        serde_json::from_str(s)
            .map_err(|e| error_line("invalid_json", format!("line {no} is not valid JSON (column {})", e.column())))?
    } else {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(s) {
            Ok(_) => error_line("not_an_object", format!("line {no} is not a JSON object")),
            Err(e) => error_line("invalid_json", format!("line {no} is not valid JSON (column {})", e.column())),
        });
    };
    let Some(text) = probe.text else {
        return Err(error_line("missing_text", format!("line {no} has no string field \"text\"")));
    };
    Ok(Parsed { json: s, text, collides: probe.collides })
}

/// Analyses a run of lines (one batch for the pipeline) into their output lines, in order.
fn process_lines(pipeline: &Pipeline, lang: Option<Lang>, lines: &[(usize, Line)]) -> Vec<Result<String, String>> {
    let parsed: Vec<Result<Parsed, String>> = lines.iter().map(|(no, l)| parse_line(*no, l)).collect();
    let texts: Vec<&str> = parsed.iter().filter_map(|p| p.as_ref().ok().map(|p| p.text.as_str())).collect();
    let mut analyses = pipeline.analyze_batch(&texts, lang).into_iter();
    parsed
        .into_iter()
        .zip(lines)
        .map(|(p, (no, _))| {
            let p = p?;
            let a = analyses.next().ok_or_else(|| error_line("internal", format!("line {no} was not analysed")))?;
            render_line(*no, &p, &a)
        })
        .collect()
}

/// The output line of an analysed input line.
fn render_line(no: usize, p: &Parsed, analysis: &Analysis) -> Result<String, String> {
    let s = p.json;
    if p.collides || !s.ends_with('}') {
        // Rare: the input already has one of our fields; rebuild the object, ours winning.
        let mut obj: Map<String, Value> =
            serde_json::from_str(s).map_err(|_| error_line("invalid_json", format!("line {no} is not valid JSON")))?;
        for (k, v) in output_fields(analysis) {
            obj.insert(k, v);
        }
        return Ok(Value::Object(obj).to_string());
    }
    // Keep the input object byte for byte (field order included) and append our fields.
    let mut out = String::with_capacity(s.len() * 2 + 256);
    out.push_str(&s[..s.len() - 1]);
    out.push(',');
    write_fields(&mut out, analysis);
    out.push('}');
    Ok(out)
}

/// What the stream needs from an input object, read without building it: its `text` (if a
/// string) and whether it already holds one of the output fields.
struct Probe {
    text: Option<String>,
    collides: bool,
}

impl<'de> serde::Deserialize<'de> for Probe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Probe;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
                let mut p = Probe { text: None, collides: false };
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "text" {
                        p.text = match map.next_value::<Value>()? {
                            Value::String(t) => Some(t),
                            _ => None,
                        };
                    } else {
                        p.collides |= OUTPUT_FIELDS.contains(&key.as_ref());
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}

fn push_json_str(out: &mut String, s: &str) {
    // serde_json escapes exactly as JSON requires; writing to a String cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

fn push_num(out: &mut String, x: f32) {
    use std::fmt::Write as _;
    let v = if x.is_finite() { r3(x) } else { 0.0 };
    let _ = write!(out, "{v}");
}

/// Appends the output fields (without braces) as JSON, in the documented order.
fn write_fields(out: &mut String, a: &Analysis) {
    use std::fmt::Write as _;
    out.push_str("\"language\":\"");
    out.push_str(a.language.lang.code());
    out.push_str("\",\"language_confidence\":");
    push_num(out, a.language.confidence);
    out.push_str(",\"sentiment\":{\"label\":\"");
    out.push_str(a.sentiment.label.as_str());
    out.push_str("\",\"score\":");
    push_num(out, a.sentiment.score);
    out.push_str(",\"confidence\":");
    push_num(out, a.sentiment.confidence);
    out.push_str("},\"emotions\":[");
    for (i, e) in a.emotions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"id\":\"{}\",\"polarity\":\"{}\",\"confidence\":",
            e.emotion.id(),
            if e.emotion.is_positive() { "positive" } else { "negative" }
        );
        push_num(out, e.confidence);
        out.push('}');
    }
    out.push_str("],\"topics\":[");
    for (i, t) in a.topics.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"id\":");
        push_json_str(out, &t.id);
        out.push_str(",\"confidence\":");
        push_num(out, t.confidence);
        out.push('}');
    }
    out.push_str("],\"key_phrases\":[");
    for (i, k) in a.key_phrases.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, &k.text);
    }
    out.push_str("],\"redacted\":");
    push_json_str(out, &a.redaction.text);
    out.push_str(",\"pii\":[");
    for (i, p) in a.redaction.spans.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let kind = serde_json::to_string(&p.kind).unwrap_or_else(|_| "\"\"".into());
        let _ = write!(out, "{{\"kind\":{kind},\"start\":{},\"end\":{}}}", p.start, p.end);
    }
    out.push_str("],\"engine\":");
    push_json_str(out, a.engine);
    if let Some(n) = a.truncated_from {
        let _ =
            write!(out, ",\"truncated\":{{\"original_bytes\":{n},\"analyzed_bytes\":{}}}", a.redaction_source_len());
    }
}

/// Reads JSON lines `{"text": …}` from `input` and writes one analysed JSON line per input
/// line to `output`, in order (see the module docs). I/O errors stop the run; bad lines do not.
pub fn analyze_stream<R: BufRead, W: Write>(
    input: R,
    output: W,
    options: &AnalyzeOptions,
) -> std::io::Result<StreamSummary> {
    let (pipeline, _note) = open_pipeline(options);
    analyze_stream_with(&pipeline, input, output, options)
}

/// Like [`analyze_stream`], with a pipeline already built (e.g. by [`open_pipeline`], whose
/// note the caller prints). Only `lang` and `threads` of `options` are used.
pub fn analyze_stream_with<R: BufRead, W: Write>(
    pipeline: &Pipeline,
    mut input: R,
    mut output: W,
    options: &AnalyzeOptions,
) -> std::io::Result<StreamSummary> {
    let lang = options.lang.forced();
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    }
    .clamp(1, 64);
    const CHUNK: usize = 512;
    let mut summary = StreamSummary::default();
    let mut buf = Vec::new();
    let mut eof = false;
    while !eof {
        let mut chunk: Vec<(usize, Line)> = Vec::with_capacity(CHUNK);
        while chunk.len() < CHUNK {
            match read_line(&mut input, &mut buf)? {
                None => {
                    eof = true;
                    break;
                }
                Some(Line::Bytes(b)) if b.iter().all(|c| c.is_ascii_whitespace()) => continue,
                Some(l) => {
                    summary.lines += 1;
                    chunk.push((summary.lines, l));
                }
            }
        }
        if chunk.is_empty() {
            continue;
        }
        let results: Vec<Result<String, String>> = if threads == 1 || chunk.len() < 16 {
            process_lines(pipeline, lang, &chunk)
        } else {
            let per = chunk.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let handles: Vec<_> =
                    chunk.chunks(per).map(|part| scope.spawn(move || process_lines(pipeline, lang, part))).collect();
                handles
                    .into_iter()
                    .flat_map(|h| {
                        h.join().unwrap_or_else(|_| vec![Err(error_line("internal", "analysis failed".into()))])
                    })
                    .collect()
            })
        };
        for r in results {
            let line = match r {
                Ok(l) => l,
                Err(e) => {
                    summary.failed += 1;
                    e
                }
            };
            output.write_all(line.as_bytes())?;
            output.write_all(b"\n")?;
        }
    }
    output.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> (Vec<Value>, StreamSummary) {
        let mut out = Vec::new();
        let s = analyze_stream(input, &mut out, &AnalyzeOptions::default()).unwrap();
        let lines = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (lines, s)
    }

    #[test]
    fn lang_mode_parses() {
        assert_eq!("auto".parse::<LangMode>().unwrap(), LangMode::Auto);
        assert_eq!("ES".parse::<LangMode>().unwrap(), LangMode::Es);
        assert_eq!("en".parse::<LangMode>().unwrap(), LangMode::En);
        assert!("fr".parse::<LangMode>().is_err());
    }

    #[test]
    fn keeps_fields_and_order_and_adds_analysis() {
        let (out, s) = run(b"{\"id\":7,\"text\":\"Muy mal servicio, me cobraron dos veces\"}\n");
        assert_eq!(s, StreamSummary { lines: 1, failed: 0 });
        let o = &out[0];
        assert_eq!(o["id"], 7);
        assert_eq!(o["language"], "es");
        assert_eq!(o["sentiment"]["label"], "negative");
        assert_eq!(o["engine"], crate::ENGINE_FALLBACK);
        assert!(o["topics"].as_array().unwrap().iter().any(|t| t["id"] == "billing"));
    }

    #[test]
    fn bad_lines_get_error_objects_and_the_run_continues() {
        let mut input = Vec::new();
        input.extend_from_slice(b"not json\n");
        input.extend_from_slice(b"{\"text\": 5}\n");
        input.extend_from_slice(b"[1,2]\n");
        input.extend_from_slice(&[0xff, 0xfe, b'\n']);
        input.extend_from_slice(b"\n");
        input.extend_from_slice(b"{\"text\":\"\"}\n");
        input.extend_from_slice("{\"text\":\"😡😡😡\"}".as_bytes());
        let (out, s) = run(&input);
        assert_eq!(s, StreamSummary { lines: 6, failed: 4 });
        assert_eq!(out[0]["error"]["code"], "invalid_json");
        assert_eq!(out[1]["error"]["code"], "missing_text");
        assert_eq!(out[2]["error"]["code"], "not_an_object");
        assert_eq!(out[3]["error"]["code"], "invalid_utf8");
        assert_eq!(out[4]["language"], "und");
        assert_eq!(out[4]["sentiment"]["label"], "neutral");
        assert_eq!(out[5]["sentiment"]["label"], "negative");
    }

    #[test]
    fn input_object_is_kept_byte_for_byte() {
        let mut out = Vec::new();
        analyze_stream(&b"{\"z\":1,\"text\":\"hola \\u00e1\",\"a\":[2]}\n"[..], &mut out, &AnalyzeOptions::default())
            .unwrap();
        let line = String::from_utf8(out).unwrap();
        assert!(line.starts_with("{\"z\":1,\"text\":\"hola \\u00e1\",\"a\":[2],\"language\":"), "{line}");
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["redacted"], "hola á");
    }

    #[test]
    fn output_field_collision_is_overwritten() {
        let (out, _) = run(b"{\"text\":\"great\",\"language\":\"fr\"}\n");
        assert_eq!(out[0]["language"], "en");
    }
}
