//! Verbatims for callers without the personal-data permission: customers' free text is shown
//! with e-mails, phones, ids, cards, addresses and names masked by the text engine's redactor.

use std::sync::LazyLock;

use escucha_core::survey::{AnswerValue, Answers};
use escucha_text::{Redactor, RuleRedactor};

/// Built once: the redactor compiles its patterns at construction.
static REDACTOR: LazyLock<RuleRedactor> = LazyLock::new(RuleRedactor::new);

/// `text` with its personal data masked.
pub fn redact_text(text: &str) -> String {
    REDACTOR.redact(text).text
}

/// Answers with every free-text value redacted (scores and choices unchanged).
pub fn redact_answers(answers: &Answers) -> Answers {
    answers
        .iter()
        .map(|(id, value)| {
            let value = match value {
                AnswerValue::Text(text) => AnswerValue::Text(redact_text(text)),
                other => other.clone(),
            };
            (id.clone(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_loses_personal_data_and_scores_stay() {
        let mut answers = Answers::new();
        answers.insert("nps".into(), AnswerValue::Score(3));
        answers.insert("why".into(), AnswerValue::Text("Escríbanme a maria.lopez@example.com, pedido 4471".into()));
        let redacted = redact_answers(&answers);
        assert_eq!(redacted["nps"], AnswerValue::Score(3));
        let AnswerValue::Text(why) = &redacted["why"] else { panic!("text stays text") };
        assert!(!why.contains("maria.lopez"), "{why}");
        assert!(why.contains("4471"), "order numbers survive: {why}");
    }
}
