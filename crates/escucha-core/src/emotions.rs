//! The emotion catalogue behind Net Emotional Value (NEV): what respondents can say they felt,
//! each emotion positive or negative.
//!
//! NEV formula (Escucha's choice, documented in the API): for one respondent,
//! `nev = 100 × (positive − negative) / (positive + negative)` over the emotions they picked,
//! so each respondent scores from −100 (only negative emotions) to +100 (only positive); a
//! respondent who picked none has no NEV. The metric is the mean over respondents, with a
//! Student's t interval.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An emotion a customer may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Emotion {
    /// Pleased / contento.
    Pleased,
    /// Trusting / confiado.
    Trusting,
    /// Valued / valorado.
    Valued,
    /// Cared for / cuidado.
    CaredFor,
    /// Happy / feliz.
    Happy,
    /// Safe / seguro.
    Safe,
    /// Frustrated / frustrado.
    Frustrated,
    /// Disappointed / decepcionado.
    Disappointed,
    /// Neglected / ignorado.
    Neglected,
    /// Stressed / estresado.
    Stressed,
    /// Angry / enfadado.
    Angry,
    /// Hurried / apurado.
    Hurried,
}

impl Emotion {
    /// The whole catalogue, positives first.
    pub const ALL: [Emotion; 12] = [
        Emotion::Pleased,
        Emotion::Trusting,
        Emotion::Valued,
        Emotion::CaredFor,
        Emotion::Happy,
        Emotion::Safe,
        Emotion::Frustrated,
        Emotion::Disappointed,
        Emotion::Neglected,
        Emotion::Stressed,
        Emotion::Angry,
        Emotion::Hurried,
    ];

    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            Emotion::Pleased => "pleased",
            Emotion::Trusting => "trusting",
            Emotion::Valued => "valued",
            Emotion::CaredFor => "cared_for",
            Emotion::Happy => "happy",
            Emotion::Safe => "safe",
            Emotion::Frustrated => "frustrated",
            Emotion::Disappointed => "disappointed",
            Emotion::Neglected => "neglected",
            Emotion::Stressed => "stressed",
            Emotion::Angry => "angry",
            Emotion::Hurried => "hurried",
        }
    }

    /// All ids, for messages.
    pub fn ids() -> Vec<&'static str> {
        Emotion::ALL.iter().map(|e| e.id()).collect()
    }

    /// Parses an id.
    pub fn parse(id: &str) -> Option<Emotion> {
        Emotion::ALL.into_iter().find(|e| e.id() == id)
    }

    /// True for a positive emotion.
    pub fn is_positive(self) -> bool {
        matches!(
            self,
            Emotion::Pleased | Emotion::Trusting | Emotion::Valued | Emotion::CaredFor | Emotion::Happy | Emotion::Safe
        )
    }

    /// Label in Spanish (`es`) or English (anything else).
    pub fn label(self, lang: &str) -> &'static str {
        let (es, en) = match self {
            Emotion::Pleased => ("Contento", "Pleased"),
            Emotion::Trusting => ("Confiado", "Trusting"),
            Emotion::Valued => ("Valorado", "Valued"),
            Emotion::CaredFor => ("Cuidado", "Cared for"),
            Emotion::Happy => ("Feliz", "Happy"),
            Emotion::Safe => ("Seguro", "Safe"),
            Emotion::Frustrated => ("Frustrado", "Frustrated"),
            Emotion::Disappointed => ("Decepcionado", "Disappointed"),
            Emotion::Neglected => ("Ignorado", "Neglected"),
            Emotion::Stressed => ("Estresado", "Stressed"),
            Emotion::Angry => ("Enfadado", "Angry"),
            Emotion::Hurried => ("Apurado", "Hurried"),
        };
        if lang.starts_with("es") { es } else { en }
    }

    /// Labels for each survey language.
    pub fn labels(self, languages: &[String]) -> BTreeMap<String, String> {
        languages.iter().map(|l| (l.clone(), self.label(l).to_string())).collect()
    }
}

/// One respondent's Net Emotional Value, or `None` when no emotion was picked.
pub fn respondent_nev(emotions: &[Emotion]) -> Option<f64> {
    let pos = emotions.iter().filter(|e| e.is_positive()).count() as f64;
    let neg = emotions.len() as f64 - pos;
    (pos + neg > 0.0).then(|| 100.0 * (pos - neg) / (pos + neg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nev_per_respondent() {
        assert_eq!(respondent_nev(&[]), None);
        assert_eq!(respondent_nev(&[Emotion::Pleased]), Some(100.0));
        assert_eq!(respondent_nev(&[Emotion::Angry, Emotion::Stressed]), Some(-100.0));
        // 2 positive, 1 negative: 100 × (2 − 1) / 3 = 33.33…
        let v = respondent_nev(&[Emotion::Pleased, Emotion::Valued, Emotion::Angry]).unwrap();
        assert!((v - 100.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn ids_round_trip() {
        for e in Emotion::ALL {
            assert_eq!(Emotion::parse(e.id()), Some(e));
        }
    }
}
