//! An organisation's labelled comments as a file: JSON lines, each a comment with its sentiment,
//! its topics, or both — what `escucha text analyze --examples` reads to teach the engine
//! ([`crate::Pipeline::learn_sentiment`], [`crate::Pipeline::learn_topics`]).
//!
//! ```text
//! {"text": "El cobro salió doble", "lang": "es", "sentiment": "negative", "topics": ["billing"]}
//! {"text": "the new map is sick", "sentiment": "positive"}
//! {"text": "Todo correcto", "topics": []}
//! ```
//!
//! The file is taken whole or not at all: every bad line is reported by its number, and a file
//! with any bad line teaches nothing, so a typo never becomes a silently wrong example.

use serde_json::Value;

use crate::sentiment::{LabelledSentiment, SentimentLabel};
use crate::topics::LabelledExample;

/// The comments of a labelled file, split by what they teach (a comment with both a sentiment
/// and topics is in both lists).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelledComments {
    /// Comments with a sentiment label.
    pub sentiment: Vec<LabelledSentiment>,
    /// Comments with a topic list (an empty list is a negative example for every topic).
    pub topics: Vec<LabelledExample>,
}

/// What is wrong with one line of a labelled file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LabelledLineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, for a person.
    pub message: String,
}

/// Parses a labelled file. `topic_ids` are the ids the engine knows (the default taxonomy plus
/// an organisation's); a topic outside them is an error on its line. Blank lines are skipped.
/// Returns every bad line when there is any.
pub fn parse_labelled_comments(bytes: &[u8], topic_ids: &[&str]) -> Result<LabelledComments, Vec<LabelledLineError>> {
    let mut out = LabelledComments::default();
    let mut errors = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(raw, topic_ids) {
            Ok((sentiment, topics)) => {
                out.sentiment.extend(sentiment);
                out.topics.extend(topics);
            }
            Err(message) => errors.push(LabelledLineError { line, message }),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

type ParsedLine = (Option<LabelledSentiment>, Option<LabelledExample>);

fn parse_line(raw: &[u8], topic_ids: &[&str]) -> Result<ParsedLine, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "not UTF-8".to_string())?;
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(obj) = value else {
        return Err("not a JSON object".into());
    };
    let text = match obj.get("text") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        Some(Value::String(_)) => return Err("\"text\" is empty".into()),
        Some(_) => return Err("\"text\" is not a string".into()),
        None => return Err("no \"text\"".into()),
    };
    let lang = match obj.get("lang") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) if l == "es" || l == "en" => Some(l.clone()),
        Some(other) => return Err(format!("\"lang\" must be \"es\" or \"en\", not {other}")),
    };
    let sentiment = match obj.get("sentiment") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if matches!(s.as_str(), "negative" | "neutral" | "positive") => SentimentLabel::parse(s)
            .map(|sentiment| LabelledSentiment { text: text.clone(), lang: lang.clone(), sentiment }),
        Some(other) => return Err(format!("\"sentiment\" must be negative, neutral or positive, not {other}")),
    };
    let topics = match obj.get("topics") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut ids = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(id) if topic_ids.contains(&id) => ids.push(id.to_string()),
                    Some(id) => return Err(format!("unknown topic id {id:?} (known: {})", topic_ids.join(", "))),
                    None => return Err(format!("topic ids are strings, not {item}")),
                }
            }
            Some(LabelledExample { text, lang, topics: ids })
        }
        Some(other) => return Err(format!("\"topics\" must be a list of topic ids, not {other}")),
    };
    if sentiment.is_none() && topics.is_none() {
        return Err("neither \"sentiment\" nor \"topics\": nothing to learn".into());
    }
    Ok((sentiment, topics))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 3] = ["billing", "staff", "parking"];

    #[test]
    fn good_lines_split_into_what_they_teach() {
        let file = concat!(
            "{\"text\": \"El cobro salió doble\", \"lang\": \"es\", \"sentiment\": \"negative\", \"topics\": [\"billing\"]}\n",
            "\n",
            "{\"text\": \"the new map is sick\", \"sentiment\": \"positive\", \"id\": 7}\r\n",
            "{\"text\": \"Todo correcto\", \"topics\": []}",
        );
        let parsed = parse_labelled_comments(file.as_bytes(), &IDS).expect("valid file");
        assert_eq!(
            parsed.sentiment,
            vec![
                LabelledSentiment {
                    text: "El cobro salió doble".into(),
                    lang: Some("es".into()),
                    sentiment: SentimentLabel::Negative
                },
                LabelledSentiment {
                    text: "the new map is sick".into(),
                    lang: None,
                    sentiment: SentimentLabel::Positive
                },
            ]
        );
        assert_eq!(
            parsed.topics,
            vec![
                LabelledExample {
                    text: "El cobro salió doble".into(),
                    lang: Some("es".into()),
                    topics: vec!["billing".into()]
                },
                LabelledExample { text: "Todo correcto".into(), lang: None, topics: vec![] },
            ]
        );
    }

    #[test]
    fn every_bad_line_is_reported_by_number_and_nothing_is_kept() {
        let lines = [
            "{\"text\": \"ok\", \"sentiment\": \"positive\"}",
            "not json",
            "[1, 2]",
            "{\"sentiment\": \"negative\"}",
            "{\"text\": \"  \", \"sentiment\": \"negative\"}",
            "{\"text\": \"x\", \"sentiment\": \"furious\"}",
            "{\"text\": \"x\", \"topics\": [\"no_such\"]}",
            "{\"text\": \"x\", \"topics\": \"billing\"}",
            "{\"text\": \"x\", \"lang\": \"fr\", \"sentiment\": \"neutral\"}",
            "{\"text\": \"x\", \"sentimnet\": \"neutral\"}",
        ];
        let mut bytes = lines.join("\n").into_bytes();
        bytes.extend_from_slice(b"\n{\"text\": \"\xff\xfe\", \"sentiment\": \"neutral\"}\n");
        let errors = parse_labelled_comments(&bytes, &IDS).expect_err("bad lines");
        let numbers: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(numbers, (2..=11).collect::<Vec<_>>());
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(text[0].starts_with("line 2: not JSON"), "{text:?}");
        assert_eq!(text[1], "line 3: not a JSON object");
        assert_eq!(text[2], "line 4: no \"text\"");
        assert_eq!(text[3], "line 5: \"text\" is empty");
        assert!(text[4].contains("\"furious\""), "{text:?}");
        assert!(text[5].contains("unknown topic id \"no_such\"") && text[5].contains("parking"), "{text:?}");
        assert!(text[6].contains("list of topic ids"), "{text:?}");
        assert!(text[7].contains("\"fr\""), "{text:?}");
        assert!(text[8].contains("nothing to learn"), "{text:?}");
        assert_eq!(text[9], "line 11: not UTF-8");
    }
}
