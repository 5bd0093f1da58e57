//! The text engine's emotions are the survey emotion catalogue of escucha-core: same ids, same
//! order, same polarity, so NEV from comments and NEV from surveys use one set.

use escucha_core::emotions::Emotion as SurveyEmotion;
use escucha_text::{Emotion, Pipeline};

#[test]
fn emotion_set_is_the_survey_catalogue() {
    let text: Vec<(&str, bool)> = Emotion::ALL.iter().map(|e| (e.id(), e.is_positive())).collect();
    let survey: Vec<(&str, bool)> = SurveyEmotion::ALL.iter().map(|e| (e.id(), e.is_positive())).collect();
    assert_eq!(text, survey, "escucha-text emotions drifted from escucha-core's catalogue");
    for e in Emotion::ALL {
        assert_eq!(Emotion::parse(e.id()), Some(e));
        assert!(SurveyEmotion::parse(e.id()).is_some(), "{} unknown to surveys", e.id());
    }
}

#[test]
fn detected_emotions_parse_as_survey_emotions() {
    let p = Pipeline::fallback();
    let texts = [
        "Me sentí muy segura y tranquila con el seguro, en buenas manos",
        "Estoy feliz, me encanta la app",
        "Me metieron prisa y me colgaron sin dejarme terminar",
        "I felt rushed, the agent was pushy and hung up",
        "Muchas gracias por todo, muy amables",
        "Es una vergüenza, llevo tres semanas esperando y nadie me llama",
    ];
    let mut seen = Vec::new();
    for t in texts {
        for e in p.analyze(t, None).emotions {
            assert!(SurveyEmotion::parse(e.emotion.id()).is_some());
            seen.push(e.emotion);
        }
    }
    for e in [Emotion::Safe, Emotion::Happy, Emotion::Hurried, Emotion::Pleased, Emotion::Neglected] {
        assert!(seen.contains(&e), "{} not detected in {seen:?}", e.id());
    }
}
