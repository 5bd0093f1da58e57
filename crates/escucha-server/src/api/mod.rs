//! The JSON API of `API.md`, version 1. Every route is declared once in [`routes`], which builds
//! the router and lets tests enumerate the routes (OpenAPI coverage, authorisation matrix).

mod audit;
mod cases;
mod customers;
mod feedback;
mod governance;
mod idempotency;
mod metrics;
mod responses;
mod surveys;
mod tokens;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};

use crate::error::ApiError;
use crate::state::AppState;

/// Largest accepted request body: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// One API route: its path (axum syntax), the methods it answers and its handler.
pub struct Route {
    /// Path, e.g. `/api/v1/customers/{external_id}`.
    pub path: &'static str,
    /// Methods served.
    pub methods: &'static [Method],
    /// Whether a bearer token is required.
    pub authenticated: bool,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

/// Every API route, in one table.
pub fn routes() -> Vec<Route> {
    vec![
        Route { path: "/healthz", methods: &[Method::GET], authenticated: false, handler: get(healthz) },
        Route { path: "/api/v1/openapi.json", methods: &[Method::GET], authenticated: false, handler: get(openapi) },
        Route {
            path: "/api/v1/customers/{external_id}",
            methods: &[Method::PUT, Method::GET, Method::DELETE],
            authenticated: true,
            handler: put(customers::upsert).get(customers::get_one).delete(customers::erase),
        },
        Route {
            path: "/api/v1/customers/{external_id}/export",
            methods: &[Method::GET],
            authenticated: true,
            handler: get(customers::export),
        },
        Route {
            path: "/api/v1/users/{email}",
            methods: &[Method::PUT, Method::GET],
            authenticated: true,
            handler: put(users::upsert).get(users::get_one),
        },
        Route { path: "/api/v1/users", methods: &[Method::GET], authenticated: true, handler: get(users::list) },
        Route { path: "/api/v1/audit", methods: &[Method::GET], authenticated: true, handler: get(audit::list) },
        Route {
            path: "/api/v1/tokens",
            methods: &[Method::POST, Method::GET],
            authenticated: true,
            handler: post(tokens::create).get(tokens::list),
        },
        Route {
            path: "/api/v1/tokens/{id}",
            methods: &[Method::DELETE],
            authenticated: true,
            handler: axum::routing::delete(tokens::revoke),
        },
        Route {
            path: "/api/v1/surveys",
            methods: &[Method::POST, Method::GET],
            authenticated: true,
            handler: post(surveys::create).get(surveys::list),
        },
        Route {
            path: "/api/v1/surveys/{id}",
            methods: &[Method::GET],
            authenticated: true,
            handler: get(surveys::get_one),
        },
        Route {
            path: "/api/v1/responses",
            methods: &[Method::POST],
            authenticated: true,
            handler: post(responses::create),
        },
        Route {
            path: "/api/v1/responses/{id}",
            methods: &[Method::GET],
            authenticated: true,
            handler: get(responses::get_one),
        },
        Route {
            path: "/api/v1/feedback",
            methods: &[Method::POST],
            authenticated: true,
            handler: post(feedback::create),
        },
        Route { path: "/api/v1/metrics", methods: &[Method::GET], authenticated: true, handler: get(metrics::metric) },
        Route {
            path: "/api/v1/metrics/series",
            methods: &[Method::GET],
            authenticated: true,
            handler: get(metrics::series),
        },
        Route { path: "/api/v1/cases", methods: &[Method::GET], authenticated: true, handler: get(cases::list) },
        Route {
            path: "/api/v1/cases/{id}",
            methods: &[Method::GET, Method::PATCH],
            authenticated: true,
            handler: get(cases::get_one).patch(cases::update),
        },
        // Governance: security policy, incidents, retention, audit export.
        Route {
            path: "/api/v1/security/policy",
            methods: &[Method::POST, Method::GET],
            authenticated: true,
            handler: post(governance::create_policy_item).get(governance::list_policy_items),
        },
        Route {
            path: "/api/v1/security/policy/{id}",
            methods: &[Method::GET, Method::PATCH, Method::DELETE],
            authenticated: true,
            handler: get(governance::get_policy_item)
                .patch(governance::update_policy_item)
                .delete(governance::delete_policy_item),
        },
        Route {
            path: "/api/v1/security/incidents",
            methods: &[Method::POST, Method::GET],
            authenticated: true,
            handler: post(governance::create_incident).get(governance::list_incidents),
        },
        Route {
            path: "/api/v1/security/incidents/{id}",
            methods: &[Method::GET, Method::PATCH],
            authenticated: true,
            handler: get(governance::get_incident).patch(governance::update_incident),
        },
        Route {
            path: "/api/v1/retention",
            methods: &[Method::GET, Method::PUT],
            authenticated: true,
            handler: get(governance::get_retention).put(governance::put_retention),
        },
        Route {
            path: "/api/v1/retention/run",
            methods: &[Method::POST],
            authenticated: true,
            handler: post(governance::run_retention),
        },
        Route {
            path: "/api/v1/audit/export",
            methods: &[Method::GET],
            authenticated: true,
            handler: get(audit::export),
        },
    ]
}

/// The API router: every route of [`routes`], JSON 404/405 answers and the body size limit.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes() {
        router = router.route(route.path, route.handler.fallback(method_not_allowed));
    }
    router
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Answers 429 with `Retry-After` when the caller (its token, or its IP without one) is over
/// the configured request rate.
async fn rate_limit(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(limiter) = &state.limits.api else {
        return next.run(request).await;
    };
    let key = match request.headers().get(axum::http::header::AUTHORIZATION).and_then(|h| h.to_str().ok()) {
        // The hash, never the secret, is kept in memory.
        Some(auth) => format!("token:{}", &crate::auth::hash_secret(auth)[..32]),
        None => format!("ip:{}", client_ip(&request)),
    };
    match limiter.check(&key).retry_after_secs() {
        None => next.run(request).await,
        Some(retry) => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests; retry in {retry} s"),
            )
            .into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(&retry.to_string()) {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            response
        }
    }
}

/// The client's IP as the socket saw it.
pub(crate) fn client_ip(request: &axum::extract::Request) -> String {
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

async fn openapi() -> impl IntoResponse {
    axum::Json(crate::openapi::document())
}

/// Answer for a path nothing serves: JSON under `/api`, a short page elsewhere.
pub async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found("unknown_route", format!("there is no API route {}; see /api/v1/openapi.json", uri.path()))
            .into_response()
    } else {
        (StatusCode::NOT_FOUND, axum::response::Html("<!doctype html><title>404</title><p>No existe esta página. / This page does not exist. <a href=\"/dashboard\">Escucha</a>")).into_response()
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}", method, uri.path()),
    )
    .into_response()
}

/// Parses a numeric path id, answering 404 for anything that is not one (no such record).
pub(crate) fn parse_id(raw: &str, what: &'static str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::not_found("not_found", format!("there is no {what} '{}'", raw.chars().take(40).collect::<String>()))
    })
}

/// Reads `limit` (1–500, default 50) and `cursor` (an id) from query parameters.
pub(crate) fn paging(params: &[(String, String)]) -> Result<(i64, Option<i64>), ApiError> {
    let mut limit = 50;
    let mut cursor = None;
    for (k, v) in params {
        match k.as_str() {
            "limit" => {
                limit = v.parse::<i64>().ok().filter(|l| (1..=500).contains(l)).ok_or_else(|| {
                    ApiError::bad_request("invalid_parameter", "limit must be a whole number from 1 to 500")
                })?
            }
            "cursor" => {
                cursor = Some(v.parse::<i64>().ok().filter(|c| *c > 0).ok_or_else(|| {
                    ApiError::bad_request("invalid_parameter", "cursor must be a value returned as next_cursor")
                })?)
            }
            _ => {}
        }
    }
    Ok((limit, cursor))
}

/// Fails with 400 when a query has a parameter outside `allowed`.
pub(crate) fn only_params(params: &[(String, String)], allowed: &[&str]) -> Result<(), ApiError> {
    match params.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((k, _)) => Err(ApiError::bad_request(
            "unknown_parameter",
            format!("unknown query parameter '{}': use {}", k.chars().take(40).collect::<String>(), allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

/// The raw request body, with a too-large or unreadable body answered as a JSON error.
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state).await.map(RawBody).map_err(|r| {
            let status = r.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(status, "body_too_large", format!("the body may have at most {MAX_BODY_BYTES} bytes"))
            } else {
                ApiError::new(status, "invalid_body", r.body_text())
            }
        })
    }
}
