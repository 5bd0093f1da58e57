//! Outgoing mail over SMTP (`lettre`, rustls on the ring provider), configured by
//! `ESCUCHA_SMTP_URL` and `ESCUCHA_MAIL_FROM`:
//! - `smtp://host:port`: plain SMTP (a local relay); `smtp://host:port?tls=required` upgrades
//!   with STARTTLS; `smtps://user:pass@host:port`: TLS from the first byte, with credentials.
//!   Credentials are accepted in either form; percent-encode special characters.
//! - Each message goes out as plain text with a simple HTML alternative.
//!
//! With no transport configured, [`Mailer::is_configured`] is false and [`Mailer::send`] fails
//! with [`MailError::NotConfigured`]: features that need mail (password reset) say so on their
//! page instead of pretending. Nothing is queued: a reset link must not be stored in clear.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Why mail could not be prepared or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// No SMTP transport is configured.
    #[error("no mail transport is configured (set ESCUCHA_SMTP_URL)")]
    NotConfigured,
    /// The SMTP URL cannot be used.
    #[error("invalid smtp_url: {0}")]
    InvalidUrl(String),
    /// A sender or recipient address is not a valid mailbox.
    #[error("invalid mail address '{address}': {reason}")]
    InvalidAddress {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// The message could not be built.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The SMTP server refused the message or could not be reached.
    #[error("SMTP: {0}")]
    Transport(String),
}

/// One message to send: a subject and the same content as plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (a complete, simple document).
    pub html: String,
}

/// Sends mail through the configured SMTP server, or knows that none is configured.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("configured", &self.is_configured()).field("from", &self.from).finish()
    }
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address
        .parse::<Mailbox>()
        .map_err(|e| MailError::InvalidAddress { address: address.to_string(), reason: e.to_string() })
}

impl Mailer {
    /// A mailer for `smtp_url` (none: not configured) sending as `from`. Fails on a malformed
    /// URL or sender, so a bad configuration stops the server at start, not at the first mail.
    pub fn new(smtp_url: Option<&str>, from: &str) -> Result<Mailer, MailError> {
        let from = mailbox(from)?;
        let transport = match smtp_url {
            None => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailError::InvalidUrl(e.to_string()))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
        };
        Ok(Mailer { transport, from })
    }

    /// A mailer from the server configuration.
    pub fn from_config(config: &crate::Config) -> Result<Mailer, MailError> {
        Self::new(config.smtp_url.as_deref(), &config.mail_from)
    }

    /// True when mail can be sent.
    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    /// Builds the MIME message (plain text with an HTML alternative).
    pub fn message(&self, mail: &OutgoingMail) -> Result<Message, MailError> {
        Message::builder()
            .from(self.from.clone())
            .to(mailbox(&mail.to)?)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
            .map_err(|e| MailError::Build(e.to_string()))
    }

    /// Sends one message and waits for the SMTP server's answer.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let transport = self.transport.as_ref().ok_or(MailError::NotConfigured)?;
        let message = self.message(mail)?;
        transport.send(message).await.map_err(|e| MailError::Transport(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn urls_and_addresses_are_checked_up_front() {
        assert!(!Mailer::new(None, "escucha@localhost").unwrap().is_configured());
        assert!(Mailer::new(Some("smtp://127.0.0.1:2525"), "Escucha <escucha@x.example>").unwrap().is_configured());
        assert!(Mailer::new(Some("smtps://user:p%40ss@mail.x.example:465"), "a@x.example").unwrap().is_configured());
        assert!(matches!(Mailer::new(Some("http://x"), "a@x.example"), Err(MailError::InvalidUrl(_))));
        assert!(matches!(Mailer::new(None, "not an address"), Err(MailError::InvalidAddress { .. })));
        let m = Mailer::new(None, "a@x.example").unwrap();
        let mail = OutgoingMail {
            to: "b@x.example".into(),
            subject: "Hola ñ".into(),
            text: "texto".into(),
            html: "<p>html</p>".into(),
        };
        assert!(matches!(m.send(&mail).await, Err(MailError::NotConfigured)));
        let raw = String::from_utf8(m.message(&mail).unwrap().formatted()).unwrap();
        assert!(raw.contains("multipart/alternative") && raw.contains("text/plain") && raw.contains("text/html"));
        assert!(!format!("{m:?}").contains("pass"));
    }
}
