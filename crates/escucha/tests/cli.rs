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
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status() == 200 {
                return;
            }
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

#[tokio::test]
async fn an_acknowledged_response_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    assert!(escucha(&["org", "create", "--slug", "acme", "--name", "Acme"], dir.path()).status.success());
    let token = String::from_utf8(escucha(&["token", "create", "--org", "acme", "--role", "admin"], dir.path()).stdout).unwrap();
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
    let m: Value = client.get(format!("{base}/api/v1/metrics?metric=nps")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(m["total"]["n"], 40);
    child.kill().unwrap();
    child.wait().unwrap();
}
