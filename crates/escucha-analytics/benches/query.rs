//! Benchmark of the analytics index: load throughput, memory per row and query latency over
//! synthetic, deterministic data (1 M and 10 M responses by default).
//!
//! Run with `cargo bench -p escucha-analytics --bench query`; choose sizes with
//! `ESCUCHA_BENCH_ROWS=1000000,10000000`, repetitions with `ESCUCHA_BENCH_RUNS=40`, and only
//! some queries with `ESCUCHA_BENCH_FOCUS=TEXT` (a part of their name).
//! Figures are recorded in `bench/analytics/RESULTS.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use escucha_analytics::{AnalyticsIndex, Dimension, Interval, MetricKind, MetricQuery, ResponseFacts, SeriesQuery};

const ORG: i64 = 1;
const BATCH: usize = 100_000;
/// Days covered by the data: two years from 2025-01-01.
const DAYS: u64 = 730;

/// SplitMix64: a tiny deterministic generator, so every run sees the same data.
struct Rng(u64);

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

struct Values {
    regions: Vec<String>,
    products: Vec<String>,
    channels: Vec<String>,
    teams: Vec<String>,
    employees: Vec<String>,
    touchpoints: Vec<String>,
    stages: Vec<String>,
    segments: Vec<String>,
    languages: Vec<String>,
    tiers: Vec<String>,
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

impl Values {
    fn new() -> Self {
        Values {
            regions: names("region", 8),
            products: names("product", 10),
            channels: names("channel", 5),
            teams: names("team", 20),
            employees: names("employee", 200),
            touchpoints: names("touchpoint", 12),
            stages: names("stage", 5),
            segments: names("segment", 4),
            languages: vec!["es".into(), "en".into()],
            tiers: vec!["gold".into(), "silver".into(), "bronze".into()],
        }
    }
}

fn pick(values: &[String], rng: &mut Rng) -> Option<String> {
    let i = rng.below(values.len() as u64) as usize;
    values.get(i).cloned()
}

/// Row `seq` of `total`: days advance with the sequence (as a store's feed does), with a
/// little jitter; NPS always answered, CSAT 60%, CES 40%, CAdv 30%.
fn row(seq: u64, total: u64, values: &Values, rng: &mut Rng) -> ResponseFacts {
    let day = (seq * DAYS / total.max(1) + rng.below(3)).min(DAYS - 1);
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let submitted_at = start + chrono::Duration::days(day as i64) + chrono::Duration::seconds(rng.below(86_400) as i64);
    let employee = rng.below(200) as usize;
    let nps = {
        // Skewed towards promoters, like real programmes.
        let r = rng.below(100);
        (if r < 45 {
            9 + r % 2
        } else if r < 70 {
            7 + r % 2
        } else {
            r % 7
        }) as u8
    };
    ResponseFacts {
        seq: seq as i64,
        org_id: ORG,
        survey_id: 1 + rng.below(20) as i64,
        submitted_at,
        region: pick(&values.regions, rng),
        product: pick(&values.products, rng),
        channel: pick(&values.channels, rng),
        team: values.teams.get(employee / 10).cloned(),
        employee: values.employees.get(employee).cloned(),
        touchpoint: pick(&values.touchpoints, rng),
        journey_stage: pick(&values.stages, rng),
        segment: pick(&values.segments, rng),
        language: pick(&values.languages, rng),
        owner: values.employees.get(employee).cloned(),
        attributes: vec![("tier".into(), pick(&values.tiers, rng).unwrap_or_default())],
        nps: Some(nps),
        csat: (rng.below(10) < 6).then(|| 1 + rng.below(5) as u8),
        ces: (rng.below(10) < 4).then(|| 1 + rng.below(7) as u8),
        cadv: (rng.below(10) < 3).then(|| 1 + rng.below(5) as u8),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// CPU time used by this process so far (user + system, from `/proc/self/stat`, in clock
/// ticks of 10 ms), or `None` where that file does not exist. Wall-clock latency depends on what
/// else the machine runs; CPU time per query does not.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

fn measure(name: &str, runs: usize, mut f: impl FnMut() -> usize) {
    // `ESCUCHA_BENCH_FOCUS=employee` measures only the queries whose name contains that text
    // (handy under a profiler).
    if let Ok(focus) = std::env::var("ESCUCHA_BENCH_FOCUS")
        && !name.contains(&focus)
    {
        return;
    }
    // One warm-up run.
    let n = f();
    let mut times = Vec::with_capacity(runs);
    let cpu_before = process_cpu();
    for _ in 0..runs {
        let t = Instant::now();
        black_box(f());
        times.push(t.elapsed());
    }
    let cpu = match (cpu_before, process_cpu()) {
        (Some(a), Some(b)) if runs > 0 => format!("{:.1}", ms(b.saturating_sub(a)) / runs as f64),
        _ => "–".into(),
    };
    times.sort();
    println!(
        "| {name} | {n} | {:.2} | {:.2} | {:.2} | {cpu} |",
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 99.0)),
        ms(times[0]),
    );
}

fn bench(rows: u64, runs: usize) {
    let values = Values::new();
    let mut rng = Rng(42);
    let index = AnalyticsIndex::new();
    let mut insert_time = Duration::ZERO;
    let mut generated = 0u64;
    while generated < rows {
        let n = (rows - generated).min(BATCH as u64);
        let batch: Vec<ResponseFacts> =
            (generated..generated + n).map(|seq| row(seq, rows, &values, &mut rng)).collect();
        let t = Instant::now();
        index.insert_many(&batch);
        insert_time += t.elapsed();
        generated += n;
    }
    // Replaying a batch is ignored (idempotent by seq); measure that path too.
    let replay: Vec<ResponseFacts> =
        (0..(BATCH as u64).min(rows)).map(|seq| row(seq, rows, &values, &mut rng)).collect();
    let t = Instant::now();
    let again = index.insert_many(&replay);
    let replay_time = t.elapsed();
    assert_eq!(again, 0);

    let stats = index.stats(ORG);
    println!("\n### {} rows\n", stats.rows);
    println!(
        "- load: {:.2} s, {:.0} rows/s (insert only; generating the rows is not timed)",
        insert_time.as_secs_f64(),
        rows as f64 / insert_time.as_secs_f64()
    );
    println!(
        "- replay of {} known rows: {:.0} rows/s (ignored by seq)",
        replay.len(),
        replay.len() as f64 / replay_time.as_secs_f64()
    );
    println!(
        "- memory: {:.1} MiB, {:.1} bytes per row\n",
        stats.bytes as f64 / (1024.0 * 1024.0),
        stats.bytes as f64 / stats.rows.max(1) as f64
    );
    println!("| query | groups/points | p50 ms | p99 ms | min ms | CPU ms/query |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");

    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
    let total = MetricQuery::new(MetricKind::Nps);
    let by_region = MetricQuery { group_by: vec![Dimension::Region], ..MetricQuery::new(MetricKind::Nps) };
    let by_region_product_range = MetricQuery {
        group_by: vec![Dimension::Region, Dimension::Product],
        from: date(2025, 4, 1),
        to: date(2025, 9, 30),
        ..MetricQuery::new(MetricKind::Nps)
    };
    let by_employee_filtered = MetricQuery {
        group_by: vec![Dimension::Employee],
        filters: vec![(Dimension::Product, "product-3".into())],
        ..MetricQuery::new(MetricKind::Nps)
    };
    let compare = MetricQuery {
        group_by: vec![Dimension::Region],
        from: date(2026, 10, 1),
        to: date(2026, 12, 31),
        compare_previous: true,
        ..MetricQuery::new(MetricKind::Nps)
    };
    let restricted_ces = MetricQuery {
        group_by: vec![Dimension::Attr("tier".into())],
        restrict: vec![(Dimension::Region, vec!["region-1".into(), "region-2".into()])],
        ..MetricQuery::new(MetricKind::Ces)
    };
    let run = |q: &MetricQuery| index.query(ORG, q).map(|r| r.groups.len().max(1)).unwrap_or(0);
    measure("NPS total, everything", runs, || run(&total));
    measure("NPS by region", runs, || run(&by_region));
    measure("NPS by region × product, 6-month range", runs, || run(&by_region_product_range));
    measure("NPS by employee, filter product", runs, || run(&by_employee_filtered));
    measure("NPS by region, last quarter vs previous", runs, || run(&compare));
    measure("CES by attr.tier, restricted to 2 regions", runs, || run(&restricted_ces));
    let series = SeriesQuery { interval: Interval::Week, ..SeriesQuery::new(MetricKind::Nps) };
    measure("NPS series by ISO week, everything", runs, || {
        index.series(ORG, &series).map(|r| r.points.len()).unwrap_or(0)
    });
    if std::env::var("ESCUCHA_BENCH_FOCUS").is_err() {
        concurrent(&index, rows, &values, &by_region, runs);
    }
}

/// The server's pattern: one task inserting new responses while queries run. Two readers
/// query NPS by region in a loop while a writer inserts `BATCH` new rows one by one.
fn concurrent(index: &AnalyticsIndex, rows: u64, values: &Values, query: &MetricQuery, runs: usize) {
    let mut rng = Rng(7);
    let fresh: Vec<ResponseFacts> = (rows..rows + BATCH as u64)
        .map(|seq| row(seq.min(rows - 1), rows, values, &mut rng))
        .enumerate()
        .map(|(i, mut f)| {
            f.seq = (rows + i as u64) as i64;
            f
        })
        .collect();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (insert_time, latencies) = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut times = Vec::new();
                    while !done.load(std::sync::atomic::Ordering::Relaxed) || times.len() < runs {
                        let t = Instant::now();
                        black_box(index.query(ORG, query).map(|r| r.total.n).unwrap_or(0));
                        times.push(t.elapsed());
                    }
                    times
                })
            })
            .collect();
        let t = Instant::now();
        let mut slowest = Duration::ZERO;
        for f in &fresh {
            let one = Instant::now();
            index.insert(f);
            slowest = slowest.max(one.elapsed());
        }
        let insert_time = t.elapsed();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut latencies: Vec<Duration> = readers.into_iter().filter_map(|r| r.join().ok()).flatten().collect();
        latencies.sort();
        ((insert_time, slowest), latencies)
    });
    println!(
        "\n- concurrent: {} single-row inserts at {:.0} rows/s (slowest insert {:.2} ms, it waits \
         for running scans) while 2 threads ran {} NPS-by-region queries: p50 {:.2} ms, p99 {:.2} ms",
        fresh.len(),
        fresh.len() as f64 / insert_time.0.as_secs_f64(),
        ms(insert_time.1),
        latencies.len(),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    // Test runners build bench targets too (`cargo test --all-targets`, `cargo nextest run
    // --all-targets`). Nextest first lists tests with `--list --format terse`: answer with one
    // small smoke run, which is what runs whenever `--bench` is absent.
    if has("--list") {
        if !has("--ignored") {
            println!("smoke: test");
        }
        return;
    }
    let full = has("--bench");
    let sizes = std::env::var("ESCUCHA_BENCH_ROWS")
        .unwrap_or_else(|_| if full { "1000000,10000000".into() } else { "20000".into() });
    let runs =
        std::env::var("ESCUCHA_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(if full { 40 } else { 2 });
    println!(
        "escucha-analytics query benchmark: {} cores available",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for size in sizes.split(',').filter_map(|s| s.trim().parse::<u64>().ok()) {
        bench(size, runs);
    }
}
