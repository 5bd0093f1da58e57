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
mod roles;
mod surveys;
mod tokens;
mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};

use escucha_core::access::Permission;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Largest accepted request body: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The permissions each method of a route needs.
pub type RoutePermissions = &'static [(Method, &'static [Permission])];

/// One API route: its path (axum syntax), the methods it answers, what each method needs and
/// its handler.
pub struct Route {
    /// Path, e.g. `/api/v1/customers/{external_id}`.
    pub path: &'static str,
    /// Methods served.
    pub methods: &'static [Method],
    /// Whether a bearer token is required.
    pub authenticated: bool,
    /// For an authenticated route, the permissions each method needs, checked before the
    /// handler runs (403 naming the first one missing). A method without an entry is refused,
    /// and the authorisation-matrix test fails for it.
    pub permissions: RoutePermissions,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

/// Every API route, in one table: path, methods, permissions, handler.
pub fn routes() -> Vec<Route> {
    use Permission::*;
    const GET: Method = Method::GET;
    const PUT: Method = Method::PUT;
    const POST: Method = Method::POST;
    const PATCH: Method = Method::PATCH;
    const DELETE: Method = Method::DELETE;
    vec![
        Route { path: "/healthz", methods: &[GET], authenticated: false, permissions: &[], handler: get(healthz) },
        Route {
            path: "/api/v1/openapi.json",
            methods: &[GET],
            authenticated: false,
            permissions: &[],
            handler: get(openapi),
        },
        Route {
            path: "/api/v1/customers",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ReadCustomers, ReadPersonalData])],
            handler: get(customers::lookup),
        },
        Route {
            path: "/api/v1/customers/{external_id}",
            methods: &[PUT, GET, DELETE],
            authenticated: true,
            permissions: &[(PUT, &[WriteCustomers]), (GET, &[ReadCustomers]), (DELETE, &[EraseData])],
            handler: put(customers::upsert).get(customers::get_one).delete(customers::erase),
        },
        Route {
            path: "/api/v1/customers/{external_id}/export",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ExportData, ReadPersonalData])],
            handler: get(customers::export),
        },
        Route {
            path: "/api/v1/users/{email}",
            methods: &[PUT, GET],
            authenticated: true,
            permissions: &[(PUT, &[ManageUsers]), (GET, &[ManageUsers])],
            handler: put(users::upsert).get(users::get_one),
        },
        Route {
            path: "/api/v1/users",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ManageUsers])],
            handler: get(users::list),
        },
        Route {
            path: "/api/v1/roles",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ManageUsers])],
            handler: get(roles::list),
        },
        Route {
            path: "/api/v1/roles/{name}",
            methods: &[PUT, DELETE],
            authenticated: true,
            permissions: &[(PUT, &[ManageUsers]), (DELETE, &[ManageUsers])],
            handler: put(roles::upsert).delete(roles::delete),
        },
        Route {
            path: "/api/v1/teams",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ReadMetrics])],
            handler: get(roles::list_teams),
        },
        Route {
            path: "/api/v1/teams/{name}",
            methods: &[PUT],
            authenticated: true,
            permissions: &[(PUT, &[ManageUsers])],
            handler: put(roles::set_team),
        },
        Route {
            path: "/api/v1/audit",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ReadAudit])],
            handler: get(audit::list),
        },
        Route {
            path: "/api/v1/tokens",
            methods: &[POST, GET],
            authenticated: true,
            permissions: &[(POST, &[ManageTokens]), (GET, &[ManageTokens])],
            handler: post(tokens::create).get(tokens::list),
        },
        Route {
            path: "/api/v1/tokens/{id}",
            methods: &[DELETE],
            authenticated: true,
            permissions: &[(DELETE, &[ManageTokens])],
            handler: axum::routing::delete(tokens::revoke),
        },
        Route {
            path: "/api/v1/surveys",
            methods: &[POST, GET],
            authenticated: true,
            permissions: &[(POST, &[ManageSurveys]), (GET, &[ReadSurveys])],
            handler: post(surveys::create).get(surveys::list),
        },
        Route {
            path: "/api/v1/surveys/{id}",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ReadSurveys])],
            handler: get(surveys::get_one),
        },
        Route {
            path: "/api/v1/responses",
            methods: &[POST],
            authenticated: true,
            permissions: &[(POST, &[WriteResponses])],
            handler: post(responses::create),
        },
        Route {
            path: "/api/v1/responses/export",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ExportData, ReadVerbatims])],
            handler: get(responses::export),
        },
        Route {
            path: "/api/v1/responses/{id}",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ReadVerbatims])],
            handler: get(responses::get_one),
        },
        Route {
            path: "/api/v1/feedback",
            methods: &[POST],
            authenticated: true,
            permissions: &[(POST, &[WriteFeedback])],
            handler: post(feedback::create),
        },
        Route {
            path: "/api/v1/metrics",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ReadMetrics])],
            handler: get(metrics::metric),
        },
        Route {
            path: "/api/v1/metrics/series",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ReadMetrics])],
            handler: get(metrics::series),
        },
        Route {
            path: "/api/v1/cases",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ReadCases])],
            handler: get(cases::list),
        },
        Route {
            path: "/api/v1/cases/{id}",
            methods: &[GET, PATCH],
            authenticated: true,
            permissions: &[(GET, &[ReadCases]), (PATCH, &[ManageCases])],
            handler: get(cases::get_one).patch(cases::update),
        },
        // Governance: security policy, incidents, retention, audit export.
        Route {
            path: "/api/v1/security/policy",
            methods: &[POST, GET],
            authenticated: true,
            permissions: &[(POST, &[ManageSecurity]), (GET, &[ManageSecurity])],
            handler: post(governance::create_policy_item).get(governance::list_policy_items),
        },
        Route {
            path: "/api/v1/security/policy/{id}",
            methods: &[GET, PATCH, DELETE],
            authenticated: true,
            permissions: &[(GET, &[ManageSecurity]), (PATCH, &[ManageSecurity]), (DELETE, &[ManageSecurity])],
            handler: get(governance::get_policy_item)
                .patch(governance::update_policy_item)
                .delete(governance::delete_policy_item),
        },
        Route {
            path: "/api/v1/security/incidents",
            methods: &[POST, GET],
            authenticated: true,
            permissions: &[(POST, &[ManageSecurity]), (GET, &[ManageSecurity])],
            handler: post(governance::create_incident).get(governance::list_incidents),
        },
        Route {
            path: "/api/v1/security/incidents/{id}",
            methods: &[GET, PATCH],
            authenticated: true,
            permissions: &[(GET, &[ManageSecurity]), (PATCH, &[ManageSecurity])],
            handler: get(governance::get_incident).patch(governance::update_incident),
        },
        Route {
            path: "/api/v1/retention",
            methods: &[GET, PUT],
            authenticated: true,
            permissions: &[(GET, &[ManageRetention]), (PUT, &[ManageRetention])],
            handler: get(governance::get_retention).put(governance::put_retention),
        },
        Route {
            path: "/api/v1/retention/run",
            methods: &[POST],
            authenticated: true,
            permissions: &[(POST, &[ManageRetention])],
            handler: post(governance::run_retention),
        },
        Route {
            path: "/api/v1/audit/export",
            methods: &[GET],
            authenticated: true,
            permissions: &[(GET, &[ReadAudit])],
            handler: get(audit::export),
        },
    ]
}

/// The API router: every route of [`routes`] behind its permission check, JSON 404/405 answers
/// and the body size limit.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes() {
        let mut handler = route.handler;
        if route.authenticated {
            let check = axum::middleware::from_fn_with_state((state.clone(), route.permissions), authorise);
            handler = handler.route_layer(check);
        }
        router = router.route(route.path, handler.fallback(method_not_allowed));
    }
    router
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The log span of a request: method and path only. Query strings can carry personal data
/// (`/api/v1/customers?email=…`), and nothing personal goes to the logs.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
}

/// The permission check of an authenticated route: resolves the caller once (401 without a valid
/// token), requires every permission the route declares for the method (403 otherwise), and
/// hands the caller to the handler through the request's extensions.
async fn authorise(
    axum::extract::State((state, permissions)): axum::extract::State<(AppState, RoutePermissions)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::extract::FromRequestParts;
    let (mut parts, body) = request.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    let Some((_, needed)) = permissions.iter().find(|(method, _)| *method == parts.method) else {
        return ApiError::forbidden(format!("no permission rule covers {} {}", parts.method, parts.uri.path()))
            .into_response();
    };
    if let Some(missing) = needed.iter().find(|p| !caller.permissions.contains(**p)) {
        return ApiError::forbidden(format!("this needs the '{missing}' permission")).into_response();
    }
    parts.extensions.insert(caller);
    next.run(axum::extract::Request::from_parts(parts, body)).await
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

/// axum's `Path`, answering a path parameter it cannot decode (e.g. `%FF`, not UTF-8) with the
/// JSON error shape (`invalid_path`, 400) instead of axum's plain-text 400.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

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
