//! The demo organisation loads into a fresh SQLite store with everything it promises, quickly
//! (the 30 s budget is asserted in release builds, where it is meant; debug builds only print
//! the times).

use std::time::Instant;

use chrono::{TimeZone, Utc};
use escucha_core::case::CaseStatus;
use escucha_core::values::Email;
use escucha_server::demo;
use escucha_store::{CaseFilter, StoreError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_loads_into_sqlite_with_its_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let store =
        escucha_store::connect(&url, escucha_store::crypto::KeyRing::generate().unwrap()).await.expect("sqlite store");

    let started = Instant::now();
    let data = demo::generate(Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap());
    let generated = started.elapsed();
    let (users, customers, responses) = (data.users.len(), data.customers.len(), data.responses.len());
    let summary = demo::load(store.as_ref(), data, "$argon2id$demo-test-hash").await.expect("demo loads");
    let total = started.elapsed();
    eprintln!(
        "demo: generated in {:.2} s, generated and loaded in {:.2} s ({} responses, {} cases, {} resolved)",
        generated.as_secs_f64(),
        total.as_secs_f64(),
        summary.responses,
        summary.cases_opened,
        summary.cases_resolved
    );
    if !cfg!(debug_assertions) {
        assert!(generated.as_secs_f64() < 5.0, "generation took {generated:?}");
        assert!(total.as_secs_f64() < 30.0, "generation and load took {total:?}");
    }

    let org = store.org_by_slug(demo::DEMO_ORG_SLUG).await.unwrap().expect("demo organisation");
    assert_eq!(org.id, summary.org_id);
    assert_eq!(org.name.as_str(), demo::DEMO_ORG_NAME);
    assert_eq!((summary.users, summary.customers, summary.responses), (users, customers, responses));
    assert_eq!(store.list_users(org.id).await.unwrap().len(), users);
    assert_eq!(store.count_customers(org.id).await.unwrap(), customers as i64);
    assert_eq!(store.count_responses(org.id).await.unwrap(), responses as i64);
    assert_eq!(store.list_journeys(org.id).await.unwrap().len(), 2);
    assert_eq!(store.list_surveys(org.id).await.unwrap().len(), 3);

    // The two sign-in users have the password; others do not.
    assert_eq!(summary.sign_in_emails, vec![summary.admin_email.clone(), summary.manager_email.clone()]);
    for email in &summary.sign_in_emails {
        let (user, hash) =
            store.password_hash(org.id, &Email::parse(email).unwrap()).await.unwrap().expect("password set");
        assert_eq!(user.email.as_str(), email);
        assert_eq!(hash, "$argon2id$demo-test-hash");
    }
    let manager = store.user_by_email(org.id, &Email::parse(&summary.manager_email).unwrap()).await.unwrap().unwrap();
    assert_eq!(manager.region.map(|r| r.as_str().to_string()).as_deref(), Some("Norte"));

    // Cases: recent detractors, for the owner with the manager named; older ones worked.
    assert!(summary.cases_opened > 500, "{} cases", summary.cases_opened);
    assert!(summary.cases_resolved > summary.cases_opened / 3);
    assert_eq!(store.count_cases(org.id, None).await.unwrap(), summary.cases_opened as i64);
    let done = store.count_cases(org.id, Some(CaseStatus::Resolved)).await.unwrap()
        + store.count_cases(org.id, Some(CaseStatus::Closed)).await.unwrap();
    assert_eq!(done, summary.cases_resolved as i64);
    assert!(store.count_cases(org.id, Some(CaseStatus::Open)).await.unwrap() > 0);
    let closed = store
        .list_cases(org.id, CaseFilter { status: Some(CaseStatus::Closed), limit: 50, ..Default::default() })
        .await
        .unwrap();
    assert!(!closed.is_empty());
    for case in &closed {
        assert!(case.manager_email.is_some());
        assert!(case.root_cause.is_some() && case.resolution.is_some());
        assert!(case.closed_at.is_some());
        let response =
            store.response(org.id, case.response_id.expect("case names its response")).await.unwrap().unwrap();
        assert!(response.scores.nps.is_some_and(|s| s <= 6) || response.scores.csat.is_some_and(|s| s <= 2));
    }

    // Loading twice is refused, not duplicated.
    let empty = demo::DemoData {
        now: Utc::now(),
        billing_incident_start: Utc::now(),
        users: vec![],
        customers: vec![],
        journeys: vec![],
        surveys: vec![],
        responses: vec![],
    };
    let again = demo::load(store.as_ref(), empty, "x").await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}
