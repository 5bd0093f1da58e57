//! Topics by similarity: each topic is a set of prototype sentences (a description and example
//! phrases, in Spanish and English); a comment's score for a topic is the cosine similarity of
//! its embedding to the closest prototype, and topics at or above a threshold are reported.
//!
//! Nearest-prototype (rather than one centroid per topic) keeps distinct facets of a topic
//! apart ("double charge" and "invoice never arrived" are both `billing`). Organisations teach
//! it by adding labelled examples ([`ModelTopics::add_examples`]): each becomes another prototype
//! of its topics, so a few examples shift the decision without retraining. The default
//! threshold was calibrated for macro-F1 on `es_cx_dev.jsonl` (see `bench/text/MODEL.md`).

use super::{DIM, Encoder};
use crate::AnalyzerInfo;

/// Name and version of the similarity topic analyser.
pub const TOPIC_ANALYZER: AnalyzerInfo = AnalyzerInfo::new("use-v3-topic-similarity", "2");

/// Default similarity threshold (calibrated for macro-F1 on es_cx_dev).
pub const DEFAULT_THRESHOLD: f32 = 0.21;
/// Default margin: a topic is reported only if its similarity is within this of the best
/// topic's (calibrated with the threshold).
pub const DEFAULT_MARGIN: f32 = 0.10;

/// A topic and the sentences that describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicPrototype {
    /// Topic id (e.g. `billing`).
    pub id: String,
    /// Descriptions and example phrases, any language.
    pub phrases: Vec<String>,
}

/// A topic found in a text by similarity.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicMatch {
    /// Topic id.
    pub id: String,
    /// Cosine similarity to the closest prototype, in [−1, 1].
    pub similarity: f32,
    /// Confidence in [0, 1] (the similarity rescaled from the threshold up).
    pub confidence: f32,
}

const DEFAULTS: &[(&str, &[&str])] = &[
    (
        "billing",
        &[
            "Cobros, facturas, cargos duplicados y reembolsos.",
            "Charges, invoices, double charges and refunds.",
            "Me cobraron dos veces el mismo mes.",
            "La factura llegó con un cargo que no reconozco.",
            "Todavía no me han devuelto el dinero del reembolso.",
            "I was charged twice for the same order.",
            "My bill has a charge I don't recognise.",
            "Still waiting for my refund.",
        ],
    ),
    (
        "price",
        &[
            "El precio, las tarifas, las comisiones y la relación calidad-precio.",
            "Price level, fees, commissions and value for money.",
            "Es demasiado caro para lo que ofrecen.",
            "Subieron la cuota sin avisar.",
            "Las comisiones son abusivas.",
            "It's too expensive for what you get.",
            "They raised the price again.",
            "The fees are outrageous.",
        ],
    ),
    (
        "wait_time",
        &[
            "Tiempos de espera, colas, esperar al teléfono y respuestas lentas.",
            "Waiting times, queues, waiting on the phone, slow answers.",
            "Estuve una hora esperando en la línea.",
            "La fila era eterna y tardaron mucho en atenderme.",
            "Tardaron una semana en responder mi correo.",
            "I was on hold for an hour.",
            "The queue was very long.",
            "It took days to get a reply.",
            "El tren salió con dos horas de retraso.",
            "The flight was delayed for hours.",
        ],
    ),
    (
        "staff",
        &[
            "La actitud, amabilidad y conocimiento del personal que atiende.",
            "Staff attitude, kindness and knowledge.",
            "El asesor fue muy amable y sabía lo que hacía.",
            "La persona que me atendió fue grosera.",
            "El técnico no tenía idea del problema.",
            "The agent was very friendly and helpful.",
            "The employee was rude to me.",
            "The staff didn't know what they were doing.",
            "El servicio al cliente fue pésimo.",
            "Customer service was unhelpful.",
        ],
    ),
    (
        "resolution",
        &[
            "Si el problema se resolvió o no, contactos repetidos, seguimiento prometido que no se hizo.",
            "Whether the problem was solved, repeated contacts, promised follow-up not done.",
            "Llamé cinco veces y sigo con el mismo problema.",
            "Me dijeron que me llamarían y nunca lo hicieron.",
            "Resolvieron mi problema a la primera.",
            "I've called several times and the issue is still not fixed.",
            "They promised to call back and never did.",
            "My problem was solved on the first call.",
        ],
    ),
    (
        "product_quality",
        &[
            "Calidad del producto o servicio, defectos, fallas, cortes y cobertura.",
            "Product or service quality, defects, failures, outages and coverage.",
            "El equipo llegó defectuoso y dejó de funcionar.",
            "Se corta el internet todos los días.",
            "No hay señal en mi casa.",
            "The product broke after a week.",
            "The service keeps going down.",
            "Poor coverage in my area.",
            "Cancelaron el viaje a última hora.",
            "The service was cancelled at the last minute.",
        ],
    ),
    (
        "delivery",
        &[
            "Envíos, fechas de entrega, instalación y citas con el técnico.",
            "Shipping, delivery dates, installation and technician appointments.",
            "El pedido llegó tarde.",
            "El técnico no vino a la instalación el día acordado.",
            "Mi paquete nunca llegó.",
            "My order arrived a week late.",
            "The technician missed the installation appointment.",
            "The parcel was never delivered.",
            "Perdieron mi equipaje y nadie sabe dónde está.",
            "They lost my luggage.",
        ],
    ),
    (
        "digital",
        &[
            "La web, la aplicación, formularios en línea, inicio de sesión y pagos en línea.",
            "Website, mobile app, online forms, log-in and online payments.",
            "La app se cierra sola.",
            "No puedo iniciar sesión en la página web.",
            "El pago en línea da error.",
            "The app keeps crashing.",
            "I can't log in to my account online.",
            "The online form doesn't work.",
            "No pude completar la reserva en la web.",
            "I could not complete the booking online.",
        ],
    ),
    (
        "communication",
        &[
            "Claridad de la información, notificaciones, promesas y redacción del contrato.",
            "Clarity of information, notifications, promises and contract wording.",
            "Nadie me explicó las condiciones del contrato.",
            "No me avisaron del cambio.",
            "La información que dan es confusa.",
            "Nobody told me about the change.",
            "The terms were not clearly explained.",
            "I never received any notification.",
        ],
    ),
];

/// The default prototypes of the nine customer-experience topics (Spanish and English).
pub fn default_prototypes() -> Vec<TopicPrototype> {
    DEFAULTS
        .iter()
        .map(|(id, phrases)| TopicPrototype {
            id: (*id).to_string(),
            phrases: phrases.iter().map(|p| (*p).to_string()).collect(),
        })
        .collect()
}

/// Topic classification by nearest prototype.
#[derive(Debug, Clone)]
pub struct ModelTopics {
    ids: Vec<String>,
    /// Per topic, the embeddings of its prototypes.
    vectors: Vec<Vec<[f32; DIM]>>,
    threshold: f32,
    margin: f32,
}

fn cosine(a: &[f32; DIM], b: &[f32; DIM]) -> f32 {
    // Embeddings are L2-normalised; guard anyway against a zero vector.
    let d = super::encoder::dot8(a, b);
    let na = super::encoder::dot8(a, a).sqrt();
    let nb = super::encoder::dot8(b, b).sqrt();
    if na > 0.0 && nb > 0.0 { (d / (na * nb)).clamp(-1.0, 1.0) } else { 0.0 }
}

impl ModelTopics {
    /// Embeds the prototypes. Topics with no phrases are kept (they never match).
    pub fn new(encoder: &Encoder, prototypes: &[TopicPrototype]) -> ModelTopics {
        let ids = prototypes.iter().map(|p| p.id.clone()).collect();
        let vectors = prototypes
            .iter()
            .map(|p| {
                let phrases: Vec<&str> = p.phrases.iter().map(String::as_str).collect();
                encoder.embed(&phrases)
            })
            .collect();
        ModelTopics { ids, vectors, threshold: DEFAULT_THRESHOLD, margin: DEFAULT_MARGIN }
    }

    /// The similarity threshold in use.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Sets the similarity threshold (clamped to [−1, 1]; NaN leaves it unchanged).
    pub fn set_threshold(&mut self, threshold: f32) {
        if !threshold.is_nan() {
            self.threshold = threshold.clamp(-1.0, 1.0);
        }
    }

    /// The margin below the best topic within which other topics are still reported.
    pub fn margin(&self) -> f32 {
        self.margin
    }

    /// Sets the margin (clamped to [0, 2]; NaN leaves it unchanged).
    pub fn set_margin(&mut self, margin: f32) {
        if !margin.is_nan() {
            self.margin = margin.clamp(0.0, 2.0);
        }
    }

    /// Topic ids, in the order of [`ModelTopics::similarities`].
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// Adds labelled examples as prototypes of their topics; unknown topic ids are ignored.
    /// Returns how many (text, topic) pairs were added.
    pub fn add_examples(&mut self, encoder: &Encoder, examples: &[(&str, &[&str])]) -> usize {
        let texts: Vec<&str> = examples.iter().map(|(t, _)| *t).collect();
        let vecs = encoder.embed(&texts);
        let mut added = 0;
        for ((_, topics), v) in examples.iter().zip(vecs) {
            for topic in *topics {
                if let Some(i) = self.ids.iter().position(|id| id == topic) {
                    self.vectors[i].push(v);
                    added += 1;
                }
            }
        }
        added
    }

    /// For every topic, the cosine similarity of `embedding` to its closest prototype.
    pub fn similarities(&self, embedding: &[f32; DIM]) -> Vec<f32> {
        self.vectors.iter().map(|vs| vs.iter().map(|v| cosine(embedding, v)).fold(-1.0f32, f32::max)).collect()
    }

    /// Topics at or above the threshold and within the margin of the best, most similar first.
    pub fn classify(&self, embedding: &[f32; DIM]) -> Vec<TopicMatch> {
        let t = self.threshold;
        let sims = self.similarities(embedding);
        let best = sims.iter().copied().fold(f32::MIN, f32::max);
        let mut out: Vec<TopicMatch> = sims
            .into_iter()
            .zip(&self.ids)
            .filter(|(s, _)| *s >= t && *s >= best - self.margin)
            .map(|(s, id)| TopicMatch {
                id: id.clone(),
                similarity: s,
                confidence: (0.5 + 0.5 * (s - t) / (1.0 - t).max(1e-3)).clamp(0.0, 1.0),
            })
            .collect();
        out.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        out
    }
}
