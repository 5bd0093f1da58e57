//! The people of the demo: Conecta's staff (with its manager hierarchy) and its customers.
//! Every name is invented and every e-mail address is on a reserved example domain.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use escucha_core::org::Role;
use escucha_core::values::{Email, ExternalId, Language};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::catalog::{self, Product, REGIONS, SEGMENTS};
use super::{DemoCustomer, DemoUser, label, pick_weighted};

/// Spanish first names.
pub(crate) const ES_FIRST: [&str; 60] = [
    "María",
    "José",
    "Ana",
    "Luis",
    "Carmen",
    "Juan",
    "Lucía",
    "Carlos",
    "Sofía",
    "Miguel",
    "Valentina",
    "Jorge",
    "Camila",
    "Andrés",
    "Isabel",
    "Pedro",
    "Daniela",
    "Fernando",
    "Paula",
    "Ricardo",
    "Gabriela",
    "Diego",
    "Elena",
    "Javier",
    "Mariana",
    "Alejandro",
    "Verónica",
    "Raúl",
    "Patricia",
    "Sergio",
    "Rosa",
    "Manuel",
    "Natalia",
    "Pablo",
    "Claudia",
    "Francisco",
    "Adriana",
    "Tomás",
    "Beatriz",
    "Héctor",
    "Lorena",
    "Emilio",
    "Silvia",
    "Gonzalo",
    "Julia",
    "Rodrigo",
    "Teresa",
    "Óscar",
    "Marta",
    "Iván",
    "Carolina",
    "Felipe",
    "Inés",
    "Martín",
    "Pilar",
    "Esteban",
    "Antonia",
    "Ramón",
    "Florencia",
    "Nicolás",
];

/// Spanish surnames.
pub(crate) const ES_LAST: [&str; 60] = [
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Gutiérrez",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Gil",
    "Ramírez",
    "Serrano",
    "Blanco",
    "Molina",
    "Morales",
    "Suárez",
    "Ortega",
    "Delgado",
    "Castro",
    "Ortiz",
    "Rubio",
    "Marín",
    "Sanz",
    "Núñez",
    "Iglesias",
    "Medina",
    "Garrido",
    "Cortés",
    "Castillo",
    "Santos",
    "Lozano",
    "Guerrero",
    "Cano",
    "Prieto",
    "Méndez",
    "Cruz",
    "Calvo",
    "Gallego",
    "Vidal",
    "León",
    "Herrera",
    "Márquez",
    "Peña",
    "Flores",
];

/// English first names.
pub(crate) const EN_FIRST: [&str; 30] = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Susan",
    "Richard",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Emily",
    "Matthew",
    "Hannah",
    "Andrew",
    "Laura",
    "Mark",
    "Rachel",
    "Paul",
    "Olivia",
    "Steven",
    "Grace",
];

/// English surnames.
pub(crate) const EN_LAST: [&str; 30] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas",
    "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "Allen",
    "Wright", "King", "Scott", "Green", "Baker", "Adams", "Nelson",
];

const BUSINESS_PATTERNS: [&str; 12] = [
    "Comercial {}",
    "Transportes {}",
    "Ferretería {}",
    "Clínica Dental {}",
    "{} y Asociados",
    "Panadería {}",
    "Constructora {}",
    "Distribuidora {}",
    "Estudio Contable {}",
    "Hotel {}",
    "Farmacia {}",
    "Inmobiliaria {}",
];

const CUSTOMER_DOMAINS: [&str; 5] = ["example.com", "example.org", "example.net", "correo.example", "mail.example"];

/// Turns a name into the ASCII local part of an e-mail address.
pub(crate) fn ascii_slug(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                'á' | 'Á' => 'a',
                'é' | 'É' => 'e',
                'í' | 'Í' => 'i',
                'ó' | 'Ó' => 'o',
                'ú' | 'Ú' | 'ü' => 'u',
                'ñ' | 'Ñ' => 'n',
                ' ' | '-' => '.',
                c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
                _ => return None,
            };
            Some(c)
        })
        .collect()
}

/// A fake phone number (the `555` exchange marks it as fiction).
pub(crate) fn phone(rng: &mut ChaCha8Rng) -> String {
    format!("+57 3{}{} 555 {:04}", rng.random_range(0..6), rng.random_range(0..10), rng.random_range(0..10_000))
}

fn email(raw: &str) -> Email {
    Email::parse(raw).expect("demo e-mail addresses are valid")
}

/// Staff of one region, as indexes into the user list.
#[derive(Debug, Clone)]
pub(crate) struct RegionStaff {
    /// Account executives (team `Ventas R`): they own the region's customers.
    pub sales: Vec<usize>,
    /// Support agents (team `Soporte R`).
    pub support: Vec<usize>,
    /// Field technicians (team `Instalaciones R`).
    pub field: Vec<usize>,
}

/// The whole staff with the indexes the generator needs.
pub(crate) struct Staff {
    /// Users in creation order (managers before their reports).
    pub users: Vec<DemoUser>,
    /// Per region (same order as [`REGIONS`]).
    pub regions: Vec<RegionStaff>,
    /// Per user: NPS points their customers' experience gains or loses through them.
    pub effects: Vec<f64>,
}

/// A user's place in the company.
struct Post<'a> {
    role: Role,
    manager: Option<usize>,
    team: Option<&'a str>,
    region: Option<&'a str>,
}

struct StaffBuilder {
    users: Vec<DemoUser>,
    effects: Vec<f64>,
    taken: BTreeSet<String>,
}

impl StaffBuilder {
    /// Adds a user; `local` is the e-mail's local part (default: from the name, made unique).
    fn add(&mut self, rng: &mut ChaCha8Rng, local: Option<&str>, name: String, post: Post<'_>) -> usize {
        let Post { role, manager, team, region } = post;
        let base = match local {
            Some(l) => l.to_string(),
            None => ascii_slug(&name),
        };
        let mut local = base.clone();
        let mut n = 2;
        while !self.taken.insert(local.clone()) {
            local = format!("{base}{n}");
            n += 1;
        }
        let manager_email = manager.map(|m| self.users[m].email.clone());
        self.users.push(DemoUser {
            email: email(&format!("{local}@conecta.example")),
            name: label(&name),
            role,
            manager_email,
            team: team.map(label),
            region: region.map(label),
        });
        // Most people are average; a few are notably good or weak with customers.
        let effect = (super::normal(rng) * 5.0).clamp(-12.0, 12.0);
        self.effects.push(effect);
        self.users.len() - 1
    }
}

fn person(rng: &mut ChaCha8Rng) -> String {
    let first = ES_FIRST[rng.random_range(0..ES_FIRST.len())];
    let last = ES_LAST[rng.random_range(0..ES_LAST.len())];
    format!("{first} {last}")
}

/// Builds the staff: CEO → CX director and regional directors → team managers → account
/// executives, support agents and technicians; plus the demo admin, analysts and viewers.
pub(crate) fn staff(rng: &mut ChaCha8Rng) -> Staff {
    let mut b = StaffBuilder { users: Vec::new(), effects: Vec::new(), taken: BTreeSet::new() };
    let ceo = b.add(
        rng,
        Some("direccion.general"),
        "Elena Varela Ibarra".into(),
        Post { role: Role::Manager, manager: None, team: Some("Dirección General"), region: None },
    );
    let cx = b.add(
        rng,
        None,
        "Tomás Aguirre Solís".into(),
        Post { role: Role::Analyst, manager: Some(ceo), team: Some("Experiencia de Cliente"), region: None },
    );
    b.add(
        rng,
        Some("admin"),
        "Laura Méndez (Administración CX)".into(),
        Post { role: Role::Admin, manager: Some(cx), team: Some("Experiencia de Cliente"), region: None },
    );
    for _ in 0..4 {
        let name = person(rng);
        b.add(
            rng,
            None,
            name,
            Post { role: Role::Analyst, manager: Some(cx), team: Some("Experiencia de Cliente"), region: None },
        );
    }
    let name = person(rng);
    b.add(rng, None, name, Post { role: Role::Viewer, manager: Some(ceo), team: Some("Finanzas"), region: None });
    let name = person(rng);
    b.add(rng, None, name, Post { role: Role::Viewer, manager: Some(ceo), team: Some("Marketing"), region: None });

    let mut regions = Vec::new();
    for (region, _) in REGIONS {
        let director_local = format!("gerente.{}", ascii_slug(region));
        let name = person(rng);
        let director = b.add(
            rng,
            Some(&director_local),
            name,
            Post {
                role: Role::Manager,
                manager: Some(ceo),
                team: Some(&format!("Dirección {region}")),
                region: Some(region),
            },
        );
        let team = |b: &mut StaffBuilder, rng: &mut ChaCha8Rng, prefix: &str, size: usize| -> Vec<usize> {
            let team_name = format!("{prefix} {region}");
            let name = person(rng);
            let lead = b.add(
                rng,
                None,
                name,
                Post { role: Role::Manager, manager: Some(director), team: Some(&team_name), region: Some(region) },
            );
            (0..size)
                .map(|_| {
                    let name = person(rng);
                    b.add(
                        rng,
                        None,
                        name,
                        Post { role: Role::Agent, manager: Some(lead), team: Some(&team_name), region: Some(region) },
                    )
                })
                .collect()
        };
        let sales = team(&mut b, rng, "Ventas", 8);
        let support = team(&mut b, rng, "Soporte", 8);
        let field = team(&mut b, rng, "Instalaciones", 5);
        regions.push(RegionStaff { sales, support, field });
    }
    Staff { users: b.users, regions, effects: b.effects }
}

/// What the generator needs to know about a customer besides its record.
#[derive(Debug, Clone)]
pub(crate) struct CustomerPlan {
    /// Index into [`REGIONS`].
    pub region: usize,
    /// The product the customer has.
    pub product: &'static Product,
    /// When the customer joined.
    pub joined: DateTime<Utc>,
    /// Owner, as an index into the staff.
    pub owner: Option<usize>,
    /// Answers in English.
    pub english: bool,
}

/// Builds the customers and, alongside, what the generator needs of each.
pub(crate) fn customers(
    rng: &mut ChaCha8Rng,
    staff: &Staff,
    count: usize,
    now: DateTime<Utc>,
) -> (Vec<DemoCustomer>, Vec<CustomerPlan>) {
    let region_weights: Vec<(usize, f64)> = REGIONS.iter().enumerate().map(|(i, (_, w))| (i, *w)).collect();
    let segment_weights: Vec<(usize, f64)> = SEGMENTS.iter().enumerate().map(|(i, s)| (i, s.share)).collect();
    let mut out = Vec::with_capacity(count);
    let mut plans = Vec::with_capacity(count);
    for i in 0..count {
        let region = *pick_weighted(rng, &region_weights);
        let chosen = &SEGMENTS[*pick_weighted(rng, &segment_weights)];
        let (segment, products) = (chosen.name, chosen.products);
        let product_name = *pick_weighted(rng, products);
        let product = catalog::product(product_name);
        let english = rng.random_bool(0.15);
        // Half the base joined in the last two years (the company grows); the rest up to 8 years ago.
        let joined = if rng.random_bool(0.5) {
            now - Duration::minutes(rng.random_range(5 * 1440..730 * 1440))
        } else {
            now - Duration::minutes(rng.random_range(730 * 1440..8 * 365 * 1440))
        };
        let (first, last) = if english {
            (
                EN_FIRST[rng.random_range(0..EN_FIRST.len())].to_string(),
                EN_LAST[rng.random_range(0..EN_LAST.len())].to_string(),
            )
        } else {
            let l1 = ES_LAST[rng.random_range(0..ES_LAST.len())];
            let l2 = ES_LAST[rng.random_range(0..ES_LAST.len())];
            (ES_FIRST[rng.random_range(0..ES_FIRST.len())].to_string(), format!("{l1} {l2}"))
        };
        let domain = CUSTOMER_DOMAINS[rng.random_range(0..CUSTOMER_DOMAINS.len())];
        let (name, mail) = if segment == "Residencial" {
            let surname = last.split(' ').next().unwrap_or(&last);
            (format!("{first} {last}"), format!("{}.{}{}@{domain}", ascii_slug(&first), ascii_slug(surname), i % 97))
        } else {
            let surname = last.split(' ').next().unwrap_or(&last).to_string();
            let pattern = BUSINESS_PATTERNS[rng.random_range(0..BUSINESS_PATTERNS.len())];
            let business = pattern.replace("{}", &surname);
            (business.clone(), format!("contacto.{}{}@{domain}", ascii_slug(&business), i % 97))
        };
        let annual_value = match (segment, product.name) {
            ("Empresas", _) => (20_000.0 * (12.5f64).powf(rng.random::<f64>())).round(),
            (_, "Conecta Empresas") => rng.random_range(2_000.0..9_000.0f64).round(),
            (_, "Fibra Max") => rng.random_range(600.0..800.0f64).round(),
            (_, "TV + Fibra") => rng.random_range(700.0..950.0f64).round(),
            (_, "Fibra Hogar") => rng.random_range(360.0..560.0f64).round(),
            (_, "Móvil Pospago") => rng.random_range(240.0..480.0f64).round(),
            _ => rng.random_range(60.0..200.0f64).round(),
        } * if segment == "Pyme" { 1.6 } else { 1.0 };
        let staff_region = &staff.regions[region];
        // A few prepaid customers have no account executive.
        let owner = if product.name == "Móvil Prepago" && rng.random_bool(0.4) {
            None
        } else {
            Some(staff_region.sales[rng.random_range(0..staff_region.sales.len())])
        };
        let contract =
            if product.billed { ["Mensual", "12 meses", "24 meses"][rng.random_range(0..3)] } else { "Prepago" };
        let channel = ["App", "Teléfono", "Tienda", "Web", "Email"][rng.random_range(0..5)];
        let attributes: BTreeMap<String, String> = [
            ("plan", product.name.to_string()),
            ("contrato", contract.to_string()),
            ("cliente_desde", joined.format("%Y-%m-%d").to_string()),
            ("canal_preferido", channel.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        out.push(DemoCustomer {
            external_id: ExternalId::parse(&format!("C-{:06}", i + 1)).expect("valid external id"),
            name,
            email: rng.random_bool(0.93).then(|| email(&mail)),
            phone: rng.random_bool(0.85).then(|| phone(rng)),
            language: Language::parse(if english { "en" } else { "es" }).expect("valid language"),
            region: label(REGIONS[region].0),
            segment: label(segment),
            lifecycle_stage: label("Activo"),
            annual_value,
            owner_email: owner.map(|o| staff.users[o].email.clone()),
            attributes,
        });
        plans.push(CustomerPlan { region, product, joined, owner, english });
    }
    (out, plans)
}
