//! Response hardening for every route: a strict Content-Security-Policy (no inline script or
//! style), no framing, no MIME sniffing, no referrer leaks, HSTS when served over TLS; and the
//! double-submit CSRF token that every staff form carries.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The Content-Security-Policy of every answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Adds the security headers to every response.
pub async fn headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if state.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://")) {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
        secure_cookies(h);
    }
    response
}

/// Marks every cookie `Secure` (served over TLS: no cookie of ours may travel in clear), in one
/// place so no page can forget it.
fn secure_cookies(h: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = h.get_all(header::SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    h.remove(header::SET_COOKIE);
    for cookie in cookies {
        let text = cookie.to_str().unwrap_or("");
        let secure = text.split(';').any(|a| a.trim().eq_ignore_ascii_case("secure"));
        let value = if secure { Some(cookie.clone()) } else { HeaderValue::from_str(&format!("{text}; Secure")).ok() };
        h.append(header::SET_COOKIE, value.unwrap_or(cookie));
    }
}

/// Cookie holding the CSRF token (double-submit: forms repeat it in a hidden field).
pub const CSRF_COOKIE: &str = "escucha_csrf";

/// The request's CSRF token, and the `Set-Cookie` value to send when it had none.
pub fn csrf_token(headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match crate::web::cookie(headers, CSRF_COOKIE).filter(|t| t.len() == 68 && t.starts_with("csr_")) {
        Some(t) => (t, None),
        None => {
            let token = crate::auth::new_secret("csr_");
            let cookie =
                HeaderValue::from_str(&format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")).ok();
            (token, cookie)
        }
    }
}

/// True when a submitted form's token matches the cookie (compared in constant time).
pub fn csrf_ok(headers: &HeaderMap, submitted: &str) -> bool {
    let Some(cookie) = crate::web::cookie(headers, CSRF_COOKIE) else {
        return false;
    };
    let (a, b) = (cookie.as_bytes(), submitted.as_bytes());
    a.len() == b.len() && !a.is_empty() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_become_secure_once() {
        let mut h = HeaderMap::new();
        h.append(header::SET_COOKIE, HeaderValue::from_static("a=1; Path=/; HttpOnly"));
        h.append(header::SET_COOKIE, HeaderValue::from_static("b=2; Path=/; Secure"));
        secure_cookies(&mut h);
        let all: Vec<&str> = h.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
        assert_eq!(all, vec!["a=1; Path=/; HttpOnly; Secure", "b=2; Path=/; Secure"]);
    }

    #[test]
    fn csrf_tokens_match_only_their_cookie() {
        let (token, set) = csrf_token(&HeaderMap::new());
        assert!(set.is_some());
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(&format!("{CSRF_COOKIE}={token}")).unwrap());
        let (again, set) = csrf_token(&h);
        assert_eq!((again.as_str(), set), (token.as_str(), None));
        assert!(csrf_ok(&h, &token));
        assert!(!csrf_ok(&h, "csr_other"));
        assert!(!csrf_ok(&HeaderMap::new(), &token));
        assert!(!csrf_ok(&h, ""));
    }
}
