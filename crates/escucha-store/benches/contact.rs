//! Cost of encrypting customers' contact data at rest on ingest (issue 3, "Security" figures).
//!
//! Three measurements, each repeated (`ESCUCHA_BENCH_RUNS`, default 5) and interleaved so a
//! busy machine slows both sides of a comparison alike:
//! 1. `Store::upsert_customers` of `ESCUCHA_BENCH_CUSTOMERS` (default 20,000) new customers in
//!    transactions of 1,000 into a fresh SQLite file, with name + e-mail + phone (each sealed
//!    with XChaCha20-Poly1305, plus the e-mail's HMAC blind index) vs the same customers without
//!    those three fields (nothing to seal); then the same upsert again as an update of every
//!    customer (read and open the row, then seal again).
//! 2. The sealing itself: the key-ring calls the store makes per customer (three `encrypt` and
//!    one `blind_index` on write, three `decrypt` on read), timed alone.
//! 3. The share of the upsert that sealing is, and the overhead % of (1).
//!
//! `Store::insert_responses` never calls the key ring (responses hold no contact data); the
//! only place response ingest meets encryption is `POST /api/v1/responses` with a
//! `customer_external_id`, which reads (opens) that customer: the "open" figure of (2).
//!
//! Run with `cargo bench -p escucha-store --bench contact`. Without `--bench` (test runners
//! build bench targets too) it does one small smoke run.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use escucha_core::customer::{CustomerPatch, Patch};
use escucha_core::ids::OrgId;
use escucha_core::values::{Email, ExternalId, Label, Slug};
use escucha_store::Store;
use escucha_store::crypto::{KeyRing, associated_data, index_context};

const BATCH: usize = 1_000;

/// CPU time of this process (user + system, all threads: SQLite runs on sqlx's worker thread),
/// from `/proc/self/stat` in ticks of 10 ms; `None` where that file does not exist.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Customer `i`'s patch: region, segment, owner always; name, e-mail and phone when `personal`.
fn patch(i: usize, personal: bool, segment: &str) -> (ExternalId, CustomerPatch) {
    let mut p = CustomerPatch {
        region: Patch::Set(Label::parse(["Norte", "Sur", "Centro"][i % 3]).unwrap()),
        segment: Patch::Set(Label::parse(segment).unwrap()),
        owner_email: Patch::Set(Email::parse(&format!("ae{}@acme.example", i % 50)).unwrap()),
        ..Default::default()
    };
    if personal {
        p.name = Patch::Set(format!("Cliente Número {i} de la Fuente"));
        p.email = Patch::Set(Email::parse(&format!("cliente.{i}@correo.example")).unwrap());
        p.phone = Patch::Set(format!("+34 600 {:03} {:03}", i / 1000 % 1000, i % 1000));
    }
    (ExternalId::parse(&format!("C-{i:06}")).unwrap(), p)
}

/// One load: `n` new customers, then the same customers updated. Returns (insert, update) wall
/// seconds and CPU seconds.
async fn load(n: usize, personal: bool) -> ((f64, f64), (f64, f64)) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store: Arc<dyn Store> = escucha_store::connect(&url, KeyRing::generate().unwrap()).await.expect("store");
    let org = store.create_org(&Slug::parse("acme").unwrap(), &Label::parse("Acme").unwrap()).await.unwrap().id;
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let pass = |segment: &'static str| {
        let store = store.clone();
        async move {
            let cpu = process_cpu();
            let t = Instant::now();
            for start in (0..n).step_by(BATCH) {
                let items = (start..(start + BATCH).min(n)).map(|i| patch(i, personal, segment)).collect();
                let out = store.upsert_customers(org, items, now).await.expect("upsert");
                black_box(out);
            }
            let wall = t.elapsed().as_secs_f64();
            let cpu = match (cpu, process_cpu()) {
                (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64(),
                _ => f64::NAN,
            };
            (wall, cpu)
        }
    };
    let insert = pass("Pyme").await;
    let update = pass("Empresa").await;
    assert_eq!(store.count_customers(org).await.unwrap(), n as i64);
    (insert, update)
}

/// Seconds per customer of the key-ring work the store does on write (seal) and read (open).
fn seal_open(n: usize) -> (f64, f64) {
    let keys = KeyRing::generate().unwrap();
    let org = OrgId(1);
    let plain: Vec<(String, [String; 3])> = (0..n)
        .map(|i| {
            let (ext, p) = patch(i, true, "Pyme");
            let name = match p.name {
                Patch::Set(v) => v,
                _ => unreachable!(),
            };
            let email = match p.email {
                Patch::Set(v) => v.as_str().to_string(),
                _ => unreachable!(),
            };
            let phone = match p.phone {
                Patch::Set(v) => v,
                _ => unreachable!(),
            };
            (ext.as_str().to_string(), [name, email, phone])
        })
        .collect();
    const COLUMNS: [&str; 3] = ["customers.name", "customers.email", "customers.phone"];
    let t = Instant::now();
    let sealed: Vec<[String; 3]> = plain
        .iter()
        .map(|(row, values)| {
            black_box(keys.blind_index(&index_context(org, "customers.email"), &values[1]));
            std::array::from_fn(|c| keys.encrypt(&values[c], &associated_data(org, COLUMNS[c], row)).unwrap())
        })
        .collect();
    let seal = t.elapsed().as_secs_f64() / n as f64;
    let t = Instant::now();
    for ((row, values), sealed) in plain.iter().zip(&sealed) {
        for c in 0..3 {
            let opened = keys.decrypt(&sealed[c], &associated_data(org, COLUMNS[c], row)).unwrap();
            debug_assert_eq!(&opened, &values[c]);
            black_box(opened);
        }
    }
    let open = t.elapsed().as_secs_f64() / n as f64;
    (seal, open)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("smoke: test");
        }
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let n = env("ESCUCHA_BENCH_CUSTOMERS", if full { 20_000 } else { 500 });
    let runs = env("ESCUCHA_BENCH_RUNS", if full { 5 } else { 1 }).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    println!("escucha-store contact encryption benchmark: {n} customers, {runs} interleaved runs");

    // Warm-up (page cache, allocator), not counted.
    rt.block_on(load(n.min(2_000), true));
    let mut with = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut without = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        // ABBA order so neither side always goes first.
        let order = if run % 2 == 0 { [true, false] } else { [false, true] };
        for personal in order {
            let ((iw, ic), (uw, uc)) = rt.block_on(load(n, personal));
            let side = if personal { &mut with } else { &mut without };
            side.0.push(iw);
            side.1.push(ic);
            side.2.push(uw);
            side.3.push(uc);
            println!(
                "  run {run} {:<22} insert {iw:.3} s (CPU {ic:.2} s), update {uw:.3} s (CPU {uc:.2} s)",
                if personal { "with name/e-mail/phone" } else { "without contact fields" }
            );
        }
    }
    let mut seals = Vec::new();
    let mut opens = Vec::new();
    for _ in 0..runs {
        let (s, o) = seal_open(n);
        seals.push(s);
        opens.push(o);
    }
    let (seal, open) = (median(seals.clone()), median(opens.clone()));
    let per = |secs: f64| secs / n as f64 * 1e6;
    let row = |name: &str, w: &[f64], wo: &[f64]| {
        let (mw, mwo) = (median(w.to_vec()), median(wo.to_vec()));
        println!(
            "| {name} | {:.1} µs ({:.2} s; min {:.2}) | {:.1} µs ({:.2} s; min {:.2}) | {:+.1}% (min vs min {:+.1}%) |",
            per(mw),
            mw,
            min(w),
            per(mwo),
            mwo,
            min(wo),
            (mw / mwo - 1.0) * 100.0,
            (min(w) / min(wo) - 1.0) * 100.0,
        );
    };
    println!(
        "\n| upsert of {n} customers, SQLite, batches of {BATCH} (median of {runs}) | with name+e-mail+phone | without | overhead |"
    );
    println!("| --- | ---: | ---: | ---: |");
    row("insert, wall per customer", &with.0, &without.0);
    row("insert, CPU per customer", &with.1, &without.1);
    row("update, wall per customer", &with.2, &without.2);
    row("update, CPU per customer", &with.3, &without.3);
    println!(
        "\nkey ring alone (median of {runs}): seal (3 × XChaCha20-Poly1305 encrypt + 1 HMAC blind index) {:.2} µs \
         per customer (min {:.2}); open (3 × decrypt) {:.2} µs per customer (min {:.2})",
        seal * 1e6,
        min(&seals) * 1e6,
        open * 1e6,
        min(&opens) * 1e6,
    );
    let insert_with = median(with.0.clone()) / n as f64;
    let update_with = median(with.2.clone()) / n as f64;
    println!(
        "sealing is {:.1}% of an insert with contact data ({:.1} µs of {:.1} µs); opening is {:.1}% of an update \
         that leaves the contact fields alone (their ciphertexts are kept, nothing is sealed)",
        seal / insert_with * 100.0,
        seal * 1e6,
        insert_with * 1e6,
        open / update_with * 100.0,
    );
}
