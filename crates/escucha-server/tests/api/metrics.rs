//! Metrics through the API against hand-computed values (arithmetic in the comments).

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-6)
}

fn ci(v: &Value) -> (f64, f64) {
    (v["ci95"][0].as_f64().unwrap(), v["ci95"][1].as_f64().unwrap())
}

/// One seeded response: region, product, submitted at, NPS, CSAT, CES.
type SeedRow = (&'static str, &'static str, &'static str, i64, Option<i64>, Option<i64>);

/// Norte (January): NPS 10, 10, 9, 8, 7; CSAT 5, 4, 3; CES 7, 6, 5.
/// Sur (15 February, late evening UTC): NPS 6, 3, 0, 10, 5; CSAT 2, 1; CES 2.
async fn seed(app: &TestApp) -> i64 {
    let survey = app.create_survey().await;
    let rows: Vec<SeedRow> = vec![
        ("Norte", "Fibra", "2026-01-10T10:00:00Z", 10, Some(5), Some(7)),
        ("Norte", "Fibra", "2026-01-11T10:00:00Z", 10, Some(4), Some(6)),
        ("Norte", "Movil", "2026-01-12T10:00:00Z", 9, Some(3), Some(5)),
        ("Norte", "Movil", "2026-01-13T10:00:00Z", 8, None, None),
        ("Norte", "Movil", "2026-01-14T10:00:00Z", 7, None, None),
        ("Sur", "Fibra", "2026-02-15T23:30:00Z", 6, Some(2), Some(2)),
        ("Sur", "Fibra", "2026-02-15T23:31:00Z", 3, Some(1), None),
        ("Sur", "Fibra", "2026-02-15T23:32:00Z", 0, None, None),
        ("Sur", "Movil", "2026-02-15T23:33:00Z", 10, None, None),
        ("Sur", "Movil", "2026-02-15T23:34:00Z", 5, None, None),
    ];
    for (region, product, at, nps, csat, ces) in rows {
        let mut answers = json!({"nps": nps});
        if let Some(c) = csat {
            answers["csat"] = json!(c);
        }
        if let Some(c) = ces {
            answers["ces"] = json!(c);
        }
        let (s, b) = app
            .post("/api/v1/responses", json!({"survey_id": survey, "answers": answers, "submitted_at": at, "context": {"region": region, "product": product}}))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    survey
}

#[tokio::test]
async fn metrics_match_hand_computed_values() {
    let app = TestApp::spawn().await;
    let survey = seed(&app).await;

    // Total NPS: promoters 4 (10, 10, 9, 10), passives 2 (8, 7), detractors 4 (6, 3, 0, 5), n 10.
    // value = 100 × (0.4 − 0.4) = 0; ci = ± 196 × sqrt((0.4 + 0.4 − 0) / 10) = ± 196 × 0.2828427 = ± 55.43717.
    let (s, m) = app.get("/api/v1/metrics?metric=nps").await;
    assert_eq!(s, 200, "{m}");
    let t = &m["total"];
    assert_eq!(
        (t["n"].as_u64(), t["promoters"].as_u64(), t["passives"].as_u64(), t["detractors"].as_u64()),
        (Some(10), Some(4), Some(2), Some(4))
    );
    assert!(close(&t["value"], 0.0));
    let (lo, hi) = ci(t);
    assert!((lo + 55.43717164502532).abs() < 1e-9 && (hi - 55.43717164502532).abs() < 1e-9, "{t}");

    // By region. Norte: p = 0.6, d = 0 → 60 ± 196 × sqrt((0.6 − 0.36) / 5) = 60 ± 42.94145 → [17.05855, 100 (clipped)].
    // Sur: p = 0.2, d = 0.8 → −60 ± 196 × sqrt((1 − 0.36) / 5) = −60 ± 70.12309 → [−100 (clipped), 10.12309].
    let (s, m) = app.get("/api/v1/metrics?metric=nps&by=region").await;
    assert_eq!(s, 200);
    let groups = m["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    let norte = groups.iter().find(|g| g["key"]["region"] == "Norte").unwrap();
    let sur = groups.iter().find(|g| g["key"]["region"] == "Sur").unwrap();
    assert!(close(&norte["value"], 60.0));
    let (lo, hi) = ci(norte);
    assert!((lo - 17.058551491594976).abs() < 1e-9 && hi == 100.0, "{norte}");
    assert!(close(&sur["value"], -60.0));
    let (lo, hi) = ci(sur);
    assert!(lo == -100.0 && (hi - 10.123091774393394).abs() < 1e-9, "{sur}");

    // Two dimensions: Norte×Fibra = {10, 10} → 100.
    let (_, m) = app.get("/api/v1/metrics?metric=nps&by=region,product").await;
    let g = m["groups"].as_array().unwrap();
    assert_eq!(g.len(), 4);
    let nf = g.iter().find(|g| g["key"] == json!({"region": "Norte", "product": "Fibra"})).unwrap();
    assert_eq!(nf["n"], 2);
    assert!(close(&nf["value"], 100.0));

    // CSAT: 5, 4, 3, 2, 1 → 2 of 5 satisfied = 40; Wilson (z = 1.959964): centre 0.443448, half-width 0.325829
    // → [11.76208, 76.92757]. DSAT: 2 of 5 (2, 1) = 40, same interval.
    for (metric, count) in [("csat", "satisfied"), ("dsat", "dissatisfied")] {
        let (s, m) = app.get(&format!("/api/v1/metrics?metric={metric}")).await;
        assert_eq!(s, 200, "{m}");
        let t = &m["total"];
        assert_eq!((t["n"].as_u64(), t[count].as_u64()), (Some(5), Some(2)), "{metric}: {t}");
        assert!(close(&t["value"], 40.0));
        let (lo, hi) = ci(t);
        assert!((lo - 11.762077423264783).abs() < 1e-6 && (hi - 76.9275718723987).abs() < 1e-6, "{metric}: {t}");
    }

    // CES: 7, 6, 5, 2 → mean 5; s = sqrt(14 / 3) = 2.160247; t(0.975, 3) = 3.182446;
    // half-width = 3.182446 × 2.160247 / 2 = 3.437435 → [1.562565, 8.437435]; share_easy = 3 / 4 = 75.
    let (_, m) = app.get("/api/v1/metrics?metric=ces").await;
    let t = &m["total"];
    assert_eq!(t["n"], 4);
    assert!(close(&t["value"], 5.0));
    assert!(close(&t["share_easy"], 75.0));
    let (lo, hi) = ci(t);
    assert!((lo - 1.5625651181410918).abs() < 1e-6 && (hi - 8.437434881858909).abs() < 1e-6, "{t}");

    // Filters and inclusive date ranges (the Sur answers were given at 23:30 UTC on 15 Feb).
    let (_, m) = app.get("/api/v1/metrics?metric=nps&filter[region]=Sur").await;
    assert_eq!(m["total"]["n"], 5);
    assert!(close(&m["total"]["value"], -60.0));
    let (_, m) = app.get("/api/v1/metrics?metric=nps&from=2026-02-01&to=2026-02-15").await;
    assert_eq!(m["total"]["n"], 5);
    let (_, m) = app.get("/api/v1/metrics?metric=nps&from=2026-01-11&to=2026-01-12").await;
    assert_eq!(m["total"]["n"], 2);
    let (_, m) = app.get(&format!("/api/v1/metrics?metric=nps&survey_id={survey}")).await;
    assert_eq!(m["total"]["n"], 10);
    let (_, m) = app.get(&format!("/api/v1/metrics?metric=nps&survey_id={}", survey + 1000)).await;
    assert_eq!(m["total"]["n"], 0);

    // Monthly series: January 60 (n 5), February −60 (n 5).
    let (s, m) = app.get("/api/v1/metrics/series?metric=nps&interval=month").await;
    assert_eq!(s, 200, "{m}");
    let points = m["points"].as_array().unwrap();
    let jan = points.iter().find(|p| p["start"] == "2026-01-01").unwrap();
    let feb = points.iter().find(|p| p["start"] == "2026-02-01").unwrap();
    assert_eq!((jan["n"].as_u64(), feb["n"].as_u64()), (Some(5), Some(5)));
    assert!(close(&jan["value"], 60.0) && close(&feb["value"], -60.0));
    app.stop().await;
}

#[tokio::test]
async fn other_organisations_never_count() {
    let app = TestApp::spawn().await;
    let survey = seed(&app).await;
    let (s, _) = app.put("/api/v1/customers/C-1", json!({"name": "Ana"})).await;
    assert_eq!(s, 201);
    let other = app
        .store
        .create_org(
            &escucha_core::values::Slug::parse("other").unwrap(),
            &escucha_core::values::Label::parse("Other").unwrap(),
        )
        .await
        .unwrap();
    let other_token =
        crate::helpers::create_token(app.store.as_ref(), other.id, escucha_core::org::Role::Admin, "o").await;
    let (s, m) = app.send(app.client.get(app.url("/api/v1/metrics?metric=nps")).bearer_auth(&other_token)).await;
    assert_eq!(s, 200);
    assert_eq!(m["total"]["n"], 0);
    let (s, _) = app.send(app.client.get(app.url("/api/v1/customers/C-1")).bearer_auth(&other_token)).await;
    assert_eq!(s, 404);
    let (s, _) =
        app.send(app.client.get(app.url(&format!("/api/v1/surveys/{survey}"))).bearer_auth(&other_token)).await;
    assert_eq!(s, 404);
    let (s, e) = app
        .send(
            app.client
                .post(app.url("/api/v1/responses"))
                .bearer_auth(&other_token)
                .json(&json!({"survey_id": survey, "answers": {"nps": 1}})),
        )
        .await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("unknown_survey")));
    let (s, cases) = app.send(app.client.get(app.url("/api/v1/cases")).bearer_auth(&other_token)).await;
    assert_eq!((s, cases["items"].as_array().map(Vec::len)), (200, Some(0)));
    app.stop().await;
}
