//! The staff pages' words in Spanish and English. The language comes from `?lang=`, then the
//! `escucha_lang` cookie, then `Accept-Language`, defaulting to Spanish.

use axum::http::HeaderMap;

/// A supported interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Español.
    Es,
    /// English.
    En,
}

impl Lang {
    /// Tag for `<html lang>` and cookies.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    /// Parses `es`/`en` (and regional variants).
    pub fn parse(raw: &str) -> Option<Lang> {
        let primary = raw.trim().split(['-', '_', ';']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "es" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the language for a request.
    pub fn negotiate(query_lang: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(l) = query_lang.and_then(Lang::parse) {
            return l;
        }
        if let Some(l) = super::cookie(headers, LANG_COOKIE).as_deref().and_then(Lang::parse) {
            return l;
        }
        let accept = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut pieces = part.split(';');
            let Some(lang) = pieces.next().and_then(Lang::parse) else { continue };
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Es)
    }

    /// The other language, for the switch link.
    pub fn other(self) -> Lang {
        match self {
            Lang::Es => Lang::En,
            Lang::En => Lang::Es,
        }
    }

    /// The word for `key` in this language; the key itself when missing (a test checks none is).
    pub fn t(self, key: &str) -> &'static str {
        TEXTS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, es, en)| if self == Lang::Es { *es } else { *en })
            .unwrap_or("?")
    }
}

/// Cookie holding the chosen language.
pub const LANG_COOKIE: &str = "escucha_lang";

/// Every interface text: key, Spanish, English.
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("app_name", "Escucha", "Escucha"),
    ("sign_in", "Iniciar sesión", "Sign in"),
    ("sign_out", "Cerrar sesión", "Sign out"),
    ("organisation", "Organización", "Organisation"),
    ("email", "Correo electrónico", "E-mail"),
    ("password", "Contraseña", "Password"),
    ("bad_credentials", "Organización, correo o contraseña incorrectos.", "Wrong organisation, e-mail or password."),
    ("dashboard", "Panel", "Dashboard"),
    ("switch_language", "English", "Español"),
    ("nps", "NPS", "NPS"),
    ("csat", "CSAT", "CSAT"),
    ("ces", "CES", "CES"),
    (
        "nps_help",
        "Net Promoter Score: % promotores (9–10) − % detractores (0–6)",
        "Net Promoter Score: % promoters (9–10) − % detractors (0–6)",
    ),
    ("csat_help", "% de clientes satisfechos (4–5 sobre 5)", "% of satisfied customers (4–5 out of 5)"),
    ("ces_help", "Facilidad media (1–7; más alto es más fácil)", "Mean ease (1–7; higher is easier)"),
    ("answers", "respuestas", "answers"),
    ("margin", "IC 95 %", "95% CI"),
    ("no_data", "Sin datos todavía", "No data yet"),
    ("nps_by_region", "NPS por región", "NPS by region"),
    (
        "chart_note",
        "Barras: NPS; líneas: intervalo de confianza del 95 %.",
        "Bars: NPS; lines: 95% confidence interval.",
    ),
    ("latest_cases", "Últimos casos", "Latest cases"),
    ("no_cases", "No hay casos.", "No cases."),
    ("customer", "Cliente", "Customer"),
    ("owner", "Responsable", "Owner"),
    ("manager", "Jefe", "Manager"),
    ("reason", "Motivo", "Reason"),
    ("status", "Estado", "Status"),
    ("due", "Vence", "Due"),
    ("priority", "Prioridad", "Priority"),
    ("reason_nps_detractor", "Detractor NPS", "NPS detractor"),
    ("reason_csat_dissatisfied", "Insatisfecho CSAT", "Dissatisfied CSAT"),
    ("status_open", "Abierto", "Open"),
    ("status_in_progress", "En curso", "In progress"),
    ("status_resolved", "Resuelto", "Resolved"),
    ("status_closed", "Cerrado", "Closed"),
    ("priority_high", "Alta", "High"),
    ("priority_normal", "Normal", "Normal"),
    ("overdue", "vencido", "overdue"),
    ("signed_in_as", "Sesión de", "Signed in as"),
    ("unknown", "sin dato", "unknown"),
    (
        "too_many_attempts",
        "Demasiados intentos fallidos. Espere unos minutos y vuelva a intentarlo.",
        "Too many failed attempts. Wait a few minutes and try again.",
    ),
    ("form_expired", "El formulario caducó; vuelva a intentarlo.", "The form expired; please try again."),
    // OpenID Connect sign-in.
    ("or", "o", "or"),
    ("sign_in_with", "Entrar con", "Sign in with"),
    ("oidc_refused", "No se pudo iniciar sesión", "Sign-in failed"),
    ("oidc_back_to_sign_in", "Volver a iniciar sesión", "Back to sign-in"),
    (
        "oidc_not_configured",
        "El inicio de sesión con un proveedor de identidad no está configurado.",
        "Sign-in with an identity provider is not configured.",
    ),
    (
        "oidc_unavailable",
        "No se pudo contactar con el proveedor de identidad. Vuelva a intentarlo en unos minutos.",
        "The identity provider could not be reached. Try again in a few minutes.",
    ),
    (
        "oidc_failed",
        "La respuesta del proveedor de identidad no es válida. Vuelva a intentarlo.",
        "The identity provider's answer is not valid. Please try again.",
    ),
    (
        "oidc_expired",
        "El inicio de sesión caducó o se empezó en otra ventana. Vuelva a intentarlo.",
        "The sign-in expired or was started in another window. Please try again.",
    ),
    (
        "oidc_denied",
        "El proveedor de identidad no autorizó el inicio de sesión.",
        "The identity provider did not authorise the sign-in.",
    ),
    (
        "oidc_no_email",
        "El proveedor de identidad no envió su correo electrónico; pida a su administrador que lo incluya.",
        "The identity provider did not send your e-mail address; ask your administrator to include it.",
    ),
    (
        "oidc_email_not_verified",
        "Su correo electrónico no está verificado en el proveedor de identidad.",
        "Your e-mail address is not verified at the identity provider.",
    ),
    (
        "oidc_unknown_user",
        "Su cuenta no tiene acceso a Escucha en esta organización. Pida a un administrador que le dé de alta.",
        "Your account has no access to Escucha in this organisation. Ask an administrator to add you.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_order() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::negotiate(None, &h), Lang::Es);
        h.insert("accept-language", "en-GB,en;q=0.9,es;q=0.5".parse().unwrap());
        assert_eq!(Lang::negotiate(None, &h), Lang::En);
        h.insert("accept-language", "fr;q=1,es;q=0.8,en;q=0.3".parse().unwrap());
        assert_eq!(Lang::negotiate(None, &h), Lang::Es);
        h.insert("cookie", "a=b; escucha_lang=en".parse().unwrap());
        assert_eq!(Lang::negotiate(None, &h), Lang::En);
        assert_eq!(Lang::negotiate(Some("es"), &h), Lang::Es);
    }

    #[test]
    fn every_text_has_both_languages_and_unique_keys() {
        let mut keys = std::collections::HashSet::new();
        for (k, es, en) in TEXTS {
            assert!(keys.insert(k), "duplicate key {k}");
            assert!(!es.is_empty() && !en.is_empty(), "{k} lacks a translation");
        }
    }
}
