//! The OpenAPI 3 document served at `/api/v1/openapi.json`: the full reference of the API.
//! A test checks that every route of [`crate::api::routes`] is documented here.

use serde_json::{Value, json};

fn error_responses() -> Value {
    json!({
        "400": {"$ref": "#/components/responses/Error"},
        "401": {"$ref": "#/components/responses/Error"},
        "403": {"$ref": "#/components/responses/Error"},
        "404": {"$ref": "#/components/responses/Error"},
        "422": {"$ref": "#/components/responses/Error"}
    })
}

fn op(summary: &str, ok_status: &str, ok_schema: Value, body: Option<Value>, params: Value) -> Value {
    let mut responses = error_responses();
    responses[ok_status] = json!({"description": "Success", "content": {"application/json": {"schema": ok_schema}}});
    let mut o = json!({"summary": summary, "parameters": params, "responses": responses});
    if let Some(schema) = body {
        o["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": schema}}});
    }
    o
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn query_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})
}

fn idempotency_header() -> Value {
    json!({"name": "Idempotency-Key", "in": "header", "required": false,
        "description": "Same key and body again returns the first result (header Idempotent-Replayed: true); another body with the same key is refused with 422 idempotency_key_reused.",
        "schema": {"type": "string", "maxLength": 255}})
}

fn metric_params() -> Vec<Value> {
    vec![
        json!({"name": "metric", "in": "query", "required": true, "schema": {"type": "string", "enum": ["nps", "csat", "dsat", "ces", "cadv"]}}),
        query_param(
            "by",
            "Comma list of up to two dimensions: region, product, channel, team, employee, touchpoint, journey_stage, segment, language, survey, attr.NAME",
        ),
        query_param("from", "First day included, YYYY-MM-DD (UTC)"),
        query_param("to", "Last day included, YYYY-MM-DD (UTC)"),
        query_param("survey_id", "Only this survey"),
        json!({"name": "filter[DIM]", "in": "query", "required": false, "description": "Only responses whose dimension DIM equals the value; repeatable", "schema": {"type": "string"}}),
        query_param(
            "compare",
            "'previous': compare each group with the period of equal length just before from..to, with significance",
        ),
    ]
}

/// The document, with each operation's required permissions (`x-permissions`, from the route
/// table) so clients know which token scopes and roles a call needs.
pub fn document() -> Value {
    let mut doc = base_document();
    doc["paths"]["/api/v1/responses/export"] = export_path();
    for route in crate::api::routes() {
        for (method, permissions) in route.permissions {
            let op = &mut doc["paths"][route.path][method.as_str().to_lowercase()];
            if op.is_object() {
                op["x-permissions"] = json!(permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>());
            }
        }
    }
    doc
}

/// `GET /api/v1/responses/export` (kept apart: the main document is at the `json!` macro's depth limit).
fn export_path() -> Value {
    json!({"get": {"summary": "The caller's responses as CSV (id, survey_id, submitted_at, customer_external_id, context dimensions, segment, language, nps, csat, ces, cadv, verbatim), oldest first; only the caller's data scope, selected in the store query; verbatims redacted without read_personal_data; audited as responses.export; at most 200,000 rows (422 export_too_large: narrow from/to)", "parameters": [query_param("from", "inclusive, YYYY-MM-DD or RFC 3339"), query_param("to", "exclusive"), query_param("survey_id", "only this survey")], "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}})
}

fn base_document() -> Value {
    let metric_description = "Metric definitions (exact): nps = 100 × (promoters − detractors) / n over answers 0–10 (promoters 9–10, detractors 0–6), ci95 = value ± 196 × sqrt((p + d − (p − d)²) / n) clipped to [−100, 100]. csat = 100 × share of 4–5 on 1–5; dsat = 100 × share of 1–2; cadv = 100 × share of 4–5; their ci95 is the Wilson interval × 100. ces = mean of 1–7 answers with a Student's t ci95, plus share_easy = 100 × share of 5–7. nev (planned) = mean over respondents of 100 × (positive − negative) / (positive + negative) emotions picked, Student's t ci95. n counts answers to the metric's question. Groups with n = 0 are left out. Values are not rounded.";
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Escucha API",
            "version": "1",
            "description": "Voice-of-the-Customer platform. JSON in and out; times RFC 3339 UTC; dates YYYY-MM-DD. Authenticate with 'Authorization: Bearer TOKEN'. Errors: {\"error\": {\"code\", \"message\", \"details\"}} with 4xx for the caller's faults."
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "description": "Stable snake_case code"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"}}}}
                }}}},
                "Customer": {"type": "object", "properties": {
                    "external_id": {"type": "string"}, "name": {"type": "string", "nullable": true}, "email": {"type": "string", "nullable": true},
                    "phone": {"type": "string", "nullable": true}, "language": {"type": "string", "nullable": true}, "region": {"type": "string", "nullable": true},
                    "segment": {"type": "string", "nullable": true}, "lifecycle_stage": {"type": "string", "nullable": true},
                    "annual_value": {"type": "number", "nullable": true}, "owner_email": {"type": "string", "nullable": true},
                    "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
                    "personal_data_hidden": {"type": "boolean", "description": "Present (true) when the caller lacks read_personal_data: name, email and phone are left out"}
                }},
                "User": {"type": "object", "properties": {"email": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string", "enum": ["admin", "analyst", "manager", "agent", "viewer"]}, "manager_email": {"type": "string"}, "team": {"type": "string"}, "region": {"type": "string"}, "custom_role": {"type": "string", "nullable": true, "description": "A custom role (PUT /api/v1/roles/{name}) whose permissions replace the built-in role's; null removes it"}, "scope": {"type": "object", "nullable": true, "description": "Explicit data scope {kind: organisation|regions|teams|own_accounts, values}; null returns to the default from role, region and team", "properties": {"kind": {"type": "string"}, "values": {}}}}},
                "Question": {"type": "object", "required": ["id", "type", "text"], "properties": {
                    "id": {"type": "string"},
                    "type": {"type": "string", "enum": ["nps", "csat", "ces", "cadv", "emotions", "repurchase", "rating", "single_choice", "multi_choice", "text"]},
                    "text": {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "string"}}]},
                    "required": {"type": "boolean"},
                    "options": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"id": {"type": "string"}, "text": {}}}]}},
                    "scale": {"type": "integer", "minimum": 2, "maximum": 10, "description": "Top of a rating scale (default 5)"},
                    "show_if": {"type": "object", "properties": {"question": {"type": "string"}, "op": {"type": "string", "enum": ["eq", "ne", "lt", "lte", "gt", "gte", "in", "answered"]}, "value": {}}}
                }},
                "SurveyInput": {"type": "object", "required": ["name", "languages", "questions"], "properties": {
                    "name": {"type": "string"}, "languages": {"type": "array", "items": {"type": "string"}},
                    "questions": {"type": "array", "items": {"$ref": "#/components/schemas/Question"}}, "touchpoint": {"type": "string"}
                }},
                "Survey": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "version": {"type": "integer"}, "languages": {"type": "array", "items": {"type": "string"}}, "questions": {"type": "array", "items": {"$ref": "#/components/schemas/Question"}}, "touchpoint": {"type": "string", "nullable": true}}},
                "Context": {"type": "object", "properties": {"region": {"type": "string"}, "product": {"type": "string"}, "channel": {"type": "string"}, "team": {"type": "string"}, "employee_email": {"type": "string"}, "touchpoint": {"type": "string"}, "journey_stage": {"type": "string"}}},
                "ResponseInput": {"type": "object", "required": ["survey_id", "answers"], "properties": {
                    "survey_id": {"type": "integer"}, "invitation_token": {"type": "string"}, "customer_external_id": {"type": "string"},
                    "answers": {"type": "object", "description": "question id → value: a number for score questions, an option id for single_choice, a list of ids for multi_choice and emotions, a string for text"},
                    "context": {"$ref": "#/components/schemas/Context"}, "submitted_at": {"type": "string", "format": "date-time"}, "language": {"type": "string"}
                }},
                "FeedbackInput": {"type": "object", "required": ["text", "source"], "properties": {
                    "text": {"type": "string"}, "source": {"type": "string", "enum": ["call", "email", "conversation", "social", "other"]},
                    "customer_external_id": {"type": "string"}, "captured_by_email": {"type": "string"}, "touchpoint": {"type": "string"}, "occurred_at": {"type": "string", "format": "date-time"}
                }},
                "Case": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "customer_external_id": {"type": "string"}, "owner_email": {"type": "string"}, "manager_email": {"type": "string", "nullable": true},
                    "reason": {"type": "string", "description": "Rule code, e.g. nps_detractor, csat_dissatisfied"}, "priority": {"type": "string", "enum": ["normal", "high"]},
                    "status": {"type": "string", "enum": ["open", "in_progress", "resolved", "closed"]}, "due_at": {"type": "string", "format": "date-time"},
                    "root_cause": {"type": "string", "nullable": true}, "resolution": {"type": "string", "nullable": true}, "created_at": {"type": "string", "format": "date-time"}
                }},
                "MetricCell": {"type": "object", "properties": {"key": {"type": "object"}, "n": {"type": "integer"}, "value": {"type": "number", "nullable": true}, "ci95": {"type": "array", "items": {"type": "number"}, "nullable": true}}},
                "MetricResult": {"type": "object", "description": metric_description, "properties": {"metric": {"type": "string"}, "total": {"$ref": "#/components/schemas/MetricCell"}, "groups": {"type": "array", "items": {"$ref": "#/components/schemas/MetricCell"}}}},
                "SeriesResult": {"type": "object", "properties": {"metric": {"type": "string"}, "interval": {"type": "string"}, "points": {"type": "array", "items": {"type": "object", "properties": {"start": {"type": "string", "format": "date"}, "n": {"type": "integer"}, "value": {"type": "number", "nullable": true}, "ci95": {"type": "array", "items": {"type": "number"}}}}}}}
            }
        },
        "security": [{"bearer": []}],
        "paths": {
            "/healthz": {"get": {"summary": "Ready to serve", "security": [], "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string"}}}}}}}}},
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3 document"}}}},
            "/api/v1/customers/{external_id}": {
                "parameters": [path_param("external_id", "The customer's id in your systems")],
                "put": op("Create (201) or update (200) a customer; absent fields are kept, null clears", "200", json!({"$ref": "#/components/schemas/Customer"}), Some(json!({"$ref": "#/components/schemas/Customer"})), json!([])),
                "delete": {"summary": "Erasure on request (admin): contact data, external id, free-text answers, verbatims, feedback texts and case notes are destroyed; scores stay anonymous so metrics do not move; audited", "responses": {"204": {"description": "Erased"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
                "get": op("A customer, with `latest_scores`: the newest answer to each metric (nps, csat, ces, cadv) as {value, submitted_at, response_id}", "200", json!({"$ref": "#/components/schemas/Customer"}), None, json!([]))
            },
            "/api/v1/customers/{external_id}/export": {
                "parameters": [path_param("external_id", "The customer's id in your systems")],
                "get": op("Everything held about one customer (data-subject access, admin): the record, responses with answers, cases, feedback; recorded in the audit log", "200", json!({"type": "object", "properties": {"exported_at": {"type": "string", "format": "date-time"}, "customer": {"$ref": "#/components/schemas/Customer"}, "responses": {"type": "array", "items": {"type": "object"}}, "cases": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}, "feedback": {"type": "array", "items": {"type": "object"}}}}), None, json!([]))
            },
            "/api/v1/users": {"get": op("Users of the organisation (admin, analyst)", "200", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}}}), None, json!([]))},
            "/api/v1/users/{email}": {
                "parameters": [path_param("email", "The user's e-mail")],
                "put": op("Create (201) or update (200) a user (admin)", "200", json!({"$ref": "#/components/schemas/User"}), Some(json!({"$ref": "#/components/schemas/User"})), json!([])),
                "get": op("A user", "200", json!({"$ref": "#/components/schemas/User"}), None, json!([]))
            },
            "/api/v1/customers": {"get": op("Customers with this e-mail (case-insensitive), inside the caller's scope, found through a keyed hash (blind index) without decrypting anyone else; audited", "200", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}), None, json!([query_param("email", "The e-mail to look up (required)")]))},
            "/api/v1/roles": {"get": op("Custom roles and every permission that exists", "200", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "permissions": {"type": "array", "items": {"type": "string"}}}}}, "permissions": {"type": "array", "items": {"type": "string"}}}}), None, json!([]))},
            "/api/v1/roles/{name}": {
                "parameters": [path_param("name", "Role name: 1–40 of a-z 0-9 _ -, not a built-in role")],
                "put": op("Create (201) or replace (200) a custom role: {permissions: [...]}; nobody grants what they do not hold", "200", json!({"type": "object"}), Some(json!({"type": "object", "required": ["permissions"], "properties": {"permissions": {"type": "array", "items": {"type": "string"}}}})), json!([])),
                "delete": {"summary": "Delete a custom role (409 role_in_use while users hold it)", "responses": {"204": {"description": "Deleted"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}
            },
            "/api/v1/teams": {"get": op("The team tree: each team with its parent; team scopes include sub-teams", "200", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "parent": {"type": "string", "nullable": true}}}}}}), None, json!([]))},
            "/api/v1/teams/{name}": {
                "parameters": [path_param("name", "Team name")],
                "put": op("Place a team under a parent ({parent: NAME | null}); 409 team_cycle when the parent is below the team", "200", json!({"type": "object"}), Some(json!({"type": "object", "properties": {"parent": {"type": "string", "nullable": true}}})), json!([]))
            },
            "/api/v1/audit": {"get": op("The audit log (admin), newest first: sign-ins, token and user changes, survey creation, views and changes of customer data and cases", "200", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"}, "action": {"type": "string"}, "target": {"type": "string", "nullable": true}, "detail": {"type": "object"}, "ip": {"type": "string", "nullable": true}}}}, "next_cursor": {"type": "integer", "nullable": true}}}), None, json!([
                query_param("action", "e.g. sign_in.failure, token.create, customer.view"), query_param("actor", "user e-mail or token:NAME"),
                query_param("from", "inclusive, YYYY-MM-DD or RFC 3339"), query_param("to", "exclusive"), query_param("limit", "1–500"), query_param("cursor", "next_cursor")
            ]))},
            "/api/v1/tokens": {
                "post": op("Create an API token: {name, role | user_email, expires_at?, scopes?}; scopes (read_metrics, read_data, write_responses, manage_surveys, admin; default admin) narrow what the role allows; nobody mints more than they hold; the answer carries the secret, shown only this once", "201", json!({"type": "object", "properties": {"id": {"type": "integer"}, "secret": {"type": "string"}, "name": {"type": "string"}, "role": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}, "expires_at": {"type": "string", "format": "date-time", "nullable": true}}}), Some(json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "role": {"type": "string"}, "user_email": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}, "scopes": {"type": "array", "items": {"type": "string", "enum": ["read_metrics", "read_data", "write_responses", "manage_surveys", "admin"]}}}})), json!([])),
                "get": op("Live API tokens (admin), newest first, with last use; never the secrets", "200", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}}), None, json!([]))
            },
            "/api/v1/tokens/{id}": {
                "parameters": [path_param("id", "Token id")],
                "delete": {"summary": "Revoke a token at once (admin)", "responses": {"204": {"description": "Revoked"}, "404": {"$ref": "#/components/responses/Error"}}}
            },
            "/api/v1/surveys": {
                "post": op("Create a survey (admin, analyst); every problem in the definition is reported at once", "201", json!({"$ref": "#/components/schemas/Survey"}), Some(json!({"$ref": "#/components/schemas/SurveyInput"})), json!([idempotency_header()])),
                "get": op("Surveys, newest first", "200", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Survey"}}}}), None, json!([]))
            },
            "/api/v1/surveys/{id}": {"parameters": [path_param("id", "Survey id")], "get": op("A survey", "200", json!({"$ref": "#/components/schemas/Survey"}), None, json!([]))},
            "/api/v1/responses": {"post": op("Submit a response; a detractor of a customer with an owner opens a case for the owner with their manager named", "201", json!({"type": "object", "properties": {"id": {"type": "integer"}, "case_id": {"type": "integer", "nullable": true}}}), Some(json!({"$ref": "#/components/schemas/ResponseInput"})), json!([idempotency_header()]))},
            "/api/v1/responses/{id}": {"parameters": [path_param("id", "Response id")], "get": op("A response", "200", json!({"type": "object"}), None, json!([]))},
            "/api/v1/feedback": {"post": op("Log customer voice from a call, e-mail or conversation", "201", json!({"type": "object", "properties": {"id": {"type": "integer"}}}), Some(json!({"$ref": "#/components/schemas/FeedbackInput"})), json!([idempotency_header()]))},
            "/api/v1/metrics": {"get": op(metric_description, "200", json!({"$ref": "#/components/schemas/MetricResult"}), None, json!(metric_params()))},
            "/api/v1/metrics/series": {"get": op("A metric as a time series", "200", json!({"$ref": "#/components/schemas/SeriesResult"}), None, {
                let mut p = metric_params();
                p.push(query_param("interval", "day, week (ISO, Monday) or month"));
                json!(p)
            })},
            "/api/v1/cases": {"get": op("Cases, newest first", "200", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}, "next_cursor": {"type": "integer", "nullable": true}}}), None, json!([
                query_param("status", "open, in_progress, resolved or closed"), query_param("owner_email", "Only this owner's cases"),
                query_param("limit", "1–500, default 50"), query_param("cursor", "next_cursor of the previous page")
            ]))},
            "/api/v1/cases/{id}": {
                "parameters": [path_param("id", "Case id")],
                "get": op("A case", "200", json!({"$ref": "#/components/schemas/Case"}), None, json!([])),
                "patch": op("Move a case along; resolving or closing needs a resolution", "200", json!({"$ref": "#/components/schemas/Case"}), Some(json!({"type": "object", "properties": {"status": {"type": "string"}, "root_cause": {"type": "string"}, "resolution": {"type": "string"}, "note": {"type": "string"}}})), json!([]))
            }
        }
    });
    governance_paths(&mut doc);
    doc
}

/// Governance: the security policy, the incident register, retention rules and the audit export.
fn governance_paths(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    schemas["PolicyItem"] = json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["principle", "responsibility", "supervision", "incident_management", "audit"]},
        "title": {"type": "string", "maxLength": 200}, "objective": {"type": "string", "maxLength": 5000},
        "scope": {"type": "string", "maxLength": 5000},
        "owner_email": {"type": "string", "description": "A staff user of the organisation"},
        "review_date": {"type": "string", "format": "date"},
        "status": {"type": "string", "enum": ["draft", "active", "retired"], "default": "draft"},
        "review_overdue": {"type": "boolean", "readOnly": true, "description": "Not retired and the review date has passed"},
        "created_at": {"type": "string", "format": "date-time", "readOnly": true},
        "updated_at": {"type": "string", "format": "date-time", "readOnly": true}
    }});
    schemas["Incident"] = json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string", "description": "What happened, in a line"},
        "description": {"type": "string", "nullable": true},
        "occurred_at": {"type": "string", "format": "date-time"},
        "detected_at": {"type": "string", "format": "date-time", "description": "Not before occurred_at"},
        "data_affected": {"type": "string"},
        "customers_affected": {"type": "integer", "minimum": 0},
        "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
        "actions_taken": {"type": "string", "nullable": true, "description": "Required to close"},
        "notified_to": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
        "closed_at": {"type": "string", "format": "date-time", "nullable": true, "description": "null reopens"},
        "open": {"type": "boolean", "readOnly": true},
        "reported_by": {"type": "string", "readOnly": true},
        "created_at": {"type": "string", "format": "date-time", "readOnly": true},
        "updated_at": {"type": "string", "format": "date-time", "readOnly": true}
    }});
    schemas["RetentionRules"] = json!({"type": "object", "required": ["rules"], "properties": {
        "rules": {"type": "array", "items": {"type": "object", "required": ["kind", "months"], "properties": {
            "kind": {"type": "string", "enum": ["inactive_customer_contact", "free_text", "audit_log", "closed_case_notes"],
                "description": "inactive_customer_contact: customers with no response, feedback, update or case activity for the period (and no case being worked) are erased as on request, scores kept anonymous; free_text: free-text answers, verbatims and feedback texts older than the period are redacted, scores kept; audit_log: entries older than the period are deleted (at least 12 months); closed_case_notes: notes of cases closed longer ago are deleted"},
            "months": {"type": "integer", "minimum": 1, "maximum": 1200}
        }}},
        "kinds": {"type": "array", "readOnly": true, "items": {"type": "object"}}
    }});
    let policy = json!({"$ref": "#/components/schemas/PolicyItem"});
    let incident = json!({"$ref": "#/components/schemas/Incident"});
    let retention = json!({"$ref": "#/components/schemas/RetentionRules"});
    let paths = &mut doc["paths"];
    paths["/api/v1/security/policy"] = json!({
        "post": op("Add an item to the customer-data security policy (manage_security); audited", "201", policy.clone(), Some(policy.clone()), json!([])),
        "get": op("The security policy items, newest first, with stats {items, active, active_reviewed_in_time, overdue, kinds_covered} (manage_security)", "200",
            json!({"type": "object", "properties": {"items": {"type": "array", "items": policy.clone()}, "stats": {"type": "object"}}}), None, json!([]))
    });
    paths["/api/v1/security/policy/{id}"] = json!({
        "parameters": [path_param("id", "Policy item id")],
        "get": op("A policy item (manage_security)", "200", policy.clone(), None, json!([])),
        "patch": op("Change the fields given (manage_security); audited", "200", policy.clone(), Some(policy.clone()), json!([])),
        "delete": {"summary": "Delete a policy item (manage_security); audited", "responses": {"204": {"description": "Deleted"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}
    });
    paths["/api/v1/security/incidents"] = json!({
        "post": op("Record a security incident (manage_security); audited", "201", incident.clone(), Some(incident.clone()), json!([])),
        "get": op("The incident register, newest first, with stats {total, open, closed, mean_hours_to_close} (manage_security)", "200",
            json!({"type": "object", "properties": {"items": {"type": "array", "items": incident.clone()}, "next_cursor": {"type": "integer", "nullable": true}, "stats": {"type": "object"}}}), None,
            json!([query_param("status", "open or closed"), query_param("limit", "1–500, default 50"), query_param("cursor", "next_cursor")]))
    });
    paths["/api/v1/security/incidents/{id}"] = json!({
        "parameters": [path_param("id", "Incident id")],
        "get": op("An incident (manage_security)", "200", incident.clone(), None, json!([])),
        "patch": op("Change the fields given; closed_at closes (needs actions_taken), null reopens (manage_security); audited", "200", incident.clone(), Some(incident), json!([]))
    });
    paths["/api/v1/retention"] = json!({
        "get": op("Retention rules per data kind (manage_retention)", "200", retention.clone(), None, json!([])),
        "put": op("Replace the retention rules (manage_retention); a kind left out has no rule; audited. The server applies them daily", "200", retention.clone(), Some(retention), json!([]))
    });
    paths["/api/v1/retention/run"] = json!({
        "post": op("Apply the retention rules now, or only count with dry_run=true (manage_retention); an applied run is audited as retention.applied with its counts", "200",
            json!({"type": "object", "properties": {"dry_run": {"type": "boolean"}, "ran_at": {"type": "string", "format": "date-time"}, "rules": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string"}, "months": {"type": "integer"}, "cutoff": {"type": "string", "format": "date-time"}, "counts": {"type": "object", "additionalProperties": {"type": "integer"}}}}}}}),
            None, json!([query_param("dry_run", "true to count only")]))
    });
    let mut export = op(
        "The audit log as CSV (id, at, actor, action, target, detail, ip), newest first, same filters as /api/v1/audit (read_audit); the export is audited as audit.export",
        "200",
        json!({"type": "string"}),
        None,
        json!([
            query_param("action", "e.g. sign_in.failure"),
            query_param("actor", "user e-mail or token:NAME"),
            query_param("from", "inclusive, YYYY-MM-DD or RFC 3339"),
            query_param("to", "exclusive")
        ]),
    );
    export["responses"]["200"]["content"] = json!({"text/csv": {"schema": {"type": "string"}}});
    paths["/api/v1/audit/export"] = json!({"get": export});
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented() {
        let doc = document();
        for route in crate::api::routes() {
            let item = &doc["paths"][route.path];
            assert!(item.is_object(), "{} is missing from the OpenAPI document", route.path);
            for m in route.methods {
                let m = m.as_str().to_lowercase();
                assert!(item[&m].is_object(), "{} {} is missing from the OpenAPI document", m, route.path);
                if route.authenticated {
                    assert!(item[&m]["x-permissions"].is_array(), "{m} {} lists no permissions", route.path);
                }
            }
        }
    }
}
