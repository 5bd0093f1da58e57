//! Cost of data scoping on metric queries (issue 3, "Security" figures): the same query
//! unrestricted, with the caller's scope as a `restrict` entry (what the server adds for a
//! Norte manager, a team-scoped user or an agent limited to own accounts), and with the same
//! values given as ordinary `filters` instead. A scoped query counts fewer rows, so the
//! restrict-vs-filter pair isolates the cost of the scoping mechanism itself; restrict-vs-
//! unrestricted is what a scoped user pays compared with an organisation-wide one.
//!
//! Variants of a comparison run interleaved (one query of each in turn, `ESCUCHA_BENCH_RUNS`
//! rounds, default 40), so a busy machine slows them alike; the figures are the median and the
//! minimum wall time per query.
//!
//! Run with `cargo bench -p escucha-analytics --bench scope`; sizes with
//! `ESCUCHA_BENCH_ROWS=1000000,10000000` (the default). Without `--bench` (test runners build
//! bench targets too) it does one small smoke run.

// Shared with escucha-server's `scope` bench; not every item is used here.
#[allow(dead_code)]
mod synthetic;

use std::hint::black_box;
use std::time::{Duration, Instant};

use escucha_analytics::{AnalyticsIndex, Dimension, MetricKind, MetricQuery};

const ORG: i64 = 1;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One comparison: `variants` (name, query) timed interleaved; prints a table row per variant
/// with its overhead against the first (the baseline).
fn compare(index: &AnalyticsIndex, title: &str, variants: &[(&str, MetricQuery)], runs: usize) {
    let run = |q: &MetricQuery| index.query(ORG, q).map(|r| r.total.n).expect("query runs");
    // Warm-up, and the number of responses each variant counts.
    let counted: Vec<u64> = variants.iter().map(|(_, q)| run(q)).collect();
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); variants.len()];
    for round in 0..runs {
        // Rotate the starting variant each round, so none always runs first.
        for k in 0..variants.len() {
            let i = (round + k) % variants.len();
            let t = Instant::now();
            black_box(run(&variants[i].1));
            times[i].push(t.elapsed());
        }
    }
    let stats: Vec<(Duration, Duration)> =
        times.iter_mut().map(|t| (median(t), *t.iter().min().expect("runs ≥ 1"))).collect();
    for (i, (name, _)) in variants.iter().enumerate() {
        let (med, min) = stats[i];
        let vs = |j: usize| {
            let (bm, bmin) = stats[j];
            format!("{:+.0}% / {:+.0}%", (ms(med) / ms(bm) - 1.0) * 100.0, (ms(min) / ms(bmin) - 1.0) * 100.0)
        };
        // Against the unrestricted baseline, and (for a restrict) against the filter twin that
        // follows it.
        let against_base = if i == 0 { "—".to_string() } else { vs(0) };
        let against_filter =
            if name.starts_with("restrict") && i + 1 < variants.len() { vs(i + 1) } else { "—".to_string() };
        println!(
            "| {title} | {name} | {} | {:.3} | {:.3} | {against_base} | {against_filter} |",
            counted[i],
            ms(med),
            ms(min),
        );
    }
}

fn bench(rows: u64, runs: usize) {
    let index = AnalyticsIndex::new();
    let t = Instant::now();
    synthetic::fill(&index, ORG, rows);
    println!("\n### {rows} rows (generated and loaded in {:.1} s)\n", t.elapsed().as_secs_f64());
    println!(
        "| query | variant | responses counted | median ms | min ms | vs unrestricted (median / min) | \
         restrict vs same filter (median / min) |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    let nps = || MetricQuery::new(MetricKind::Nps);
    let restrict = |d: Dimension, v: &[String]| MetricQuery { restrict: vec![(d, v.to_vec())], ..nps() };
    let filter = |d: Dimension, v: &[String]| MetricQuery {
        filters: v.iter().map(|v| (d.clone(), v.clone())).collect(),
        ..nps()
    };
    let by = |mut q: MetricQuery, d: Dimension| {
        q.group_by = vec![d];
        q
    };
    let norte = vec!["Norte".to_string()];
    // A team scope is widened to the team's sub-teams: two teams here.
    let teams = vec![synthetic::team(3), synthetic::team(4)];
    let own = vec![synthetic::owner(17)];

    compare(
        &index,
        "NPS total",
        &[
            ("unrestricted", nps()),
            ("restrict region Norte", restrict(Dimension::Region, &norte)),
            ("filter region=Norte", filter(Dimension::Region, &norte)),
            ("restrict 2 teams", restrict(Dimension::Team, &teams)),
            ("filter team=2 teams", filter(Dimension::Team, &teams)),
            ("restrict owner (own accounts)", restrict(Dimension::Owner, &own)),
            ("filter owner=", filter(Dimension::Owner, &own)),
        ],
        runs,
    );
    compare(
        &index,
        "NPS by product",
        &[
            ("unrestricted", by(nps(), Dimension::Product)),
            ("restrict region Norte", by(restrict(Dimension::Region, &norte), Dimension::Product)),
            ("filter region=Norte", by(filter(Dimension::Region, &norte), Dimension::Product)),
            ("restrict 2 teams", by(restrict(Dimension::Team, &teams), Dimension::Product)),
            ("filter team=2 teams", by(filter(Dimension::Team, &teams), Dimension::Product)),
            ("restrict owner (own accounts)", by(restrict(Dimension::Owner, &own), Dimension::Product)),
            ("filter owner=", by(filter(Dimension::Owner, &own), Dimension::Product)),
        ],
        runs,
    );
    // A user's own filter plus the scope: one more condition on an already filtered scan.
    let product = |mut q: MetricQuery| {
        q.filters.push((Dimension::Product, "product-3".into()));
        q
    };
    compare(
        &index,
        "NPS by channel, filter product-3",
        &[
            ("unrestricted", by(product(nps()), Dimension::Channel)),
            ("restrict region Norte", by(product(restrict(Dimension::Region, &norte)), Dimension::Channel)),
            ("filter region=Norte", by(product(filter(Dimension::Region, &norte)), Dimension::Channel)),
        ],
        runs,
    );
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
    let sizes = std::env::var("ESCUCHA_BENCH_ROWS")
        .unwrap_or_else(|_| if full { "1000000,10000000".into() } else { "20000".into() });
    let runs =
        std::env::var("ESCUCHA_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(if full { 40 } else { 2 });
    println!(
        "escucha-analytics scoping benchmark: {} cores available, {runs} interleaved rounds",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for size in sizes.split(',').filter_map(|s| s.trim().parse::<u64>().ok()) {
        bench(size, runs);
    }
}
