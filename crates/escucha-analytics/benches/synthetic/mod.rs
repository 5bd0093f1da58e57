//! Deterministic synthetic responses for the scoping benchmarks (this crate's `scope` bench and
//! escucha-server's `scope` bench, which includes this file by path): 8 regions with Spanish
//! names (so "Norte" holds an eighth of the rows), 20 teams of 10 employees, each employee the
//! account executive (owner) of their rows, 10 products, two years of days.

use chrono::{TimeZone, Utc};
use escucha_analytics::ResponseFacts;

/// Region names; a Norte-scoped manager sees one in eight rows.
pub const REGIONS: [&str; 8] = ["Norte", "Sur", "Centro", "Este", "Oeste", "Islas", "Capital", "Costa"];
/// Teams of employees: `team-0` … `team-19`, ten employees each.
pub const TEAMS: usize = 20;
/// Employees (and owners): `ae-0@acme.example` … `ae-199@acme.example`.
pub const EMPLOYEES: usize = 200;
/// Days covered: two years from 2025-01-01.
const DAYS: u64 = 730;

/// SplitMix64: a tiny deterministic generator, so every run sees the same data.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The e-mail of employee `i`, also the owner of the customers they answer for.
pub fn owner(i: usize) -> String {
    format!("ae-{i}@acme.example")
}

/// The name of team `i`.
pub fn team(i: usize) -> String {
    format!("team-{i}")
}

/// Row `seq` of `total` for organisation `org`: days advance with the sequence, NPS always
/// answered (skewed towards promoters), CSAT 60%.
pub fn row(org: i64, seq: u64, total: u64, rng: &mut Rng) -> ResponseFacts {
    let day = (seq * DAYS / total.max(1) + rng.below(3)).min(DAYS - 1);
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let submitted_at = start + chrono::Duration::days(day as i64) + chrono::Duration::seconds(rng.below(86_400) as i64);
    let employee = rng.below(EMPLOYEES as u64) as usize;
    let r = rng.below(100);
    let nps = (if r < 45 {
        9 + r % 2
    } else if r < 70 {
        7 + r % 2
    } else {
        r % 7
    }) as u8;
    ResponseFacts {
        seq: seq as i64,
        org_id: org,
        survey_id: 1 + rng.below(5) as i64,
        submitted_at,
        region: Some(REGIONS[rng.below(REGIONS.len() as u64) as usize].to_string()),
        product: Some(format!("product-{}", rng.below(10))),
        channel: Some(["web", "email", "phone", "app", "store"][rng.below(5) as usize].to_string()),
        team: Some(team(employee / (EMPLOYEES / TEAMS))),
        employee: Some(owner(employee)),
        owner: Some(owner(employee)),
        language: Some(if rng.below(4) == 0 { "en" } else { "es" }.to_string()),
        nps: Some(nps),
        csat: (rng.below(10) < 6).then(|| 1 + rng.below(5) as u8),
        ..ResponseFacts::default()
    }
}

/// Fills `index` with `rows` rows of organisation `org`, in batches.
pub fn fill(index: &escucha_analytics::AnalyticsIndex, org: i64, rows: u64) {
    let mut rng = Rng(42);
    let mut done = 0u64;
    while done < rows {
        let n = (rows - done).min(100_000);
        let batch: Vec<ResponseFacts> = (done..done + n).map(|seq| row(org, seq, rows, &mut rng)).collect();
        index.insert_many(&batch);
        done += n;
    }
}
