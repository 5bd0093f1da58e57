//! Sign-in cost: time to hash and to verify one password with Escucha's argon2id parameters.
//! Run with `cargo bench -p escucha-server --bench password`.

use std::time::Instant;

fn main() {
    let runs = 10;
    let started = Instant::now();
    let mut hash = String::new();
    for _ in 0..runs {
        hash = escucha_server::auth::hash_password("correct horse battery staple").expect("hash");
    }
    let hash_ms = started.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    let started = Instant::now();
    for _ in 0..runs {
        assert!(escucha_server::auth::verify_password("correct horse battery staple", &hash));
    }
    let verify_ms = started.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!(
        "argon2id ({}): hash {hash_ms:.0} ms, verify {verify_ms:.0} ms per password",
        escucha_server::auth::PASSWORD_PARAMS_TEXT
    );
}
