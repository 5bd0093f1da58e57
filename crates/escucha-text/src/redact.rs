//! Redaction of personal data in Spanish, Latin-American and English text.
//!
//! Each detector proposes spans; checksums turn look-alikes away (DNI/NIE letter, RUT and
//! Uruguayan CI check digit, CPF digits, card Luhn, IBAN mod-97). Phone numbers are accepted when
//! they carry a country code, follow a phone cue ("cel", "teléfono", "call me at"), or have a
//! national phone layout; digits after order, booking, tracking, invoice, amount or date cues
//! are left alone. Names are masked when they are full names (two capitalised words or more)
//! after a cue ("me atendió", "my name is", "titular", a signature) or starting with a common
//! given name; a first name alone is kept (it is not identifying and helps staff analysis).
//! Overlaps are resolved by kind priority, then length.

use crate::AnalyzerInfo;
use regex::Regex;
use serde::Serialize;
use std::collections::HashSet;

/// Kinds of personal data recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// E-mail address.
    Email,
    /// Phone number.
    Phone,
    /// National identity number (DNI/NIE, RUT, CURP, CPF, CI, SSN…).
    NationalId,
    /// Payment card number (Luhn-valid).
    Card,
    /// IBAN (mod-97-valid).
    Iban,
    /// Street address.
    Address,
    /// A person's full name.
    Name,
}

impl PiiKind {
    /// The mask written in place of the data.
    pub fn mask(self) -> &'static str {
        match self {
            PiiKind::Email => "[EMAIL]",
            PiiKind::Phone => "[PHONE]",
            PiiKind::NationalId => "[ID]",
            PiiKind::Card => "[CARD]",
            PiiKind::Iban => "[IBAN]",
            PiiKind::Address => "[ADDRESS]",
            PiiKind::Name => "[NAME]",
        }
    }

    fn priority(self) -> u8 {
        match self {
            PiiKind::Email => 7,
            PiiKind::Iban => 6,
            PiiKind::Card => 5,
            PiiKind::NationalId => 4,
            PiiKind::Phone => 3,
            PiiKind::Address => 2,
            PiiKind::Name => 1,
        }
    }
}

/// One piece of personal data found, as a byte span of the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PiiSpan {
    /// What it is.
    pub kind: PiiKind,
    /// Byte offset of its start in the original text.
    pub start: usize,
    /// Byte offset one past its end in the original text.
    pub end: usize,
}

/// The masked text and what was masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Redaction {
    /// The text with every span replaced by its kind's mask.
    pub text: String,
    /// The spans found, in text order, not overlapping.
    pub spans: Vec<PiiSpan>,
    /// Which analyser produced it.
    pub analyzer: AnalyzerInfo,
}

/// Finds and masks personal data.
pub trait Redactor: Send + Sync {
    /// Name and version of this analyser.
    fn info(&self) -> AnalyzerInfo;
    /// Redacts `text`.
    fn redact(&self, text: &str) -> Redaction;
}

// ---------------------------------------------------------------- check digits

/// True when `digits` (8 digits) and `letter` form a valid Spanish DNI (`12345678Z`).
pub fn dni_valid(number: u32, letter: char) -> bool {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    number <= 99_999_999 && LETTERS[(number % 23) as usize] as char == letter.to_ascii_uppercase()
}

/// True when a Spanish NIE (`X1234567L`) has the right check letter.
pub fn nie_valid(prefix: char, number: u32, letter: char) -> bool {
    let p = match prefix.to_ascii_uppercase() {
        'X' => 0,
        'Y' => 1,
        'Z' => 2,
        _ => return false,
    };
    number <= 9_999_999 && dni_valid(p * 10_000_000 + number, letter)
}

/// The check digit (`0`–`9` or `K`) of a Chilean RUT body.
pub fn rut_check_digit(body: u32) -> char {
    let mut sum = 0u32;
    let mut factor = 2;
    let mut n = body;
    while n > 0 {
        sum += (n % 10) * factor;
        n /= 10;
        factor = if factor == 7 { 2 } else { factor + 1 };
    }
    match 11 - sum % 11 {
        11 => '0',
        10 => 'K',
        d => char::from_digit(d, 10).unwrap_or('?'),
    }
}

/// True when `digits` passes the Luhn check (card numbers).
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// True when an IBAN (spaces allowed) passes the ISO 13616 mod-97 check.
pub fn iban_valid(iban: &str) -> bool {
    let s: Vec<u8> = iban.bytes().filter(|b| *b != b' ').collect();
    if s.len() < 15 || s.len() > 34 || !s[..2].iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in s[4..].iter().chain(s[..4].iter()) {
        let v = match b {
            b'0'..=b'9' => (b - b'0') as u32,
            b'A'..=b'Z' => (b - b'A') as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

/// True when 11 digits form a valid Brazilian CPF.
pub fn cpf_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.bytes().map(|b| (b - b'0') as u32).collect();
    if d.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) || d.iter().all(|x| *x == d[0]) {
        return false;
    }
    let s1: u32 = (0..9).map(|i| d[i] * (10 - i as u32)).sum();
    let d1 = (s1 * 10 % 11) % 10;
    let s2: u32 = (0..9).map(|i| d[i] * (11 - i as u32)).sum::<u32>() + d1 * 2;
    let d2 = (s2 * 10 % 11) % 10;
    d[9] == d1 && d[10] == d2
}

/// The check digit of a Mexican CURP's first 17 characters.
pub fn curp_check_digit(first17: &str) -> Option<u32> {
    const ALPHA: &str = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";
    let mut sum = 0u32;
    for (i, c) in first17.chars().enumerate().take(17) {
        let v = ALPHA.chars().position(|a| a == c)? as u32;
        sum += v * (18 - i as u32);
    }
    Some((10 - sum % 10) % 10)
}

/// True when a Uruguayan CI (digits without the check digit, then the check digit) is valid.
pub fn uy_ci_valid(body: &str, check: u32) -> bool {
    if body.is_empty() || body.len() > 7 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let padded = format!("{body:0>7}");
    let w = [2, 9, 8, 7, 6, 3, 4];
    let s: u32 = padded.bytes().zip(w).map(|(b, w)| (b - b'0') as u32 * w).sum();
    (10 - s % 10) % 10 == check
}

/// True when a digit string has the length and issuer prefix of a payment card (Visa,
/// Mastercard, Amex, Discover, JCB, Diners, Maestro-like lengths).
pub fn card_layout(d: &str) -> bool {
    let p2: u32 = d.get(..2).and_then(|p| p.parse().ok()).unwrap_or(0);
    match d.len() {
        13 => d.starts_with('4'),
        14 => (36..=38).contains(&p2) || p2 == 30,
        15 => p2 == 34 || p2 == 37,
        16 => {
            d.starts_with('4') || (51..=55).contains(&p2) || (22..=27).contains(&p2) || d.starts_with('6') || p2 == 35
        }
        17..=19 => d.starts_with('4') || d.starts_with('5') || d.starts_with('6') || p2 == 35,
        _ => false,
    }
}

fn digits_of(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

// ---------------------------------------------------------------- the rule redactor

/// The default redactor: regular expressions, checksums and cue words.
#[derive(Debug, Clone)]
pub struct RuleRedactor {
    email: Regex,
    iban: Regex,
    digits: Regex,
    dni: Regex,
    nie: Regex,
    rut: Regex,
    cpf: Regex,
    curp: Regex,
    ve_ci: Regex,
    ssn: Regex,
    id_cue: Regex,
    address_es: Regex,
    address_en: Regex,
    name_seq: Regex,
    first_names: HashSet<String>,
}

impl Default for RuleRedactor {
    fn default() -> Self {
        Self::new()
    }
}

const NAME_WORD: &str = r"\p{Lu}(?:['’]\p{Lu})?\p{Ll}+(?:\p{Lu}\p{Ll}+)?(?:-\p{Lu}\p{Ll}+)?";

const PHONE_CUES: &[&str] = &[
    "tel",
    "tlf",
    "tfno",
    "telefono",
    "movil",
    "celular",
    "cel",
    "whatsapp",
    "wsp",
    "wa",
    "fono",
    "llamar al",
    "llamen al",
    "llamame al",
    "llameme al",
    "llamarme al",
    "contacto",
    "numero",
    "phone",
    "mobile",
    "cell",
    "call me at",
    "call me on",
    "text me at",
    "contact number",
    "number",
    "to",
    "al",
    "linea",
    "line",
];

const LOOKALIKE_CUES: &[&str] = &[
    "pedido",
    "pedidos",
    "orden",
    "order",
    "folio",
    "folios",
    "ticket",
    "reserva",
    "booking",
    "reservation",
    "localizador",
    "tracking",
    "guia",
    "seguimiento",
    "vuelo",
    "flight",
    "factura",
    "invoice",
    "boleta",
    "poliza",
    "policy",
    "expediente",
    "caso",
    "case",
    "reclamo",
    "claim",
    "cuenta",
    "account",
    "contrato",
    "referencia",
    "ref",
    "codigo",
    "code",
    "postal",
    "cp",
    "zip",
    "postcode",
    "n",
    "no",
    "nro",
    "num",
    "id",
    "monto",
    "importe",
    "total",
    "amount",
    "serie",
    "serial",
    "imei",
    "modelo",
    "model",
    "lote",
    "ruta",
    "bus",
    "sku",
    "transaccion",
    "transaction",
    "reference",
    "siniestro",
    "incidencia",
    "imei",
    "sn",
    "voucher",
    "cupon",
    "coupon",
    "awb",
    "operacion",
    "comprobante",
    "receipt",
    "suministro",
    "cliente",
    "customer",
    "socio",
    "member",
    "tarjeta",
];

/// Cues before a Luhn-valid number that make it something other than a card.
const CARD_LOOKALIKE_CUES: &[&str] = &[
    "imei",
    "serial",
    "serie",
    "sn",
    "pedido",
    "order",
    "orden",
    "tracking",
    "guia",
    "reference",
    "referencia",
    "ref",
    "invoice",
    "factura",
    "folio",
    "boleta",
    "ticket",
    "awb",
    "codigo",
    "code",
];

const NAME_CUES: &[&str] = &[
    "me atendio",
    "me atendieron",
    "atendido por",
    "atendida por",
    "mi nombre es",
    "me llamo",
    "soy",
    "habla",
    "le saluda",
    "nombre",
    "name",
    "my name is",
    "name is",
    "i am",
    "im",
    "this is",
    "titular",
    "a nombre de",
    "cliente",
    "clienta",
    "usuario",
    "usuaria",
    "paciente",
    "huesped",
    "guest",
    "holder",
    "customer",
    "agent",
    "agente",
    "asesor",
    "asesora",
    "ejecutivo",
    "ejecutiva",
    "tecnico",
    "tecnica",
    "operador",
    "operadora",
    "recepcionista",
    "doctor",
    "doctora",
    "dr",
    "dra",
    "sr",
    "sra",
    "srta",
    "mr",
    "mrs",
    "ms",
    "miss",
    "don",
    "dona",
    "atentamente",
    "saludos",
    "cordialmente",
    "regards",
    "sincerely",
    "thanks",
    "gracias",
    "firmado",
    "firma",
    "attn",
    "contacto",
    "contact",
    "conductor",
    "chofer",
    "driver",
    "enfermera",
    "enfermero",
    "nurse",
    "sr.",
    "signed",
    "from",
    "de parte de",
    "por parte de",
    "felicitar a",
    "agradecer a",
    "gracias a",
    "hable con",
    "hablar con",
    "spoke to",
    "spoke with",
    "talked to",
    "talked with",
    "ask for",
    "preguntar por",
    "thanks to",
    "thank you to",
];

/// Words right after a capitalised sequence that show it names the person who served.
const NAME_POST_CUES: &[&str] = &[
    "me atendio",
    "nos atendio",
    "me ayudo",
    "nos ayudo",
    "me resolvio",
    "nos resolvio",
    "me explico",
    "me llamo",
    "fue muy",
    "fue super",
    "was very",
    "was so",
    "helped me",
    "helped us",
    "sorted",
    "went above",
];

const NOT_NAME_WORDS: &[&str] = &[
    "ltd",
    "inc",
    "llc",
    "sa",
    "sl",
    "sas",
    "gmbh",
    "spa",
    "srl",
    "corp",
    "company",
    "bank",
    "banco",
    "hotel",
    "airlines",
    "airline",
    "mall",
    "plaza",
    "centro",
    "center",
    "street",
    "calle",
    "avenida",
    "station",
    "estacion",
    "aeropuerto",
    "airport",
    "hospital",
    "clinica",
    "universidad",
    "university",
    "black",
    "friday",
    "cyber",
    "monday",
    "prime",
    "plus",
    "pro",
];

fn ends_with_cue(context: &str, cues: &[&str]) -> bool {
    let ctx = context.trim_end_matches(|c: char| {
        c.is_whitespace() || matches!(c, ':' | ',' | '.' | '-' | '#' | '(' | '°' | 'º' | '=')
    });
    cues.iter().any(|cue| {
        ctx.ends_with(cue) && ctx[..ctx.len() - cue.len()].chars().next_back().is_none_or(|c| !c.is_alphanumeric())
    })
}

/// The folded text of up to `n` bytes before `pos` (for cue checks).
fn folded_context(text: &str, pos: usize, n: usize) -> String {
    let mut start = pos.saturating_sub(n);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    crate::text::fold(&text[start..pos])
}

impl RuleRedactor {
    /// Compiles the detectors.
    pub fn new() -> Self {
        let re = |s: &str| Regex::new(s).expect("built-in redaction pattern compiles");
        let first_names = include_str!("../data/first_names.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(|l| l.split_whitespace())
            .map(str::to_string)
            .collect();
        RuleRedactor {
            email: re(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
            iban: re(r"[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"),
            digits: re(r"\+?\(?[0-9][0-9 ()\-.]{4,22}[0-9]"),
            dni: re(r"([0-9]{2}\.?[0-9]{3}\.?[0-9]{3})[ \-]?([A-Za-z])"),
            nie: re(r"([XYZxyz])[ \-]?([0-9]{7})[ \-]?([A-Za-z])"),
            rut: re(r"([0-9]{1,2}\.?[0-9]{3}\.?[0-9]{3})-([0-9kK])"),
            cpf: re(r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}"),
            curp: re(
                r"[A-Z][AEIOUX][A-Z]{2}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[HM][A-Z]{5}[A-Z0-9][0-9]",
            ),
            ve_ci: re(r"[VEve]-[0-9]{1,2}\.?[0-9]{3}\.?[0-9]{3}"),
            ssn: re(r"[0-9]{3}-[0-9]{2}-[0-9]{4}"),
            id_cue: re(
                r"(?i)(?:\b(?:dni|d\.n\.i\.?|nie|rut|run|cpf|curp|c[ée]dula(?: de identidad)?|c\.c\.?|cc|c\.i\.?|ci|pasaporte|passport|ssn|social security(?: number)?|documento(?: de identidad| nacional de identidad)?|id number|rfc|nit|dpi|ine|carn[ée]t?)\b)[ \t]*(?:es|is|number is|n[º°o]\.?|nro\.?|number|:|#)?[ \t]*:?[ \t]*([A-Z]{0,2}-?[0-9][0-9.\-]{4,14}[0-9A-Za-z])",
            ),
            address_es: re(
                r"(?i:\b(?:calle|c/|avenida|av\.|avda\.?|paseo|pasaje|psje\.?|jir[oó]n|jr\.|carrera|cra\.?|kra\.?|diagonal|transversal|ronda|camino|carretera|bulevar|bvar\.|boulevard|alameda|rua|traves[ií]a|callej[oó]n)\s+)(?:(?:\p{Lu}[\p{L}'.]*|de|del|la|las|los|el|[0-9]{1,2}|[a-zñ]\p{L}+)\s+){0,5}?(?i:n[º°o]\.?\s*)?[0-9]{1,5}(?:\s*[#\-]\s*[0-9]{1,4}(?:\s*-\s*[0-9]{1,4})?)?[A-Za-z]?\b(?:,?\s*(?:[0-9]{1,2}\s*[º°ª]\s*(?:[A-Za-z]\b)?|(?i:piso|dpto\.?|depto\.?|apto\.?|apartamento|departamento|int\.?|interior|of\.?|oficina|local|bloque|portal|escalera|esc\.)\s*[0-9A-Za-z]{1,4}\b|(?i:bajo|izq\.?|izquierda|dcha\.?|derecha)\b))*(?:,\s*(?i:col\.|colonia)\s+\p{Lu}\p{L}+(?:\s+\p{Lu}\p{L}+)*)?(?:,\s*\p{Lu}\p{L}+(?:\s+(?:de\s+|del\s+)?\p{Lu}\p{L}+){0,3})?",
            ),
            address_en: re(
                r"\b[0-9]{1,5}[A-Za-z]?\s+(?:\p{Lu}\p{Ll}+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Court|Ct|Way|Place|Pl|Boulevard|Blvd|Crescent|Terrace|Gardens|Grove|Square|Sq|Hill|Park|Row|Mews|Parkway|Pkwy|Highway|Hwy)\b\.?(?:,?\s*(?:Apt|Apartment|Unit|Flat|Suite|Ste)\.?\s*#?[0-9A-Za-z]{1,5})?(?:,\s*\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}+)?)?(?:,?\s+(?:[A-Z]{2}\s+[0-9]{5}(?:-[0-9]{4})?|[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2}))?",
            ),
            name_seq: re(&format!(
                r"{NAME_WORD}(?:[ \t]+(?:(?:de|del|de la|de los|da|dos|van|von|y)[ \t]+)?{NAME_WORD}){{1,4}}"
            )),
            first_names,
        }
    }

    fn is_amount_or_date(text: &str, start: usize, end: usize, s: &str) -> bool {
        let before = &text[..start];
        let after = &text[end..];
        let b = before.trim_end();
        if b.ends_with(['$', '€', '£'])
            || b.ends_with("S/")
            || b.ends_with("S/.")
            || b.to_ascii_lowercase().ends_with("usd")
            || b.to_ascii_lowercase().ends_with("eur")
            || b.to_ascii_lowercase().ends_with("mxn")
            || b.to_ascii_lowercase().ends_with("clp")
            || b.to_ascii_lowercase().ends_with("cop")
        {
            return true;
        }
        let a = after.trim_start().to_lowercase();
        if a.starts_with(['€', '$', '£', '%'])
            || [
                "eur", "usd", "pesos", "soles", "dolares", "dólares", "euros", "mxn", "clp", "cop", "ars", "gbp", "km",
                "kg", "mb", "gb", "h ", "hs", "min", "horas", "hours",
            ]
            .iter()
            .any(|u| a.starts_with(u))
        {
            return true;
        }
        // Dates like 12-05-2024, 2024-05-12, 12.05.24
        let parts: Vec<&str> = s.split(['-', '.', ' ']).filter(|p| !p.is_empty()).collect();
        if parts.len() == 3 {
            let l: Vec<usize> = parts.iter().map(|p| p.len()).collect();
            if (l[0] <= 2 && l[1] <= 2 && (l[2] == 2 || l[2] == 4)) || (l[0] == 4 && l[1] <= 2 && l[2] <= 2) {
                return true;
            }
        }
        // Thousands-grouped amounts like 1.250.000 without a cue are amounts, not phones.
        let dotted = s.split('.').collect::<Vec<_>>();
        if dotted.len() >= 2
            && dotted[0].len() <= 3
            && dotted[1..].iter().all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
        {
            return true;
        }
        false
    }

    fn classify_digits(&self, text: &str, start: usize, end: usize, out: &mut Vec<PiiSpan>) {
        let s = &text[start..end];
        let d = digits_of(s);
        let n = d.len();
        let ctx = folded_context(text, start, 32);
        // Cards: 13–19 digits, Luhn, a known issuer prefix for that length, no look-alike cue
        // (an IMEI is Luhn-valid too).
        if card_layout(&d) && luhn_valid(&d) && !ends_with_cue(&ctx, CARD_LOOKALIKE_CUES) {
            out.push(PiiSpan { kind: PiiKind::Card, start, end });
            return;
        }
        if ends_with_cue(&ctx, LOOKALIKE_CUES) || Self::is_amount_or_date(text, start, end, s) {
            return;
        }
        let has_plus = s.starts_with('+');
        let phone_cue = ends_with_cue(&ctx, PHONE_CUES);
        let groups: Vec<&str> = s.split([' ', '-', '.', '(', ')']).filter(|g| !g.is_empty()).collect();
        let grouped =
            groups.len() >= 2 && groups.iter().all(|g| g.len() <= 6) && groups.iter().skip(1).all(|g| g.len() >= 2);
        let first = d.as_bytes()[0];
        // "2024-118734": a year-prefixed reference, not a phone.
        if groups.len() == 2
            && groups[0].len() == 4
            && (groups[0].starts_with("19") || groups[0].starts_with("20"))
            && s.contains('-')
            && !has_plus
        {
            return;
        }
        let is_phone = if has_plus {
            (8..=15).contains(&n)
        } else if phone_cue {
            (7..=13).contains(&n)
        } else if grouped {
            (8..=12).contains(&n)
        } else {
            // Contiguous digits without a cue: Spanish/Peruvian mobiles, Colombian mobiles.
            (n == 9 && matches!(first, b'6' | b'7' | b'9')) || (n == 10 && first == b'3')
        };
        if is_phone {
            out.push(PiiSpan { kind: PiiKind::Phone, start, end });
        }
    }

    fn find_names(&self, text: &str, out: &mut Vec<PiiSpan>) {
        for m in self.name_seq.find_iter(text) {
            // Split the sequence into words with their offsets.
            let mut words: Vec<(usize, usize)> = Vec::new();
            let base = m.start();
            let mut pos = 0;
            for w in m.as_str().split([' ', '\t']) {
                if !w.is_empty() {
                    words.push((base + pos, base + pos + w.len()));
                }
                pos += w.len() + 1;
            }
            let folded: Vec<String> = words.iter().map(|(a, b)| crate::text::fold(&text[*a..*b])).collect();
            if folded.iter().any(|w| NOT_NAME_WORDS.contains(&w.as_str())) {
                continue;
            }
            // Drop leading cue or stop words ("Cliente", "Hola", "Dr").
            let mut k = 0;
            let mut cue = false;
            while k < folded.len() {
                let w = folded[k].as_str();
                if NAME_CUES.contains(&w) {
                    cue = true;
                    k += 1;
                } else if crate::keyphrases::is_stopword(w)
                    || matches!(w, "hola" | "hello" | "hi" | "dear" | "estimado" | "estimada")
                {
                    k += 1;
                } else {
                    break;
                }
            }
            let rest = &folded[k..];
            let capital_words = rest
                .iter()
                .filter(|w| !matches!(w.as_str(), "de" | "del" | "la" | "los" | "da" | "dos" | "van" | "von" | "y"))
                .count();
            if capital_words < 2 {
                continue;
            }
            let (start, end) = (words[k].0, m.end());
            if !cue {
                let ctx = folded_context(text, start, 30);
                cue = ends_with_cue(&ctx, NAME_CUES);
            }
            let given = self.first_names.contains(rest[0].as_str());
            if !cue {
                let after =
                    crate::text::fold(crate::truncate_at_char_boundary(text[end..].trim_start_matches([' ', ',']), 24));
                cue = NAME_POST_CUES.iter().any(|c| after.starts_with(c));
            }
            // A signature: the sequence ends the text (maybe with a period) after a boundary.
            let tail = text[end..].trim();
            let before = text[..start].trim_end();
            let signature = (tail.is_empty() || tail == "." || tail.starts_with(','))
                && (before.is_empty() || before.ends_with(['.', '!', '?', ',', '\n']));
            if cue || given || (signature && rest.len() <= 4) {
                // Keep "y" joined names apart: "Andrea Ortiz y Julián Cárdenas".
                if let Some(y) = rest.iter().position(|w| w == "y") {
                    let ye = words[k + y].1;
                    if y >= 2 {
                        out.push(PiiSpan { kind: PiiKind::Name, start, end: words[k + y - 1].1 });
                    }
                    if rest.len() - y > 2 {
                        let next = crate::text::fold(&text[ye..end]);
                        let first = next.split_whitespace().next().unwrap_or("");
                        if self.first_names.contains(first) || cue {
                            out.push(PiiSpan { kind: PiiKind::Name, start: words[k + y + 1].0, end });
                        }
                    }
                } else {
                    out.push(PiiSpan { kind: PiiKind::Name, start, end });
                }
            }
        }
    }

    /// All candidate spans, before overlap resolution.
    fn candidates(&self, text: &str) -> Vec<PiiSpan> {
        let mut c = Vec::new();
        let push = |c: &mut Vec<PiiSpan>, kind, start, end| c.push(PiiSpan { kind, start, end });
        let boundary_ok = |start: usize, end: usize| {
            let b = text[..start].chars().next_back();
            let a = text[end..].chars().next();
            b.is_none_or(|c| !c.is_alphanumeric()) && a.is_none_or(|c| !c.is_alphanumeric())
        };
        let has_at = text.contains('@');
        if has_at {
            for m in self.email.find_iter(text) {
                push(&mut c, PiiKind::Email, m.start(), m.end());
            }
        }
        let has_digit = text.bytes().any(|b| b.is_ascii_digit());
        if !has_digit {
            self.find_names(text, &mut c);
            return c;
        }
        for m in self.iban.find_iter(text) {
            // Shrink group by group until the checksum holds.
            let mut s = m.as_str();
            loop {
                if iban_valid(s) && boundary_ok(m.start(), m.start() + s.len()) {
                    push(&mut c, PiiKind::Iban, m.start(), m.start() + s.len());
                    break;
                }
                match s.rfind(' ') {
                    Some(i) if s.len() > 15 => s = &s[..i],
                    _ => break,
                }
            }
        }
        for m in self.dni.captures_iter(text) {
            let (Some(all), Some(num), Some(letter)) = (m.get(0), m.get(1), m.get(2)) else {
                continue;
            };
            let n: u32 = digits_of(num.as_str()).parse().unwrap_or(u32::MAX);
            let l = letter.as_str().chars().next().unwrap_or(' ');
            if boundary_ok(all.start(), all.end()) && dni_valid(n, l) {
                push(&mut c, PiiKind::NationalId, all.start(), all.end());
            }
        }
        for m in self.nie.captures_iter(text) {
            let (Some(all), Some(p), Some(num), Some(letter)) = (m.get(0), m.get(1), m.get(2), m.get(3)) else {
                continue;
            };
            let n: u32 = num.as_str().parse().unwrap_or(u32::MAX);
            let p = p.as_str().chars().next().unwrap_or(' ');
            let l = letter.as_str().chars().next().unwrap_or(' ');
            if boundary_ok(all.start(), all.end()) && nie_valid(p, n, l) {
                push(&mut c, PiiKind::NationalId, all.start(), all.end());
            }
        }
        for m in self.rut.captures_iter(text) {
            let (Some(all), Some(body), Some(dv)) = (m.get(0), m.get(1), m.get(2)) else {
                continue;
            };
            let body_digits = digits_of(body.as_str());
            let b: u32 = body_digits.parse().unwrap_or(0);
            let dv = dv.as_str().chars().next().unwrap_or(' ').to_ascii_uppercase();
            let uy = dv.to_digit(10).is_some_and(|d| body_digits.len() <= 7 && uy_ci_valid(&body_digits, d));
            if boundary_ok(all.start(), all.end()) && (rut_check_digit(b) == dv || uy) {
                push(&mut c, PiiKind::NationalId, all.start(), all.end());
            }
        }
        for m in self.cpf.find_iter(text) {
            if boundary_ok(m.start(), m.end()) && cpf_valid(&digits_of(m.as_str())) {
                push(&mut c, PiiKind::NationalId, m.start(), m.end());
            }
        }
        for m in self.curp.find_iter(text) {
            if boundary_ok(m.start(), m.end()) {
                push(&mut c, PiiKind::NationalId, m.start(), m.end());
            }
        }
        for m in self.ve_ci.find_iter(text).chain(self.ssn.find_iter(text)) {
            if boundary_ok(m.start(), m.end()) {
                push(&mut c, PiiKind::NationalId, m.start(), m.end());
            }
        }
        for m in self.id_cue.captures_iter(text) {
            if let Some(g) = m.get(1) {
                let s = g.as_str().trim_end_matches(['.', '-']);
                let end = g.start() + s.len();
                if digits_of(s).len() >= 6 && boundary_ok(g.start(), end) {
                    push(&mut c, PiiKind::NationalId, g.start(), end);
                }
            }
        }
        for m in self.digits.find_iter(text) {
            let (mut start, end) = (m.start(), m.end());
            let s = m.as_str();
            // An opening parenthesis is kept only when it closes inside the match.
            if s.starts_with('(') && !s.contains(')') {
                start += 1;
            }
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            if before.is_some_and(|b| b.is_alphanumeric() || matches!(b, '/' | '#' | '-' | '_'))
                || after.is_some_and(|a| a.is_alphanumeric() || a == '/')
            {
                continue;
            }
            self.classify_digits(text, start, end, &mut c);
        }
        for re in [&self.address_es, &self.address_en] {
            for m in re.find_iter(text) {
                let s = m.as_str().trim_end_matches([',', ' ', '.']);
                push(&mut c, PiiKind::Address, m.start(), m.start() + s.len());
            }
        }
        self.find_names(text, &mut c);
        c
    }
}

/// Keeps the best non-overlapping spans: higher kind priority first, then longer.
fn resolve(mut c: Vec<PiiSpan>) -> Vec<PiiSpan> {
    c.sort_by(|a, b| {
        b.kind
            .priority()
            .cmp(&a.kind.priority())
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<PiiSpan> = Vec::with_capacity(c.len());
    for s in c {
        if s.end > s.start && kept.iter().all(|k| s.end <= k.start || s.start >= k.end) {
            kept.push(s);
        }
    }
    kept.sort_by_key(|s| s.start);
    kept
}

/// Writes `text` with each span replaced by its mask.
pub fn apply_masks(text: &str, spans: &[PiiSpan]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for s in spans {
        out.push_str(&text[pos..s.start]);
        out.push_str(s.kind.mask());
        pos = s.end;
    }
    out.push_str(&text[pos..]);
    out
}

impl Redactor for RuleRedactor {
    fn info(&self) -> AnalyzerInfo {
        AnalyzerInfo::new("rule-redactor", "1")
    }

    fn redact(&self, text: &str) -> Redaction {
        let spans = resolve(self.candidates(text));
        Redaction { text: apply_masks(text, &spans), spans, analyzer: self.info() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_hand_checked() {
        assert!(dni_valid(12345678, 'Z'));
        assert!(!dni_valid(12345678, 'A'));
        assert!(dni_valid(26609158, 'K'));
        assert!(nie_valid('X', 4821093, 'V'));
        assert_eq!(rut_check_digit(18230456), '5');
        assert_eq!(rut_check_digit(9874512), '2');
        assert_eq!(rut_check_digit(12345678), '5');
        assert!(luhn_valid("4378326616630492"));
        assert!(card_layout("4378326616630492"));
        assert!(!card_layout("352816089878881"), "a 15-digit 35… number is an IMEI, not a card");
        assert!(!luhn_valid("4378326616630493"));
        assert!(iban_valid("ES91 2100 0418 4502 0005 1332"));
        assert!(!iban_valid("ES92 2100 0418 4502 0005 1332"));
        assert!(cpf_valid("28461739078"));
        assert!(!cpf_valid("28461739079"));
        assert!(!cpf_valid("11111111111"));
        assert_eq!(curp_check_digit("RAMS900417MMCMRN0"), Some(3));
        assert!(uy_ci_valid("4873210", 8));
    }

    fn kinds(text: &str) -> Vec<(PiiKind, String)> {
        RuleRedactor::new().redact(text).spans.iter().map(|s| (s.kind, text[s.start..s.end].to_string())).collect()
    }

    #[test]
    fn masks_contacts_and_ids() {
        let r = RuleRedactor::new().redact("Escribid a ana.p@gmail.com o al +34 654 219 873. DNI 12345678Z.");
        assert_eq!(r.text, "Escribid a [EMAIL] o al [PHONE]. DNI [ID].");
        assert_eq!(
            kinds("Mi RUT es 18.230.456-5 y la tarjeta 4378 3266 1663 0492"),
            vec![(PiiKind::NationalId, "18.230.456-5".into()), (PiiKind::Card, "4378 3266 1663 0492".into())]
        );
        assert_eq!(
            kinds("IBAN ES91 2100 0418 4502 0005 1332 gracias"),
            vec![(PiiKind::Iban, "ES91 2100 0418 4502 0005 1332".into())]
        );
    }

    #[test]
    fn regression_id_after_cue_and_verb_and_uk_mobile() {
        assert_eq!(kinds("Mi cédula es 1.032.456.781"), vec![(PiiKind::NationalId, "1.032.456.781".into())]);
        assert_eq!(
            kinds("Sarah Mitchell, 07700 900518."),
            vec![(PiiKind::Name, "Sarah Mitchell".into()), (PiiKind::Phone, "07700 900518".into())]
        );
    }

    #[test]
    fn keeps_orders_amounts_and_dates() {
        let t = "Pedido 88213004 de 143,50 € del 12/05/2024, folio 4587123, total $1.250.000, vuelo 2374, 12-05-2024.";
        assert!(kinds(t).is_empty(), "{:?}", kinds(t));
        assert!(kinds("Reserva RC-4481902 y tracking 773044182291").is_empty());
        assert!(kinds("IMEI 352816089878881").is_empty(), "Luhn-valid IMEI is not a card");
    }

    #[test]
    fn names_addresses_and_phones() {
        assert_eq!(kinds("Me atendió Laura y fue un encanto"), vec![], "a first name alone is kept");
        assert_eq!(
            kinds("My name is James O'Neill, 42 Kingsley Road, Bristol BS7 8HJ"),
            vec![
                (PiiKind::Name, "James O'Neill".into()),
                (PiiKind::Address, "42 Kingsley Road, Bristol BS7 8HJ".into())
            ]
        );
        assert_eq!(
            kinds("dirección Calle Sierpes 48, 3º B, Sevilla y nada más"),
            vec![(PiiKind::Address, "Calle Sierpes 48, 3º B, Sevilla".into())]
        );
        assert_eq!(
            kinds("Matías Ferraro, cel 11 5823-4471"),
            vec![(PiiKind::Name, "Matías Ferraro".into()), (PiiKind::Phone, "11 5823-4471".into())]
        );
        assert_eq!(kinds("Guest (+1 (415) 555-0172) called"), vec![(PiiKind::Phone, "+1 (415) 555-0172".into())]);
    }
}
