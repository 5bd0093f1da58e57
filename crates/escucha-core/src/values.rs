//! Small validated values shared by the whole domain: e-mail addresses, slugs, external ids,
//! language tags and bounded labels. Each can only be built through its parser.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validation::ValidationErrors;

macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_value!(
    /// An e-mail address, trimmed and lower-cased (addresses are compared case-insensitively).
    Email
);
string_value!(
    /// An organisation's URL-safe short name: 2–63 of `a-z 0-9 -`, starting with a letter.
    Slug
);
string_value!(
    /// A customer's id in the company's own systems (CRM): 1–128 visible characters, no `/`.
    ExternalId
);
string_value!(
    /// A language tag such as `es`, `en` or `es-MX`, normalised to lower-case primary subtag.
    Language
);
string_value!(
    /// A short non-empty label (names, regions, teams): trimmed, 1–200 characters, no control
    /// characters.
    Label
);

impl Email {
    /// Parses an e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        let value = raw.trim().to_lowercase();
        let bad = || {
            ValidationErrors::one(
                "",
                "invalid_email",
                format!("'{}' is not an e-mail address like name@example.com", clip(raw)),
            )
        };
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = value.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(value))
    }

    /// The domain part, e.g. `example.com`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl Slug {
    /// Parses a slug.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        let ok = (2..=63).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(ValidationErrors::one(
                "slug",
                "invalid_slug",
                format!(
                    "'{}' is not a valid slug: use 2 to 63 characters a-z, 0-9 and '-', starting with a letter",
                    clip(raw)
                ),
            ))
        }
    }
}

impl ExternalId {
    /// Parses an external id.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        let value = raw.trim();
        let ok =
            !value.is_empty() && value.chars().count() <= 128 && !value.chars().any(|c| c.is_control() || c == '/');
        if ok {
            Ok(Self(value.to_string()))
        } else {
            Err(ValidationErrors::one(
                "external_id",
                "invalid_external_id",
                "an external id must be 1 to 128 visible characters without '/'",
            ))
        }
    }
}

impl Language {
    /// Parses a language tag (`es`, `en`, `pt-BR`…); the primary subtag is lower-cased.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        let value = raw.trim();
        let mut parts = value.split(['-', '_']);
        let primary = parts.next().unwrap_or("");
        let primary_ok = (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
        let rest: Vec<&str> = parts.collect();
        let rest_ok = rest.iter().all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if !primary_ok || !rest_ok {
            return Err(ValidationErrors::one(
                "language",
                "invalid_language",
                format!("'{}' is not a language tag such as 'es', 'en' or 'es-MX'", clip(raw)),
            ));
        }
        let mut tag = primary.to_ascii_lowercase();
        for p in rest {
            tag.push('-');
            tag.push_str(&p.to_ascii_uppercase());
        }
        Ok(Self(tag))
    }

    /// The primary subtag: `es` for `es-MX`.
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl Label {
    /// Parses a label.
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        let value = raw.trim();
        if value.is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
            return Err(ValidationErrors::one(
                "",
                "invalid_label",
                "must be 1 to 200 characters without control characters",
            ));
        }
        Ok(Self(value.to_string()))
    }
}

/// Shortens outside input quoted back in an error message.
pub(crate) fn clip(raw: &str) -> String {
    let mut s: String = raw.chars().take(60).collect();
    if raw.chars().count() > 60 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(Email::parse(" Ana@Example.COM ").unwrap().as_str(), "ana@example.com");
        for bad in ["", "ana", "ana@", "@x.com", "ana@x", "a b@x.com", "a@x..com", "a@@x.com"] {
            assert!(Email::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn slug_rules() {
        assert!(Slug::parse("demo").is_ok());
        assert!(Slug::parse("acme-2").is_ok());
        for bad in ["", "a", "Demo", "2acme", "ac me", "acme_x"] {
            assert!(Slug::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn language_tags_are_normalised() {
        assert_eq!(Language::parse("ES-mx").unwrap().as_str(), "es-MX");
        assert_eq!(Language::parse("es-MX").unwrap().primary(), "es");
        assert!(Language::parse("spanish!").is_err());
        assert!(Language::parse("").is_err());
    }

    #[test]
    fn external_ids_reject_slashes_and_blanks() {
        assert!(ExternalId::parse("C-00042").is_ok());
        assert!(ExternalId::parse("  ").is_err());
        assert!(ExternalId::parse("a/b").is_err());
    }
}
