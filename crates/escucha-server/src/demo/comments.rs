//! Verbatims for the demo, in Spanish and English, composed from templates: an opener, one or
//! two topic sentences (a passive's comment praises one thing *but* complains about another), an
//! optional detail and a closer. Now and then the customer leaves personal data in the text (the
//! name of whoever served them, a phone number, an e-mail address), as real customers do, so the
//! redaction in the text analytics has work to do.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// What a comment is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Topic {
    /// Double charges and wrong bills from the new billing system (story 4).
    DoubleCharge,
    /// Everyday billing: hard-to-read bills, unknown charges.
    Billing,
    /// Installation and repair visits, appointments (story 2).
    Technician,
    /// Outages and coverage.
    Network,
    /// Internet speed.
    Speed,
    /// The people who served the customer.
    Service,
    /// Waiting on the phone, chat or for an answer.
    WaitTime,
    /// Price and value.
    Price,
    /// The self-service app.
    App,
    /// The shops.
    Store,
}

/// How the customer felt overall: what kind of sentences to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polarity {
    /// Detractor or dissatisfied.
    Negative,
    /// Passive or neutral: some praise, some complaint.
    Mixed,
    /// Promoter or satisfied.
    Positive,
}

/// Values the templates may mention.
pub(crate) struct Vars<'a> {
    /// First name of the employee who served.
    pub agent: &'a str,
    /// Full name of the employee who served.
    pub agent_full: &'a str,
    /// The customer's product.
    pub product: &'a str,
    /// The customer's name.
    pub customer: &'a str,
    /// A phone number the customer leaves.
    pub phone: &'a str,
    /// An e-mail address the customer leaves.
    pub email: &'a str,
    /// Month of the experience, in the comment's language.
    pub month: &'a str,
    /// Region of the customer.
    pub region: &'a str,
}

fn cores(topic: Topic, english: bool, positive: bool) -> &'static [&'static str] {
    use Topic::*;
    match (topic, english, positive) {
        (DoubleCharge, false, false) => &[
            "Desde el cambio de sistema de facturación me cobraron dos veces el mismo mes.",
            "Me llegó la factura duplicada y nadie sabe explicarme por qué.",
            "Con la nueva factura me cobraron {amount} de más y todavía no me devuelven el dinero.",
            "Tuve un cobro doble en la tarjeta y tuve que llamar {n} veces para reclamarlo.",
            "La factura de este mes vino con cargos repetidos, un desastre el nuevo sistema.",
            "Me cobraron el plan dos veces y encima me suspendieron el servicio por una supuesta deuda.",
            "El nuevo sistema de cobros es un caos: doble cargo y ninguna solución.",
        ],
        (DoubleCharge, true, false) => &[
            "Since the new billing system I was charged twice for the same month.",
            "My bill came duplicated and nobody can explain why.",
            "The new bill overcharged me {amount} and I still haven't got a refund.",
            "I got a double charge on my card and had to call {n} times to dispute it.",
            "This month's invoice had repeated charges, the new billing system is a mess.",
            "They billed my plan twice and then suspended my service for a debt I don't owe.",
        ],
        (DoubleCharge, false, true) => &[
            "Me devolvieron rápido el cobro duplicado y se disculparon.",
            "Tuve un problema con la factura pero lo corrigieron en {n} días.",
            "Reconocieron el error de facturación y me hicieron un descuento.",
        ],
        (DoubleCharge, true, true) => &[
            "They refunded the double charge quickly and apologised.",
            "I had a billing issue but they fixed it within {n} days.",
            "They owned the billing mistake and gave me a discount.",
        ],
        (Billing, false, false) => &[
            "La factura es muy difícil de entender.",
            "Aparece un cargo en la factura que no reconozco.",
            "La factura me llega tarde y después me cobran recargo.",
            "Cada mes la factura trae un monto distinto sin explicación.",
            "No me llega la factura al correo y tengo que pedirla cada mes.",
        ],
        (Billing, true, false) => &[
            "The bill is very hard to understand.",
            "There is a charge on my bill I don't recognise.",
            "The bill arrives late and then they add a late fee.",
            "Every month the amount changes with no explanation.",
            "My bill never arrives by email and I have to ask for it every month.",
        ],
        (Billing, false, true) => &[
            "La factura es clara y llega siempre a tiempo.",
            "Pagar la factura desde la app es muy fácil.",
            "Nunca he tenido problemas con los cobros.",
        ],
        (Billing, true, true) => &[
            "The bill is clear and always on time.",
            "Paying the bill in the app is really easy.",
            "I've never had a problem with charges.",
        ],
        (Technician, false, false) => &[
            "El técnico no llegó el día de la cita y nadie me avisó.",
            "Me cambiaron la cita de instalación {n} veces.",
            "Esperé todo el día al técnico y al final vino al día siguiente.",
            "La instalación quedó a medias y tuvieron que volver.",
            "El técnico llegó sin los equipos y hubo que reagendar la visita.",
            "Me dieron una ventana de 8 a 18 h para la visita, imposible organizarse.",
            "Tardaron {days} días en venir a instalar el servicio.",
            "El técnico dejó los cables tirados y el módem mal configurado.",
        ],
        (Technician, true, false) => &[
            "The technician didn't show up on the appointment day and nobody told me.",
            "They rescheduled my installation appointment {n} times.",
            "I waited all day for the technician and he came the next day.",
            "The installation was left half done and they had to come back.",
            "The technician arrived without the equipment and we had to rebook the visit.",
            "They gave me an 8am to 6pm window for the visit, impossible to plan around.",
            "It took {days} days for them to come and install the service.",
        ],
        (Technician, false, true) => &[
            "El técnico fue puntual y dejó todo funcionando.",
            "La instalación fue rápida y muy ordenada.",
            "El técnico me explicó todo con mucha paciencia.",
            "Vinieron el día acordado y en una hora estaba todo listo.",
        ],
        (Technician, true, true) => &[
            "The technician was on time and left everything working.",
            "The installation was quick and tidy.",
            "The technician patiently explained everything.",
            "They came on the agreed day and it was done within an hour.",
        ],
        (Network, false, false) => &[
            "Se corta el internet varias veces al día.",
            "En mi zona no hay señal dentro de la casa.",
            "Llevamos {n} días con cortes intermitentes.",
            "Cada vez que llueve se cae el servicio.",
            "La señal móvil es muy mala en el centro de la ciudad.",
            "Con el calor se cae la red todas las tardes.",
        ],
        (Network, true, false) => &[
            "The internet drops several times a day.",
            "There's no signal inside my house in my area.",
            "We've had intermittent outages for {n} days.",
            "Every time it rains the service goes down.",
            "Mobile signal is very poor downtown.",
        ],
        (Network, false, true) => &[
            "La conexión es muy estable, casi nunca se cae.",
            "Tengo buena señal en todas partes.",
            "Desde que estoy con ustedes no he tenido cortes.",
        ],
        (Network, true, true) => &[
            "The connection is very stable, it almost never drops.",
            "I get good signal everywhere.",
            "I haven't had a single outage since I joined.",
        ],
        (Speed, false, false) => &[
            "La velocidad real es mucho menor que la contratada.",
            "En las noches el internet es lentísimo.",
            "Pago por {product} y no llega ni a la mitad de la velocidad.",
        ],
        (Speed, true, false) => &[
            "The real speed is far below what I pay for.",
            "In the evenings the internet is painfully slow.",
            "I pay for {product} and don't get half the speed.",
        ],
        (Speed, false, true) => &[
            "La velocidad de {product} es excelente.",
            "El internet vuela, podemos trabajar y ver series al mismo tiempo.",
            "Muy rápido, justo lo que contraté.",
        ],
        (Speed, true, true) => &[
            "{product} speed is excellent.",
            "The internet is blazing fast, we can work and stream at the same time.",
            "Very fast, exactly what I signed up for.",
        ],
        (Service, false, false) => &[
            "La persona que me atendió no sabía resolver mi problema.",
            "Me transfirieron {n} veces y tuve que repetir todo.",
            "Me prometieron una llamada de vuelta que nunca llegó.",
            "Atención poco amable, sentí que no les importaba.",
            "Cada ejecutivo me dice una cosa distinta.",
        ],
        (Service, true, false) => &[
            "The person who helped me couldn't solve my problem.",
            "I was transferred {n} times and had to repeat everything.",
            "They promised to call me back and never did.",
            "Unfriendly service, I felt they didn't care.",
            "Every agent tells me something different.",
        ],
        (Service, false, true) => &[
            "{agent} me atendió muy bien y resolvió todo en una llamada.",
            "Excelente atención de {agent}, muy amable y clara.",
            "Me atendió {agent} y resolvió todo al instante.",
            "La atención fue cordial y rápida.",
            "Se nota que el equipo sabe lo que hace.",
        ],
        (Service, true, true) => &[
            "{agent} was great and solved everything in one call.",
            "Excellent service from {agent}, very kind and clear.",
            "{agent} helped me and fixed it on the spot.",
            "Friendly and quick service.",
            "You can tell the team knows what they're doing.",
        ],
        (WaitTime, false, false) => &[
            "Estuve {wait} minutos esperando en la línea.",
            "Es imposible comunicarse por teléfono, siempre está ocupado.",
            "La respuesta por chat tardó horas.",
            "Tardaron {days} días en responder mi reclamo.",
        ],
        (WaitTime, true, false) => &[
            "I was on hold for {wait} minutes.",
            "Impossible to get through by phone, it's always busy.",
            "The chat reply took hours.",
            "It took {days} days to answer my complaint.",
        ],
        (WaitTime, false, true) => &[
            "Me atendieron en menos de cinco minutos.",
            "Respondieron rapidísimo por el chat.",
            "Resolvieron mi solicitud el mismo día.",
        ],
        (WaitTime, true, true) => &[
            "I was helped in under five minutes.",
            "They answered really fast on the chat.",
            "They solved my request the same day.",
        ],
        (Price, false, false) => &[
            "El precio sube cada año y el servicio es el mismo.",
            "Hay ofertas mejores en la competencia.",
            "A los clientes nuevos les dan descuentos y a los antiguos nada.",
        ],
        (Price, true, false) => &[
            "The price goes up every year and the service stays the same.",
            "The competition has better deals.",
            "New customers get discounts and loyal ones get nothing.",
        ],
        (Price, false, true) => &[
            "Buena relación precio-calidad.",
            "El precio es justo para lo que ofrecen.",
            "Me mantuvieron el precio al renovar.",
        ],
        (Price, true, true) => {
            &["Good value for money.", "The price is fair for what you get.", "They kept my price when I renewed."]
        }
        (App, false, false) => &[
            "La app se cierra sola cuando intento pagar.",
            "En la app no se puede hacer casi ningún trámite.",
            "No pude activar el servicio desde la app, tuve que llamar.",
        ],
        (App, true, false) => &[
            "The app crashes when I try to pay.",
            "You can hardly do anything in the app.",
            "I couldn't activate the service in the app and had to call.",
        ],
        (App, false, true) => &[
            "La app es muy cómoda, hago todo desde el celular.",
            "Activé todo desde la app en cinco minutos.",
            "Me encanta poder ver mi consumo en la app.",
        ],
        (App, true, true) => &[
            "The app is very handy, I do everything from my phone.",
            "I activated everything in the app in five minutes.",
            "I love being able to check my usage in the app.",
        ],
        (Store, false, false) => &[
            "En la tienda había una fila enorme y solo una persona atendiendo.",
            "En la tienda me dieron información distinta a la del teléfono.",
        ],
        (Store, true, false) => &[
            "The store had a huge queue and only one person serving.",
            "The store told me something different from the phone line.",
        ],
        (Store, false, true) => {
            &["En la tienda me asesoraron muy bien.", "La atención en la tienda fue rápida y cercana."]
        }
        (Store, true, true) => &["The store staff gave me great advice.", "Quick and friendly service at the store."],
    }
}

const OPEN_NEG_ES: [&str; 7] =
    ["", "", "Muy mal.", "Pésima experiencia.", "Estoy muy molesto.", "Decepcionante.", "Una vergüenza."];
const OPEN_NEG_EN: [&str; 6] = ["", "", "Very poor.", "Terrible experience.", "I'm really annoyed.", "Disappointing."];
const OPEN_POS_ES: [&str; 6] = ["", "", "Muy contento.", "Excelente.", "Todo bien.", "Muy buena experiencia."];
const OPEN_POS_EN: [&str; 6] = ["", "", "Very happy.", "Excellent.", "All good.", "Great experience."];
const OPEN_MIX_ES: [&str; 4] = ["", "", "En general bien.", "Regular."];
const OPEN_MIX_EN: [&str; 4] = ["", "", "Mostly fine.", "It's okay."];
const CLOSE_NEG_ES: [&str; 7] = [
    "",
    "",
    "Estoy pensando en cambiarme de compañía.",
    "Espero que lo solucionen pronto.",
    "Si sigue así me voy.",
    "Nadie se hace responsable.",
    "Ya hice el reclamo y nada.",
];
const CLOSE_NEG_EN: [&str; 7] = [
    "",
    "",
    "I'm thinking of switching providers.",
    "I hope you fix this soon.",
    "If this continues I'm leaving.",
    "Nobody takes responsibility.",
    "I already complained and nothing happened.",
];
const CLOSE_POS_ES: [&str; 6] =
    ["", "", "Sigan así.", "Lo recomiendo.", "Se lo he recomendado a mi familia.", "Gracias por todo."];
const CLOSE_POS_EN: [&str; 6] =
    ["", "", "Keep it up.", "I recommend it.", "I've recommended you to my family.", "Thanks for everything."];
const PII_ES: [&str; 5] = [
    "Me atendió {agent_full}.",
    "Pueden llamarme al {phone}.",
    "Mi número es {phone}, llámenme por favor.",
    "Escríbanme a {email}.",
    "Soy {customer}, cliente desde hace {n} años.",
];
const PII_EN: [&str; 5] = [
    "{agent_full} helped me.",
    "Call me back at {phone}.",
    "My number is {phone}, please call me.",
    "Email me at {email}.",
    "This is {customer}, a customer for {n} years.",
];

/// Spanish and English month names, January first.
pub(crate) const MONTHS: [(&str, &str); 12] = [
    ("enero", "January"),
    ("febrero", "February"),
    ("marzo", "March"),
    ("abril", "April"),
    ("mayo", "May"),
    ("junio", "June"),
    ("julio", "July"),
    ("agosto", "August"),
    ("septiembre", "September"),
    ("octubre", "October"),
    ("noviembre", "November"),
    ("diciembre", "December"),
];

fn one<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn fill(rng: &mut ChaCha8Rng, template: &str, vars: &Vars<'_>, english: bool) -> String {
    if !template.contains('{') {
        return template.to_string();
    }
    let amount = rng.random_range(8..60) * 1_000 + rng.random_range(0..10) * 100;
    let amount = if english {
        format!("${},{:03}", amount / 1000, amount % 1000)
    } else {
        format!("${}.{:03}", amount / 1000, amount % 1000)
    };
    template
        .replace("{agent_full}", vars.agent_full)
        .replace("{agent}", vars.agent)
        .replace("{product}", vars.product)
        .replace("{customer}", vars.customer)
        .replace("{phone}", vars.phone)
        .replace("{email}", vars.email)
        .replace("{amount}", &amount)
        .replace("{n}", &rng.random_range(2..6).to_string())
        .replace("{days}", &rng.random_range(4..16).to_string())
        .replace("{wait}", &(rng.random_range(3..10) * 5).to_string())
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        // Keep names and product names (templates starting with a placeholder) as they are.
        Some(c) if s.starts_with("{") => format!("{c}{}", chars.as_str()),
        Some(c) => format!("{}{}", c.to_lowercase(), chars.as_str()),
        None => String::new(),
    }
}

/// A detail sentence that anchors a complaint in time or place.
fn detail(rng: &mut ChaCha8Rng, topic: Topic, vars: &Vars<'_>, english: bool) -> Option<String> {
    let roll = rng.random::<f64>();
    match topic {
        Topic::DoubleCharge | Topic::Billing if roll < 0.35 => Some(if english {
            format!("It was on my {} bill.", vars.month)
        } else {
            format!("Fue en la factura de {}.", vars.month)
        }),
        Topic::Network | Topic::Technician if roll < 0.2 => Some(if english {
            format!("In the {} region it's always the same.", vars.region)
        } else {
            format!("Aquí en la zona {} siempre es igual.", vars.region)
        }),
        _ => None,
    }
}

/// Composes a comment about `topic` (and `second`, the complaint of a mixed comment) with the
/// given polarity, sometimes with personal data in it.
pub(crate) fn compose(
    rng: &mut ChaCha8Rng,
    topic: Topic,
    second: Topic,
    polarity: Polarity,
    english: bool,
    vars: &Vars<'_>,
) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(5);
    let (opener, closer) = match (polarity, english) {
        (Polarity::Negative, false) => (one(rng, &OPEN_NEG_ES), one(rng, &CLOSE_NEG_ES)),
        (Polarity::Negative, true) => (one(rng, &OPEN_NEG_EN), one(rng, &CLOSE_NEG_EN)),
        (Polarity::Positive, false) => (one(rng, &OPEN_POS_ES), one(rng, &CLOSE_POS_ES)),
        (Polarity::Positive, true) => (one(rng, &OPEN_POS_EN), one(rng, &CLOSE_POS_EN)),
        (Polarity::Mixed, false) => (one(rng, &OPEN_MIX_ES), ""),
        (Polarity::Mixed, true) => (one(rng, &OPEN_MIX_EN), ""),
    };
    if !opener.is_empty() {
        parts.push(opener.to_string());
    }
    match polarity {
        Polarity::Negative | Polarity::Positive => {
            let positive = polarity == Polarity::Positive;
            let core = one(rng, cores(topic, english, positive));
            parts.push(fill(rng, core, vars, english));
            if !positive && let Some(d) = detail(rng, topic, vars, english) {
                parts.push(d);
            }
        }
        Polarity::Mixed => {
            let good = one(rng, cores(second, english, true));
            let bad = one(rng, cores(topic, english, false));
            let good = fill(rng, good, vars, english);
            let bad = fill(rng, &lower_first(bad), vars, english);
            let joint = if english { ", but " } else { ", pero " };
            parts.push(format!("{}{joint}{bad}", good.trim_end_matches(['.', '!'])));
        }
    }
    if !closer.is_empty() {
        parts.push(closer.to_string());
    }
    if rng.random_bool(0.10) {
        let pii = if english { one(rng, &PII_EN) } else { one(rng, &PII_ES) };
        parts.push(fill(rng, pii, vars, english));
    }
    parts.join(" ")
}

/// Picks weighted among topics.
fn weighted(rng: &mut ChaCha8Rng, items: &[(Topic, f64)]) -> Topic {
    *super::pick_weighted(rng, items)
}

/// Where the experience happened, as far as the choice of topic cares.
pub(crate) struct Situation<'a> {
    /// Touchpoint key, if any.
    pub touchpoint: Option<&'a str>,
    /// Strength of the billing incident at that moment, 0–1.
    pub billing: f64,
    /// In the summer/holiday peak (December, January).
    pub peak: bool,
    /// In the weak region.
    pub weak_region: bool,
    /// Has the product that scores better.
    pub strong_product: bool,
    /// An employee served the customer (so a comment may name them).
    pub served: bool,
}

/// The main topic of a complaint in this situation.
pub(crate) fn complaint_topic(rng: &mut ChaCha8Rng, s: &Situation<'_>) -> Topic {
    use Topic::*;
    match s.touchpoint {
        Some("cita_instalacion" | "visita_tecnica" | "visita_reparacion") if rng.random_bool(0.8) => {
            return Technician;
        }
        Some("primera_factura" | "reclamo_factura") => {
            return if rng.random_bool((0.2 + 0.8 * s.billing).min(0.95)) { DoubleCharge } else { Billing };
        }
        Some("soporte_app" | "app_activacion") if rng.random_bool(0.6) => return App,
        Some("soporte_tienda" | "venta_tienda") if rng.random_bool(0.5) => return Store,
        _ => {}
    }
    if s.billing > 0.0 && rng.random_bool(0.55 * s.billing) {
        return DoubleCharge;
    }
    let mut w = vec![
        (Network, 20.0),
        (Service, 14.0),
        (WaitTime, 13.0),
        (Price, 18.0),
        (Billing, 10.0),
        (App, 7.0),
        (Speed, 12.0),
        (Technician, 6.0),
    ];
    if s.peak {
        w.push((WaitTime, 12.0));
        w.push((Network, 12.0));
    }
    if s.weak_region {
        w.push((Network, 15.0));
        w.push((Technician, 8.0));
    }
    weighted(rng, &w)
}

/// The main topic of praise in this situation.
pub(crate) fn praise_topic(rng: &mut ChaCha8Rng, s: &Situation<'_>) -> Topic {
    use Topic::*;
    match s.touchpoint {
        Some("cita_instalacion" | "visita_tecnica" | "visita_reparacion") if rng.random_bool(0.6) => {
            return Technician;
        }
        Some("soporte_app" | "app_activacion") if rng.random_bool(0.6) => return App,
        Some("soporte_tienda" | "venta_tienda") if rng.random_bool(0.4) => return Store,
        Some("primera_factura" | "reclamo_factura") if rng.random_bool(0.5) => {
            return if s.billing > 0.0 { DoubleCharge } else { Billing };
        }
        _ => {}
    }
    if s.strong_product && rng.random_bool(0.5) {
        return Speed;
    }
    if s.served && rng.random_bool(0.45) {
        return Service;
    }
    weighted(rng, &[(Network, 20.0), (Speed, 15.0), (Price, 15.0), (WaitTime, 12.0), (App, 10.0), (Service, 10.0)])
}
