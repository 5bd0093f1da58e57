//! Unstructured customer voice that employees log from calls, e-mails and conversations
//! (seed 004, idea 3): it joins survey verbatims in the text analytics.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, FeedbackId, OrgId};
use crate::validation::ValidationErrors;
use crate::values::{Email, Label};

/// Longest accepted feedback text, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 20_000;

/// Where the customer said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackSource {
    /// Phone call.
    Call,
    /// E-mail.
    Email,
    /// Face-to-face or chat conversation.
    Conversation,
    /// Social media.
    Social,
    /// Anything else.
    Other,
}

impl FeedbackSource {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackSource::Call => "call",
            FeedbackSource::Email => "email",
            FeedbackSource::Conversation => "conversation",
            FeedbackSource::Social => "social",
            FeedbackSource::Other => "other",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        [Self::Call, Self::Email, Self::Conversation, Self::Social, Self::Other]
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValidationErrors::one(
                    "source",
                    "invalid_source",
                    "source must be one of call, email, conversation, social, other",
                )
            })
    }
}

/// A feedback item ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    /// What the customer said, in their words.
    pub text: String,
    /// Where.
    pub source: FeedbackSource,
    /// Who said it, when known.
    pub customer_id: Option<CustomerId>,
    /// Employee who logged it.
    pub captured_by_email: Option<Email>,
    /// Touchpoint key.
    pub touchpoint: Option<Label>,
    /// When it was said.
    pub occurred_at: DateTime<Utc>,
}

/// A stored feedback item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// Store id.
    pub id: FeedbackId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// Text.
    pub text: String,
    /// Source.
    pub source: FeedbackSource,
    /// Customer.
    pub customer_id: Option<CustomerId>,
    /// Employee who logged it.
    pub captured_by_email: Option<Email>,
    /// Touchpoint.
    pub touchpoint: Option<Label>,
    /// When said.
    pub occurred_at: DateTime<Utc>,
    /// When stored.
    pub created_at: DateTime<Utc>,
}

/// Checks feedback text: non-empty, at most [`MAX_FEEDBACK_CHARS`].
pub fn parse_feedback_text(raw: &str) -> Result<String, ValidationErrors> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(ValidationErrors::one("text", "empty", "text must not be empty"));
    }
    if t.chars().count() > MAX_FEEDBACK_CHARS {
        return Err(ValidationErrors::one(
            "text",
            "too_long",
            format!("text may have at most {MAX_FEEDBACK_CHARS} characters"),
        ));
    }
    Ok(t.to_string())
}
