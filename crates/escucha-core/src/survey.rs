//! Surveys: versioned definitions with the customer-experience question types, languages,
//! required flags and simple `show_if` conditions; and the parsing of a respondent's answers
//! against a definition.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::emotions::Emotion;
use crate::ids::{OrgId, SurveyId};
use crate::journey::is_key;
use crate::validation::{Collector, ValidationErrors};
use crate::values::{Language, clip};

/// Longest accepted open-text answer, in characters.
pub const MAX_TEXT_ANSWER_CHARS: usize = 10_000;

/// The kinds of question a survey can ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    /// Net Promoter Score: likelihood to recommend, 0–10.
    Nps,
    /// Customer satisfaction, 1–5.
    Csat,
    /// Customer effort: agreement that it was easy, 1–7.
    Ces,
    /// Customer advocacy: agreement that the company does what is best for me, 1–5.
    Cadv,
    /// Emotions felt, from the emotion catalogue (for Net Emotional Value).
    Emotions,
    /// Repurchase intent, 1–5.
    Repurchase,
    /// A rating on 1–N (N = `scale`, 2–10, default 5).
    Rating,
    /// One option of a list.
    SingleChoice,
    /// Several options of a list.
    MultiChoice,
    /// Open text: the verbatim.
    Text,
}

impl QuestionType {
    /// All types, for messages and tests.
    pub const ALL: [QuestionType; 10] = [
        QuestionType::Nps,
        QuestionType::Csat,
        QuestionType::Ces,
        QuestionType::Cadv,
        QuestionType::Emotions,
        QuestionType::Repurchase,
        QuestionType::Rating,
        QuestionType::SingleChoice,
        QuestionType::MultiChoice,
        QuestionType::Text,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionType::Nps => "nps",
            QuestionType::Csat => "csat",
            QuestionType::Ces => "ces",
            QuestionType::Cadv => "cadv",
            QuestionType::Emotions => "emotions",
            QuestionType::Repurchase => "repurchase",
            QuestionType::Rating => "rating",
            QuestionType::SingleChoice => "single_choice",
            QuestionType::MultiChoice => "multi_choice",
            QuestionType::Text => "text",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        QuestionType::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// The fixed numeric scale of score questions (`rating` has its own).
    pub fn fixed_scale(self) -> Option<(u8, u8)> {
        match self {
            QuestionType::Nps => Some((0, 10)),
            QuestionType::Csat | QuestionType::Cadv | QuestionType::Repurchase => Some((1, 5)),
            QuestionType::Ces => Some((1, 7)),
            _ => None,
        }
    }

    fn has_options(self) -> bool {
        matches!(self, QuestionType::SingleChoice | QuestionType::MultiChoice | QuestionType::Emotions)
    }
}

/// Text in several languages, keyed by language tag.
pub type LocalizedText = BTreeMap<String, String>;

/// An option of a choice question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceOption {
    /// Stable id, what answers carry.
    pub id: String,
    /// Label per language.
    pub text: LocalizedText,
}

/// Comparison used by a `show_if` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    /// Equal to the value (score or option id).
    Eq,
    /// Not equal.
    Ne,
    /// Score less than.
    Lt,
    /// Score at most.
    Lte,
    /// Score greater than.
    Gt,
    /// Score at least.
    Gte,
    /// One of a list of values.
    In,
    /// Any answer was given.
    Answered,
}

/// Show a question only when an earlier answer satisfies a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The earlier question whose answer is tested.
    pub question: String,
    /// The comparison.
    pub op: ConditionOp,
    /// The value compared with (number, option id, or list for `in`); absent for `answered`.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub value: Value,
}

/// A validated question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Stable id, unique in the survey; answers are keyed by it.
    pub id: String,
    /// Question type.
    #[serde(rename = "type")]
    pub kind: QuestionType,
    /// Wording per language; every survey language is present.
    pub text: LocalizedText,
    /// Must be answered when shown.
    pub required: bool,
    /// Options of choice and emotion questions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    /// Top of a `rating` scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u8>,
    /// Condition to show the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
}

impl Question {
    /// The inclusive numeric range of a score question.
    pub fn score_range(&self) -> Option<(u8, u8)> {
        match self.kind {
            QuestionType::Rating => Some((1, self.scale.unwrap_or(5))),
            k => k.fixed_scale(),
        }
    }
}

/// A survey definition that cannot be invalid: at least one question, unique ids, every text in
/// every survey language, options where needed, conditions pointing at earlier questions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyDefinition {
    /// Survey languages; the first is the default.
    pub languages: Vec<String>,
    /// Questions in order.
    pub questions: Vec<Question>,
}

/// A stored survey: a name, the current version's definition and an optional touchpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    /// Store id.
    pub id: SurveyId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// Display name.
    pub name: String,
    /// Version of the definition, from 1; answers record the version they answered.
    pub version: i32,
    /// The definition.
    pub definition: SurveyDefinition,
    /// The touchpoint this survey measures, if any (a context default for its responses).
    pub touchpoint: Option<String>,
    /// When created.
    pub created_at: DateTime<Utc>,
}

/// The input shape of a survey as clients send it (`POST /api/v1/surveys`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    /// Display name.
    pub name: String,
    /// Languages, e.g. `["es", "en"]`.
    pub languages: Vec<String>,
    /// Questions.
    pub questions: Vec<QuestionInput>,
    /// Touchpoint key.
    #[serde(default)]
    pub touchpoint: Option<String>,
}

/// A question as clients send it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    /// Id.
    pub id: String,
    /// Type name.
    #[serde(rename = "type")]
    pub kind: String,
    /// Wording per language (a plain string means the same in every language).
    pub text: Value,
    /// Required flag (default false).
    #[serde(default)]
    pub required: bool,
    /// Options: strings (id = label) or `{id, text}` objects.
    #[serde(default)]
    pub options: Vec<Value>,
    /// Top of a `rating` scale.
    #[serde(default)]
    pub scale: Option<u8>,
    /// Condition.
    #[serde(default)]
    pub show_if: Option<Condition>,
}

impl SurveyInput {
    /// Parses the input into a name, a valid definition and an optional touchpoint,
    /// reporting every problem at once.
    pub fn parse(self) -> Result<(String, SurveyDefinition, Option<String>), ValidationErrors> {
        let mut errors = Collector::default();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push("name", "invalid_name", "give the survey a name of 1 to 200 characters");
        }
        if let Some(tp) = &self.touchpoint
            && !is_key(tp)
        {
            errors.push("touchpoint", "invalid_key", "a touchpoint key uses a-z, 0-9, '_' or '-'");
        }
        let mut languages = Vec::new();
        if self.languages.is_empty() {
            errors.push("languages", "empty", "list at least one language, e.g. [\"es\", \"en\"]");
        }
        for (i, raw) in self.languages.iter().enumerate() {
            match Language::parse(raw) {
                Ok(l) if !languages.contains(&l.as_str().to_string()) => languages.push(l.as_str().to_string()),
                Ok(_) => errors.push(format!("languages[{i}]"), "duplicate", "each language once"),
                Err(_) => errors.push(
                    format!("languages[{i}]"),
                    "invalid_language",
                    format!("'{}' is not a language tag such as 'es' or 'en'", clip(raw)),
                ),
            }
        }
        if self.questions.is_empty() {
            errors.push("questions", "empty", "a survey needs at least one question");
        }
        if self.questions.len() > 200 {
            errors.push("questions", "too_many", "a survey may have at most 200 questions");
        }
        let mut questions: Vec<Question> = Vec::new();
        let mut seen_ids = std::collections::HashSet::new();
        for (i, q) in self.questions.into_iter().enumerate() {
            let path = format!("questions[{i}]");
            if !seen_ids.insert(q.id.clone()) {
                errors.push(format!("{path}.id"), "duplicate", format!("question id '{}' is used twice", clip(&q.id)));
            }
            if let Some(q) = errors.take(parse_question(q, &languages, &questions, &path)) {
                questions.push(q);
            }
        }
        let touchpoint = self.touchpoint;
        errors.finish(|| (name, SurveyDefinition { languages, questions }, touchpoint))
    }
}

fn parse_question(
    q: QuestionInput,
    languages: &[String],
    earlier: &[Question],
    path: &str,
) -> Result<Question, ValidationErrors> {
    let mut errors = Collector::default();
    if !is_key(&q.id) {
        errors.push(format!("{path}.id"), "invalid_key", "question ids use 1 to 64 characters a-z, 0-9, '_' or '-'");
    }
    let kind = QuestionType::parse(&q.kind);
    if kind.is_none() {
        let valid: Vec<&str> = QuestionType::ALL.iter().map(|t| t.as_str()).collect();
        errors.push(
            format!("{path}.type"),
            "unknown_question_type",
            format!("unknown question type '{}': use one of {}", clip(&q.kind), valid.join(", ")),
        );
    }
    let text = errors.take(localized(&q.text, languages, &format!("{path}.text")));
    let mut options = Vec::new();
    if let Some(kind) = kind {
        if kind.has_options() {
            if q.options.is_empty() && kind != QuestionType::Emotions {
                errors.push(format!("{path}.options"), "empty", "a choice question needs options");
            }
            for (j, raw) in q.options.iter().enumerate() {
                let opath = format!("{path}.options[{j}]");
                if let Some(opt) = errors.take(parse_option(raw, languages, &opath)) {
                    if options.iter().any(|o: &ChoiceOption| o.id == opt.id) {
                        errors.push(opath, "duplicate", format!("option '{}' is listed twice", opt.id));
                    } else if kind == QuestionType::Emotions && Emotion::parse(&opt.id).is_none() {
                        errors.push(
                            opath,
                            "unknown_emotion",
                            format!(
                                "'{}' is not an emotion of the catalogue: use {}",
                                opt.id,
                                Emotion::ids().join(", ")
                            ),
                        );
                    } else {
                        options.push(opt);
                    }
                }
            }
            if kind == QuestionType::Emotions && q.options.is_empty() {
                options = Emotion::ALL
                    .iter()
                    .map(|e| ChoiceOption { id: e.id().to_string(), text: e.labels(languages) })
                    .collect();
            }
        } else if !q.options.is_empty() {
            errors.push(
                format!("{path}.options"),
                "unexpected",
                format!("a {} question takes no options", kind.as_str()),
            );
        }
        match (kind, q.scale) {
            (QuestionType::Rating, Some(s)) if !(2..=10).contains(&s) => {
                errors.push(format!("{path}.scale"), "out_of_range", "a rating scale goes from 1 to 2..10")
            }
            (QuestionType::Rating, _) | (_, None) => {}
            (_, Some(_)) => errors.push(format!("{path}.scale"), "unexpected", "only rating questions take a scale"),
        }
    }
    if let Some(cond) = &q.show_if {
        validate_condition(cond, earlier, &format!("{path}.show_if"), &mut errors);
    }
    let scale = if kind == Some(QuestionType::Rating) { Some(q.scale.unwrap_or(5)) } else { None };
    errors.finish(|| Question {
        id: q.id,
        kind: kind.unwrap_or(QuestionType::Text),
        text: text.unwrap_or_default(),
        required: q.required,
        options,
        scale,
        show_if: q.show_if,
    })
}

fn localized(raw: &Value, languages: &[String], path: &str) -> Result<LocalizedText, ValidationErrors> {
    let map: LocalizedText = match raw {
        Value::String(s) if !s.trim().is_empty() => languages.iter().map(|l| (l.clone(), s.clone())).collect(),
        Value::Object(o) => {
            let mut m = LocalizedText::new();
            for (k, v) in o {
                let Ok(lang) = Language::parse(k) else {
                    return Err(ValidationErrors::one(
                        format!("{path}.{k}"),
                        "invalid_language",
                        "keys of a text are language tags",
                    ));
                };
                match v {
                    Value::String(s) if !s.trim().is_empty() => {
                        m.insert(lang.as_str().to_string(), s.clone());
                    }
                    _ => {
                        return Err(ValidationErrors::one(
                            format!("{path}.{k}"),
                            "invalid_type",
                            "each text must be a non-empty string",
                        ));
                    }
                }
            }
            m
        }
        _ => {
            return Err(ValidationErrors::one(
                path,
                "invalid_type",
                "give the text as a string or as {\"es\": \"…\", \"en\": \"…\"}",
            ));
        }
    };
    let missing: Vec<&str> = languages.iter().filter(|l| !map.contains_key(*l)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(ValidationErrors::one(
            path,
            "missing_translation",
            format!("missing text for {}", missing.join(", ")),
        ));
    }
    if map.values().any(|s| s.chars().count() > 2_000) {
        return Err(ValidationErrors::one(path, "too_long", "a text may have at most 2000 characters"));
    }
    Ok(map)
}

fn parse_option(raw: &Value, languages: &[String], path: &str) -> Result<ChoiceOption, ValidationErrors> {
    match raw {
        Value::String(s) => {
            let id = s.trim().to_string();
            if id.is_empty() || id.chars().count() > 200 {
                return Err(ValidationErrors::one(path, "invalid_option", "an option needs 1 to 200 characters"));
            }
            Ok(ChoiceOption { text: languages.iter().map(|l| (l.clone(), id.clone())).collect(), id })
        }
        Value::Object(o) => {
            let id = match o.get("id") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
                _ => {
                    return Err(ValidationErrors::one(
                        format!("{path}.id"),
                        "invalid_option",
                        "an option object needs a string id",
                    ));
                }
            };
            if o.keys().any(|k| k != "id" && k != "text") {
                return Err(ValidationErrors::one(path, "unknown_field", "an option has only id and text"));
            }
            let text = match o.get("text") {
                Some(t) => localized(t, languages, &format!("{path}.text"))?,
                None => languages.iter().map(|l| (l.clone(), id.clone())).collect(),
            };
            Ok(ChoiceOption { id, text })
        }
        _ => Err(ValidationErrors::one(path, "invalid_type", "an option is a string or {\"id\", \"text\"}")),
    }
}

fn validate_condition(cond: &Condition, earlier: &[Question], path: &str, errors: &mut Collector) {
    let Some(target) = earlier.iter().find(|q| q.id == cond.question) else {
        errors.push(
            format!("{path}.question"),
            "unknown_question",
            format!("show_if must refer to an earlier question; '{}' is not one", clip(&cond.question)),
        );
        return;
    };
    let numeric = target.score_range().is_some();
    let ok = match cond.op {
        ConditionOp::Answered => cond.value.is_null(),
        ConditionOp::Lt | ConditionOp::Lte | ConditionOp::Gt | ConditionOp::Gte => numeric && cond.value.is_number(),
        ConditionOp::Eq | ConditionOp::Ne => {
            if numeric {
                cond.value.is_number()
            } else {
                cond.value.is_string()
            }
        }
        ConditionOp::In => match &cond.value {
            Value::Array(items) if !items.is_empty() => {
                items.iter().all(|v| if numeric { v.is_number() } else { v.is_string() })
            }
            _ => false,
        },
    };
    if !ok {
        errors.push(
            format!("{path}.value"),
            "invalid_condition",
            format!(
                "the value does not fit the comparison on a {} question (numbers for scores, option ids for choices, a list for 'in', none for 'answered')",
                target.kind.as_str()
            ),
        );
    }
}

/// A validated answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    /// A score within the question's range.
    Score(u8),
    /// Option or emotion ids (multi choice, emotions).
    Choices(Vec<String>),
    /// One option id, or open text.
    Text(String),
}

/// A respondent's validated answers, keyed by question id.
pub type Answers = BTreeMap<String, AnswerValue>;

/// The scores a response contributes to the metrics (the first question of each type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MetricScores {
    /// NPS answer 0–10.
    pub nps: Option<u8>,
    /// CSAT answer 1–5 (also DSAT).
    pub csat: Option<u8>,
    /// CES answer 1–7.
    pub ces: Option<u8>,
    /// Customer advocacy 1–5.
    pub cadv: Option<u8>,
    /// Repurchase intent 1–5.
    pub repurchase: Option<u8>,
}

impl SurveyDefinition {
    /// Finds a question by id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// Parses a respondent's raw answers (`{question_id: value}`): unknown questions, wrong
    /// types, out-of-range scores, unknown options, answers to hidden questions and missing
    /// required answers are all reported. `null` or an empty text means "not answered".
    pub fn parse_answers(&self, raw: &serde_json::Map<String, Value>) -> Result<Answers, ValidationErrors> {
        let mut errors = Collector::default();
        for key in raw.keys() {
            if self.question(key).is_none() {
                errors.push(
                    format!("answers.{}", clip(key)),
                    "unknown_question",
                    format!("the survey has no question '{}'", clip(key)),
                );
            }
        }
        let mut answers = Answers::new();
        for q in &self.questions {
            let path = format!("answers.{}", q.id);
            let value = raw.get(&q.id).filter(|v| !is_blank(v));
            let shown = q.show_if.as_ref().is_none_or(|c| condition_holds(c, &answers));
            match (value, shown) {
                (Some(_), false) => errors.push(
                    path,
                    "not_shown",
                    format!("question '{}' is not shown for these answers; leave it out", q.id),
                ),
                (Some(v), true) => {
                    if let Some(a) = errors.take(parse_answer(q, v, &path)) {
                        answers.insert(q.id.clone(), a);
                    }
                }
                (None, true) if q.required => {
                    errors.push(path, "missing_answer", format!("question '{}' is required", q.id))
                }
                (None, _) => {}
            }
        }
        errors.finish(|| answers)
    }

    /// The metric scores carried by validated answers.
    pub fn metric_scores(&self, answers: &Answers) -> MetricScores {
        let first = |kind: QuestionType| {
            self.questions.iter().filter(|q| q.kind == kind).find_map(|q| match answers.get(&q.id) {
                Some(AnswerValue::Score(s)) => Some(*s),
                _ => None,
            })
        };
        MetricScores {
            nps: first(QuestionType::Nps),
            csat: first(QuestionType::Csat),
            ces: first(QuestionType::Ces),
            cadv: first(QuestionType::Cadv),
            repurchase: first(QuestionType::Repurchase),
        }
    }

    /// The answers without free text: open-text answers (and any text answer to a question
    /// this version no longer has) are dropped; scores, options and emotions stay. Used when a
    /// customer's personal data is erased.
    pub fn without_free_text(&self, answers: &Answers) -> Answers {
        answers
            .iter()
            .filter(|(id, value)| match value {
                AnswerValue::Text(_) => self.question(id).is_some_and(|q| q.kind == QuestionType::SingleChoice),
                _ => true,
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The emotions selected in validated answers (first emotions question).
    pub fn emotions(&self, answers: &Answers) -> Vec<Emotion> {
        self.questions
            .iter()
            .filter(|q| q.kind == QuestionType::Emotions)
            .find_map(|q| match answers.get(&q.id) {
                Some(AnswerValue::Choices(ids)) => Some(ids.iter().filter_map(|i| Emotion::parse(i)).collect()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The open-text answers, joined: the response's verbatim.
    pub fn verbatim(&self, answers: &Answers) -> Option<String> {
        let texts: Vec<&str> = self
            .questions
            .iter()
            .filter(|q| q.kind == QuestionType::Text)
            .filter_map(|q| match answers.get(&q.id) {
                Some(AnswerValue::Text(t)) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        (!texts.is_empty()).then(|| texts.join("\n"))
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn parse_answer(q: &Question, v: &Value, path: &str) -> Result<AnswerValue, ValidationErrors> {
    if let Some((lo, hi)) = q.score_range() {
        let n = v.as_f64().filter(|n| n.fract() == 0.0);
        return match n {
            Some(n) if n >= f64::from(lo) && n <= f64::from(hi) => Ok(AnswerValue::Score(n as u8)),
            Some(_) | None if v.is_number() => Err(ValidationErrors::one(
                path,
                "out_of_range",
                format!("question '{}' takes a whole number from {lo} to {hi}", q.id),
            )),
            _ => Err(ValidationErrors::one(
                path,
                "invalid_type",
                format!("question '{}' takes a number from {lo} to {hi}", q.id),
            )),
        };
    }
    let known = |id: &str| q.options.iter().any(|o| o.id == id);
    match q.kind {
        QuestionType::Text => match v {
            Value::String(s) if s.chars().count() <= MAX_TEXT_ANSWER_CHARS => {
                Ok(AnswerValue::Text(s.trim().to_string()))
            }
            Value::String(_) => Err(ValidationErrors::one(
                path,
                "too_long",
                format!("an open answer may have at most {MAX_TEXT_ANSWER_CHARS} characters"),
            )),
            _ => Err(ValidationErrors::one(path, "invalid_type", format!("question '{}' takes text", q.id))),
        },
        QuestionType::SingleChoice => match v {
            Value::String(s) if known(s) => Ok(AnswerValue::Text(s.clone())),
            Value::String(s) => Err(unknown_option(q, s, path)),
            _ => Err(ValidationErrors::one(path, "invalid_type", format!("question '{}' takes one option id", q.id))),
        },
        _ => {
            let items: Vec<&str> = match v {
                Value::Array(a) if a.iter().all(Value::is_string) => a.iter().filter_map(Value::as_str).collect(),
                _ => {
                    return Err(ValidationErrors::one(
                        path,
                        "invalid_type",
                        format!("question '{}' takes a list of option ids", q.id),
                    ));
                }
            };
            let mut out: Vec<String> = Vec::new();
            for s in items {
                if !known(s) {
                    return Err(unknown_option(q, s, path));
                }
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_string());
                }
            }
            Ok(AnswerValue::Choices(out))
        }
    }
}

fn unknown_option(q: &Question, s: &str, path: &str) -> ValidationErrors {
    let ids: Vec<&str> = q.options.iter().map(|o| o.id.as_str()).collect();
    ValidationErrors::one(
        path,
        "unknown_option",
        format!("'{}' is not an option of '{}': use {}", clip(s), q.id, ids.join(", ")),
    )
}

fn condition_holds(c: &Condition, answers: &Answers) -> bool {
    let Some(answer) = answers.get(&c.question) else {
        return false;
    };
    let num = c.value.as_f64();
    match (c.op, answer) {
        (ConditionOp::Answered, _) => true,
        (ConditionOp::Eq, AnswerValue::Score(s)) => num == Some(f64::from(*s)),
        (ConditionOp::Ne, AnswerValue::Score(s)) => num != Some(f64::from(*s)),
        (ConditionOp::Lt, AnswerValue::Score(s)) => num.is_some_and(|n| f64::from(*s) < n),
        (ConditionOp::Lte, AnswerValue::Score(s)) => num.is_some_and(|n| f64::from(*s) <= n),
        (ConditionOp::Gt, AnswerValue::Score(s)) => num.is_some_and(|n| f64::from(*s) > n),
        (ConditionOp::Gte, AnswerValue::Score(s)) => num.is_some_and(|n| f64::from(*s) >= n),
        (ConditionOp::In, AnswerValue::Score(s)) => {
            c.value.as_array().is_some_and(|a| a.iter().any(|v| v.as_f64() == Some(f64::from(*s))))
        }
        (ConditionOp::Eq, AnswerValue::Text(t)) => c.value.as_str() == Some(t),
        (ConditionOp::Ne, AnswerValue::Text(t)) => c.value.as_str() != Some(t),
        (ConditionOp::In, AnswerValue::Text(t)) => {
            c.value.as_array().is_some_and(|a| a.iter().any(|v| v.as_str() == Some(t)))
        }
        (ConditionOp::Eq, AnswerValue::Choices(cs)) => c.value.as_str().is_some_and(|v| cs.iter().any(|x| x == v)),
        (ConditionOp::Ne, AnswerValue::Choices(cs)) => !c.value.as_str().is_some_and(|v| cs.iter().any(|x| x == v)),
        (ConditionOp::In, AnswerValue::Choices(cs)) => {
            c.value.as_array().is_some_and(|a| a.iter().any(|v| v.as_str().is_some_and(|v| cs.iter().any(|x| x == v))))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<(String, SurveyDefinition, Option<String>), ValidationErrors> {
        serde_json::from_value::<SurveyInput>(v).expect("shape").parse()
    }

    fn relational() -> SurveyDefinition {
        parse(json!({
            "name": "Relacional",
            "languages": ["es", "en"],
            "questions": [
                {"id": "nps", "type": "nps", "text": {"es": "¿Recomendaría…?", "en": "Would you recommend…?"}, "required": true},
                {"id": "why", "type": "text", "text": {"es": "¿Por qué?", "en": "Why?"}, "show_if": {"question": "nps", "op": "lte", "value": 6}},
                {"id": "ces", "type": "ces", "text": "CES"},
                {"id": "feel", "type": "emotions", "text": "Emotions", "options": ["pleased", "frustrated"]},
                {"id": "plan", "type": "single_choice", "text": "Plan", "options": ["basic", {"id": "pro", "text": {"es": "Pro", "en": "Pro"}}]}
            ]
        }))
        .unwrap()
        .1
    }

    fn answers(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_valid_survey_parses_with_defaults() {
        let def = relational();
        assert_eq!(def.languages, vec!["es", "en"]);
        assert_eq!(def.questions.len(), 5);
        assert_eq!(def.question("ces").unwrap().text["en"], "CES");
        assert_eq!(def.question("plan").unwrap().options[1].id, "pro");
    }

    #[test]
    fn invalid_surveys_report_every_problem() {
        let err = parse(json!({
            "name": "",
            "languages": ["es"],
            "questions": [
                {"id": "a", "type": "stars", "text": "x"},
                {"id": "a", "type": "nps", "text": {"en": "only english"}},
                {"id": "c", "type": "single_choice", "text": "x"},
                {"id": "d", "type": "text", "text": "x", "show_if": {"question": "zzz", "op": "answered"}}
            ]
        }))
        .unwrap_err();
        let codes: Vec<&str> = err.0.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            vec![
                "invalid_name",
                "unknown_question_type",
                "duplicate",
                "missing_translation",
                "empty",
                "unknown_question"
            ]
        );
        let empty = parse(json!({"name": "x", "languages": ["es"], "questions": []})).unwrap_err();
        assert_eq!(empty.first_code(), "empty");
    }

    #[test]
    fn answers_are_checked_against_the_definition() {
        let def = relational();
        let ok = def
            .parse_answers(&answers(json!({"nps": 3, "why": "Cobro doble", "feel": ["frustrated"], "plan": "pro"})))
            .unwrap();
        assert_eq!(ok["nps"], AnswerValue::Score(3));
        assert_eq!(def.metric_scores(&ok), MetricScores { nps: Some(3), ..Default::default() });
        assert_eq!(def.verbatim(&ok).as_deref(), Some("Cobro doble"));
        assert_eq!(def.emotions(&ok), vec![Emotion::Frustrated]);

        let cases = [
            (json!({"nps": 11}), "out_of_range"),
            (json!({"nps": 7.5}), "out_of_range"),
            (json!({"nps": "ten"}), "invalid_type"),
            (json!({}), "missing_answer"),
            (json!({"nps": null}), "missing_answer"),
            (json!({"nps": 9, "why": "x"}), "not_shown"),
            (json!({"nps": 9, "nope": 1}), "unknown_question"),
            (json!({"nps": 9, "plan": "gold"}), "unknown_option"),
            (json!({"nps": 9, "feel": "pleased"}), "invalid_type"),
            (json!({"nps": 9, "ces": 0}), "out_of_range"),
        ];
        for (raw, code) in cases {
            let err = def.parse_answers(&answers(raw.clone())).unwrap_err();
            assert_eq!(err.first_code(), code, "{raw}");
        }
    }

    #[test]
    fn erasure_keeps_scores_and_options_but_not_free_text() {
        let def = relational();
        let a = def
            .parse_answers(&answers(
                json!({"nps": 3, "why": "Soy Ana, 600 123 456", "plan": "pro", "feel": ["frustrated"]}),
            ))
            .unwrap();
        let kept = def.without_free_text(&a);
        assert_eq!(kept.len(), 3);
        assert!(!kept.contains_key("why"));
        assert_eq!(kept["plan"], AnswerValue::Text("pro".into()));
        let mut stale = a.clone();
        stale.insert("gone".into(), AnswerValue::Text("free text of a removed question".into()));
        assert!(!def.without_free_text(&stale).contains_key("gone"));
    }

    #[test]
    fn show_if_operators() {
        let mut a = Answers::new();
        a.insert("q".into(), AnswerValue::Score(6));
        let c = |op, value| Condition { question: "q".into(), op, value };
        assert!(condition_holds(&c(ConditionOp::Lte, json!(6)), &a));
        assert!(!condition_holds(&c(ConditionOp::Lt, json!(6)), &a));
        assert!(condition_holds(&c(ConditionOp::In, json!([5, 6])), &a));
        assert!(condition_holds(&c(ConditionOp::Answered, Value::Null), &a));
        assert!(!condition_holds(
            &Condition { question: "other".into(), op: ConditionOp::Answered, value: Value::Null },
            &a
        ));
    }
}
