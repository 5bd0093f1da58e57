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
    // Governance: security policy and incident register.
    ("security_title", "Seguridad de los datos de clientes", "Customer data security"),
    (
        "security_intro",
        "Política de seguridad de los datos de clientes (principios, responsabilidades, supervisión, gestión de incidentes y auditoría) y registro de incidentes de seguridad.",
        "Customer data security policy (principles, responsibilities, supervision, incident management and audit) and security incident register.",
    ),
    ("forbidden", "Acceso denegado", "Access denied"),
    (
        "forbidden_security",
        "Esta página requiere el permiso de gestionar la seguridad.",
        "This page needs the manage security permission.",
    ),
    ("security_policy", "Política de seguridad", "Security policy"),
    ("policy_active", "Vigentes", "In force"),
    ("policy_in_time", "Revisados a tiempo", "Reviewed in time"),
    ("policy_overdue", "Revisión vencida", "Review overdue"),
    ("policy_kinds_covered", "Ámbitos cubiertos", "Areas covered"),
    ("no_policy_items", "La política no tiene elementos todavía.", "The policy has no items yet."),
    ("review_overdue", "revisión vencida", "review overdue"),
    ("new_policy_item", "Nuevo elemento de la política", "New policy item"),
    ("edit_policy_item", "Editar elemento de la política", "Edit policy item"),
    ("incident_register", "Registro de incidentes", "Incident register"),
    ("incidents_open", "Abiertos", "Open"),
    ("incidents_closed", "Cerrados", "Closed"),
    ("mean_hours_to_close", "Horas medias hasta el cierre", "Mean hours to close"),
    ("no_incidents", "No hay incidentes registrados.", "No incidents recorded."),
    ("incident_open", "Abierto", "Open"),
    ("incident_closed", "Cerrado", "Closed"),
    ("new_incident", "Registrar un incidente", "Record an incident"),
    ("edit_incident", "Editar incidente", "Edit incident"),
    ("edit", "Editar", "Edit"),
    ("delete", "Eliminar", "Delete"),
    ("save", "Guardar", "Save"),
    ("times_in_utc", "Las horas se indican en UTC.", "Times are in UTC."),
    ("form_has_errors", "Revise estos campos:", "Please check these fields:"),
    ("f_form", "Formulario", "Form"),
    ("f_kind", "Tipo", "Kind"),
    ("f_title", "Título", "Title"),
    ("f_objective", "Objetivo", "Objective"),
    ("f_scope", "Alcance", "Scope"),
    ("f_owner_email", "Responsable (correo)", "Owner (e-mail)"),
    ("f_review_date", "Próxima revisión", "Next review"),
    ("f_status", "Estado", "Status"),
    ("f_description", "Qué ocurrió", "What happened"),
    ("f_occurred_at", "Ocurrió el", "Occurred at"),
    ("f_detected_at", "Detectado el", "Detected at"),
    ("f_data_affected", "Datos afectados", "Data affected"),
    ("f_customers_affected", "Clientes afectados", "Customers affected"),
    ("f_severity", "Gravedad", "Severity"),
    ("f_actions_taken", "Acciones tomadas", "Actions taken"),
    ("f_notified_to", "Notificado a (separado por comas)", "Notified to (comma-separated)"),
    ("f_closed_at", "Cerrado el", "Closed at"),
    ("kind_principle", "Principio", "Principle"),
    ("kind_responsibility", "Responsabilidad", "Responsibility"),
    ("kind_supervision", "Supervisión", "Supervision"),
    ("kind_incident_management", "Gestión de incidentes", "Incident management"),
    ("kind_audit", "Auditoría", "Audit"),
    ("pstatus_draft", "Borrador", "Draft"),
    ("pstatus_active", "Vigente", "In force"),
    ("pstatus_retired", "Retirado", "Retired"),
    ("sev_low", "Baja", "Low"),
    ("sev_medium", "Media", "Medium"),
    ("sev_high", "Alta", "High"),
    ("sev_critical", "Crítica", "Critical"),
    ("err_invalid", "valor no válido", "invalid value"),
    ("err_required", "es obligatorio", "is required"),
    ("err_too_long", "es demasiado largo", "is too long"),
    ("err_too_many", "tiene demasiados elementos", "has too many items"),
    ("err_invalid_date", "debe ser una fecha válida", "must be a valid date"),
    ("err_invalid_time", "debe ser una fecha y hora válidas", "must be a valid date and time"),
    ("err_invalid_email", "debe ser un correo válido", "must be a valid e-mail"),
    ("err_invalid_number", "debe ser un número entero", "must be a whole number"),
    ("err_out_of_range", "está fuera del rango permitido", "is out of range"),
    ("err_in_future", "no puede estar en el futuro", "may not be in the future"),
    ("err_before_occurred", "no puede ser anterior a cuándo ocurrió", "may not be before it occurred"),
    ("err_before_detected", "no puede ser anterior a la detección", "may not be before it was detected"),
    ("err_actions_required", "indique las acciones tomadas antes de cerrar", "say what was done before closing"),
    ("err_unknown_owner", "no es un usuario de la organización", "is not a user of the organisation"),
    ("err_invalid_label", "debe tener de 1 a 200 caracteres", "must have 1 to 200 characters"),
    // Sign-in security: password reset, second factor.
    ("forgot_password", "¿Olvidaste tu contraseña?", "Forgot your password?"),
    ("reset_title", "Restablecer la contraseña", "Reset your password"),
    (
        "reset_intro",
        "Escriba su organización y su correo: le enviaremos un enlace para elegir una contraseña nueva.",
        "Enter your organisation and e-mail: we will send you a link to choose a new password.",
    ),
    ("send_reset_link", "Enviar el enlace", "Send the link"),
    (
        "reset_sent",
        "Si existe una cuenta activa con ese correo, le hemos enviado un enlace para restablecer la contraseña. \
         Es válido durante 30 minutos.",
        "If an active account has that e-mail, we have sent it a link to reset the password. \
         It is valid for 30 minutes.",
    ),
    (
        "mail_unavailable",
        "Este servidor no puede enviar correo ahora, así que la contraseña no se puede restablecer por correo. \
         Pida ayuda a un administrador.",
        "This server cannot send mail right now, so the password cannot be reset by e-mail. \
         Ask an administrator for help.",
    ),
    (
        "too_many_requests",
        "Demasiadas solicitudes. Espere un rato y vuelva a intentarlo.",
        "Too many requests. Wait a while and try again.",
    ),
    ("back_to_sign_in", "Volver a iniciar sesión", "Back to sign in"),
    ("ask_new_link", "Pedir un enlace nuevo", "Ask for a new link"),
    ("new_password", "Contraseña nueva", "New password"),
    ("confirm_password", "Repita la contraseña nueva", "Repeat the new password"),
    ("password_rules", "Al menos 12 caracteres.", "At least 12 characters."),
    (
        "password_too_short",
        "La contraseña debe tener al menos 12 caracteres.",
        "The password needs at least 12 characters.",
    ),
    (
        "password_too_long",
        "La contraseña es demasiado larga (256 caracteres como máximo).",
        "The password is too long (256 characters at most).",
    ),
    ("passwords_differ", "Las dos contraseñas no coinciden.", "The two passwords do not match."),
    ("set_password", "Guardar la contraseña", "Save the password"),
    (
        "reset_link_invalid",
        "Este enlace no es válido, ya se usó o ha caducado. Pida uno nuevo.",
        "This link is not valid, was already used or has expired. Ask for a new one.",
    ),
    (
        "password_changed",
        "Su contraseña se ha cambiado y se han cerrado todas sus sesiones. Inicie sesión con la contraseña nueva.",
        "Your password has been changed and all your sessions have been closed. Sign in with the new password.",
    ),
    ("mail_reset_subject", "Restablecer su contraseña de Escucha", "Reset your Escucha password"),
    ("mail_greeting", "Hola:", "Hello,"),
    (
        "mail_reset_body",
        "Alguien (esperamos que usted) ha pedido restablecer la contraseña de su cuenta de Escucha. Abra este \
         enlace para elegir una nueva; es válido durante 30 minutos y sirve una sola vez:",
        "Someone (we hope you) asked to reset the password of your Escucha account. Open this link to choose a \
         new one; it is valid for 30 minutes and works once:",
    ),
    (
        "mail_reset_ignore",
        "Si no lo ha pedido usted, ignore este mensaje: su contraseña no cambia.",
        "If it was not you, ignore this message: your password stays as it is.",
    ),
    ("security", "Seguridad", "Security"),
    ("two_step", "Verificación en dos pasos", "Two-step verification"),
    ("code", "Código de verificación", "Verification code"),
    (
        "code_help",
        "Escriba el código de 6 cifras que muestra su aplicación de autenticación.",
        "Enter the 6-digit code your authenticator app shows.",
    ),
    ("verify", "Verificar", "Verify"),
    ("wrong_code", "El código no es correcto o ya se usó.", "The code is wrong or was already used."),
    ("sign_in_expired", "El inicio de sesión caducó; vuelva a empezar.", "The sign-in expired; please start again."),
    ("totp_on", "La verificación en dos pasos está activada.", "Two-step verification is on."),
    (
        "totp_off",
        "La verificación en dos pasos está desactivada. Actívela para que, además de la contraseña, se le pida \
         un código de su aplicación de autenticación.",
        "Two-step verification is off. Turn it on to be asked, besides your password, for a code from your \
         authenticator app.",
    ),
    ("totp_start", "Activar", "Turn on"),
    (
        "totp_scan",
        "Escanee el código QR con su aplicación de autenticación, o escriba la clave a mano. Después escriba \
         el código que muestra para confirmar.",
        "Scan the QR code with your authenticator app, or type the key by hand. Then enter the code it shows \
         to confirm.",
    ),
    ("totp_secret", "Clave", "Key"),
    ("totp_confirm", "Confirmar y activar", "Confirm and turn on"),
    ("totp_disable", "Desactivar", "Turn off"),
    (
        "totp_disable_help",
        "Para desactivarla, escriba un código actual de su aplicación.",
        "To turn it off, enter a current code from your app.",
    ),
    ("qr_code", "Código QR para la aplicación de autenticación", "QR code for the authenticator app"),
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
