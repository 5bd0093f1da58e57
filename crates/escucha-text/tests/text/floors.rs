//! Accuracy floors: slightly below the figures measured by `cargo bench --bench text_eval`
//! (bench/text/RESULTS.md), so a regression fails. Every figure is computed once per run.

use escucha_text::Pipeline;
use escucha_text::eval::{self, load_jsonl};
use std::collections::HashMap;
use std::sync::OnceLock;

struct Figures {
    /// (set, lang) → (macro-F1, AUC)
    sentiment: HashMap<(String, String), (f64, f64)>,
    lid_fortunes: f64,
    topics_cx: f64,
    topics_airline: f64,
    redaction_cx: (f64, f64),
}

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(Pipeline::fallback)
}

fn figures() -> Option<&'static Figures> {
    static F: OnceLock<Option<Figures>> = OnceLock::new();
    F.get_or_init(|| {
        let dir = eval::data_dir()?;
        let p = pipeline();
        let load = |name: &str| {
            load_jsonl(&dir.join(format!("{name}.jsonl")))
                .unwrap_or_else(|e| panic!("data folder present but {name}.jsonl unreadable: {e}"))
        };
        let mut sentiment = HashMap::new();
        for (set, lang) in eval::SENTIMENT_SETS {
            let e = eval::eval_sentiment(p, set, lang, &load(set), true);
            sentiment.insert((set.to_string(), lang.to_string()), (e.confusion.macro_f1(), e.auc));
        }
        let cx = load("es_cx_dev");
        let r = eval::eval_redaction(p.redactor.as_ref(), &cx, false);
        Some(Figures {
            sentiment,
            lid_fortunes: eval::eval_language(p, &load("lid_es_en_fortunes"), "label").1,
            topics_cx: eval::eval_topics_multilabel(p, &cx).macro_f1,
            topics_airline: eval::eval_topics_airline(p, &load("en_airline_tweets")).macro_f1,
            redaction_cx: (r.precision(), r.recall()),
        })
    })
    .as_ref()
}

macro_rules! with_data {
    ($f:ident) => {
        let Some($f) = figures() else {
            eprintln!(
                "SKIPPED: labelled data folder ../shared/data/text not found (set ESCUCHA_TEXT_DATA); \
                 accuracy floors not checked"
            );
            return;
        };
    };
}

fn sentiment(f: &Figures, set: &str, lang: &str) -> (f64, f64) {
    f.sentiment[&(set.to_string(), lang.to_string())]
}

#[test]
fn sentiment_floors() {
    with_data!(f);
    let checks = [
        // (set, lang, macro-F1 floor, AUC floor)
        ("en_airline_tweets", "en", 0.53, 0.88),
        ("en_vader_tweets", "en", 0.67, 0.97),
        ("en_vader_nyt_editorials", "en", 0.53, 0.79),
        ("en_vader_movie_reviews", "en", 0.40, 0.70),
        ("es_evomsa_tweets", "es", 0.45, 0.68),
        ("es_cx_dev", "es", 0.85, 0.95),
        ("es_cx_dev", "en", 0.76, 0.96),
    ];
    for (set, lang, f1_floor, auc_floor) in checks {
        let (f1, auc) = sentiment(f, set, lang);
        assert!(f1 >= f1_floor, "{set} ({lang}) macro-F1 {f1:.3} < floor {f1_floor}");
        assert!(auc >= auc_floor, "{set} ({lang}) AUC {auc:.3} < floor {auc_floor}");
    }
}

#[test]
fn language_id_floor() {
    with_data!(f);
    assert!(f.lid_fortunes >= 0.993, "language id {:.4} < 0.993", f.lid_fortunes);
}

#[test]
fn topic_floors() {
    with_data!(f);
    assert!(f.topics_cx >= 0.63, "es_cx_dev topic macro-F1 {:.3} < 0.63", f.topics_cx);
    assert!(f.topics_airline >= 0.42, "airline topic macro-F1 {:.3} < 0.42", f.topics_airline);
}

#[test]
fn redaction_floors_on_dev_set() {
    with_data!(f);
    let (p, r) = f.redaction_cx;
    assert!(p >= 0.98, "es_cx_dev redaction precision {p:.3} < 0.98");
    assert!(r >= 0.98, "es_cx_dev redaction recall {r:.3} < 0.98");
}

#[test]
fn redaction_floors_on_shipped_fake_set() {
    // This set ships with the crate: never skipped.
    let rows = load_jsonl(&eval::redaction_set_path()).expect("shipped fake redaction set");
    assert!(rows.len() >= 150);
    let e = eval::eval_redaction(pipeline().redactor.as_ref(), &rows, true);
    assert!(e.precision() >= 0.99, "precision {:.3}; spurious {:?}", e.precision(), e.spurious);
    assert!(e.recall() >= 0.99, "recall {:.3}; missed {:?}", e.recall(), e.missed);
}

/// Emotions of the fallback on the held-out part b of the team-written emotion sets
/// (`bench/text/emotions/`, in the repository; measured 0.453 macro-F1, bench/text/RESULTS.md).
#[test]
fn emotion_floor_on_the_held_out_part() {
    let rows = eval::emotion_rows("b").expect("emotion sets readable");
    assert_eq!(rows.len(), 320, "part b of bench/text/emotions/ is in the repository");
    let e = eval::eval_emotions(pipeline(), &rows).expect("valid labels");
    assert!(e.macro_f1 >= 0.43, "emotion macro-F1 on part b {:.3} < 0.43", e.macro_f1);
    assert!(e.none_accuracy >= 0.8, "rows without emotion right {:.3} < 0.8", e.none_accuracy);
}
