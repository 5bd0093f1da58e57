//! The dimensions a metric can be grouped by, filtered by or restricted to.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::query::QueryError;

/// Longest accepted attribute name in `attr.NAME`.
pub const MAX_ATTRIBUTE_NAME_LEN: usize = 64;

/// A dimension of a response: one of the fixed context fields, the survey, or a customer
/// attribute (`attr.NAME`). Parsed from and printed as its API name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// `region`
    Region,
    /// `product`
    Product,
    /// `channel`
    Channel,
    /// `team`
    Team,
    /// `employee`
    Employee,
    /// `touchpoint`
    Touchpoint,
    /// `journey_stage`
    JourneyStage,
    /// `segment`
    Segment,
    /// `language`
    Language,
    /// `survey` (values are survey ids written in decimal)
    Survey,
    /// `owner`: the customer's account executive (e-mail) when the response arrived.
    Owner,
    /// `attr.NAME`: a customer attribute.
    Attr(String),
}

impl Dimension {
    /// The fixed dimensions (everything but attributes), in API order.
    pub const FIXED: [Dimension; 11] = [
        Dimension::Region,
        Dimension::Product,
        Dimension::Channel,
        Dimension::Team,
        Dimension::Employee,
        Dimension::Touchpoint,
        Dimension::JourneyStage,
        Dimension::Segment,
        Dimension::Language,
        Dimension::Survey,
        Dimension::Owner,
    ];

    /// The API name of a fixed dimension; `None` for an attribute (see [`fmt::Display`]).
    pub fn fixed_name(&self) -> Option<&'static str> {
        Some(match self {
            Dimension::Region => "region",
            Dimension::Product => "product",
            Dimension::Channel => "channel",
            Dimension::Team => "team",
            Dimension::Employee => "employee",
            Dimension::Touchpoint => "touchpoint",
            Dimension::JourneyStage => "journey_stage",
            Dimension::Segment => "segment",
            Dimension::Language => "language",
            Dimension::Survey => "survey",
            Dimension::Owner => "owner",
            Dimension::Attr(_) => return None,
        })
    }

    /// Index of a fixed context column in the index (region … language); `None` for the survey
    /// and attributes, which are stored separately.
    pub(crate) fn context_slot(&self) -> Option<usize> {
        match self {
            Dimension::Region => Some(0),
            Dimension::Product => Some(1),
            Dimension::Channel => Some(2),
            Dimension::Team => Some(3),
            Dimension::Employee => Some(4),
            Dimension::Touchpoint => Some(5),
            Dimension::JourneyStage => Some(6),
            Dimension::Segment => Some(7),
            Dimension::Language => Some(8),
            Dimension::Owner => Some(9),
            Dimension::Survey | Dimension::Attr(_) => None,
        }
    }

    /// Parses an API name: a fixed dimension or `attr.NAME` (NAME: 1–64 characters, no control
    /// characters).
    pub fn parse(raw: &str) -> Result<Dimension, QueryError> {
        if let Some(fixed) = Dimension::FIXED.iter().find(|d| d.fixed_name() == Some(raw)) {
            return Ok(fixed.clone());
        }
        if let Some(name) = raw.strip_prefix("attr.") {
            let valid = !name.is_empty() && name.len() <= MAX_ATTRIBUTE_NAME_LEN && !name.chars().any(char::is_control);
            if valid {
                return Ok(Dimension::Attr(name.to_owned()));
            }
        }
        Err(QueryError::UnknownDimension { value: raw.to_owned() })
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dimension::Attr(name) => write!(f, "attr.{name}"),
            fixed => f.write_str(fixed.fixed_name().unwrap_or_default()),
        }
    }
}

impl FromStr for Dimension {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dimension::parse(s)
    }
}

impl Serialize for Dimension {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fixed_dimension_and_attributes() {
        for d in Dimension::FIXED {
            assert_eq!(Dimension::parse(&d.to_string()).unwrap(), d);
        }
        assert_eq!("attr.tier".parse::<Dimension>().unwrap(), Dimension::Attr("tier".into()));
        assert_eq!(Dimension::Attr("tier".into()).to_string(), "attr.tier");
    }

    #[test]
    fn rejects_unknown_names() {
        for raw in ["", "Region", "attr.", "attr", "attrs.x", "attr.a\nb"] {
            let err = Dimension::parse(raw).unwrap_err();
            assert_eq!(err.code(), "unknown_dimension", "{raw:?}");
        }
        let long = format!("attr.{}", "x".repeat(MAX_ATTRIBUTE_NAME_LEN + 1));
        assert!(Dimension::parse(&long).is_err());
    }
}
