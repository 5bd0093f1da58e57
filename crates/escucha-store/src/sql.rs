//! SQL text shared by both backends. It sticks to what SQLite and PostgreSQL both accept:
//! `$n` placeholders, `RETURNING`, `ON CONFLICT … DO NOTHING / DO UPDATE`, no casts and no
//! backend functions. Statements that must differ (row locks, the job claim) live in the backend
//! modules. Every statement on tenant data filters by `org_id`.

/// Columns of an organisation row.
macro_rules! org_cols {
    () => {
        "id, slug, name"
    };
}

/// Columns of a user row (never the password hash).
macro_rules! user_cols {
    () => {
        "id, org_id, email, name, role, manager_email, team, region, custom_role, scope"
    };
}

/// Columns of a token row.
macro_rules! token_cols {
    () => {
        "id, org_id, name, role, user_id, expires_at, last_used_at, created_at, scopes"
    };
}

/// Columns of a customer row.
macro_rules! customer_cols {
    () => {
        "id, org_id, external_id, name, email, phone, language, region, segment, lifecycle_stage, \
         annual_value, owner_email, attributes, erased_at, created_at, updated_at"
    };
}

/// Columns of a survey row.
macro_rules! survey_cols {
    () => {
        "id, org_id, name, version, definition, touchpoint, created_at"
    };
}

/// Columns of a response row joined with its customer (`r`, `c`).
macro_rules! response_select {
    () => {
        "SELECT r.id, r.org_id, r.survey_id, r.survey_version, r.customer_id, \
         c.external_id AS customer_external_id, r.invitation_id, r.answers, r.region, r.product, \
         r.channel, r.team, r.employee_email, r.touchpoint, r.journey_stage, r.segment, r.language, \
         r.nps, r.csat, r.ces, r.cadv, r.repurchase, r.emotions, r.verbatim, r.submitted_at, \
         r.created_at \
         FROM responses r LEFT JOIN customers c ON c.org_id = r.org_id AND c.id = r.customer_id"
    };
}

/// Columns of a case row joined with its customer (`k`, `c`).
macro_rules! case_select {
    () => {
        "SELECT k.id, k.org_id, k.customer_id, c.external_id AS customer_external_id, k.response_id, \
         k.owner_email, k.manager_email, k.reason, k.priority, k.status, k.due_at, k.root_cause, \
         k.resolution, k.notes, k.created_at, k.updated_at, k.closed_at \
         FROM cases k JOIN customers c ON c.org_id = k.org_id AND c.id = k.customer_id"
    };
}

/// Columns of a job row.
macro_rules! job_cols {
    () => {
        "id, org_id, kind, payload, status, attempts, run_at, last_error, created_at"
    };
}

pub(crate) use {customer_cols, job_cols, response_select};

pub(crate) const INSERT_ORG: &str =
    concat!("INSERT INTO orgs (slug, name, created_at) VALUES ($1, $2, $3) RETURNING ", org_cols!());
pub(crate) const ORG_BY_SLUG: &str = concat!("SELECT ", org_cols!(), " FROM orgs WHERE slug = $1");
pub(crate) const ORG_BY_ID: &str = concat!("SELECT ", org_cols!(), " FROM orgs WHERE id = $1");

pub(crate) const INSERT_TOKEN: &str = concat!(
    "INSERT INTO api_tokens (org_id, name, role, user_id, hash, expires_at, created_at, scopes) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
    token_cols!()
);
pub(crate) const TOKEN_BY_HASH: &str =
    concat!("SELECT ", token_cols!(), " FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL");
/// A live token with the user it acts as, in one read (every API request makes it).
pub(crate) const TOKEN_AND_USER_BY_HASH: &str = "SELECT t.id, t.org_id, t.name, t.role, t.user_id, t.expires_at, \
     t.last_used_at, t.created_at, t.scopes, u.email AS u_email, u.name AS u_name, u.role AS u_role, \
     u.manager_email AS u_manager_email, u.team AS u_team, u.region AS u_region, u.custom_role AS u_custom_role, \
     u.scope AS u_scope \
     FROM api_tokens t LEFT JOIN users u ON u.org_id = t.org_id AND u.id = t.user_id \
     WHERE t.hash = $1 AND t.revoked_at IS NULL";
pub(crate) const TOUCH_TOKEN: &str = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
pub(crate) const REVOKE_TOKEN: &str =
    "UPDATE api_tokens SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL";
pub(crate) const LIST_TOKENS: &str =
    concat!("SELECT ", token_cols!(), " FROM api_tokens WHERE org_id = $1 AND revoked_at IS NULL ORDER BY id DESC");

pub(crate) const INSERT_SESSION: &str =
    "INSERT INTO sessions (org_id, user_id, hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const SESSION_BY_HASH: &str = "SELECT u.id, u.org_id, u.email, u.name, u.role, u.manager_email, u.team, u.region, \
     u.custom_role, u.scope \
     FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id \
     WHERE s.hash = $1 AND s.expires_at > $2";
pub(crate) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE hash = $1";
pub(crate) const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";
pub(crate) const DELETE_EXPIRED_CHALLENGES: &str = "DELETE FROM sign_in_challenges WHERE expires_at <= $1";
pub(crate) const DELETE_EXPIRED_RESETS: &str = "DELETE FROM password_resets WHERE expires_at <= $1";

pub(crate) const INSERT_USER: &str = concat!(
    "INSERT INTO users (org_id, email, name, role, manager_email, team, region, created_at, updated_at, \
     custom_role, scope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) ON CONFLICT (org_id, email) DO NOTHING RETURNING ",
    user_cols!()
);
pub(crate) const UPDATE_USER: &str = concat!(
    "UPDATE users SET name = COALESCE($3, name), role = COALESCE($4, role), \
     manager_email = COALESCE($5, manager_email), team = COALESCE($6, team), \
     region = COALESCE($7, region), updated_at = $8, \
     custom_role = CASE WHEN $9 THEN $10 ELSE custom_role END, scope = CASE WHEN $11 THEN $12 ELSE scope END \
     WHERE org_id = $1 AND email = $2 RETURNING ",
    user_cols!()
);
pub(crate) const USER_BY_EMAIL: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE org_id = $1 AND email = $2");
pub(crate) const USER_BY_ID: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE org_id = $1 AND id = $2");
pub(crate) const LIST_USERS: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE org_id = $1 ORDER BY email");
pub(crate) const SET_PASSWORD: &str =
    "UPDATE users SET password_hash = $3, updated_at = $4 WHERE org_id = $1 AND email = $2";
pub(crate) const PASSWORD_HASH: &str = "SELECT password_hash FROM users WHERE org_id = $1 AND email = $2";

pub(crate) const CUSTOMER_BY_EXTERNAL_ID: &str =
    concat!("SELECT ", customer_cols!(), " FROM customers WHERE org_id = $1 AND external_id = $2");
pub(crate) const CUSTOMER_BY_ID: &str =
    concat!("SELECT ", customer_cols!(), " FROM customers WHERE org_id = $1 AND id = $2");
pub(crate) const INSERT_CUSTOMER: &str = "INSERT INTO customers (org_id, external_id, name, email, phone, language, region, \
     segment, lifecycle_stage, annual_value, owner_email, attributes, erased_at, created_at, updated_at, email_index) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
     ON CONFLICT (org_id, external_id) DO NOTHING RETURNING id";
pub(crate) const UPDATE_CUSTOMER: &str = "UPDATE customers SET name = $3, email = $4, phone = $5, language = $6, region = $7, \
     segment = $8, lifecycle_stage = $9, annual_value = $10, owner_email = $11, attributes = $12, \
     erased_at = $13, updated_at = $14, email_index = $15 WHERE org_id = $1 AND id = $2";
pub(crate) const COUNT_CUSTOMERS: &str = "SELECT COUNT(*) FROM customers WHERE org_id = $1";

pub(crate) const UPSERT_JOURNEY: &str = "INSERT INTO journeys (org_id, key, name, stages, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (org_id, key) \
     DO UPDATE SET name = excluded.name, stages = excluded.stages, updated_at = excluded.updated_at \
     RETURNING id, org_id, key, name, stages";
pub(crate) const LIST_JOURNEYS: &str =
    "SELECT id, org_id, key, name, stages FROM journeys WHERE org_id = $1 ORDER BY key";

pub(crate) const INSERT_SURVEY: &str = concat!(
    "INSERT INTO surveys (org_id, name, version, definition, touchpoint, created_at, updated_at) \
     VALUES ($1, $2, 1, $3, $4, $5, $5) RETURNING ",
    survey_cols!()
);
pub(crate) const INSERT_SURVEY_VERSION: &str =
    "INSERT INTO survey_versions (survey_id, org_id, version, definition, created_at) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const SURVEY_BY_ID: &str = concat!("SELECT ", survey_cols!(), " FROM surveys WHERE org_id = $1 AND id = $2");
pub(crate) const LIST_SURVEYS: &str =
    concat!("SELECT ", survey_cols!(), " FROM surveys WHERE org_id = $1 ORDER BY id DESC");

/// Multi-row insert of responses: [`INSERT_RESPONSES`], then [`RESPONSE_ROW`] per row (see
/// [`multi_row`]), then `RETURNING id`.
pub(crate) const INSERT_RESPONSES: &str = "INSERT INTO responses (org_id, survey_id, survey_version, customer_id, \
     invitation_id, answers, region, product, channel, team, employee_email, touchpoint, journey_stage, segment, \
     language, nps, csat, ces, cadv, repurchase, emotions, verbatim, submitted_at, created_at) VALUES ";
/// One row of [`INSERT_RESPONSES`]: 24 parameters.
pub(crate) const RESPONSE_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
pub(crate) const RESPONSE_BY_ID: &str = concat!(response_select!(), " WHERE r.org_id = $1 AND r.id = $2");
/// A customer's responses, newest first (index `responses_customer`).
pub(crate) const RESPONSES_OF_CUSTOMER: &str = concat!(
    response_select!(),
    " WHERE r.org_id = $1 AND r.customer_id = $2 ORDER BY r.submitted_at DESC, r.id DESC LIMIT $3"
);
/// Responses oldest first for exports, filtered; scope lists are appended by
/// [`responses_page_in_scope`].
pub(crate) const RESPONSES_PAGE: &str = concat!(
    response_select!(),
    " WHERE r.org_id = $1 AND r.id > $2 AND ($3 IS NULL OR r.submitted_at >= $3) \
     AND ($4 IS NULL OR r.submitted_at < $4) AND ($5 IS NULL OR r.survey_id = $5) \
     AND ($6 IS NULL OR c.owner_email = $6) ORDER BY r.id LIMIT $7"
);

/// [`RESPONSES_PAGE`] with `r.region IN (…)` and `r.team IN (…)` (bound as `$8…`, regions first).
pub(crate) fn responses_page_in_scope(regions: usize, teams: usize) -> String {
    let Some((head, tail)) = RESPONSES_PAGE.split_once(" ORDER BY") else {
        return RESPONSES_PAGE.to_string();
    };
    let params = |from: usize, n: usize| (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let mut text = head.to_string();
    if regions > 0 {
        text.push_str(&format!(" AND r.region IN ({})", params(8, regions)));
    }
    if teams > 0 {
        text.push_str(&format!(" AND r.team IN ({})", params(8 + regions, teams)));
    }
    text.push_str(" ORDER BY");
    text.push_str(tail);
    text
}
pub(crate) const COUNT_RESPONSES: &str = "SELECT COUNT(*) FROM responses WHERE org_id = $1";
pub(crate) const INDEX_FEED: &str = "SELECT r.id, r.org_id, r.survey_id, r.submitted_at, r.region, r.product, r.channel, \
     r.team, r.employee_email, r.touchpoint, r.journey_stage, r.segment, r.language, r.nps, r.csat, \
     r.ces, r.cadv, r.repurchase, c.attributes, c.owner_email \
     FROM responses r LEFT JOIN customers c ON c.org_id = r.org_id AND c.id = r.customer_id \
     WHERE r.id > $1 ORDER BY r.id LIMIT $2";

/// [`LIST_CASES`] restricted to cases whose customer is in one of `regions` regions and whose
/// owner is a member of one of `teams` teams (bound as `$6…`, regions first); with neither it is
/// [`LIST_CASES`] itself.
pub(crate) fn list_cases_in_scope(regions: usize, teams: usize) -> String {
    let Some((head, tail)) = LIST_CASES.split_once(" ORDER BY") else {
        return LIST_CASES.to_string();
    };
    if regions == 0 && teams == 0 {
        return LIST_CASES.to_string();
    }
    let params = |from: usize, n: usize| (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let mut text = head.to_string();
    if regions > 0 {
        text.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM customers cr WHERE cr.org_id = k.org_id AND cr.id = k.customer_id \
             AND cr.region IN ({}))",
            params(6, regions)
        ));
    }
    if teams > 0 {
        text.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM users tu WHERE tu.org_id = k.org_id AND tu.email = k.owner_email \
             AND tu.team IN ({}))",
            params(6 + regions, teams)
        ));
    }
    text.push_str(" ORDER BY");
    text.push_str(tail);
    text
}

/// Multi-row insert of new cases, with [`CASE_ROW`] per row.
pub(crate) const INSERT_CASES: &str = "INSERT INTO cases (org_id, customer_id, response_id, owner_email, manager_email, \
     reason, priority, status, due_at, notes, created_at, updated_at) VALUES ";
/// One row of [`INSERT_CASES`]: 10 parameters.
pub(crate) const CASE_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, 'open', ?, '[]', ?, ?)";
pub(crate) const CASE_BY_ID: &str = concat!(case_select!(), " WHERE k.org_id = $1 AND k.id = $2");
/// Optional filters are written `($n IS NULL OR col = $n)` so one statement serves every
/// combination; the indexes `(org_id, status, id)` and `(org_id, owner_email, id)` serve them.
pub(crate) const LIST_CASES: &str = concat!(
    case_select!(),
    " WHERE k.org_id = $1 AND ($2 IS NULL OR k.status = $2) AND ($3 IS NULL OR k.owner_email = $3) \
     AND ($4 IS NULL OR k.id < $4) ORDER BY k.id DESC LIMIT $5"
);
pub(crate) const SAVE_CASE: &str = "UPDATE cases SET owner_email = $3, manager_email = $4, priority = $5, status = $6, \
     due_at = $7, root_cause = $8, resolution = $9, notes = $10, updated_at = $11, closed_at = $12 \
     WHERE org_id = $1 AND id = $2 AND updated_at = $13";
/// A customer's cases, newest first.
pub(crate) const CASES_OF_CUSTOMER: &str =
    concat!(case_select!(), " WHERE k.org_id = $1 AND k.customer_id = $2 ORDER BY k.id DESC LIMIT $3");
/// A customer's feedback items, newest first.
pub(crate) const FEEDBACK_OF_CUSTOMER: &str = "SELECT id, org_id, text, source, customer_id, captured_by_email, \
     touchpoint, occurred_at, created_at FROM feedback WHERE org_id = $1 AND customer_id = $2 \
     ORDER BY occurred_at DESC, id DESC LIMIT $3";
pub(crate) const COUNT_CASES: &str = "SELECT COUNT(*) FROM cases WHERE org_id = $1 AND ($2 IS NULL OR status = $2)";

pub(crate) const INSERT_FEEDBACK: &str = "INSERT INTO feedback (org_id, text, source, customer_id, captured_by_email, touchpoint, \
     occurred_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     RETURNING id, org_id, text, source, customer_id, captured_by_email, touchpoint, occurred_at, created_at";

/// Multi-row insert of new jobs, with [`JOB_ROW`] per row.
pub(crate) const INSERT_JOBS: &str =
    "INSERT INTO jobs (org_id, kind, payload, status, attempts, run_at, created_at, updated_at) VALUES ";
/// One row of [`INSERT_JOBS`]: 6 parameters.
pub(crate) const JOB_ROW: &str = "(?, ?, ?, 'pending', 0, ?, ?, ?)";
pub(crate) const COMPLETE_JOB: &str = "UPDATE jobs SET status = 'done', updated_at = $2 WHERE id = $1";
pub(crate) const RETRY_JOB: &str =
    "UPDATE jobs SET status = 'pending', run_at = $3, last_error = $2, updated_at = $4 WHERE id = $1";
pub(crate) const FAIL_JOB: &str = "UPDATE jobs SET status = 'failed', last_error = $2, updated_at = $3 WHERE id = $1";
pub(crate) const LIST_JOBS: &str =
    concat!("SELECT ", job_cols!(), " FROM jobs WHERE org_id = $1 ORDER BY id DESC LIMIT $2");

pub(crate) const INSERT_IDEMPOTENCY: &str = "INSERT INTO idempotency (org_id, key, request_hash, resource, resource_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";
pub(crate) const IDEMPOTENCY_BY_KEY: &str =
    "SELECT request_hash, resource, resource_id FROM idempotency WHERE org_id = $1 AND key = $2";

/// Rows per multi-row insert: 200 responses are 4,800 parameters, well under SQLite's 32,766 and
/// PostgreSQL's 65,535, and a full chunk always has the same SQL text, so its prepared statement
/// is reused from the connection's cache.
pub(crate) const ROWS_PER_INSERT: usize = 200;

/// A multi-row statement: `head`, then `rows` copies of the row template `row` separated by
/// commas, then `tail`. With `Some(marker)` every `?` of the templates is numbered
/// `{marker}1, {marker}2, …` in order (PostgreSQL needs `$n`); with `None` the `?` stay
/// anonymous, bound in order. SQLite gets anonymous ones: for a named or numbered parameter the
/// driver asks SQLite its name, which SQLite finds by a linear scan, so binding 4,800 of them
/// costs millions of steps per execution.
/// Templates are our own constants, so a `?` never stands inside a literal.
pub(crate) fn multi_row(marker: Option<char>, head: &str, row: &str, rows: usize, tail: &str) -> String {
    let mut out = String::with_capacity(head.len() + rows * (row.len() + row.len() / 2) + tail.len());
    out.push_str(head);
    let mut n = 0;
    for i in 0..rows {
        if i > 0 {
            out.push_str(", ");
        }
        for ch in row.chars() {
            if let (Some(marker), '?') = (marker, ch) {
                n += 1;
                out.push(marker);
                out.push_str(&n.to_string());
            } else {
                out.push(ch);
            }
        }
    }
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_numbers_parameters_across_rows() {
        assert_eq!(
            multi_row(Some('$'), "INSERT INTO t (a, b, c) VALUES ", "(?, 'x', ?)", 2, " RETURNING id"),
            "INSERT INTO t (a, b, c) VALUES ($1, 'x', $2), ($3, 'x', $4) RETURNING id"
        );
        assert_eq!(multi_row(None, "INSERT INTO t (a) VALUES ", "(?)", 2, ""), "INSERT INTO t (a) VALUES (?), (?)");
        assert_eq!(RESPONSE_ROW.matches('?').count(), 24);
        assert_eq!(CASE_ROW.matches('?').count(), 10);
        assert_eq!(JOB_ROW.matches('?').count(), 6);
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    #[test]
    fn region_scopes_add_a_numbered_in_list_before_the_order() {
        let q = list_cases_in_scope(2, 0);
        assert!(q.contains("cr.region IN ($6, $7)) ORDER BY k.id DESC LIMIT $5"), "{q}");
        assert_eq!(list_cases_in_scope(0, 0), LIST_CASES);
        let q = list_cases_in_scope(1, 2);
        assert!(q.contains("cr.region IN ($6)) AND EXISTS"), "{q}");
        assert!(q.contains("tu.team IN ($7, $8)) ORDER BY k.id DESC LIMIT $5"), "{q}");
    }
}

pub(crate) const INSERT_AUDIT: &str =
    "INSERT INTO audit_log (org_id, at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const LIST_AUDIT: &str = "SELECT id, at, actor, action, target, detail, ip FROM audit_log \
     WHERE org_id = $1 AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR actor = $3) \
     AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) AND ($6 IS NULL OR id < $6) \
     ORDER BY id DESC LIMIT $7";

/// Erasure: the customer's contact data and external id go; what remains is anonymous.
pub(crate) const ERASE_CUSTOMER: &str = "UPDATE customers SET external_id = $3, name = NULL, email = NULL, phone = NULL, \
     email_index = NULL, \
     erased_at = $4, updated_at = $4 WHERE org_id = $1 AND id = $2";
pub(crate) const ERASE_RESPONSE_TEXT: &str =
    "UPDATE responses SET answers = $3, verbatim = NULL WHERE org_id = $1 AND id = $2 AND customer_id = $4";
pub(crate) const ERASE_FEEDBACK_TEXT: &str = "UPDATE feedback SET text = $3 WHERE org_id = $1 AND customer_id = $2";
pub(crate) const ERASE_CASE_NOTES: &str = "UPDATE cases SET notes = $3 WHERE org_id = $1 AND customer_id = $2";

pub(crate) const CUSTOMERS_BY_EMAIL_INDEX: &str =
    concat!("SELECT ", customer_cols!(), " FROM customers WHERE org_id = $1 AND email_index = $2 ORDER BY id");
/// Every customer with contact data, across organisations, for re-sealing under a new key.
pub(crate) const CUSTOMERS_WITH_CONTACT: &str = concat!(
    "SELECT ",
    customer_cols!(),
    " FROM customers WHERE id > $1 AND (name IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL) ORDER BY id LIMIT $2"
);
pub(crate) const RESEAL_CUSTOMER: &str =
    "UPDATE customers SET name = $3, email = $4, phone = $5, email_index = $6 WHERE org_id = $1 AND id = $2";

pub(crate) const UPSERT_ROLE: &str = "INSERT INTO roles (org_id, name, permissions, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (org_id, name) DO UPDATE SET permissions = $3, updated_at = $4";
pub(crate) const ROLE_EXISTS: &str = "SELECT COUNT(*) FROM roles WHERE org_id = $1 AND name = $2";
pub(crate) const LIST_ROLES: &str = "SELECT name, permissions FROM roles WHERE org_id = $1 ORDER BY name";
pub(crate) const DELETE_ROLE: &str = "DELETE FROM roles WHERE org_id = $1 AND name = $2";
pub(crate) const USERS_WITH_ROLE: &str = "SELECT COUNT(*) FROM users WHERE org_id = $1 AND custom_role = $2";

pub(crate) const LIST_TEAMS: &str = "SELECT name, parent FROM teams WHERE org_id = $1 ORDER BY name";
pub(crate) const UPSERT_TEAM: &str = "INSERT INTO teams (org_id, name, parent, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (org_id, name) DO UPDATE SET parent = $3, updated_at = $4";

pub(crate) const KEYRING_CHECK: &str = "SELECT name, value FROM keyring_check ORDER BY name";
pub(crate) const INSERT_KEYRING_CHECK: &str =
    "INSERT INTO keyring_check (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
pub(crate) const DELETE_KEYRING_KEY: &str = "DELETE FROM keyring_check WHERE name = $1";
// Sign-in security.

/// Creates the key's row when missing and returns it; on PostgreSQL the `DO UPDATE` also locks
/// the row until the transaction ends, so concurrent failures for one key apply one by one.
pub(crate) const LOCK_ATTEMPT_ROW: &str = "INSERT INTO attempt_throttle \
     (key, window_start, failures, lockouts, locked_until, last_seen) VALUES ($1, $2, 0, 0, NULL, $2) \
     ON CONFLICT (key) DO UPDATE SET key = excluded.key \
     RETURNING window_start, failures, lockouts, locked_until, last_seen";
pub(crate) const UPDATE_ATTEMPT_ROW: &str = "UPDATE attempt_throttle SET window_start = $2, failures = $3, \
     lockouts = $4, locked_until = $5, last_seen = $6 WHERE key = $1";
pub(crate) const ATTEMPT_LOCK: &str = "SELECT locked_until FROM attempt_throttle WHERE key = $1 AND locked_until > $2";
pub(crate) const CLEAR_ATTEMPTS: &str = "DELETE FROM attempt_throttle WHERE key = $1";
pub(crate) const PURGE_ATTEMPTS: &str =
    "DELETE FROM attempt_throttle WHERE (locked_until IS NULL OR locked_until <= $1) AND last_seen < $2";

pub(crate) const INSERT_PASSWORD_RESET: &str = "INSERT INTO password_resets \
     (org_id, user_id, token_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const PASSWORD_RESET_USER: &str = "SELECT u.id, u.org_id, u.email, u.name, u.role, u.manager_email, u.team, \
     u.region, u.custom_role, u.scope FROM password_resets p JOIN users u ON u.org_id = p.org_id AND u.id = p.user_id \
     WHERE p.token_hash = $1 AND p.used_at IS NULL AND p.expires_at > $2";
pub(crate) const CONSUME_PASSWORD_RESET: &str = "UPDATE password_resets SET used_at = $2 \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING org_id, user_id";
pub(crate) const SET_PASSWORD_BY_ID: &str =
    "UPDATE users SET password_hash = $3, updated_at = $4 WHERE org_id = $1 AND id = $2";
pub(crate) const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE org_id = $1 AND user_id = $2";
pub(crate) const DELETE_USER_CHALLENGES: &str = "DELETE FROM sign_in_challenges WHERE org_id = $1 AND user_id = $2";
pub(crate) const EXPIRE_OTHER_RESETS: &str =
    "UPDATE password_resets SET used_at = $3 WHERE org_id = $1 AND user_id = $2 AND used_at IS NULL";

pub(crate) const UPSERT_PENDING_TOTP: &str = "INSERT INTO user_totp \
     (org_id, user_id, secret_sealed, enabled_at, last_step, created_at) VALUES ($1, $2, $3, NULL, NULL, $4) \
     ON CONFLICT (org_id, user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
     created_at = excluded.created_at WHERE user_totp.enabled_at IS NULL";
pub(crate) const TOTP_STATE: &str =
    "SELECT secret_sealed, enabled_at, last_step FROM user_totp WHERE org_id = $1 AND user_id = $2";
pub(crate) const ENABLE_TOTP: &str = "UPDATE user_totp SET enabled_at = $4, last_step = $3 \
     WHERE org_id = $1 AND user_id = $2 AND enabled_at IS NULL";
pub(crate) const ACCEPT_TOTP_STEP: &str = "UPDATE user_totp SET last_step = $3 WHERE org_id = $1 AND user_id = $2 \
     AND enabled_at IS NOT NULL AND (last_step IS NULL OR last_step < $3)";
pub(crate) const DELETE_TOTP: &str = "DELETE FROM user_totp WHERE org_id = $1 AND user_id = $2";

pub(crate) const INSERT_CHALLENGE: &str =
    "INSERT INTO sign_in_challenges (org_id, user_id, hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const CHALLENGE_BY_HASH: &str = "SELECT u.id, u.org_id, u.email, u.name, u.role, u.manager_email, u.team, \
     u.region, u.custom_role, u.scope FROM sign_in_challenges s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id \
     WHERE s.hash = $1 AND s.expires_at > $2";
pub(crate) const DELETE_CHALLENGE: &str = "DELETE FROM sign_in_challenges WHERE hash = $1";
