//! The fixed parts of the demo company: regions, products, the two journeys with their
//! touchpoints, and the three surveys (as the JSON a client would send to `POST /api/v1/surveys`).

use escucha_core::ids::{JourneyId, OrgId};
use escucha_core::journey::{Journey, Stage, Touchpoint};
use escucha_core::survey::{SurveyDefinition, SurveyInput};
use serde_json::{Value, json};

use super::DemoSurveyKind;

/// The eight regions with the share of customers each holds (shares sum to 1).
pub(crate) const REGIONS: [(&str, f64); 8] = [
    ("Metropolitana", 0.22),
    ("Centro", 0.15),
    ("Norte", 0.13),
    ("Sur", 0.12),
    ("Costa", 0.11),
    ("Este", 0.10),
    ("Oeste", 0.09),
    ("Andina", 0.08),
];

/// The region whose customers are clearly less loyal (story 1).
pub(crate) const WEAK_REGION: &str = "Sur";

/// The product that scores better than the rest (story 5).
pub(crate) const STRONG_PRODUCT: &str = "Fibra Max";

/// NPS points each region adds to the company baseline.
pub(crate) fn region_effect(region: &str) -> f64 {
    match region {
        "Sur" => -15.0,
        "Andina" => -3.0,
        "Este" => -2.0,
        "Centro" => 2.0,
        "Norte" => 3.0,
        "Metropolitana" => 1.0,
        "Oeste" => 2.0,
        _ => 0.0,
    }
}

/// A product (plan) of Conecta.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Product {
    /// Display name, also the `product` dimension value and the `plan` attribute.
    pub name: &'static str,
    /// Needs a technician to install (fibre and TV), so its onboarding has an appointment.
    pub installed: bool,
    /// Billed monthly (prepaid mobile has no bill).
    pub billed: bool,
    /// NPS points it adds to the baseline.
    pub effect: f64,
}

/// Every product.
pub(crate) const PRODUCTS: [Product; 6] = [
    Product { name: "Fibra Hogar", installed: true, billed: true, effect: 0.0 },
    Product { name: "Fibra Max", installed: true, billed: true, effect: 13.0 },
    Product { name: "TV + Fibra", installed: true, billed: true, effect: -2.0 },
    Product { name: "Móvil Pospago", installed: false, billed: true, effect: -1.0 },
    Product { name: "Móvil Prepago", installed: false, billed: false, effect: -6.0 },
    Product { name: "Conecta Empresas", installed: true, billed: true, effect: 4.0 },
];

/// Looks a product up by name.
pub(crate) fn product(name: &str) -> &'static Product {
    PRODUCTS.iter().find(|p| p.name == name).unwrap_or(&PRODUCTS[0])
}

/// A commercial segment.
pub(crate) struct Segment {
    /// Name, the `segment` dimension value.
    pub name: &'static str,
    /// Share of customers.
    pub share: f64,
    /// Products its customers buy, with weights.
    pub products: &'static [(&'static str, f64)],
}

/// Commercial segments with their share of customers and the products they buy.
pub(crate) const SEGMENTS: [Segment; 3] = [
    Segment {
        name: "Residencial",
        share: 0.70,
        products: &[
            ("Fibra Hogar", 0.33),
            ("Fibra Max", 0.15),
            ("TV + Fibra", 0.15),
            ("Móvil Pospago", 0.20),
            ("Móvil Prepago", 0.17),
        ],
    },
    Segment {
        name: "Pyme",
        share: 0.22,
        products: &[("Fibra Hogar", 0.25), ("Fibra Max", 0.30), ("Móvil Pospago", 0.30), ("Conecta Empresas", 0.15)],
    },
    Segment { name: "Empresas", share: 0.08, products: &[("Conecta Empresas", 0.75), ("Móvil Pospago", 0.25)] },
];

/// One touchpoint as the generator sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TouchpointSpec {
    /// Key (unique in the organisation).
    pub key: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Channel label, also the `channel` dimension of its responses.
    pub channel: &'static str,
    /// Importance weight.
    pub importance: f64,
    /// Moment of truth.
    pub moment_of_truth: bool,
    /// NPS points it adds to its survey's baseline (story 2 lives here).
    pub effect: f64,
    /// Which team serves it: `sales`, `support`, `field` or none.
    pub team: Option<&'static str>,
}

/// A stage with its touchpoints.
pub(crate) struct StageSpec {
    /// Key.
    pub key: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Touchpoints.
    pub touchpoints: &'static [TouchpointSpec],
}

const fn tp(
    key: &'static str,
    name: &'static str,
    channel: &'static str,
    importance: f64,
    moment_of_truth: bool,
    effect: f64,
    team: Option<&'static str>,
) -> TouchpointSpec {
    TouchpointSpec { key, name, channel, importance, moment_of_truth, effect, team }
}

/// The onboarding journey: from the sale to the first bill.
pub(crate) const ONBOARDING: [StageSpec; 4] = [
    StageSpec {
        key: "contratacion",
        name: "Contratación",
        touchpoints: &[
            tp("venta_tienda", "Venta en tienda", "Tienda", 0.6, false, 5.0, Some("sales")),
            tp("venta_web", "Contratación web", "Web", 0.5, false, 3.0, None),
            tp("venta_telefono", "Venta telefónica", "Teléfono", 0.4, false, 0.0, Some("sales")),
        ],
    },
    StageSpec {
        key: "instalacion",
        name: "Instalación",
        touchpoints: &[
            tp(
                "cita_instalacion",
                "Agendamiento de la cita de instalación",
                "Teléfono",
                0.7,
                false,
                -12.0,
                Some("support"),
            ),
            tp("visita_tecnica", "Visita técnica de instalación", "Visita técnica", 1.0, true, -32.0, Some("field")),
        ],
    },
    StageSpec {
        key: "primeros_dias",
        name: "Primeros días",
        touchpoints: &[
            tp("bienvenida", "Llamada de bienvenida", "Teléfono", 0.3, false, 6.0, Some("sales")),
            tp("app_activacion", "Activación en la app", "App", 0.4, false, 2.0, None),
        ],
    },
    StageSpec {
        key: "primera_factura",
        name: "Primera factura",
        touchpoints: &[tp("primera_factura", "Primera factura", "Email", 0.8, true, -5.0, None)],
    },
];

/// The support journey: contact, diagnosis, billing claims and resolution.
pub(crate) const SUPPORT: [StageSpec; 4] = [
    StageSpec {
        key: "contacto",
        name: "Contacto",
        touchpoints: &[
            tp("soporte_telefono", "Soporte telefónico", "Teléfono", 0.8, false, -4.0, Some("support")),
            tp("soporte_chat", "Chat de soporte", "Chat", 0.6, false, 3.0, Some("support")),
            tp("soporte_tienda", "Atención en tienda", "Tienda", 0.5, false, 5.0, Some("support")),
            tp("soporte_app", "Autogestión en la app", "App", 0.4, false, 0.0, None),
        ],
    },
    StageSpec {
        key: "diagnostico",
        name: "Diagnóstico y reparación",
        touchpoints: &[tp(
            "visita_reparacion",
            "Visita técnica de reparación",
            "Visita técnica",
            0.9,
            true,
            -16.0,
            Some("field"),
        )],
    },
    StageSpec {
        key: "facturacion",
        name: "Facturación",
        touchpoints: &[tp("reclamo_factura", "Reclamo de facturación", "Teléfono", 0.9, true, -12.0, Some("support"))],
    },
    StageSpec {
        key: "resolucion",
        name: "Resolución",
        touchpoints: &[tp("cierre_caso", "Confirmación de la solución", "Email", 0.7, false, 6.0, Some("support"))],
    },
];

/// Finds a touchpoint and its stage key in either journey.
pub(crate) fn touchpoint(key: &str) -> Option<(&'static str, &'static TouchpointSpec)> {
    ONBOARDING
        .iter()
        .chain(SUPPORT.iter())
        .find_map(|s| s.touchpoints.iter().find(|t| t.key == key).map(|t| (s.key, t)))
}

fn journey(key: &str, name: &str, stages: &[StageSpec]) -> Journey {
    Journey {
        id: JourneyId(0),
        org_id: OrgId(0),
        key: key.to_string(),
        name: name.to_string(),
        stages: stages
            .iter()
            .map(|s| Stage {
                key: s.key.to_string(),
                name: s.name.to_string(),
                touchpoints: s
                    .touchpoints
                    .iter()
                    .map(|t| Touchpoint {
                        key: t.key.to_string(),
                        name: t.name.to_string(),
                        channel: t.channel.to_string(),
                        importance: t.importance,
                        moment_of_truth: t.moment_of_truth,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The two journeys as domain values (ids and organisation are set when loaded).
pub(crate) fn journeys() -> Vec<Journey> {
    vec![
        journey("onboarding", "Alta de servicio (onboarding)", &ONBOARDING),
        journey("support", "Soporte y atención", &SUPPORT),
    ]
}

fn nps_question() -> Value {
    json!({
        "id": "nps", "type": "nps", "required": true,
        "text": {
            "es": "En una escala de 0 a 10, ¿qué tan probable es que recomiende Conecta a un familiar o amigo?",
            "en": "On a scale from 0 to 10, how likely are you to recommend Conecta to a friend or family member?"
        }
    })
}

/// The survey as a client would send it.
pub(crate) fn survey_json(kind: DemoSurveyKind) -> Value {
    match kind {
        DemoSurveyKind::Relational => json!({
            "name": "Encuesta relacional NPS",
            "languages": ["es", "en"],
            "questions": [
                nps_question(),
                {"id": "why", "type": "text", "text": {
                    "es": "¿Cuál es la razón principal de su nota?",
                    "en": "What is the main reason for your score?"}},
                {"id": "feel", "type": "emotions", "text": {
                    "es": "¿Qué emociones le genera su relación con Conecta?",
                    "en": "Which emotions does your relationship with Conecta make you feel?"}},
                {"id": "cadv", "type": "cadv", "text": {
                    "es": "Conecta hace lo que es mejor para mí.",
                    "en": "Conecta does what is best for me."}},
                {"id": "renew", "type": "repurchase", "text": {
                    "es": "¿Qué tan probable es que siga con Conecta el próximo año?",
                    "en": "How likely are you to stay with Conecta next year?"}}
            ]
        }),
        DemoSurveyKind::Support => json!({
            "name": "Encuesta tras contacto con soporte",
            "languages": ["es", "en"],
            "questions": [
                {"id": "csat", "type": "csat", "required": true, "text": {
                    "es": "¿Qué tan satisfecho quedó con la atención recibida?",
                    "en": "How satisfied are you with the help you received?"}},
                {"id": "ces", "type": "ces", "required": true, "text": {
                    "es": "Conecta me facilitó resolver mi solicitud.",
                    "en": "Conecta made it easy to resolve my request."}},
                {"id": "resolved", "type": "single_choice", "text": {
                    "es": "¿Se resolvió su solicitud?",
                    "en": "Was your request resolved?"},
                 "options": [
                    {"id": "yes", "text": {"es": "Sí", "en": "Yes"}},
                    {"id": "partly", "text": {"es": "En parte", "en": "Partly"}},
                    {"id": "no", "text": {"es": "No", "en": "No"}}
                 ]},
                {"id": "comment", "type": "text", "text": {
                    "es": "¿Qué podríamos mejorar?",
                    "en": "What could we do better?"}}
            ]
        }),
        DemoSurveyKind::Onboarding => json!({
            "name": "Encuesta de bienvenida (onboarding)",
            "languages": ["es", "en"],
            "questions": [
                nps_question(),
                {"id": "csat", "type": "csat", "text": {
                    "es": "¿Qué tan satisfecho está con esta etapa de su alta?",
                    "en": "How satisfied are you with this step of getting connected?"}},
                {"id": "ces", "type": "ces", "text": {
                    "es": "Fue fácil empezar con Conecta.",
                    "en": "Getting started with Conecta was easy."}},
                {"id": "comment", "type": "text", "text": {
                    "es": "Cuéntenos cómo fue su experiencia.",
                    "en": "Tell us about your experience."}}
            ]
        }),
    }
}

/// Parses a survey through the same validation as the API.
pub(crate) fn survey(kind: DemoSurveyKind) -> (String, SurveyDefinition, Option<String>) {
    let input: SurveyInput = serde_json::from_value(survey_json(kind)).expect("demo survey JSON has the input shape");
    input.parse().expect("demo survey is valid")
}
