//! Tests of the demo generator: sizes, determinism, the shape of the company, and that every
//! story of the module docs can be found in the generated scores (counted by hand here, not
//! with the metrics engine, so a bug there cannot hide a missing story).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use escucha_core::org::Role;

use super::generate::{BILLING_DAYS_BEFORE_NOW, CUSTOMER_COUNT, RESPONSE_COUNT, WINDOW_DAYS};
use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap()
}

fn data() -> &'static DemoData {
    static DATA: OnceLock<DemoData> = OnceLock::new();
    DATA.get_or_init(|| generate(now()))
}

/// NPS of a list of 0–10 scores: 100 × (promoters − detractors) / n, with n.
fn nps(scores: impl IntoIterator<Item = u8>) -> (f64, usize) {
    let (mut promoters, mut detractors, mut n) = (0usize, 0usize, 0usize);
    for s in scores {
        n += 1;
        if s >= 9 {
            promoters += 1;
        } else if s <= 6 {
            detractors += 1;
        }
    }
    (100.0 * (promoters as f64 - detractors as f64) / n.max(1) as f64, n)
}

/// CSAT: 100 × share of 4–5.
fn csat(scores: impl IntoIterator<Item = u8>) -> f64 {
    let (mut hits, mut n) = (0usize, 0usize);
    for s in scores {
        n += 1;
        if s >= 4 {
            hits += 1;
        }
    }
    100.0 * hits as f64 / n.max(1) as f64
}

fn mean(scores: impl IntoIterator<Item = u8>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for s in scores {
        sum += f64::from(s);
        n += 1;
    }
    sum / n.max(1) as f64
}

fn of(kind: DemoSurveyKind) -> impl Iterator<Item = &'static DemoResponse> {
    data().responses.iter().filter(move |r| r.survey == kind)
}

fn region(r: &DemoResponse) -> &str {
    r.response.context.region.as_ref().map_or("", |l| l.as_str())
}

fn touchpoint(r: &DemoResponse) -> &str {
    r.response.context.touchpoint.as_ref().map_or("", |l| l.as_str())
}

fn is_billing_text(text: &str) -> bool {
    let t = text.to_lowercase();
    ["factura", "cobr", "cargo", "bill", "charge"].iter().any(|w| t.contains(w))
}

#[test]
fn sizes_are_as_specified() {
    let d = data();
    assert!((190..=230).contains(&d.users.len()), "{} users", d.users.len());
    assert_eq!(d.customers.len(), CUSTOMER_COUNT);
    assert_eq!(d.responses.len(), RESPONSE_COUNT);
    assert_eq!(d.journeys.len(), 2);
    assert_eq!(d.surveys.len(), 3);
    let by_kind: BTreeMap<DemoSurveyKind, usize> = d.responses.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.survey).or_default() += 1;
        m
    });
    eprintln!("responses by survey: {by_kind:?}");
    assert!(by_kind[&DemoSurveyKind::Onboarding] > 5_000);
    assert!(by_kind[&DemoSurveyKind::Relational] > 40_000);
    assert!(by_kind[&DemoSurveyKind::Support] > 40_000);
}

#[test]
fn generation_is_deterministic() {
    // Every field of every user, customer, journey, survey and response, compared in full.
    let again = generate(now());
    assert!(!again.responses.is_empty());
    assert!(again == *data(), "the same `now` must give identical data");
}

#[test]
fn staff_has_a_hierarchy_and_the_demo_sign_ins() {
    let d = data();
    let mut seen = BTreeSet::new();
    for u in &d.users {
        assert!(u.email.as_str().ends_with("@conecta.example"), "{}", u.email);
        if let Some(m) = &u.manager_email {
            assert!(seen.contains(m.as_str()), "{} is managed by {m}, who is not listed before", u.email);
        }
        assert!(seen.insert(u.email.as_str()), "duplicate {}", u.email);
    }
    assert_eq!(d.users.iter().filter(|u| u.manager_email.is_none()).count(), 1, "one CEO");
    let admin = d.users.iter().find(|u| u.email.as_str() == DEMO_ADMIN_EMAIL).expect("demo admin");
    assert_eq!(admin.role, Role::Admin);
    let manager = d.users.iter().find(|u| u.email.as_str() == DEMO_MANAGER_EMAIL).expect("demo manager");
    assert_eq!(manager.role, Role::Manager);
    assert_eq!(manager.region.as_ref().map(|r| r.as_str()), Some("Norte"));
    for role in Role::ALL {
        assert!(d.users.iter().any(|u| u.role == role), "no {role:?}");
    }
    // Four levels: CEO → regional director → team manager → agent.
    let depth = |email: &str| {
        let mut depth = 0;
        let mut cur = d.users.iter().find(|u| u.email.as_str() == email);
        while let Some(u) = cur.and_then(|u| u.manager_email.as_ref()) {
            depth += 1;
            cur = d.users.iter().find(|x| &x.email == u);
        }
        depth
    };
    let agent = d.users.iter().find(|u| u.role == Role::Agent).unwrap();
    assert_eq!(depth(agent.email.as_str()), 3);
}

#[test]
fn customers_are_spread_and_owned_in_their_region() {
    let d = data();
    let users: BTreeMap<&str, &DemoUser> = d.users.iter().map(|u| (u.email.as_str(), u)).collect();
    let mut regions = BTreeMap::<&str, usize>::new();
    let mut spanish = 0;
    for (i, c) in d.customers.iter().enumerate() {
        assert_eq!(c.external_id.as_str(), format!("C-{:06}", i + 1));
        *regions.entry(c.region.as_str()).or_default() += 1;
        if c.language.as_str() == "es" {
            spanish += 1;
        }
        if let Some(e) = &c.email {
            assert!(
                e.domain().ends_with("example.com")
                    || e.domain().ends_with("example.org")
                    || e.domain().ends_with("example.net")
                    || e.domain().ends_with(".example"),
                "{e}"
            );
        }
        assert!(c.phone.as_deref().is_none_or(|p| p.contains(" 555 ")));
        assert!(c.annual_value > 0.0);
        assert!(c.attributes.contains_key("plan") && c.attributes.contains_key("cliente_desde"));
        if let Some(owner) = &c.owner_email {
            let u = users[owner.as_str()];
            assert_eq!(u.role, Role::Agent);
            assert_eq!(u.region.as_ref(), Some(&c.region));
            assert!(u.team.as_ref().unwrap().as_str().starts_with("Ventas"));
        }
    }
    assert_eq!(regions.len(), 8, "{regions:?}");
    let share = spanish as f64 / d.customers.len() as f64;
    assert!((0.8..0.9).contains(&share), "Spanish share {share}");
    let owned = d.customers.iter().filter(|c| c.owner_email.is_some()).count();
    assert!(owned > 4_500, "{owned} customers with an owner");
    let stages: BTreeSet<&str> = d.customers.iter().map(|c| c.lifecycle_stage.as_str()).collect();
    assert_eq!(stages, ["Activo", "En riesgo", "Nuevo", "Renovación"].into_iter().collect());
}

#[test]
fn journeys_surveys_and_contexts_are_consistent() {
    let d = data();
    let mut touchpoints = BTreeMap::new();
    for j in &d.journeys {
        j.validate().expect("valid journey");
        for s in &j.stages {
            for t in &s.touchpoints {
                touchpoints.insert(t.key.clone(), (j.key.clone(), s.key.clone()));
            }
        }
    }
    assert!(d.journeys.iter().flat_map(|j| &j.stages).flat_map(|s| &s.touchpoints).any(|t| t.moment_of_truth));
    for s in &d.surveys {
        assert_eq!(s.definition.languages, vec!["es", "en"]);
    }
    let users: BTreeSet<&str> = d.users.iter().map(|u| u.email.as_str()).collect();
    let start = d.now - Duration::days(WINDOW_DAYS);
    let mut last = start;
    for r in &d.responses {
        let resp = &r.response;
        assert!(resp.submitted_at >= last && resp.submitted_at < d.now);
        last = resp.submitted_at;
        assert_eq!(resp.context.region.as_ref(), Some(&d.customers[r.customer].region));
        if let Some(tp) = &resp.context.touchpoint {
            let (journey, stage) = &touchpoints[tp.as_str()];
            let expected = if r.survey == DemoSurveyKind::Onboarding { "onboarding" } else { "support" };
            assert_eq!(journey, expected);
            assert_eq!(resp.context.journey_stage.as_ref().map(|s| s.as_str()), Some(stage.as_str()));
        } else {
            assert_eq!(r.survey, DemoSurveyKind::Relational);
        }
        if let Some(e) = &resp.context.employee_email {
            assert!(users.contains(e.as_str()));
        }
        // The scores are those of the validated answers.
        let def = &d.surveys[r.survey.index()].definition;
        assert_eq!(def.metric_scores(&resp.answers), resp.scores);
        match r.survey {
            DemoSurveyKind::Support => {
                assert!(resp.scores.csat.is_some() && resp.scores.ces.is_some())
            }
            _ => assert!(resp.scores.nps.is_some()),
        }
    }
    assert!(of(DemoSurveyKind::Relational).any(|r| !r.response.emotions.is_empty()));
}

#[test]
fn comments_are_varied_bilingual_and_sometimes_personal() {
    let d = data();
    let verbatims: Vec<(&str, &str)> = d
        .responses
        .iter()
        .filter_map(|r| Some((r.response.verbatim.as_deref()?, r.response.language.as_ref()?.as_str())))
        .collect();
    let share = verbatims.len() as f64 / d.responses.len() as f64;
    assert!((0.35..0.7).contains(&share), "comment share {share}");
    let distinct: BTreeSet<&str> = verbatims.iter().map(|(v, _)| *v).collect();
    assert!(distinct.len() > 5_000, "{} distinct comments", distinct.len());
    let sentences: BTreeSet<&str> = verbatims.iter().flat_map(|(v, _)| v.split(". ")).collect();
    eprintln!("{} comments, {} distinct, {} distinct sentences", verbatims.len(), distinct.len(), sentences.len());
    assert!(verbatims.iter().any(|(v, l)| *l == "en" && v.contains("the")));
    assert!(verbatims.iter().any(|(v, l)| *l == "es" && v.contains(" el ")));
    let named = verbatims.iter().filter(|(v, _)| v.contains("Me atendió ") || v.contains(" helped me")).count();
    let phones = verbatims.iter().filter(|(v, _)| v.contains(" 555 ")).count();
    let emails = verbatims.iter().filter(|(v, _)| v.contains('@')).count();
    eprintln!("personal data: {named} names, {phones} phones, {emails} e-mails");
    assert!(named > 500 && phones > 500 && emails > 200);
}

#[test]
fn story_region_sur_is_clearly_worse() {
    let (sur, n_sur) =
        nps(of(DemoSurveyKind::Relational).filter(|r| region(r) == "Sur").filter_map(|r| r.response.scores.nps));
    let (rest, n_rest) =
        nps(of(DemoSurveyKind::Relational).filter(|r| region(r) != "Sur").filter_map(|r| r.response.scores.nps));
    eprintln!("relational NPS Sur {sur:.1} (n={n_sur}) vs rest {rest:.1} (n={n_rest})");
    assert!(rest - sur >= 10.0, "Sur {sur:.1} vs rest {rest:.1}");
    // And it is the worst region, whatever the survey.
    let mut by_region = BTreeMap::<&str, Vec<u8>>::new();
    for r in data().responses.iter() {
        if let Some(s) = r.response.scores.nps {
            by_region.entry(region(r)).or_default().push(s);
        }
    }
    let worst =
        by_region.iter().map(|(k, v)| (nps(v.iter().copied()).0, *k)).min_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
    assert_eq!(worst.1, "Sur");
}

#[test]
fn story_the_installation_visit_drags_onboarding() {
    let visit = || of(DemoSurveyKind::Onboarding).filter(|r| touchpoint(r) == "visita_tecnica");
    let others = || of(DemoSurveyKind::Onboarding).filter(|r| touchpoint(r) != "visita_tecnica");
    let (nps_visit, n) = nps(visit().filter_map(|r| r.response.scores.nps));
    let (nps_others, m) = nps(others().filter_map(|r| r.response.scores.nps));
    let csat_visit = csat(visit().filter_map(|r| r.response.scores.csat));
    let csat_others = csat(others().filter_map(|r| r.response.scores.csat));
    let ces_visit = mean(visit().filter_map(|r| r.response.scores.ces));
    let ces_others = mean(others().filter_map(|r| r.response.scores.ces));
    eprintln!(
        "onboarding visita_tecnica NPS {nps_visit:.1} (n={n}) vs other touchpoints {nps_others:.1} (n={m}); \
         CSAT {csat_visit:.1} vs {csat_others:.1}; CES {ces_visit:.2} vs {ces_others:.2}"
    );
    assert!(nps_others - nps_visit >= 20.0);
    assert!(csat_others - csat_visit >= 10.0);
    assert!(ces_others - ces_visit >= 0.5);
    // It is the lowest onboarding touchpoint, and its complaints are about the visit.
    let mut by_tp = BTreeMap::<&str, Vec<u8>>::new();
    for r in of(DemoSurveyKind::Onboarding) {
        by_tp.entry(touchpoint(r)).or_default().extend(r.response.scores.nps);
    }
    let worst = by_tp.iter().map(|(k, v)| (nps(v.iter().copied()).0, *k)).min_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
    assert_eq!(worst.1, "visita_tecnica");
    let complaints: Vec<&str> = visit()
        .filter(|r| r.response.scores.nps.is_some_and(|s| s <= 6))
        .filter_map(|r| r.response.verbatim.as_deref())
        .collect();
    let about_visit = complaints
        .iter()
        .filter(|v| {
            ["técnico", "cita", "instalación", "visita", "technician", "appointment", "installation", "visit"]
                .iter()
                .any(|w| v.contains(w))
        })
        .count();
    assert!(about_visit as f64 > 0.6 * complaints.len() as f64, "{about_visit} of {}", complaints.len());
}

#[test]
fn story_summer_peak_dip() {
    let d = data();
    let billing = d.billing_incident_start;
    let mut peak = Vec::new();
    let mut calm = Vec::new();
    let mut support_days = BTreeMap::<bool, usize>::new();
    for r in d.responses.iter().filter(|r| r.response.submitted_at < billing) {
        let month = r.response.submitted_at.month();
        if let Some(s) = r.response.scores.nps {
            match month {
                12 | 1 => peak.push(s),
                3..=10 => calm.push(s),
                _ => {}
            }
        }
        if r.survey == DemoSurveyKind::Support && (month == 12 || (3..=10).contains(&month)) {
            *support_days.entry(month == 12).or_default() += 1;
        }
    }
    let (peak_nps, n) = nps(peak);
    let (calm_nps, m) = nps(calm);
    eprintln!("NPS in December–January {peak_nps:.1} (n={n}) vs March–October {calm_nps:.1} (n={m})");
    assert!(calm_nps - peak_nps >= 6.0);
    assert!(n > 3_000);
}

#[test]
fn story_billing_incident_starts_at_a_date_and_partly_recovers() {
    let d = data();
    let b = d.billing_incident_start;
    assert_eq!(
        b,
        (d.now - Duration::days(BILLING_DAYS_BEFORE_NOW)).date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc()
    );
    let window = |from: DateTime<Utc>, to: DateTime<Utc>| {
        of(DemoSurveyKind::Relational).filter(move |r| r.response.submitted_at >= from && r.response.submitted_at < to)
    };
    // Season-neutral months only, so the summer peak cannot pass for the incident.
    let calm = |r: &&DemoResponse| (3..=10).contains(&r.response.submitted_at.month());
    let (before, n_before) = nps(window(b - Duration::days(180), b).filter(calm).filter_map(|r| r.response.scores.nps));
    let (during, n_during) =
        nps(window(b + Duration::days(10), b + Duration::days(45)).filter(calm).filter_map(|r| r.response.scores.nps));
    let (latest, n_latest) = nps(window(d.now - Duration::days(30), d.now).filter_map(|r| r.response.scores.nps));
    eprintln!(
        "relational NPS before the billing change {before:.1} (n={n_before}), days 10–45 {during:.1} (n={n_during}), \
         last 30 days {latest:.1} (n={n_latest})"
    );
    assert!(before - during >= 12.0);
    assert!(latest - during >= 5.0, "partial recovery");
    assert!(before - latest >= 3.0, "only partial");

    let share = |from, to| {
        let texts: Vec<&str> = window(from, to).filter_map(|r| r.response.verbatim.as_deref()).collect();
        texts.iter().filter(|t| is_billing_text(t)).count() as f64 / texts.len().max(1) as f64
    };
    let share_before = share(b - Duration::days(180), b);
    let share_during = share(b + Duration::days(10), b + Duration::days(45));
    eprintln!("billing comments: {:.1}% before, {:.1}% during", 100.0 * share_before, 100.0 * share_during);
    assert!(share_during >= 2.0 * share_before);

    let claims_per_day = |from: DateTime<Utc>, to: DateTime<Utc>| {
        of(DemoSurveyKind::Support)
            .filter(|r| {
                touchpoint(r) == "reclamo_factura" && r.response.submitted_at >= from && r.response.submitted_at < to
            })
            .count() as f64
            / (to - from).num_days() as f64
    };
    let claims_before = claims_per_day(b - Duration::days(90), b);
    let claims_during = claims_per_day(b + Duration::days(10), b + Duration::days(45));
    eprintln!("billing claims per day: {claims_before:.1} before, {claims_during:.1} during");
    assert!(claims_during >= 2.0 * claims_before);
}

#[test]
fn story_fibra_max_scores_better() {
    let product = |r: &DemoResponse| r.response.context.product.as_ref().map_or("", |l| l.as_str()).to_string();
    let (max, n) =
        nps(of(DemoSurveyKind::Relational).filter(|r| product(r) == "Fibra Max").filter_map(|r| r.response.scores.nps));
    let (rest, m) =
        nps(of(DemoSurveyKind::Relational).filter(|r| product(r) != "Fibra Max").filter_map(|r| r.response.scores.nps));
    eprintln!("relational NPS Fibra Max {max:.1} (n={n}) vs other products {rest:.1} (n={m})");
    assert!(max - rest >= 8.0);
}
