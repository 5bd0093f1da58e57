//! The deterministic generator: staff, customers, journeys, surveys and ~100,000 responses
//! whose scores carry the stories described in the module docs.

use chrono::{DateTime, Datelike, Duration, Utc};
use escucha_core::ids::SurveyId;
use escucha_core::response::{NewResponse, ResponseContext};
use escucha_core::survey::SurveyDefinition;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::catalog::{self, REGIONS, STRONG_PRODUCT, SUPPORT, TouchpointSpec, WEAK_REGION};
use super::comments::{self, MONTHS, Polarity, Situation};
use super::people::{self, CustomerPlan, Staff};
use super::{DemoCustomer, DemoData, DemoResponse, DemoSurvey, DemoSurveyKind, label, normal, pick_weighted};

/// The fixed seed: the demo is the same on every machine.
const SEED: u64 = 0x00C0_4EC7_A2DE_4D00;
/// How many customers.
pub(crate) const CUSTOMER_COUNT: usize = 5_000;
/// How many responses in total.
pub(crate) const RESPONSE_COUNT: usize = 100_000;
/// Length of the response history.
pub(crate) const WINDOW_DAYS: i64 = 730;
/// The new billing system goes live this many days before `now`.
pub(crate) const BILLING_DAYS_BEFORE_NOW: i64 = 150;

/// Latent mean of a response with no effects: an NPS of about +28 on the cut points below.
const BASE_LATENT: f64 = 0.6;
/// NPS points per unit of latent satisfaction near the baseline.
const POINTS_PER_LATENT: f64 = 70.0;
/// Cut points of the latent scale for NPS 0–10 (score = cut points below the latent value).
const NPS_CUTS: [f64; 10] = [-1.9, -1.65, -1.4, -1.15, -0.85, -0.5, -0.17, 0.25, 0.6, 1.2];
/// Cut points for 1–5 satisfaction (CSAT).
const CSAT_CUTS: [f64; 4] = [-1.3, -0.7, -0.1, 0.9];
/// Cut points for 1–7 effort (CES).
const CES_CUTS: [f64; 6] = [-1.6, -1.1, -0.6, -0.2, 0.3, 0.9];
/// Cut points for 1–5 advocacy.
const CADV_CUTS: [f64; 4] = [-1.2, -0.6, 0.0, 1.0];
/// Cut points for 1–5 renewal intent.
const RENEW_CUTS: [f64; 4] = [-1.4, -0.8, -0.2, 0.8];

const POSITIVE_EMOTIONS: [&str; 6] = ["pleased", "trusting", "valued", "cared_for", "happy", "safe"];
const NEGATIVE_EMOTIONS: [&str; 6] = ["frustrated", "disappointed", "neglected", "stressed", "angry", "hurried"];

/// NPS points of the seasonal story (story 3), by month 1–12.
pub(crate) fn season_points(month: u32) -> f64 {
    match month {
        12 => -12.0,
        1 => -8.0,
        11 => -3.0,
        2 => -2.0,
        _ => 0.0,
    }
}

/// Relative volume of support contacts by month (the December peak).
fn support_volume(month: u32) -> f64 {
    match month {
        12 => 1.4,
        1 => 1.25,
        _ => 1.0,
    }
}

/// Strength of the billing incident (story 4) at `t`, 0–1: ramps up over ten days from the
/// go-live, holds until day 45, eases to 0.35 by day 120 and stays there.
pub(crate) fn billing_intensity(start: DateTime<Utc>, t: DateTime<Utc>) -> f64 {
    let d = (t - start).num_seconds() as f64 / 86_400.0;
    if d < 0.0 {
        0.0
    } else if d < 10.0 {
        d / 10.0
    } else if d < 45.0 {
        1.0
    } else if d < 120.0 {
        1.0 - 0.65 * (d - 45.0) / 75.0
    } else {
        0.35
    }
}

/// NPS points the billing incident costs at full strength.
const BILLING_POINTS: f64 = -20.0;

fn cut(x: f64, cuts: &[f64]) -> u8 {
    cuts.iter().filter(|c| x > **c).count() as u8
}

struct Gen<'a> {
    rng: ChaCha8Rng,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    billing_start: DateTime<Utc>,
    staff: &'a Staff,
    customers: &'a [DemoCustomer],
    plans: &'a [CustomerPlan],
    surveys: &'a [DemoSurvey],
    out: Vec<DemoResponse>,
}

/// What a response is about, before it has scores.
struct Visit {
    kind: DemoSurveyKind,
    customer: usize,
    at: DateTime<Utc>,
    touchpoint: Option<(&'static str, &'static TouchpointSpec)>,
    employee: Option<usize>,
}

impl Gen<'_> {
    /// A moment in the window, more likely later (the company grows) and shaped by `volume`
    /// (whose values must stay at or below 1.5).
    fn moment(&mut self, volume: impl Fn(DateTime<Utc>) -> f64) -> DateTime<Utc> {
        let span = WINDOW_DAYS * 86_400;
        loop {
            let secs = self.rng.random_range(0..span);
            let t = self.start + Duration::seconds(secs);
            let growth = 0.8 + 0.4 * secs as f64 / span as f64;
            if self.rng.random::<f64>() * 1.8 < growth * volume(t) {
                return t;
            }
        }
    }

    /// A customer who had joined at least `min_days` before `t`.
    fn customer_at(&mut self, t: DateTime<Utc>, min_days: i64) -> usize {
        for _ in 0..200 {
            let i = self.rng.random_range(0..self.plans.len());
            if self.plans[i].joined + Duration::days(min_days) <= t {
                return i;
            }
        }
        // Unreachable in practice: half the customers joined more than two years ago.
        (0..self.plans.len()).min_by_key(|i| self.plans[*i].joined).unwrap_or(0)
    }

    /// Someone of the region's team that serves this touchpoint.
    fn server(&mut self, customer: usize, team: Option<&str>) -> Option<usize> {
        let plan = &self.plans[customer];
        let region = &self.staff.regions[plan.region];
        let pool = match team? {
            "sales" => return plan.owner.or_else(|| region.sales.first().copied()),
            "support" => &region.support,
            _ => &region.field,
        };
        Some(pool[self.rng.random_range(0..pool.len())])
    }

    /// Sum of the effects on a response, in NPS points.
    fn points(&self, v: &Visit) -> f64 {
        let plan = &self.plans[v.customer];
        let span = (WINDOW_DAYS * 86_400) as f64;
        let trend = 3.0 * (v.at - self.start).num_seconds() as f64 / span - 1.5;
        let billing_weight = match (v.kind, v.touchpoint.map(|(_, t)| t.key)) {
            (DemoSurveyKind::Relational, _) => 1.0,
            (_, Some("primera_factura" | "reclamo_factura")) => 1.0,
            _ => 0.0,
        };
        let survey_base = match v.kind {
            DemoSurveyKind::Relational => 0.0,
            DemoSurveyKind::Support => -3.0,
            DemoSurveyKind::Onboarding => 8.0,
        };
        survey_base
            + catalog::region_effect(REGIONS[plan.region].0)
            + plan.product.effect
            + v.employee.map_or(0.0, |e| self.staff.effects[e])
            + v.touchpoint.map_or(0.0, |(_, t)| t.effect)
            + season_points(v.at.month())
            + trend
            + BILLING_POINTS * billing_intensity(self.billing_start, v.at) * billing_weight
    }

    fn related(&mut self, mean: f64, latent: f64, rho: f64) -> f64 {
        mean + rho * (latent - mean) + (1.0 - rho * rho).sqrt() * normal(&mut self.rng)
    }

    fn emotions(&mut self, nps: u8) -> Value {
        let n = self.rng.random_range(1..=2);
        let mut picked: Vec<&str> = Vec::new();
        for k in 0..n {
            let positive = match nps {
                9..=10 => true,
                0..=6 => false,
                _ => k == 0,
            };
            let list = if positive { &POSITIVE_EMOTIONS } else { &NEGATIVE_EMOTIONS };
            let e = list[self.rng.random_range(0..list.len())];
            if !picked.contains(&e) {
                picked.push(e);
            }
        }
        json!(picked)
    }

    /// A comment for this visit with this polarity, or none (not everyone writes).
    fn comment(&mut self, v: &Visit, polarity: Polarity) -> Option<String> {
        let p = match polarity {
            Polarity::Negative => 0.7,
            Polarity::Mixed => 0.45,
            Polarity::Positive => 0.4,
        };
        if !self.rng.random_bool(p) {
            return None;
        }
        let plan = &self.plans[v.customer];
        let customer = &self.customers[v.customer];
        let english = plan.english;
        let situation = Situation {
            touchpoint: v.touchpoint.map(|(_, t)| t.key),
            billing: billing_intensity(self.billing_start, v.at),
            peak: matches!(v.at.month(), 12 | 1),
            weak_region: REGIONS[plan.region].0 == WEAK_REGION,
            strong_product: plan.product.name == STRONG_PRODUCT,
            served: v.employee.is_some(),
        };
        let (topic, second) = match polarity {
            Polarity::Positive => {
                (comments::praise_topic(&mut self.rng, &situation), comments::praise_topic(&mut self.rng, &situation))
            }
            _ => (
                comments::complaint_topic(&mut self.rng, &situation),
                comments::praise_topic(&mut self.rng, &situation),
            ),
        };
        let agent_full = v
            .employee
            .or(plan.owner)
            .map(|e| self.staff.users[e].name.as_str().to_string())
            .unwrap_or_else(|| "Andrea".to_string());
        let agent = agent_full.split(' ').next().unwrap_or("Andrea").to_string();
        let phone = customer.phone.clone().unwrap_or_else(|| people::phone(&mut self.rng));
        let email = customer
            .email
            .as_ref()
            .map(|e| e.as_str().to_string())
            .unwrap_or_else(|| format!("cliente{}@example.com", v.customer + 1));
        let (es_month, en_month) = MONTHS[v.at.month0() as usize];
        let vars = comments::Vars {
            agent: &agent,
            agent_full: &agent_full,
            product: plan.product.name,
            customer: &customer.name,
            phone: &phone,
            email: &email,
            month: if english { en_month } else { es_month },
            region: REGIONS[plan.region].0,
        };
        Some(comments::compose(&mut self.rng, topic, second, polarity, english, &vars))
    }

    /// Answers the survey for a visit and records the response.
    fn respond(&mut self, v: Visit) {
        let mean = BASE_LATENT + self.points(&v) / POINTS_PER_LATENT;
        let latent = mean + normal(&mut self.rng);
        let mut answers = Map::new();
        match v.kind {
            DemoSurveyKind::Relational => {
                let nps = cut(latent, &NPS_CUTS);
                answers.insert("nps".into(), json!(nps));
                if let Some(text) = self.comment(&v, nps_polarity(nps)) {
                    answers.insert("why".into(), json!(text));
                }
                if self.rng.random_bool(0.7) {
                    let e = self.emotions(nps);
                    answers.insert("feel".into(), e);
                }
                if self.rng.random_bool(0.85) {
                    let x = self.related(mean, latent, 0.8);
                    answers.insert("cadv".into(), json!(1 + cut(x, &CADV_CUTS)));
                }
                if self.rng.random_bool(0.85) {
                    let x = self.related(mean, latent, 0.75);
                    answers.insert("renew".into(), json!(1 + cut(x, &RENEW_CUTS)));
                }
            }
            DemoSurveyKind::Support => {
                let csat = 1 + cut(latent, &CSAT_CUTS);
                answers.insert("csat".into(), json!(csat));
                let x = self.related(mean, latent, 0.75);
                answers.insert("ces".into(), json!(1 + cut(x, &CES_CUTS)));
                if self.rng.random_bool(0.9) {
                    let x = self.related(mean, latent, 0.8);
                    let resolved = if x > 0.2 {
                        "yes"
                    } else if x > -0.6 {
                        "partly"
                    } else {
                        "no"
                    };
                    answers.insert("resolved".into(), json!(resolved));
                }
                let polarity = match csat {
                    1 | 2 => Polarity::Negative,
                    3 => Polarity::Mixed,
                    _ => Polarity::Positive,
                };
                if let Some(text) = self.comment(&v, polarity) {
                    answers.insert("comment".into(), json!(text));
                }
            }
            DemoSurveyKind::Onboarding => {
                let nps = cut(latent, &NPS_CUTS);
                answers.insert("nps".into(), json!(nps));
                if self.rng.random_bool(0.9) {
                    let x = self.related(mean, latent, 0.8);
                    answers.insert("csat".into(), json!(1 + cut(x, &CSAT_CUTS)));
                }
                if self.rng.random_bool(0.85) {
                    let x = self.related(mean, latent, 0.75);
                    answers.insert("ces".into(), json!(1 + cut(x, &CES_CUTS)));
                }
                if let Some(text) = self.comment(&v, nps_polarity(nps)) {
                    answers.insert("comment".into(), json!(text));
                }
            }
        }
        let response = self.response(&v, &answers);
        self.out.push(DemoResponse { survey: v.kind, customer: v.customer, response });
    }

    /// Validates the answers exactly as the API does and builds the response with its context.
    fn response(&self, v: &Visit, raw: &Map<String, Value>) -> NewResponse {
        let definition: &SurveyDefinition = &self.surveys[v.kind.index()].definition;
        let answers = definition.parse_answers(raw).expect("generated answers are valid");
        let plan = &self.plans[v.customer];
        let customer = &self.customers[v.customer];
        let employee = v.employee.map(|e| &self.staff.users[e]);
        let context = ResponseContext {
            region: Some(customer.region.clone()),
            product: Some(label(plan.product.name)),
            channel: v.touchpoint.map(|(_, t)| label(t.channel)),
            team: employee.and_then(|u| u.team.clone()),
            employee_email: employee.map(|u| u.email.clone()),
            touchpoint: v.touchpoint.map(|(_, t)| label(t.key)),
            journey_stage: v.touchpoint.map(|(stage, _)| label(stage)),
        };
        NewResponse {
            survey_id: SurveyId(0),
            survey_version: 1,
            customer_id: None,
            invitation_id: None,
            scores: definition.metric_scores(&answers),
            emotions: definition.emotions(&answers),
            verbatim: definition.verbatim(&answers),
            answers,
            context,
            segment: Some(customer.segment.clone()),
            language: Some(customer.language.clone()),
            submitted_at: v.at,
        }
    }

    /// Each customer who joined within the window answers after some of their onboarding steps.
    fn onboarding(&mut self) {
        for customer in 0..self.plans.len() {
            let plan = self.plans[customer].clone();
            if plan.joined < self.start {
                continue;
            }
            let sale =
                *pick_weighted(&mut self.rng, &[("venta_tienda", 0.4), ("venta_web", 0.35), ("venta_telefono", 0.25)]);
            let mut steps: Vec<(&str, f64, i64, i64)> = vec![(sale, 0.7, 0, 2)];
            if plan.product.installed {
                steps.push(("cita_instalacion", 0.6, 1, 3));
                steps.push(("visita_tecnica", 0.8, 3, 12));
            }
            if plan.owner.is_some() {
                steps.push(("bienvenida", 0.5, 7, 15));
            }
            steps.push(("app_activacion", 0.45, 1, 20));
            if plan.product.billed {
                steps.push(("primera_factura", 0.7, 30, 40));
            }
            for (key, p, from, to) in steps {
                let answers = self.rng.random_bool(p);
                let at = plan.joined + Duration::minutes(self.rng.random_range(from * 1440..to * 1440 + 1440));
                if !answers || at >= self.now {
                    continue;
                }
                let touchpoint = catalog::touchpoint(key);
                let employee = self.server(customer, touchpoint.and_then(|(_, t)| t.team));
                self.respond(Visit { kind: DemoSurveyKind::Onboarding, customer, at, touchpoint, employee });
            }
        }
    }

    /// Relational NPS: customers of at least a month, at any time, the owner as employee.
    fn relational(&mut self, count: usize) {
        for _ in 0..count {
            let at = self.moment(|_| 1.0);
            let customer = self.customer_at(at, 30);
            let employee = self.plans[customer].owner;
            self.respond(Visit { kind: DemoSurveyKind::Relational, customer, at, touchpoint: None, employee });
        }
    }

    /// Support contacts: more in the December peak, billing claims triple during the incident.
    fn support(&mut self, count: usize) {
        let billing_start = self.billing_start;
        let base: Vec<(&'static str, f64)> = vec![
            ("soporte_telefono", 30.0),
            ("soporte_chat", 22.0),
            ("soporte_app", 15.0),
            ("soporte_tienda", 10.0),
            ("visita_reparacion", 10.0),
            ("reclamo_factura", 7.0),
            ("cierre_caso", 6.0),
        ];
        debug_assert!(base.iter().all(|(k, _)| { SUPPORT.iter().any(|s| s.touchpoints.iter().any(|t| t.key == *k)) }));
        for _ in 0..count {
            let at = self.moment(|t| {
                // Billing claims add volume while the incident lasts (about +14% at its worst).
                support_volume(t.month()) * (1.0 + 0.14 * billing_intensity(billing_start, t)) / 1.14
            });
            let intensity = billing_intensity(billing_start, at);
            let weights: Vec<(&'static str, f64)> = base
                .iter()
                .map(|(k, w)| (*k, if *k == "reclamo_factura" { w * (1.0 + 2.0 * intensity) } else { *w }))
                .collect();
            let key = *pick_weighted(&mut self.rng, &weights);
            let customer = self.customer_at(at, 3);
            let touchpoint = catalog::touchpoint(key);
            let employee = self.server(customer, touchpoint.and_then(|(_, t)| t.team));
            self.respond(Visit { kind: DemoSurveyKind::Support, customer, at, touchpoint, employee });
        }
    }
}

fn nps_polarity(nps: u8) -> Polarity {
    match nps {
        0..=6 => Polarity::Negative,
        7 | 8 => Polarity::Mixed,
        _ => Polarity::Positive,
    }
}

/// Sets each customer's lifecycle stage from what happened to them: new customers, customers
/// whose latest relational score was a strong detractor (at risk), some renewals.
fn lifecycle(
    rng: &mut ChaCha8Rng,
    customers: &mut [DemoCustomer],
    plans: &[CustomerPlan],
    responses: &[DemoResponse],
    now: DateTime<Utc>,
) {
    let mut last_nps: Vec<Option<(DateTime<Utc>, u8)>> = vec![None; customers.len()];
    for r in responses.iter().filter(|r| r.survey == DemoSurveyKind::Relational) {
        if let Some(nps) = r.response.scores.nps {
            last_nps[r.customer] = Some((r.response.submitted_at, nps));
        }
    }
    for (i, c) in customers.iter_mut().enumerate() {
        let contract = c.attributes.get("contrato").map(String::as_str).unwrap_or("");
        let stage = if plans[i].joined > now - Duration::days(90) {
            "Nuevo"
        } else if matches!(last_nps[i], Some((at, nps)) if nps <= 4 && at > now - Duration::days(180)) {
            "En riesgo"
        } else if matches!(contract, "12 meses" | "24 meses") && rng.random_bool(0.08) {
            "Renovación"
        } else {
            "Activo"
        };
        c.lifecycle_stage = label(stage);
    }
}

/// Generates the whole demo organisation for the given moment, deterministically: the same
/// `now` always gives the same data. Pure: no I/O, no clock, no global state.
pub fn generate(now: DateTime<Utc>) -> DemoData {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let staff = people::staff(&mut rng);
    let (mut customers, plans) = people::customers(&mut rng, &staff, CUSTOMER_COUNT, now);
    let surveys: Vec<DemoSurvey> = DemoSurveyKind::ALL
        .into_iter()
        .map(|kind| {
            let (name, definition, touchpoint) = catalog::survey(kind);
            DemoSurvey { kind, name, definition, touchpoint }
        })
        .collect();
    let billing_start = (now - Duration::days(BILLING_DAYS_BEFORE_NOW))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(now - Duration::days(BILLING_DAYS_BEFORE_NOW));
    let mut g = Gen {
        rng,
        now,
        start: now - Duration::days(WINDOW_DAYS),
        billing_start,
        staff: &staff,
        customers: &customers,
        plans: &plans,
        surveys: &surveys,
        out: Vec::with_capacity(RESPONSE_COUNT),
    };
    g.onboarding();
    let rest = RESPONSE_COUNT.saturating_sub(g.out.len());
    g.relational(rest / 2);
    g.support(rest - rest / 2);
    let Gen { mut rng, out: mut responses, .. } = g;
    responses.sort_by_key(|r| r.response.submitted_at);
    lifecycle(&mut rng, &mut customers, &plans, &responses, now);
    DemoData {
        now,
        billing_incident_start: billing_start,
        users: staff.users,
        customers,
        journeys: catalog::journeys(),
        surveys,
        responses,
    }
}
