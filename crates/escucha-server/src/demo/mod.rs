//! # The demo organisation: Conecta
//!
//! `escucha serve --demo` loads a believable company so that every screen has something to
//! show and an analyst has something to find. The data comes from a *pure, deterministic*
//! generator ([`generate`]: fixed seed, ChaCha8, no I/O; the same `now` gives the same data) and
//! is written through the ordinary [`Store`](escucha_store::Store) by [`load`].
//!
//! ## The company
//! **Conecta** is a telecom operator (fibre, TV, mobile, business links) that serves its
//! customers mostly in Spanish and partly in English, in eight regions: Metropolitana, Centro,
//! Norte, Sur, Costa, Este, Oeste and Andina.
//! - **Staff** (~210 users, e-mails `…@conecta.example`): a CEO; a CX director with four
//!   analysts and the demo admin (`admin@conecta.example`); two viewers (finance, marketing);
//!   one regional director per region (`gerente.<region>@conecta.example`, role manager, e.g.
//!   `gerente.norte@conecta.example`), each leading three teams (`Ventas R`, `Soporte R`,
//!   `Instalaciones R`) run by a team manager with eight account executives, eight support
//!   agents or five technicians (role agent).
//! - **Customers** (5,000, `C-000001`…): residential (70%), small business (`Pyme`, 22%) and
//!   enterprise (`Empresas`, 8%); 85% answer in Spanish; each has a product (attribute `plan`),
//!   a contract, a `cliente_desde` date, an annual value and, except some prepaid lines, an
//!   account executive of their own region as owner. Contact data uses example domains and
//!   `555` phone numbers only.
//! - **Journeys**: onboarding (sale → installation appointment and technician visit → first
//!   days → first bill) and support (contact by phone/chat/store/app → repair visit → billing
//!   claim → confirmation), with channels, importance weights and moments of truth.
//! - **Surveys** (es + en): a relational NPS (with why-text, emotions, advocacy and renewal
//!   intent), a transactional survey after each support contact (CSAT, CES, resolved?, comment)
//!   and an onboarding survey after each onboarding step (NPS, CSAT, CES, comment).
//! - **Responses**: ~100,000 over the 24 months before `now`, each with its context (region,
//!   product, channel, team, employee, touchpoint, journey stage), segment and language, and a
//!   Spanish or English comment for about half of them (composed from a few hundred phrasings,
//!   sometimes with a name, a phone number or an e-mail address in it for redaction to catch).
//! - **Cases**: answers of the last 45 days that fire the default alert rules (NPS 0–6, CSAT
//!   1–2) and whose customer has an owner open a case for the owner with the owner's manager
//!   named, due 48 h after the answer; those older than a week are mostly resolved or closed
//!   with a root cause, a resolution and notes dated in the past. (The store stamps a case's
//!   `created_at` with the time of loading, as `NewCase` has no creation time.)
//!
//! ## The stories in the numbers
//! Scores come from a latent satisfaction per response: a baseline plus the effects below (in
//! NPS points), plus the serving employee's own effect and noise; NPS, CSAT, CES, advocacy and
//! renewal are all read from it, so they move together. The unit tests recount each story by
//! hand; the figures in brackets are what they measure for `now` = 2026-11-24.
//! 1. **Region Sur is clearly worse** (older network, fewer technicians): effect −15 NPS points;
//!    its complaints mention outages and technicians more often. [Relational NPS Sur 7.9 vs
//!    24.5 for the other regions; Sur is the lowest region over all NPS answers.]
//! 2. **The technician installation visit drags onboarding** (`visita_tecnica`, a moment of
//!    truth): effect −32; low CSAT and CES; its complaints are about missed and rescheduled
//!    appointments; the appointment booking (`cita_instalacion`, −12) and the repair visit in
//!    support (`visita_reparacion`, −16) are weak too. [Onboarding NPS 4.0 at the visit vs 32.9
//!    at the other onboarding touchpoints; CSAT 65.5 vs 78.0; CES 5.13 vs 5.65.]
//! 3. **A dip every summer peak**: December −12, January −8, November −3, February −2, when
//!    storms, heat and holiday demand bring outages and long waits; support volume rises 40% in
//!    December and 25% in January. [NPS 17.3 in December–January vs 27.6 in March–October.]
//! 4. **A billing problem that starts at a date**: 150 days before `now`, at midnight, a new
//!    billing system goes live ([`DemoData::billing_incident_start`]). Double charges follow:
//!    relational NPS (and the first-bill and billing-claim touchpoints) lose up to 20 points
//!    within ten days, billing claims triple, comments about double charges surge; from day 45
//!    things improve, and from day 120 on the loss stays at 7 points (partial recovery).
//!    [Relational NPS 27.9 in the 180 days before, 12.0 in days 10–45, 22.1 in the last 30
//!    days; billing comments 5.8% → 40.8%; billing claims 4.2 → 14.1 a day.]
//! 5. **Fibra Max scores better**: effect +13. [Relational NPS 32.6 vs 20.4 for the rest.]
//!
//! A slow underlying improvement (+3 points over the two years) sits under all of it.

mod catalog;
mod comments;
mod generate;
mod load;
mod people;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use escucha_core::customer::{CustomerPatch, Patch};
use escucha_core::org::{Role, UserFields};
use escucha_core::response::NewResponse;
use escucha_core::survey::SurveyDefinition;
use escucha_core::values::{Email, ExternalId, Label, Language};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

pub use generate::generate;
pub use load::{DemoSummary, load};

/// Slug of the demo organisation.
pub const DEMO_ORG_SLUG: &str = "demo";
/// Display name of the demo organisation.
pub const DEMO_ORG_NAME: &str = "Conecta (demo)";
/// The demo administrator, who can sign in with the demo password.
pub const DEMO_ADMIN_EMAIL: &str = "admin@conecta.example";
/// A regional director (region Norte), who can sign in with the demo password and sees only
/// their region.
pub const DEMO_MANAGER_EMAIL: &str = "gerente.norte@conecta.example";

/// Everything the demo organisation holds, as domain values ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoData {
    /// The moment the data was generated for; responses lie in the 24 months before it.
    pub now: DateTime<Utc>,
    /// When the new billing system went live (story 4): 150 days before `now`, at midnight.
    pub billing_incident_start: DateTime<Utc>,
    /// Staff, managers before the people they manage.
    pub users: Vec<DemoUser>,
    /// Customers, `C-000001` first.
    pub customers: Vec<DemoCustomer>,
    /// The onboarding and support journeys (ids and organisation are set when stored).
    pub journeys: Vec<escucha_core::journey::Journey>,
    /// The three surveys, in [`DemoSurveyKind`] order.
    pub surveys: Vec<DemoSurvey>,
    /// Responses, oldest first.
    pub responses: Vec<DemoResponse>,
}

/// A staff member of the demo company.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoUser {
    /// Sign-in e-mail (`…@conecta.example`).
    pub email: Email,
    /// Full name.
    pub name: Label,
    /// Role.
    pub role: Role,
    /// Manager, earlier in the user list.
    pub manager_email: Option<Email>,
    /// Team.
    pub team: Option<Label>,
    /// Region (regional staff only).
    pub region: Option<Label>,
}

impl DemoUser {
    /// The fields of a user upsert.
    pub fn fields(&self) -> UserFields {
        UserFields {
            name: Some(self.name.clone()),
            role: Some(self.role),
            manager_email: self.manager_email.clone(),
            team: self.team.clone(),
            region: self.region.clone(),
            ..Default::default()
        }
    }
}

/// A customer of the demo company.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoCustomer {
    /// CRM id, `C-000001`…
    pub external_id: ExternalId,
    /// Person or business name (invented).
    pub name: String,
    /// Contact e-mail on an example domain.
    pub email: Option<Email>,
    /// Contact phone (a `555` number).
    pub phone: Option<String>,
    /// `es` or `en`.
    pub language: Language,
    /// One of the eight regions.
    pub region: Label,
    /// `Residencial`, `Pyme` or `Empresas`.
    pub segment: Label,
    /// `Nuevo`, `Activo`, `En riesgo` or `Renovación`.
    pub lifecycle_stage: Label,
    /// Yearly revenue.
    pub annual_value: f64,
    /// Account executive of the customer's region.
    pub owner_email: Option<Email>,
    /// `plan`, `contrato`, `cliente_desde`, `canal_preferido`.
    pub attributes: BTreeMap<String, String>,
}

impl DemoCustomer {
    /// The customer as an upsert patch.
    pub fn patch(&self) -> CustomerPatch {
        let opt = |v: Option<Email>| v.map_or(Patch::Keep, Patch::Set);
        CustomerPatch {
            name: Patch::Set(self.name.clone()),
            email: opt(self.email.clone()),
            phone: self.phone.clone().map_or(Patch::Keep, Patch::Set),
            language: Patch::Set(self.language.clone()),
            region: Patch::Set(self.region.clone()),
            segment: Patch::Set(self.segment.clone()),
            lifecycle_stage: Patch::Set(self.lifecycle_stage.clone()),
            annual_value: Patch::Set(self.annual_value),
            owner_email: opt(self.owner_email.clone()),
            attributes: self.attributes.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect(),
        }
    }
}

/// Which of the three demo surveys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DemoSurveyKind {
    /// Relational NPS, asked of every customer now and then.
    Relational,
    /// Transactional CSAT + CES after a support contact.
    Support,
    /// After each onboarding step: NPS, CSAT, CES.
    Onboarding,
}

impl DemoSurveyKind {
    /// All kinds, in the order of [`DemoData::surveys`].
    pub const ALL: [DemoSurveyKind; 3] =
        [DemoSurveyKind::Relational, DemoSurveyKind::Support, DemoSurveyKind::Onboarding];

    /// Position in [`DemoData::surveys`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A demo survey, validated through [`escucha_core::survey::SurveyInput::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSurvey {
    /// Which survey.
    pub kind: DemoSurveyKind,
    /// Display name.
    pub name: String,
    /// The definition (stored as version 1).
    pub definition: SurveyDefinition,
    /// Touchpoint key of the survey, if it measures one.
    pub touchpoint: Option<String>,
}

/// A generated response: validated answers with everything derived, plus which survey and
/// customer it belongs to. Its `survey_id` and `customer_id` are placeholders until [`load`]
/// sets them to the stored ids.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoResponse {
    /// Survey answered.
    pub survey: DemoSurveyKind,
    /// Index of the respondent in [`DemoData::customers`].
    pub customer: usize,
    /// The response.
    pub response: NewResponse,
}

/// Parses a label from the generator's own static data.
pub(crate) fn label(s: &str) -> Label {
    Label::parse(s).expect("demo labels are valid")
}

/// Picks one item with probability proportional to its weight.
pub(crate) fn pick_weighted<'a, T>(rng: &mut ChaCha8Rng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    &items[items.len() - 1].0
}

/// A standard normal sample (Box–Muller).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
