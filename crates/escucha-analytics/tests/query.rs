//! The whole query path (insert → parse → scan → statistics → JSON) over small data sets whose
//! answers are computed by hand in the comments.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use escucha_analytics::{
    AnalyticsIndex, Counts, Dimension, Interval, MetricKind, MetricQuery, MetricResult, ResponseFacts, SeriesQuery,
};
use serde_json::json;

const ORG: i64 = 1;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

struct Row {
    seq: i64,
    day: (i32, u32, u32),
    region: Option<&'static str>,
    product: &'static str,
    survey: i64,
    nps: Option<u8>,
    csat: Option<u8>,
    ces: Option<u8>,
    attrs: &'static [(&'static str, &'static str)],
}

fn facts(r: &Row) -> ResponseFacts {
    ResponseFacts {
        seq: r.seq,
        org_id: ORG,
        survey_id: r.survey,
        // Late in the UTC day, to check that the day is taken in UTC.
        submitted_at: Utc.with_ymd_and_hms(r.day.0, r.day.1, r.day.2, 23, 59, 59).unwrap(),
        region: r.region.map(String::from),
        product: Some(r.product.to_owned()),
        channel: Some("email".into()),
        attributes: r.attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        nps: r.nps,
        csat: r.csat,
        ces: r.ces,
        ..ResponseFacts::default()
    }
}

/// The data set used by most tests (2026-01-05 is a Monday, 2026-01-11 a Sunday):
///
/// | seq | day        | region | product | survey | nps | csat | ces | attributes          |
/// |-----|------------|--------|---------|--------|-----|------|-----|---------------------|
/// | 1   | 2026-01-05 | north  | cards   | 1      | 10  | 5    | 7   | tier=gold           |
/// | 2   | 2026-01-06 | north  | cards   | 1      | 9   | 4    | 6   | tier=gold           |
/// | 3   | 2026-01-11 | north  | loans   | 2      | 7   | 3    | 4   |                     |
/// | 4   | 2026-01-12 | north  | loans   | 1      | 3   | 1    | 2   | tier=silver         |
/// | 5   | 2026-01-31 | south  | cards   | 2      | 0   | 2    | 1   | tier=silver         |
/// | 6   | 2026-02-01 | south  | cards   | 1      | 6   | 5    | 5   | tier=gold, plan=pro |
/// | 7   | 2026-02-15 | south  | loans   | 1      | 10  | 4    | –   |                     |
/// | 8   | 2026-02-28 | –      | cards   | 1      | 8   | –    | 3   |                     |
/// | 9   | 2026-03-01 | north  | cards   | 2      | –   | 5    | –   | tier=gold           |
fn rows() -> Vec<Row> {
    let r = |seq, day, region, product, survey, nps, csat, ces, attrs| Row {
        seq,
        day,
        region,
        product,
        survey,
        nps,
        csat,
        ces,
        attrs,
    };
    vec![
        r(1, (2026, 1, 5), Some("north"), "cards", 1, Some(10), Some(5), Some(7), &[("tier", "gold")]),
        r(2, (2026, 1, 6), Some("north"), "cards", 1, Some(9), Some(4), Some(6), &[("tier", "gold")]),
        r(3, (2026, 1, 11), Some("north"), "loans", 2, Some(7), Some(3), Some(4), &[]),
        r(4, (2026, 1, 12), Some("north"), "loans", 1, Some(3), Some(1), Some(2), &[("tier", "silver")]),
        r(5, (2026, 1, 31), Some("south"), "cards", 2, Some(0), Some(2), Some(1), &[("tier", "silver")]),
        r(6, (2026, 2, 1), Some("south"), "cards", 1, Some(6), Some(5), Some(5), &[("tier", "gold"), ("plan", "pro")]),
        r(7, (2026, 2, 15), Some("south"), "loans", 1, Some(10), Some(4), None, &[]),
        r(8, (2026, 2, 28), None, "cards", 1, Some(8), None, Some(3), &[]),
        r(9, (2026, 3, 1), Some("north"), "cards", 2, None, Some(5), None, &[("tier", "gold")]),
    ]
}

fn index() -> AnalyticsIndex {
    let index = AnalyticsIndex::new();
    // Out of order on purpose: sequences are accepted in any order.
    let mut all: Vec<ResponseFacts> = rows().iter().map(facts).collect();
    all.reverse();
    all.swap(0, 4);
    for f in &all {
        assert!(index.insert(f));
    }
    index
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn run(index: &AnalyticsIndex, pairs: &[(&str, &str)]) -> MetricResult {
    let query = MetricQuery::from_params(&params(pairs)).expect("valid query");
    index.query(ORG, &query).expect("query runs")
}

fn close(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("a value");
    assert!((actual - expected).abs() < 1e-9, "expected {expected}, got {actual}");
}

fn nps_counts(counts: Counts) -> (u64, u64, u64) {
    match counts {
        Counts::Nps { promoters, passives, detractors } => (promoters, passives, detractors),
        other => panic!("expected NPS counts, got {other:?}"),
    }
}

fn keys(result: &MetricResult) -> Vec<Vec<Option<String>>> {
    result.groups.iter().map(|g| g.key.0.iter().map(|(_, v)| v.clone()).collect()).collect()
}

fn k(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|v| v.map(String::from)).collect()
}

#[test]
fn nps_total_and_by_region() {
    let index = index();
    let r = run(&index, &[("metric", "nps"), ("by", "region")]);
    // Total over rows 1–8 (row 9 has no NPS answer): 10, 9, 10 promoters; 7, 8 passives;
    // 3, 0, 6 detractors → n 8, NPS = 100 × (3 − 3) / 8 = 0.
    // ci95: p = d = 0.375, p + d − (p − d)² = 0.75, / 8 = 0.09375, √ = 0.3061862178,
    // × 196 = 60.0124979 → [−60.0124979, 60.0124979].
    assert_eq!(r.total.n, 8);
    assert_eq!(nps_counts(r.total.counts), (3, 2, 3));
    close(r.total.value, 0.0);
    let [lo, hi] = r.total.ci95.unwrap();
    close(Some(hi), 196.0 * 0.09375f64.sqrt());
    close(Some(lo), -196.0 * 0.09375f64.sqrt());

    // north: 10, 9, 7, 3 → 2 promoters, 1 passive, 1 detractor, NPS = 100 × 1/4 = 25.
    //   ci95: p .5, d .25 → .75 − .0625 = .6875, / 4 = .171875, √ × 196 = 81.2573 →
    //   [−56.2573, 106.2573 → clipped to 100].
    // south: 0, 6, 10 → 1 / 0 / 2, NPS = −33.33…; unknown region: 8 → passive, NPS 0, [0, 0].
    assert_eq!(keys(&r), vec![k(&[Some("north")]), k(&[Some("south")]), k(&[None])]);
    let north = &r.groups[0].cell;
    assert_eq!(north.n, 4);
    assert_eq!(nps_counts(north.counts), (2, 1, 1));
    close(north.value, 25.0);
    let [lo, hi] = north.ci95.unwrap();
    close(Some(lo), 25.0 - 196.0 * 0.171875f64.sqrt());
    close(Some(hi), 100.0);
    close(r.groups[1].cell.value, -100.0 / 3.0);
    assert_eq!(r.groups[2].cell.n, 1);
    close(r.groups[2].cell.value, 0.0);
    assert_eq!(r.groups[2].cell.ci95, Some([0.0, 0.0]));
    // Groups add up to the total.
    assert_eq!(r.groups.iter().map(|g| g.cell.n).sum::<u64>(), r.total.n);
}

#[test]
fn json_shape_matches_the_api() {
    let index = index();
    let r = run(&index, &[("metric", "nps"), ("by", "region"), ("filter[region]", "south")]);
    // south: 0, 6, 10 → P 1, Pa 0, D 2, NPS −33.33…; p = 1/3, d = 2/3,
    // p + d − (p − d)² = 1 − 1/9 = 8/9, / 3 = 8/27 → half = 196 × √(8/27) = 106.6888866.
    let half = 196.0 * (8.0f64 / 27.0).sqrt();
    // Computed as the engine does, 100 × (p − d), to compare the exact same double.
    let value = 100.0 * (1.0 / 3.0 - 2.0 / 3.0);
    let cell = json!({
        "n": 3, "value": value, "ci95": [-100.0, value + half],
        "promoters": 1, "passives": 0, "detractors": 2
    });
    let mut group = cell.clone();
    group["key"] = json!({"region": "south"});
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"metric": "nps", "total": cell, "groups": [group], "truncated": false})
    );
}

#[test]
fn group_by_two_dimensions() {
    let index = index();
    let r = run(&index, &[("metric", "nps"), ("by", "region,product")]);
    // (north, cards): 10, 9 → 100, ci [100, 100] (p = 1: 1 − 1 = 0).
    // (north, loans): 7, 3 → −50; p 0, d .5 → .5 − .25 = .25, / 2 = .125, √ × 196 = 69.2965 →
    //   [−119.3 → −100, 19.2965].
    // (south, cards): 0, 6 → −100. (south, loans): 10 → 100. (unknown, cards): 8 → 0.
    // Sorted by n descending, then key (unknown values last).
    assert_eq!(
        keys(&r),
        vec![
            k(&[Some("north"), Some("cards")]),
            k(&[Some("north"), Some("loans")]),
            k(&[Some("south"), Some("cards")]),
            k(&[Some("south"), Some("loans")]),
            k(&[None, Some("cards")]),
        ]
    );
    let values: Vec<f64> = r.groups.iter().map(|g| g.cell.value.unwrap()).collect();
    assert_eq!(values, vec![100.0, -50.0, -100.0, 100.0, 0.0]);
    assert_eq!(r.groups[0].cell.ci95, Some([100.0, 100.0]));
    let [lo, hi] = r.groups[1].cell.ci95.unwrap();
    close(Some(lo), -100.0);
    close(Some(hi), -50.0 + 196.0 * 0.125f64.sqrt());
    assert_eq!(r.groups[1].key.get(&Dimension::Product), Some("loans"));
    let json = serde_json::to_value(&r.groups[4]).unwrap();
    assert_eq!(json["key"], json!({"region": null, "product": "cards"}));
}

#[test]
fn filters_combine_and_across_dimensions_or_within_one() {
    let index = index();
    // product = cards: rows 1, 2, 5, 6, 8 → 10, 9, 0, 6, 8 → P 2, Pa 1, D 2 → NPS 0.
    let r = run(&index, &[("metric", "nps"), ("filter[product]", "cards")]);
    assert_eq!(nps_counts(r.total.counts), (2, 1, 2));
    close(r.total.value, 0.0);
    // cards or loans: all 8 answers.
    let r = run(&index, &[("metric", "nps"), ("filter[product]", "cards"), ("filter[product]", "loans")]);
    assert_eq!(r.total.n, 8);
    // north and loans: rows 3, 4 → 7, 3 → NPS −50.
    let r = run(&index, &[("metric", "nps"), ("filter[region]", "north"), ("filter[product]", "loans")]);
    assert_eq!(r.total.n, 2);
    close(r.total.value, -50.0);
    // An unknown value selects nothing: n 0, no value, no interval, no groups.
    let r = run(&index, &[("metric", "nps"), ("by", "region"), ("filter[region]", "west")]);
    assert_eq!(r.total.n, 0);
    assert_eq!(r.total.value, None);
    assert_eq!(r.total.ci95, None);
    assert!(r.groups.is_empty());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["total"]["value"], json!(null));
}

#[test]
fn date_range_is_inclusive_in_utc_days() {
    let index = index();
    // 2026-01-06 … 2026-01-31: rows 2, 3, 4, 5 (both ends included, submitted at 23:59:59 UTC)
    // → 9, 7, 3, 0 → P 1, Pa 1, D 2 → NPS = 100 × (1 − 2) / 4 = −25.
    let r = run(&index, &[("metric", "nps"), ("from", "2026-01-06"), ("to", "2026-01-31")]);
    assert_eq!(r.total.n, 4);
    assert_eq!(nps_counts(r.total.counts), (1, 1, 2));
    close(r.total.value, -25.0);
    // Only `from`: rows 6, 7, 8 (February) → 6, 10, 8 → NPS 0, n 3.
    let r = run(&index, &[("metric", "nps"), ("from", "2026-02-01")]);
    assert_eq!(r.total.n, 3);
}

#[test]
fn survey_filter_and_group() {
    let index = index();
    // Survey 2: rows 3, 5 (row 9 has no NPS) → 7, 0 → NPS −50.
    let r = run(&index, &[("metric", "nps"), ("survey_id", "2")]);
    assert_eq!(r.total.n, 2);
    close(r.total.value, -50.0);
    // By survey: "1" = rows 1, 2, 4, 6, 7, 8 → 10, 9, 3, 6, 10, 8 → P 3, Pa 1, D 2 →
    // 100 × 1/6 = 16.67; "2" → −50.
    let r = run(&index, &[("metric", "nps"), ("by", "survey")]);
    assert_eq!(keys(&r), vec![k(&[Some("1")]), k(&[Some("2")])]);
    close(r.groups[0].cell.value, 100.0 / 6.0);
    // An unknown survey selects nothing.
    let r = run(&index, &[("metric", "nps"), ("survey_id", "99")]);
    assert_eq!(r.total.n, 0);
}

#[test]
fn restrict_is_an_and_of_in_lists() {
    let index = index();
    let mut q = MetricQuery::new(MetricKind::Nps);
    q.restrict = vec![(Dimension::Region, vec!["south".into()])];
    // south: 0, 6, 10 → −33.33.
    let r = index.query(ORG, &q).unwrap();
    assert_eq!(r.total.n, 3);
    close(r.total.value, -100.0 / 3.0);
    // (north or south) and loans: rows 3, 4, 7 → 7, 3, 10 → P 1, Pa 1, D 1 → 0.
    q.restrict =
        vec![(Dimension::Region, vec!["north".into(), "south".into()]), (Dimension::Product, vec!["loans".into()])];
    let r = index.query(ORG, &q).unwrap();
    assert_eq!(nps_counts(r.total.counts), (1, 1, 1));
    // A restriction cannot be widened by a filter: south restricted, north filtered → nothing.
    q.restrict = vec![(Dimension::Region, vec!["south".into()])];
    q.filters = vec![(Dimension::Region, "north".into())];
    assert_eq!(index.query(ORG, &q).unwrap().total.n, 0);
    // An empty IN-list allows nothing.
    q.filters.clear();
    q.restrict = vec![(Dimension::Region, vec![])];
    assert_eq!(index.query(ORG, &q).unwrap().total.n, 0);
}

#[test]
fn attribute_columns_are_created_on_demand() {
    let index = index();
    // tier: gold = rows 1, 2, 6 → 10, 9, 6 → 33.33; silver = rows 4, 5 → 3, 0 → −100;
    // unknown = rows 3, 7, 8 → 7, 10, 8 → 33.33. Gold and unknown tie on n = 3: known first.
    let r = run(&index, &[("metric", "nps"), ("by", "attr.tier")]);
    assert_eq!(keys(&r), vec![k(&[Some("gold")]), k(&[None]), k(&[Some("silver")])]);
    close(r.groups[0].cell.value, 100.0 / 3.0);
    close(r.groups[2].cell.value, -100.0);
    // `plan` first appears at row 6 (inserted in between others): only row 6 has it.
    let r = run(&index, &[("metric", "nps"), ("filter[attr.plan]", "pro")]);
    assert_eq!(r.total.n, 1);
    close(r.total.value, -100.0);
    // A never-seen attribute: filtering selects nothing, grouping gives one unknown group.
    let r = run(&index, &[("metric", "nps"), ("filter[attr.colour]", "red")]);
    assert_eq!(r.total.n, 0);
    let r = run(&index, &[("metric", "nps"), ("by", "attr.colour,region")]);
    assert_eq!(keys(&r), vec![k(&[None, Some("north")]), k(&[None, Some("south")]), k(&[None, None])]);
}

#[test]
fn duplicate_sequence_is_ignored() {
    let index = index();
    let mut replay = facts(&rows()[0]);
    replay.nps = Some(0);
    replay.region = Some("west".into());
    assert!(!index.insert(&replay));
    assert_eq!(index.insert_many(rows().iter().map(facts).collect::<Vec<_>>().iter()), 0);
    assert_eq!(index.stats(ORG).rows, 9);
    assert_eq!(index.max_seq(), Some(9));
    let r = run(&index, &[("metric", "nps")]);
    assert_eq!(nps_counts(r.total.counts), (3, 2, 3));
    // The same sequence in another organisation is a different response.
    replay.org_id = 2;
    assert!(index.insert(&replay));
    assert_eq!(index.stats(2).rows, 1);
}

#[test]
fn csat_dsat_cadv_and_ces() {
    let index = index();
    // CSAT answers (rows 1–7, 9): 5, 4, 3, 1, 2, 5, 4, 5 → n 8, satisfied (4–5) = 5 → 62.5.
    // Wilson: p̂ = .625, z² = 3.8414588, denom = 1 + z²/8 = 1.4801824,
    // centre = (.625 + z²/16) / denom = .8650912 / 1.4801824 = .5844491,
    // half = z / denom × √(.625 × .375 / 8 + z²/256) = 1.3241368 × √(.0292969 + .0150057)
    //      = 1.3241368 × .2104818 = .2787067 → [30.57424, 86.31557] (%).
    let r = run(&index, &[("metric", "csat")]);
    assert_eq!(r.total.n, 8);
    assert_eq!(r.total.counts, Counts::Csat { satisfied: 5 });
    close(r.total.value, 62.5);
    let z = escucha_core::metrics::Z95;
    let denom = 1.0 + z * z / 8.0;
    let centre = (0.625 + z * z / 16.0) / denom;
    let half = z / denom * (0.625 * 0.375 / 8.0 + z * z / 256.0).sqrt();
    let [lo, hi] = r.total.ci95.unwrap();
    close(Some(lo), 100.0 * (centre - half));
    close(Some(hi), 100.0 * (centre + half));
    assert!((lo - 30.57424).abs() < 1e-5 && (hi - 86.31557).abs() < 1e-5, "{lo} {hi}");
    // DSAT: 1, 2 → 2 of 8 = 25.
    let r = run(&index, &[("metric", "dsat")]);
    assert_eq!(r.total.counts, Counts::Dsat { dissatisfied: 2 });
    close(r.total.value, 25.0);
    // CAdv: nobody answered it.
    let r = run(&index, &[("metric", "cadv")]);
    assert_eq!(r.total.n, 0);
    assert_eq!(r.total.counts, Counts::Cadv { advocates: 0 });
    // CES (rows 1–6, 8): 7, 6, 4, 2, 1, 5, 3 → n 7, sum 28, mean 4, sum_sq 140,
    // s² = (140 − 28²/7) / 6 = 28/6 = 4.6667, se = √(4.6667/7) = .8164966,
    // t(.975, 6) = 2.4469119 → half = 1.9978952 → [2.0021048, 5.9978952];
    // share_easy = 100 × 3/7 (7, 6, 5) = 42.857.
    let r = run(&index, &[("metric", "ces")]);
    assert_eq!(r.total.n, 7);
    close(r.total.value, 4.0);
    let [lo, hi] = r.total.ci95.unwrap();
    assert!((lo - 2.0021048).abs() < 1e-6 && (hi - 5.9978952).abs() < 1e-6, "{lo} {hi}");
    match r.total.counts {
        Counts::Ces { share_easy } => close(share_easy, 300.0 / 7.0),
        other => panic!("expected CES counts, got {other:?}"),
    }
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["total"]["share_easy"].is_number());
}

#[test]
fn compare_with_the_previous_period() {
    let index = index();
    // February (28 days) against the 28 days before: 2026-01-04 … 2026-01-31.
    let r = run(
        &index,
        &[("metric", "nps"), ("by", "region"), ("from", "2026-02-01"), ("to", "2026-02-28"), ("compare", "previous")],
    );
    // Total now: rows 6, 7, 8 → 6, 10, 8 → 0 (n 3); before: rows 1–5 → 10, 9, 7, 3, 0 → 0 (n 5).
    // change 0 → p = 1.
    let total = r.total.comparison.unwrap();
    assert_eq!(total.previous.n, 5);
    close(total.previous.value, 0.0);
    close(total.change, 0.0);
    close(total.p_value, 1.0);
    assert!(!total.significant);
    // south now: 6, 10 → 0 (p .5, d .5: var = 10⁴ × (1 − 0)/2 = 5000); before: 0 → −100
    // (var 0). change 100, se = √5000 = 70.7107, z = 1.41421, p = erfc(1) = 0.1572992 → not
    // significant. North has no answers now: left out. Unknown region now (row 8): previous
    // n 0, no change.
    assert_eq!(keys(&r), vec![k(&[Some("south")]), k(&[None])]);
    let south = r.groups[0].cell.comparison.unwrap();
    assert_eq!(south.previous.n, 1);
    close(south.previous.value, -100.0);
    close(south.change, 100.0);
    assert!((south.p_value.unwrap() - 0.157_299_207).abs() < 1e-8);
    assert!(!south.significant);
    let unknown = r.groups[1].cell.comparison.unwrap();
    assert_eq!(unknown.previous.n, 0);
    assert_eq!(unknown.previous.value, None);
    assert_eq!(unknown.change, None);
    let json = serde_json::to_value(&r.groups[1]).unwrap();
    assert_eq!(json["previous"], json!({"n": 0, "value": null}));
    assert_eq!(json["significant"], json!(false));
    // Without compare, no comparison fields at all.
    let r = run(&index, &[("metric", "nps")]);
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["total"].get("previous").is_none());
}

fn series(index: &AnalyticsIndex, pairs: &[(&str, &str)]) -> Vec<(NaiveDate, u64, Option<f64>)> {
    let query = SeriesQuery::from_params(&params(pairs)).expect("valid query");
    let r = index.series(ORG, &query).expect("series runs");
    r.points.iter().map(|p| (p.start, p.n, p.value)).collect()
}

#[test]
fn series_by_month_defaults_and_spans_the_data() {
    let index = index();
    // CSAT by month over the data's days (2026-01-05 … 2026-03-01):
    // January 5, 4, 3, 1, 2 → 2/5 = 40; February 5, 4 → 100; March 5 → 100.
    let points = series(&index, &[("metric", "csat")]);
    assert_eq!(
        points,
        vec![(date(2026, 1, 1), 5, Some(40.0)), (date(2026, 2, 1), 2, Some(100.0)), (date(2026, 3, 1), 1, Some(100.0)),]
    );
}

#[test]
fn series_weeks_start_on_monday() {
    let index = index();
    // Week of Monday 2026-01-05 … Sunday 01-11: rows 1, 2, 3 → 5, 4, 3 → 66.67;
    // week of 01-12: row 4 → 1 → 0.
    let points =
        series(&index, &[("metric", "csat"), ("interval", "week"), ("from", "2026-01-05"), ("to", "2026-01-18")]);
    assert_eq!(points.len(), 2);
    assert_eq!((points[0].0, points[0].1), (date(2026, 1, 5), 3));
    close(points[0].2, 200.0 / 3.0);
    assert_eq!(points[1], (date(2026, 1, 12), 1, Some(0.0)));
    // From a Wednesday: the first bucket is still labelled with its Monday, but holds only
    // 01-07 … 01-11 (row 3).
    let points =
        series(&index, &[("metric", "csat"), ("interval", "week"), ("from", "2026-01-07"), ("to", "2026-01-11")]);
    assert_eq!(points, vec![(date(2026, 1, 5), 1, Some(0.0))]);
}

#[test]
fn series_by_day_keeps_empty_days() {
    let index = index();
    let points = series(
        &index,
        &[
            ("metric", "nps"),
            ("interval", "day"),
            ("from", "2026-01-05"),
            ("to", "2026-01-07"),
            ("filter[region]", "north"),
        ],
    );
    assert_eq!(
        points,
        vec![(date(2026, 1, 5), 1, Some(100.0)), (date(2026, 1, 6), 1, Some(100.0)), (date(2026, 1, 7), 0, None),]
    );
    let query = SeriesQuery { interval: Interval::Day, ..SeriesQuery::new(MetricKind::Nps) };
    // An organisation without data has no points.
    assert!(index.series(42, &query).unwrap().points.is_empty());
    let json = serde_json::to_value(index.series(ORG, &SeriesQuery::new(MetricKind::Nps)).unwrap()).unwrap();
    assert_eq!(json["points"][0]["start"], json!("2026-01-01"));
    assert_eq!(json["interval"], json!("month"));
}

#[test]
fn engine_errors_have_codes() {
    let index = index();
    let mut q = MetricQuery::new(MetricKind::Nps);
    q.group_by = vec![Dimension::Region, Dimension::Product, Dimension::Team];
    assert_eq!(index.query(ORG, &q).unwrap_err().code(), "too_many_dimensions");
    let mut q = MetricQuery::new(MetricKind::Nps);
    q.compare_previous = true;
    assert_eq!(index.query(ORG, &q).unwrap_err().code(), "invalid_parameter");
    q.from = Some(date(2026, 2, 1));
    q.to = Some(date(2026, 1, 1));
    assert_eq!(index.query(ORG, &q).unwrap_err().code(), "invalid_range");
    let q = SeriesQuery {
        interval: Interval::Day,
        from: Some(date(2000, 1, 1)),
        to: Some(date(2030, 1, 1)),
        ..SeriesQuery::new(MetricKind::Nps)
    };
    assert_eq!(index.series(ORG, &q).unwrap_err().code(), "too_many_points");
    // The widest calendar does not panic either.
    let q = SeriesQuery { from: Some(NaiveDate::MIN), to: Some(NaiveDate::MAX), ..SeriesQuery::new(MetricKind::Nps) };
    assert_eq!(index.series(ORG, &q).unwrap_err().code(), "too_many_points");
    let mut q = MetricQuery::new(MetricKind::Nps);
    q.from = Some(NaiveDate::MIN);
    q.to = Some(NaiveDate::MAX);
    q.compare_previous = true;
    assert_eq!(index.query(ORG, &q).unwrap().total.n, 8);
}

#[test]
fn out_of_range_scores_are_ignored() {
    let index = AnalyticsIndex::default();
    assert_eq!(index.max_seq(), None);
    let mut f = facts(&rows()[0]);
    f.nps = Some(11);
    f.csat = Some(0);
    f.ces = Some(8);
    assert!(index.insert(&f));
    for metric in MetricKind::ALL {
        let r = index.query(ORG, &MetricQuery::new(metric)).unwrap();
        assert_eq!(r.total.n, 0, "{metric}");
    }
}

/// Enough rows for the scan to split over threads (2 × 2¹⁸) and for a two-dimension group-by
/// beyond the flat-counter limit (more than 2¹⁸ cells), checked against counts known by
/// construction.
#[test]
fn large_scans_threads_and_sparse_groups_agree_with_construction() {
    let index = AnalyticsIndex::new();
    let n = 600_000i64;
    let rows: Vec<ResponseFacts> = (0..n)
        .map(|i| ResponseFacts {
            seq: i,
            org_id: ORG,
            survey_id: 1,
            submitted_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::days(i % 365),
            employee: Some(format!("e{}", i % 600)),
            attributes: vec![("desk".into(), format!("d{}", (i / 600) % 600))],
            nps: Some((i % 11) as u8),
            ..ResponseFacts::default()
        })
        .collect();
    assert_eq!(index.insert_many(&rows), n as usize);
    // Scores cycle 0…10: of 600,000 = 54,545 × 11 + 5 rows, scores 0–4 get one more.
    // promoters (9, 10) = 2 × 54,545; passives (7, 8) = 2 × 54,545;
    // detractors (0–6) = 7 × 54,545 + 5.
    let r = index.query(ORG, &MetricQuery::new(MetricKind::Nps)).unwrap();
    assert_eq!(nps_counts(r.total.counts), (109_090, 109_090, 381_820));
    // employee × desk: 601 × 601 = 361,201 cells > 2¹⁸, so counted sparsely. Row i has
    // employee i mod 600 and desk ⌊i/600⌋ mod 600, so each of the 600 × 600 = 360,000 pairs
    // appears for i < 360,000 and rows 360,000 … 599,999 add 240,000 more: 240,000 pairs have
    // n = 2 and 120,000 have n = 1.
    let mut q = MetricQuery::new(MetricKind::Nps);
    q.group_by = vec![Dimension::Employee, Dimension::Attr("desk".into())];
    let r = index.query(ORG, &q).unwrap();
    // Only the 10,000 largest groups are returned (all with n = 2), and the result says so;
    // the total still counts every row.
    assert!(r.truncated);
    assert_eq!(r.groups.len(), escucha_analytics::MAX_GROUPS);
    assert!(r.groups.iter().all(|g| g.cell.n == 2));
    assert_eq!(r.total.n, n as u64);
    // Filtered to employee e0: its 1,000 rows (i = 600 k, k < 1,000) have desks k mod 600, so
    // 600 groups, d0–d399 with n = 2.
    q.filters = vec![(Dimension::Employee, "e0".into())];
    let r = index.query(ORG, &q).unwrap();
    assert!(!r.truncated);
    assert_eq!(r.groups.len(), 600);
    assert_eq!(r.groups.iter().filter(|g| g.cell.n == 2).count(), 400);
    // A date range keeps whole days: 2026-01-01 … 2026-01-10 is days 0–9 of each 365-day cycle.
    let mut q = MetricQuery::new(MetricKind::Nps);
    q.from = Some(date(2026, 1, 1));
    q.to = Some(date(2026, 1, 10));
    let expected = (0..n).filter(|i| i % 365 < 10).count() as u64;
    assert_eq!(index.query(ORG, &q).unwrap().total.n, expected);
}

#[test]
fn concurrent_inserts_and_queries() {
    fn shareable<T: Send + Sync>() {}
    shareable::<AnalyticsIndex>();
    let index = Arc::new(AnalyticsIndex::new());
    let writer = {
        let index = Arc::clone(&index);
        std::thread::spawn(move || {
            for i in 0..20_000 {
                let f = ResponseFacts {
                    seq: i,
                    org_id: ORG,
                    submitted_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                    nps: Some(10),
                    ..ResponseFacts::default()
                };
                index.insert(&f);
            }
        })
    };
    let mut last = 0;
    for _ in 0..50 {
        let n = index.query(ORG, &MetricQuery::new(MetricKind::Nps)).unwrap().total.n;
        assert!(n >= last, "counts never go back");
        last = n;
    }
    writer.join().unwrap();
    let r = index.query(ORG, &MetricQuery::new(MetricKind::Nps)).unwrap();
    assert_eq!(r.total.n, 20_000);
    close(r.total.value, 100.0);
}

/// Day-sorted data spanning several zone-map blocks (4,096 rows each), so that whole blocks
/// fall inside one period (days not read) while others straddle a bound (days read per row).
#[test]
fn whole_and_partial_blocks_agree() {
    let index = AnalyticsIndex::new();
    let day0 = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
    // Row i is on day ⌊i / 1024⌋ (1,024 rows a day, 4 days a block, 20 days) and answers
    // NPS = day mod 11.
    let rows: Vec<ResponseFacts> = (0..20_480i64)
        .map(|i| ResponseFacts {
            seq: i,
            org_id: ORG,
            submitted_at: day0 + chrono::Duration::days(i / 1024),
            nps: Some(((i / 1024) % 11) as u8),
            ..ResponseFacts::default()
        })
        .collect();
    index.insert_many(&rows);
    let day = |d: i64| Some((day0 + chrono::Duration::days(d)).date_naive());
    let mut q = MetricQuery::new(MetricKind::Nps);
    q.compare_previous = true;
    // Days 4–11 (blocks 1 and 2 exactly) against days −4–3 (block 0).
    // Now: promoters days 9, 10; passives 7, 8; detractors 4, 5, 6, 11 → 2048 / 2048 / 4096.
    // Before: days 0–3, all detractors → n 4096, NPS −100.
    q.from = day(4);
    q.to = day(11);
    let r = index.query(ORG, &q).unwrap();
    assert_eq!(nps_counts(r.total.counts), (2048, 2048, 4096));
    let previous = r.total.comparison.unwrap().previous;
    assert_eq!(previous.n, 4096);
    close(previous.value, -100.0);
    // Days 5–10 (cutting blocks 1 and 2) against days −1–4: now 2048 / 2048 / 2048 (days 5, 6),
    // before days 0–4 → 5120 detractors.
    q.from = day(5);
    q.to = day(10);
    let r = index.query(ORG, &q).unwrap();
    assert_eq!(nps_counts(r.total.counts), (2048, 2048, 2048));
    assert_eq!(r.total.comparison.unwrap().previous.n, 5120);
    // A weekly series over everything: 2026-03-02 is a Monday, so weeks hold 7 × 1024 rows,
    // the last one 6 days (20 = 7 + 7 + 6).
    let s = index.series(ORG, &SeriesQuery { interval: Interval::Week, ..SeriesQuery::new(MetricKind::Nps) }).unwrap();
    let ns: Vec<u64> = s.points.iter().map(|p| p.n).collect();
    assert_eq!(ns, vec![7168, 7168, 6144]);
    // Whole blocks are counted from their per-block histograms, per score column: nobody
    // answered CES, and every NPS answer of the 20 days counts.
    let ces = index.query(ORG, &MetricQuery::new(MetricKind::Ces)).unwrap();
    assert_eq!(ces.total.n, 0);
    let all = index.query(ORG, &MetricQuery::new(MetricKind::Nps)).unwrap();
    assert_eq!(all.total.n, 20_480);
    assert_eq!(s.points[0].start, date(2026, 3, 2));
}

/// The engine against a naive count over the same rows, for many query shapes, on
/// pseudo-random day-ordered data (so every kernel path runs: whole blocks without reading
/// days, blocks cut by a bound, blocks split between periods, unknown values, missing scores).
#[test]
fn engine_agrees_with_a_naive_count() {
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) % n
        }
    }
    let regions = ["north", "south", "east"];
    let products = ["cards", "loans"];
    let mut rng = Rng(7);
    let day0 = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap();
    let rows: Vec<ResponseFacts> = (0..30_000i64)
        .map(|i| {
            let region = rng.below(4) as usize;
            let product = rng.below(3) as usize;
            ResponseFacts {
                seq: i,
                org_id: ORG,
                survey_id: 1 + rng.below(2) as i64,
                submitted_at: day0 + chrono::Duration::days(i / 500 + rng.below(2) as i64),
                region: regions.get(region).map(|s| s.to_string()),
                product: products.get(product).map(|s| s.to_string()),
                nps: (rng.below(10) < 8).then(|| rng.below(11) as u8),
                ..ResponseFacts::default()
            }
        })
        .collect();
    let index = AnalyticsIndex::new();
    index.insert_many(&rows);

    let day = |d: i64| Some((day0 + chrono::Duration::days(d)).date_naive());
    let queries = [
        (vec![], vec![], None, None),
        (vec![Dimension::Region], vec![], None, None),
        (vec![Dimension::Region, Dimension::Product], vec![], day(3), day(40)),
        (vec![Dimension::Product], vec![(Dimension::Region, "east")], day(10), day(11)),
        (vec![Dimension::Survey], vec![(Dimension::Product, "loans")], day(0), day(59)),
        (vec![Dimension::Survey], vec![(Dimension::Region, "east"), (Dimension::Product, "loans")], day(20), day(30)),
        (vec![], vec![(Dimension::Region, "north"), (Dimension::Region, "south")], None, None),
    ];
    for (group_by, filters, from, to) in queries {
        for compare in [false, true] {
            if compare && from.is_none() {
                continue;
            }
            let query = MetricQuery {
                group_by: group_by.clone(),
                filters: filters.iter().map(|(d, v)| (d.clone(), v.to_string())).collect(),
                from,
                to,
                compare_previous: compare,
                ..MetricQuery::new(MetricKind::Nps)
            };
            let result = index.query(ORG, &query).unwrap();
            let previous = query.previous_period();
            // Naive: count answers per group key, for the period and the previous one.
            let value_of = |f: &ResponseFacts, d: &Dimension| match d {
                Dimension::Region => f.region.clone(),
                Dimension::Product => f.product.clone(),
                Dimension::Survey => Some(f.survey_id.to_string()),
                _ => None,
            };
            let mut expected: std::collections::BTreeMap<Vec<Option<String>>, (u64, u64)> = Default::default();
            for f in &rows {
                // Filters on one dimension: any of its values; across dimensions: all.
                let passes = filters
                    .iter()
                    .all(|(d, _)| filters.iter().any(|(d2, v)| d2 == d && value_of(f, d2).as_deref() == Some(*v)));
                if f.nps.is_none() || !passes {
                    continue;
                }
                let date = f.submitted_at.date_naive();
                let now = from.is_none_or(|from| date >= from) && to.is_none_or(|to| date <= to);
                let before = previous.is_some_and(|(a, b)| compare && date >= a && date <= b);
                let key: Vec<Option<String>> = group_by.iter().map(|d| value_of(f, d)).collect();
                let entry = expected.entry(key).or_default();
                entry.0 += u64::from(now);
                entry.1 += u64::from(before);
            }
            let what = format!("{group_by:?} {filters:?} {from:?} {to:?} compare={compare}");
            let total_now: u64 = expected.values().map(|e| e.0).sum();
            assert_eq!(result.total.n, total_now, "{what}");
            if compare {
                let total_before: u64 = expected.values().map(|e| e.1).sum();
                assert_eq!(result.total.comparison.unwrap().previous.n, total_before, "{what}");
            }
            if group_by.is_empty() {
                continue;
            }
            let got: Vec<(Vec<Option<String>>, u64, Option<u64>)> = result
                .groups
                .iter()
                .map(|g| {
                    let key = g.key.0.iter().map(|(_, v)| v.clone()).collect();
                    (key, g.cell.n, g.cell.comparison.map(|c| c.previous.n))
                })
                .collect();
            let mut want: Vec<(Vec<Option<String>>, u64, Option<u64>)> = expected
                .into_iter()
                .filter(|(_, (now, _))| *now > 0)
                .map(|(key, (now, before))| (key, now, compare.then_some(before)))
                .collect();
            want.sort_by(|a, b| {
                b.1.cmp(&a.1).then_with(|| {
                    let ka = a.0.iter().map(|v| (v.is_none(), v));
                    let kb = b.0.iter().map(|v| (v.is_none(), v));
                    ka.cmp(kb)
                })
            });
            assert_eq!(got, want, "{what}");
        }
    }

    // A weekly series of one region against a naive count per ISO week.
    let query = SeriesQuery {
        interval: Interval::Week,
        filters: vec![(Dimension::Region, "north".into())],
        ..SeriesQuery::new(MetricKind::Nps)
    };
    let series = index.series(ORG, &query).unwrap();
    let mut expected: std::collections::BTreeMap<NaiveDate, u64> = Default::default();
    for f in rows.iter().filter(|f| f.nps.is_some() && f.region.as_deref() == Some("north")) {
        let week = Interval::Week.bucket_start(f.submitted_at.date_naive());
        *expected.entry(week).or_default() += 1;
    }
    let got: std::collections::BTreeMap<NaiveDate, u64> =
        series.points.iter().filter(|p| p.n > 0).map(|p| (p.start, p.n)).collect();
    assert_eq!(got, expected);
}

/// A dimension whose dictionary outgrows one byte (256 values) and then two (65,536): its codes
/// are re-stored wider on the way, and earlier and later values still filter and group right.
#[test]
fn dimensions_with_many_values_widen_their_codes() {
    let index = AnalyticsIndex::new();
    let n = 70_000i64;
    let rows: Vec<ResponseFacts> = (0..n)
        .map(|i| ResponseFacts {
            seq: i,
            org_id: ORG,
            submitted_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            employee: Some(format!("e{i}")),
            region: Some(["north", "south"][(i % 2) as usize].to_owned()),
            // Even rows promoters, odd rows detractors.
            nps: Some(if i % 2 == 0 { 10 } else { 0 }),
            ..ResponseFacts::default()
        })
        .collect();
    index.insert_many(&rows);
    for (employee, expected) in [("e5", -100.0), ("e254", 100.0), ("e300", 100.0), ("e69999", -100.0)] {
        let r = run(&index, &[("metric", "nps"), ("filter[employee]", employee)]);
        assert_eq!(r.total.n, 1, "{employee}");
        close(r.total.value, expected);
    }
    // 70,001 employee codes × 3 region codes: flat counters, one group per employee, of which
    // the first 10,000 by key are returned (all have n = 1).
    let r = run(&index, &[("metric", "nps"), ("by", "employee,region")]);
    assert!(r.truncated);
    assert_eq!(r.total.n, n as u64);
    assert_eq!(r.groups[0].key.get(&Dimension::Employee), Some("e0"));
    assert_eq!(r.groups[1].key.get(&Dimension::Employee), Some("e1"));
    assert_eq!(r.groups[2].key.get(&Dimension::Employee), Some("e10"));
    // A code past 65,535 groups and filters right.
    let r = run(&index, &[("metric", "nps"), ("by", "employee,region"), ("filter[employee]", "e65537")]);
    assert_eq!(r.groups.len(), 1);
    assert_eq!(r.groups[0].key.get(&Dimension::Region), Some("south"));
    close(r.groups[0].cell.value, -100.0);
}
