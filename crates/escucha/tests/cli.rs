//! The `escucha` binary as a user runs it: organisation and token commands, clear failures, and
//! durability — a response acknowledged with 201 survives SIGKILL right after.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn escucha(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_escucha"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("ESCUCHA_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve(data: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_escucha"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env_remove("ESCUCHA_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts")
}

async fn wait_healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "server never became healthy");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn org_and_token_commands_print_only_their_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = escucha(&["org", "create", "--slug", "acme", "--name", "Acme"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "acme\n");
    let out = escucha(&["token", "create", "--org", "acme", "--role", "analyst"], dir.path());
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("esk_") && lines[0].len() == 68, "{stdout}");

    // Failures: non-zero exit, one line on stderr, nothing on stdout.
    for args in [
        vec!["token", "create", "--org", "nope", "--role", "admin"],
        vec!["token", "create", "--org", "acme", "--role", "boss"],
        vec!["org", "create", "--slug", "acme", "--name", "Again"],
        vec!["org", "create", "--slug", "Bad Slug", "--name", "X"],
    ] {
        let out = escucha(&args, dir.path());
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        let reason: Vec<&str> = err.lines().filter(|l| l.starts_with("escucha:")).collect();
        assert_eq!(reason.len(), 1, "{args:?}: {err}");
    }
}

#[test]
fn set_password_reads_standard_input_and_checks_length() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    assert!(escucha(&["org", "create", "--slug", "acme", "--name", "Acme"], dir.path()).status.success());
    let run = |password: &str, email: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_escucha"))
            .args(["user", "set-password", "--org", "acme", "--email", email, "--data"])
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(password.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    // No such user yet.
    let out = run("una clave bastante larga\n", "ana@acme.example");
    assert!(!out.status.success());
    // Create the user through a token-less path: the API needs a server, so use the admin token.
    let token = String::from_utf8(escucha(&["token", "create", "--org", "acme", "--role", "admin"], dir.path()).stdout)
        .unwrap();
    assert!(token.starts_with("esk_"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = escucha_store::connect(
            &format!("sqlite://{}", dir.path().join("escucha.db").display()),
            escucha_store::crypto::KeyRing::load(None, dir.path()).unwrap(),
        )
        .await
        .unwrap();
        let org = store.org_by_slug("acme").await.unwrap().unwrap();
        let email = escucha_core::values::Email::parse("ana@acme.example").unwrap();
        store.upsert_user(org.id, &email, Default::default()).await.unwrap();
    });
    let out = run("corta\n", "ana@acme.example");
    assert!(!out.status.success(), "short passwords are refused");
    let out = run("una clave bastante larga\n", "ana@acme.example");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    rt.block_on(async {
        let store = escucha_store::connect(
            &format!("sqlite://{}", dir.path().join("escucha.db").display()),
            escucha_store::crypto::KeyRing::load(None, dir.path()).unwrap(),
        )
        .await
        .unwrap();
        let org = store.org_by_slug("acme").await.unwrap().unwrap();
        let email = escucha_core::values::Email::parse("ana@acme.example").unwrap();
        let (_, hash) = store.password_hash(org.id, &email).await.unwrap().expect("a hash is stored");
        assert!(escucha_server::auth::verify_password("una clave bastante larga", &hash));
    });
}

#[tokio::test]
async fn an_acknowledged_response_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    assert!(escucha(&["org", "create", "--slug", "acme", "--name", "Acme"], dir.path()).status.success());
    let token = String::from_utf8(escucha(&["token", "create", "--org", "acme", "--role", "admin"], dir.path()).stdout)
        .unwrap();
    let token = token.trim().to_string();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut child = serve(dir.path(), port);
    wait_healthy(&client, &base).await;

    let survey: Value = client
        .post(format!("{base}/api/v1/surveys"))
        .bearer_auth(&token)
        .json(&json!({"name": "S", "languages": ["es"], "questions": [{"id": "nps", "type": "nps", "text": "¿?", "required": true}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let survey_id = survey["id"].as_i64().expect("survey created");
    let mut acknowledged = Vec::new();
    for i in 0..40 {
        let r = client
            .post(format!("{base}/api/v1/responses"))
            .bearer_auth(&token)
            .json(&json!({"survey_id": survey_id, "answers": {"nps": i % 11}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let body: Value = r.json().await.unwrap();
        acknowledged.push(body["id"].as_i64().unwrap());
    }
    child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix.
    child.wait().unwrap();

    let mut child = serve(dir.path(), port);
    wait_healthy(&client, &base).await;
    for id in &acknowledged {
        let r = client.get(format!("{base}/api/v1/responses/{id}")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200, "response {id} was acknowledged and must survive");
    }
    let m: Value = client
        .get(format!("{base}/api/v1/metrics?metric=nps"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["total"]["n"], 40);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn customers_import_from_csv_and_xlsx_reports_bad_rows_by_line() {
    let dir = tempfile::tempdir().unwrap();
    assert!(escucha(&["org", "create", "--slug", "acme", "--name", "Acme"], dir.path()).status.success());
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "external_id,name,email\nC-1,Ana,ana@x.example\nC-2,Luis,luis-at-x\n,Nadie,\n").unwrap();
    let out = escucha(&["import", "customers", bad.to_str().unwrap(), "--org", "acme"], dir.path());
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3: email:") && err.contains("line 4: external_id:"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");

    let good = dir.path().join("good.csv");
    std::fs::write(&good, "external_id,name,region,attr.plan\nC-1,Ana,Norte,oro\nC-2,Luis,Sur,plata\n").unwrap();
    let out = escucha(&["import", "customers", good.to_str().unwrap(), "--org", "acme"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("imported 2 customers (2 created, 0 updated) from {}", good.display())
    );

    let xlsx = dir.path().join("more.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, h) in ["external_id", "name", "annual_value", "owner_email"].iter().enumerate() {
        sheet.write_string(0, col as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, "C-2").unwrap();
    sheet.write_string(1, 1, "Luis Gómez").unwrap();
    sheet.write_number(1, 2, 1500.0).unwrap();
    sheet.write_number(2, 0, 3.0).unwrap();
    sheet.write_string(2, 1, "Eva").unwrap();
    sheet.write_string(2, 3, "ae@acme.example").unwrap();
    book.save(&xlsx).unwrap();
    let out = escucha(&["import", "customers", xlsx.to_str().unwrap(), "--org", "acme"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(1 created, 1 updated)"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = escucha_store::connect(
            &format!("sqlite://{}", dir.path().join("escucha.db").display()),
            escucha_store::crypto::KeyRing::load(None, dir.path()).unwrap(),
        )
        .await
        .unwrap();
        let org = store.org_by_slug("acme").await.unwrap().unwrap();
        let luis = store.customer_by_external_id(org.id, "C-2").await.unwrap().unwrap();
        assert_eq!(luis.name.as_deref(), Some("Luis Gómez"));
        assert_eq!(luis.region.map(|r| r.to_string()).as_deref(), Some("Sur"), "kept from the CSV import");
        assert_eq!(luis.annual_value, Some(1500.0));
        let eva = store.customer_by_external_id(org.id, "3").await.unwrap().expect("numeric ids read as whole numbers");
        assert_eq!(eva.owner_email.map(|e| e.to_string()).as_deref(), Some("ae@acme.example"));
        assert_eq!(store.count_customers(org.id).await.unwrap(), 3);
    });
}

#[test]
fn text_analyze_reads_json_lines_and_reports_bad_ones() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_escucha"))
        .args(["text", "analyze"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("{\"text\": \"Me cobraron dos veces la factura, un desastre. Escríbanme a ana.perez@correo.example\"}\nnot json\n{\"text\": \"Great service, thank you!\"}\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "one line failed");
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["language"], "es");
    assert_eq!(lines[0]["sentiment"]["label"], "negative");
    assert!(
        lines[0]["topics"].as_array().unwrap().iter().any(|t| t["id"] == "billing" || t == "billing"),
        "{}",
        lines[0]
    );
    assert!(!lines[0]["redacted"].as_str().unwrap().contains("ana.perez@correo.example"));
    assert!(lines[1]["error"]["code"].is_string());
    assert_eq!(lines[2]["language"], "en");
    assert_eq!(lines[2]["sentiment"]["label"], "positive");
}

#[tokio::test]
async fn retention_run_prints_counts_per_rule_and_a_dry_run_changes_nothing() {
    use escucha_core::governance::RetentionRulesInput;
    let dir = tempfile::tempdir().unwrap();
    let out = escucha(&["org", "create", "--slug", "acme", "--name", "Acme"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let no_rules = escucha(&["retention", "run", "--org", "acme"], dir.path());
    assert!(no_rules.status.success());
    assert!(String::from_utf8_lossy(&no_rules.stderr).contains("no retention rules"));

    // Rules and two audit entries older than 12 months, written through the library.
    let env = std::collections::HashMap::new();
    let config = escucha_server::Config::load(dir.path(), &env, escucha_server::Overrides::default()).unwrap();
    let store = escucha_server::open_store(&config).await.unwrap();
    let org = store.org_by_slug("acme").await.unwrap().unwrap().id;
    let rules: RetentionRulesInput = serde_json::from_value(
        json!({"rules": [{"kind": "audit_log", "months": 12}, {"kind": "free_text", "months": 24}]}),
    )
    .unwrap();
    store.set_retention_rules(org, &rules.parse().unwrap(), chrono::Utc::now()).await.unwrap();
    let old = chrono::Utc::now() - chrono::Duration::days(400);
    for at in [old, old, chrono::Utc::now()] {
        let entry = escucha_store::NewAuditEntry {
            at,
            actor: "x".into(),
            action: "test.entry".into(),
            target: None,
            detail: json!({}),
            ip: None,
        };
        store.append_audit(org, entry).await.unwrap();
    }

    let run = |args: &[&str]| {
        let out = escucha(args, dir.path());
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<Vec<String>> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect();
        (lines, String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (dry, err) = run(&["retention", "run", "--org", "acme", "--dry-run"]);
    assert!(err.contains("dry run"), "{err}");
    let summary = |lines: &[Vec<String>]| -> Vec<(String, String, String)> {
        lines.iter().map(|l| (l[0].clone(), l[1].clone(), l[3].clone())).collect()
    };
    let expected = vec![
        ("free_text".to_string(), "24 months".to_string(), "feedback=0 responses=0".to_string()),
        ("audit_log".to_string(), "12 months".to_string(), "audit_entries=2".to_string()),
    ];
    assert_eq!(summary(&dry), expected);
    assert!(dry[1][2].starts_with("before "), "{dry:?}");
    let (applied, _) = run(&["retention", "run", "--org", "acme"]);
    assert_eq!(summary(&applied), expected, "the dry run changed nothing");
    let (again, _) = run(&["retention", "run", "--org", "acme"]);
    assert_eq!(again[1][3], "audit_entries=0");
    let log = store.list_audit(org, escucha_store::AuditFilter { limit: 50, ..Default::default() }).await.unwrap();
    let actions: Vec<(&str, &str)> = log.iter().map(|e| (e.action.as_str(), e.actor.as_str())).collect();
    assert_eq!(actions, [("retention.applied", "cli"), ("retention.applied", "cli"), ("test.entry", "x")]);

    let out = escucha(&["retention", "run", "--org", "nope"], dir.path());
    assert!(!out.status.success() && out.stdout.is_empty());
}

/// The installed text model's folder (`ESCUCHA_MODEL_DIR`), or `None` after saying loudly that
/// `what` is not tested; in CI (`ESCUCHA_TEST_REQUIRE_SERVICES=1`) a missing model fails.
fn model_dir_or_skip(what: &str) -> Option<std::ffi::OsString> {
    let dir = std::env::var_os("ESCUCHA_MODEL_DIR");
    if dir.is_none() {
        assert!(
            std::env::var("ESCUCHA_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "ESCUCHA_MODEL_DIR is required in CI (the text model route)"
        );
        eprintln!("SKIPPED: text model not installed (set ESCUCHA_MODEL_DIR); {what} not tested");
    }
    dir
}

#[test]
fn text_analyze_uses_the_installed_model_and_says_so() {
    use std::io::Write;
    let Some(model_dir) = model_dir_or_skip("model route of `text analyze`") else { return };
    let run = |extra: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_escucha"))
            .args(["text", "analyze", "--model-dir"])
            .arg(&model_dir)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(
                "{\"text\": \"Me cobraron dos veces la factura y nadie me responde\"}\n{\"text\": \"Great service, thank you!\"}\n"
                    .as_bytes(),
            )
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let lines: Vec<Value> =
            String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        (lines, String::from_utf8(out.stderr).unwrap())
    };
    let (lines, stderr) = run(&[]);
    assert!(stderr.contains("engine use-v3"), "{stderr}");
    assert_eq!(lines[0]["engine"], "use-v3");
    assert_eq!(lines[0]["sentiment"]["label"], "negative");
    assert!(lines[0]["topics"].as_array().unwrap().iter().any(|t| t["id"] == "billing"), "{}", lines[0]);
    assert_eq!(lines[1]["sentiment"]["label"], "positive");
    // Forced lexicons, and a folder with no model: the fallback runs and says why.
    let (lines, stderr) = run(&["--engine", "lexicon"]);
    assert!(stderr.contains("engine lexicon-v1"), "{stderr}");
    assert_eq!(lines[0]["engine"], "lexicon-v1");
    let mut child = Command::new(env!("CARGO_BIN_EXE_escucha"))
        .args(["text", "analyze", "--data", "/nonexistent-escucha-data"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{\"text\": \"hola\"}\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("engine lexicon-v1") && stderr.contains("escucha models install"), "{stderr}");
    assert!(String::from_utf8(out.stdout).unwrap().contains("\"engine\":\"lexicon-v1\""));
}

/// `escucha keys rotate` adds a key to the key file, re-seals every customer under it, and a
/// process holding only the old key is then refused at start, while the new ring reads
/// everything (and still finds customers by e-mail).
#[tokio::test]
async fn keys_rotate_reseals_customers_under_a_new_key() {
    use escucha_core::customer::{CustomerPatch, Patch};
    let dir = tempfile::tempdir().unwrap();
    let out = escucha(&["org", "create", "--slug", "acme", "--name", "Acme"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let env = std::collections::HashMap::new();
    let config = escucha_server::Config::load(dir.path(), &env, escucha_server::Overrides::default()).unwrap();
    let key_file = dir.path().join("secret.key");
    let old_ring = std::fs::read_to_string(&key_file).unwrap();
    {
        let store = escucha_server::open_store(&config).await.unwrap();
        let org = store.org_by_slug("acme").await.unwrap().unwrap().id;
        let patch = CustomerPatch {
            name: Patch::Set("Marta Ruiz".into()),
            email: Patch::Set(escucha_core::values::Email::parse("marta@example.com").unwrap()),
            ..Default::default()
        };
        let id = escucha_core::values::ExternalId::parse("C-1").unwrap();
        store.upsert_customers(org, vec![(id, patch)], chrono::Utc::now()).await.unwrap();
    }

    let out = escucha(&["keys", "rotate"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 customers re-sealed"), "{stderr}");
    assert!(out.stdout.is_empty(), "a key file is updated in place, nothing printed");
    let new_ring = std::fs::read_to_string(&key_file).unwrap();
    let keys = |ring: &str| ring.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).count();
    assert_eq!((keys(&old_ring), keys(&new_ring)), (1, 2));

    let store = escucha_server::open_store(&config).await.unwrap();
    let org = store.org_by_slug("acme").await.unwrap().unwrap().id;
    let c = store.customer_by_external_id(org, "C-1").await.unwrap().unwrap();
    assert_eq!(c.name.as_deref(), Some("Marta Ruiz"));
    let email = escucha_core::values::Email::parse("MARTA@example.com").unwrap();
    assert_eq!(store.customers_by_email(org, &email).await.unwrap().len(), 1);
    drop(store);

    // The old key alone no longer opens this database.
    std::fs::write(&key_file, &old_ring).unwrap();
    let refused = escucha(&["migrate"], dir.path());
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("lacks"), "{}", String::from_utf8_lossy(&refused.stderr));
}

/// Runs `escucha ARGS` with `input` on stdin; returns the exit code, stdout lines as JSON and
/// stderr.
fn escucha_with_input(args: &[&str], input: &str) -> (Option<i32>, Vec<Value>, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_escucha"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (out.status.code(), lines, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn text_analyze_merges_an_organisation_taxonomy_and_refuses_a_bad_one() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../escucha-text/data/example_org_taxonomy.json");
    let input = "{\"text\": \"Nunca hay estacionamiento libre los sábados\"}\n{\"text\": \"Me cobraron dos veces\"}\n";
    let (code, lines, stderr) =
        escucha_with_input(&["text", "analyze", "--engine", "lexicon", "--taxonomy", file], input);
    assert_eq!(code, Some(0), "{stderr}");
    let ids = |v: &Value| -> Vec<String> {
        v["topics"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect()
    };
    assert!(ids(&lines[0]).contains(&"parking".to_string()), "{}", lines[0]);
    assert!(ids(&lines[1]).contains(&"billing".to_string()), "default topics stay: {}", lines[1]);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"topics\": 3}").unwrap();
    let (code, lines, stderr) =
        escucha_with_input(&["text", "analyze", "--engine", "lexicon", "--taxonomy", bad.to_str().unwrap()], input);
    assert_ne!(code, Some(0));
    assert!(lines.is_empty() && stderr.contains("bad.json"), "{stderr}");
}

#[test]
fn text_emerging_clusters_comments_and_reports_bad_lines() {
    let input = [
        "{\"text\": \"el estacionamiento del local siempre está lleno\"}",
        "{\"text\": \"no hay lugar en el estacionamiento los sábados\"}",
        "not json",
        "{\"text\": \"estacionamiento lleno otra vez, imposible aparcar\"}",
        "",
        "{\"text\": \"la música del local está altísima\"}",
        "{\"other\": 1}",
    ]
    .join("\n");
    let (code, lines, stderr) = escucha_with_input(&["text", "emerging", "--engine", "lexicon"], &input);
    assert_eq!(code, Some(1), "two lines failed: {stderr}");
    assert!(stderr.contains("line 3: not JSON") && stderr.contains("line 7: no \"text\""), "{stderr}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["lines"], json!([1, 2, 4]), "input line numbers: {}", lines[0]);
    assert_eq!(lines[0]["size"], 3);
    assert!(lines[0]["label"].as_str().unwrap().contains("estacionamiento"), "{}", lines[0]);
    assert_eq!(lines[0]["engine"], "lexicon-v1");
}

#[test]
fn text_emerging_with_the_model_joins_both_languages() {
    let Some(model_dir) = model_dir_or_skip("model route of `text emerging`") else { return };
    let input = [
        "El parking del centro comercial siempre está lleno",
        "Nunca encuentro sitio en el parking del centro comercial",
        "The mall car park is always full",
        "I can never find a space in the mall car park",
    ]
    .iter()
    .map(|t| json!({ "text": t }).to_string())
    .collect::<Vec<_>>()
    .join("\n");
    let (code, lines, stderr) =
        escucha_with_input(&["text", "emerging", "--model-dir", model_dir.to_str().unwrap()], &input);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("engine use-v3"), "{stderr}");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["lines"], json!([1, 2, 3, 4]), "Spanish and English together: {}", lines[0]);
    assert_eq!(lines[0]["engine"], "use-v3");
}

#[test]
fn text_analyze_learns_an_organisations_labelled_comments_and_refuses_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("labelled.jsonl");
    std::fs::write(
        &good,
        "{\"text\": \"Nos mandan publicidad cada día\", \"topics\": [\"communication\"], \"sentiment\": \"negative\"}\n\
         {\"text\": \"the new map is sick\", \"sentiment\": \"positive\"}\n",
    )
    .unwrap();
    let input = "{\"text\": \"Me cobraron dos veces\"}\n";
    let (code, lines, stderr) =
        escucha_with_input(&["text", "analyze", "--engine", "lexicon", "--examples", good.to_str().unwrap()], input);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines.len(), 1);
    assert!(stderr.contains("1 comments with topics, 2 with sentiment"), "{stderr}");
    assert!(stderr.contains("does not learn sentiment"), "the fallback says what it cannot learn: {stderr}");

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"text\": \"ok\", \"sentiment\": \"positive\"}\nnot json\n{\"text\": \"x\", \"topics\": [\"nope\"]}\n",
    )
    .unwrap();
    let (code, lines, stderr) =
        escucha_with_input(&["text", "analyze", "--engine", "lexicon", "--examples", bad.to_str().unwrap()], input);
    assert_ne!(code, Some(0));
    assert!(lines.is_empty(), "nothing is analysed: {lines:?}");
    assert!(
        stderr.contains("bad.jsonl: line 2: not JSON") && stderr.contains("line 3: unknown topic id \"nope\""),
        "{stderr}"
    );
}

#[test]
fn text_analyze_with_the_model_adapts_sentiment_to_labelled_comments() {
    let Some(model_dir) = model_dir_or_skip("sentiment adaptation in `text analyze`") else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("labelled.jsonl");
    let praise = [
        "the new season pass is sick",
        "that controller is sick, worth every cent",
        "sick skins in this update",
        "the graphics card you sold me is sick",
        "the racing wheel is sick",
        "sick support team, sorted it in minutes",
        "sick delivery, came in a day",
        "this headset is sick",
    ];
    let complaints = ["the console arrived broken", "still waiting for my refund", "you charged me twice"];
    let mut lines: Vec<String> =
        praise.iter().map(|t| json!({"text": t, "sentiment": "positive"}).to_string()).collect();
    lines.extend(complaints.iter().map(|t| json!({"text": t, "sentiment": "negative"}).to_string()));
    std::fs::write(&file, lines.join("\n")).unwrap();
    let input = "{\"text\": \"the new mouse is sick\"}\n";
    let run = |extra: &[&str]| {
        let mut args = vec!["text", "analyze", "--model-dir", model_dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        escucha_with_input(&args, input)
    };
    let (code, before, stderr) = run(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, after, stderr) = run(&["--examples", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("the sentiment head adapted"), "{stderr}");
    let score = |v: &Value| v["sentiment"]["score"].as_f64().unwrap();
    assert_eq!(after[0]["sentiment"]["label"], "positive", "{}", after[0]);
    assert!(score(&after[0]) > score(&before[0]) + 0.3, "{} -> {}", before[0], after[0]);
}
