//! Writes generated demo data through the ordinary [`Store`]: the organisation, its users (two
//! of them with the demo password), customers, journeys, surveys, responses in large
//! transactions without queued jobs (history, not news), and the closed-loop cases of the
//! recent detractors, the older ones worked through to a resolution.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use escucha_core::case::{CaseStatus, CaseUpdate, case_for_response, default_alert_rules};
use escucha_core::customer::Customer;
use escucha_core::ids::{CaseId, OrgId, SurveyId};
use escucha_core::values::{Email, Label, Slug};
use escucha_store::{NewSurvey, ResponseWrite, Store, StoreError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::generate::WINDOW_DAYS;
use super::{DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL, DEMO_ORG_NAME, DEMO_ORG_SLUG, DemoData, DemoSurveyKind};

/// Customers per `upsert_customers` transaction.
const CUSTOMER_BATCH: usize = 1_000;
/// Responses per `insert_responses` transaction.
const RESPONSE_BATCH: usize = 5_000;
/// Detractors this recent open a case.
const CASE_WINDOW_DAYS: i64 = 45;

/// What [`load`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// The demo organisation.
    pub org_id: OrgId,
    /// Users stored.
    pub users: usize,
    /// Customers stored.
    pub customers: usize,
    /// Journeys stored.
    pub journeys: usize,
    /// Surveys stored.
    pub surveys: usize,
    /// Responses stored.
    pub responses: usize,
    /// Cases opened by recent detractors.
    pub cases_opened: usize,
    /// Of those, cases worked through to resolved or closed.
    pub cases_resolved: usize,
    /// The demo administrator's sign-in e-mail.
    pub admin_email: String,
    /// The Norte regional manager's sign-in e-mail (sees region Norte only).
    pub manager_email: String,
    /// Every user who can sign in with the demo password: the admin first.
    pub sign_in_emails: Vec<String>,
}

fn demo_error(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("demo data: {what}: {e}"))
}

/// Loads the demo organisation (slug `demo`) into `store`, giving the demo admin and the
/// Norte regional manager `password_hash`. Fails with `Conflict` when the slug is taken.
pub async fn load(store: &dyn Store, data: DemoData, password_hash: &str) -> Result<DemoSummary, StoreError> {
    let slug = Slug::parse(DEMO_ORG_SLUG).map_err(|e| demo_error("slug", e))?;
    let name = Label::parse(DEMO_ORG_NAME).map_err(|e| demo_error("name", e))?;
    let started = std::time::Instant::now();
    let org = store.create_org(&slug, &name).await?.id;

    for user in &data.users {
        store.upsert_user(org, &user.email, user.fields()).await?;
    }
    let sign_in = [DEMO_ADMIN_EMAIL, DEMO_MANAGER_EMAIL];
    for email in sign_in {
        let email = Email::parse(email).map_err(|e| demo_error("sign-in e-mail", e))?;
        store.set_password_hash(org, &email, password_hash).await?;
    }

    tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "demo: users stored");
    let mut customers: Vec<Customer> = Vec::with_capacity(data.customers.len());
    for chunk in data.customers.chunks(CUSTOMER_BATCH) {
        let items = chunk.iter().map(|c| (c.external_id.clone(), c.patch())).collect();
        customers.extend(store.upsert_customers(org, items, data.now).await?.into_iter().map(|(c, _)| c));
    }

    tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "demo: customers stored");
    let journeys = data.journeys.len();
    for mut journey in data.journeys {
        journey.org_id = org;
        store.upsert_journey(org, journey).await?;
    }

    let mut survey_ids = [SurveyId(0); 3];
    let surveys = data.surveys.len();
    for survey in data.surveys {
        let new = NewSurvey {
            name: survey.name,
            definition: survey.definition,
            touchpoint: survey.touchpoint,
            created_at: data.now - Duration::days(WINDOW_DAYS + 30),
        };
        survey_ids[survey.kind.index()] = store.create_survey(org, new, None).await?.id;
    }

    let managers: BTreeMap<&str, Option<Email>> =
        data.users.iter().map(|u| (u.email.as_str(), u.manager_email.clone())).collect();
    let rules = default_alert_rules();
    let case_from = data.now - Duration::days(CASE_WINDOW_DAYS);
    let responses = data.responses.len();
    let mut opened: Vec<(CaseId, DateTime<Utc>, Topic)> = Vec::new();
    let mut batch: Vec<ResponseWrite> = Vec::with_capacity(RESPONSE_BATCH);
    let mut batch_meta: Vec<(DateTime<Utc>, Topic)> = Vec::with_capacity(RESPONSE_BATCH);
    let mut pending = data.responses.into_iter().peekable();
    while pending.peek().is_some() {
        for mut demo in pending.by_ref().take(RESPONSE_BATCH) {
            let customer = customers.get(demo.customer).ok_or_else(|| demo_error("response", "unknown customer"))?;
            demo.response.survey_id = survey_ids[demo.survey.index()];
            demo.response.customer_id = Some(customer.id);
            let at = demo.response.submitted_at;
            let case = if at >= case_from {
                let manager = customer.owner_email.as_ref().and_then(|o| managers.get(o.as_str()).cloned().flatten());
                case_for_response(&rules, &demo.response.scores, customer, manager, None, at)
            } else {
                None
            };
            batch_meta.push((at, Topic::of(demo.response.verbatim.as_deref(), demo.survey)));
            batch.push(ResponseWrite { response: demo.response, case, queue_jobs: false });
        }
        let written = store.insert_responses(org, std::mem::take(&mut batch), None).await?;
        for ((_, case), (at, topic)) in written.into_iter().zip(batch_meta.drain(..)) {
            if let Some(case) = case {
                opened.push((case, at, topic));
            }
        }
    }

    tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "demo: responses stored");
    let cases_resolved = work_cases(store, org, &opened, data.now).await?;
    tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "demo: cases worked");
    Ok(DemoSummary {
        org_id: org,
        users: data.users.len(),
        customers: customers.len(),
        journeys,
        surveys,
        responses,
        cases_opened: opened.len(),
        cases_resolved,
        admin_email: DEMO_ADMIN_EMAIL.to_string(),
        manager_email: DEMO_MANAGER_EMAIL.to_string(),
        sign_in_emails: sign_in.iter().map(|s| s.to_string()).collect(),
    })
}

/// What a case turned out to be about, guessed from the verbatim (as the owner would learn on
/// the call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topic {
    DoubleCharge,
    Billing,
    Technician,
    Network,
    Service,
}

impl Topic {
    fn of(verbatim: Option<&str>, survey: DemoSurveyKind) -> Topic {
        let text = verbatim.unwrap_or("").to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
        if has(&["dos veces", "duplicad", "doble", "twice", "double", "nuevo sistema", "new billing"]) {
            Topic::DoubleCharge
        } else if has(&["factura", "cobr", "cargo", "bill", "charge"]) {
            Topic::Billing
        } else if has(&[
            "técnico",
            "instalación",
            "cita",
            "technician",
            "installation",
            "appointment",
            "visita",
            "visit",
        ]) {
            Topic::Technician
        } else if has(&["señal", "corte", "se cae", "se corta", "la red", "signal", "outage", "drops", "goes down"]) {
            Topic::Network
        } else if survey == DemoSurveyKind::Onboarding {
            Topic::Technician
        } else {
            Topic::Service
        }
    }

    fn root_cause_and_resolution(self, rng: &mut ChaCha8Rng) -> (&'static str, &'static str) {
        let options: &[(&str, &str)] = match self {
            Topic::DoubleCharge => &[
                (
                    "Cobro duplicado por la migración al nuevo sistema de facturación",
                    "Se anuló el cargo duplicado y se devolvió el monto al cliente.",
                ),
                (
                    "Factura emitida dos veces durante el cambio de sistema",
                    "Se emitió nota de crédito y se ofreció un mes de descuento.",
                ),
            ],
            Topic::Billing => &[
                (
                    "Cargo no reconocido: cambio de plan no informado al cliente",
                    "Se explicó la factura y se aplicó un crédito.",
                ),
                ("Factura enviada a un correo antiguo", "Se actualizó el correo de facturación y se anuló el recargo."),
            ],
            Topic::Technician => &[
                (
                    "Cita de instalación reprogramada sin aviso por falta de técnicos en la zona",
                    "Se agendó una visita prioritaria y se compensó con un mes de descuento.",
                ),
                (
                    "El técnico no llevó el equipo necesario",
                    "Se completó la instalación en una segunda visita confirmada por teléfono.",
                ),
            ],
            Topic::Network => &[
                (
                    "Saturación de la red en la zona",
                    "Se escaló a operaciones de red; se reemplazó el equipo del cliente.",
                ),
                (
                    "Corte por daño en la fibra tras una tormenta",
                    "Se reparó el tramo dañado y se confirmó el servicio con el cliente.",
                ),
            ],
            Topic::Service => &[
                (
                    "Tiempo de espera alto en el centro de llamadas",
                    "Se llamó al cliente, se resolvió la consulta y se dejó seguimiento.",
                ),
                (
                    "Información contradictoria entre canales",
                    "Se aclaró la información y se reforzó el guion de atención.",
                ),
            ],
        };
        options[rng.random_range(0..options.len())]
    }
}

/// Works the opened cases as their owners would have: older cases mostly resolved or closed
/// with a root cause and a resolution, recent ones still open or in progress. Returns how many
/// were resolved or closed.
async fn work_cases(
    store: &dyn Store,
    org: OrgId,
    opened: &[(CaseId, DateTime<Utc>, Topic)],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut rng = ChaCha8Rng::seed_from_u64(0x00CA_5E5D_E404);
    let mut resolved = 0;
    for &(id, at, topic) in opened {
        let age_days = (now - at).num_days();
        let roll: f64 = rng.random();
        let target = match age_days {
            0..=1 => continue,
            2..=6 if roll < 0.35 => CaseStatus::InProgress,
            2..=6 if roll < 0.55 => CaseStatus::Resolved,
            2..=6 => continue,
            _ if roll < 0.55 => CaseStatus::Closed,
            _ if roll < 0.80 => CaseStatus::Resolved,
            _ if roll < 0.90 => CaseStatus::InProgress,
            _ => continue,
        };
        let Some(mut case) = store.case(org, id).await? else {
            continue;
        };
        let read_at = case.updated_at;
        let owner = case.owner_email.as_str().to_string();
        let contacted = at + Duration::hours(rng.random_range(2..40));
        let note = if rng.random_bool(0.5) {
            "Llamé al cliente y acordamos los próximos pasos."
        } else {
            "Contacté al cliente por teléfono; revisamos el problema juntos."
        };
        let update =
            CaseUpdate { status: Some(CaseStatus::InProgress), note: Some(note.to_string()), ..Default::default() };
        case.apply(update, &owner, contacted).map_err(|e| demo_error("case update", e))?;
        if target != CaseStatus::InProgress {
            let (root_cause, resolution) = topic.root_cause_and_resolution(&mut rng);
            let done = (contacted + Duration::hours(rng.random_range(4..120))).min(now - Duration::hours(1));
            let note = if target == CaseStatus::Closed {
                "El cliente confirmó que quedó conforme."
            } else {
                "Solución aplicada; falta confirmar con el cliente."
            };
            let update = CaseUpdate {
                status: Some(target),
                root_cause: Some(root_cause.to_string()),
                resolution: Some(resolution.to_string()),
                note: Some(note.to_string()),
            };
            case.apply(update, &owner, done.max(contacted)).map_err(|e| demo_error("case update", e))?;
            resolved += 1;
        }
        store.save_case(org, &case, read_at).await?;
    }
    Ok(resolved)
}
