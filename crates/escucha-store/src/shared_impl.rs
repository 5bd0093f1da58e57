// The `Store` implementation both backends share, written once and compiled twice: `sqlite.rs`
// and `postgres.rs` each `include!` this file after defining, in their own module:
// - `type Db` (the sqlx database) and `type ThisStore` (the store struct, with a `pool` field);
// - `const PARAM_MARKER: Option<char>` (how generated multi-row statements number their
//   placeholders, see `sql::multi_row`),
//   `const BACKEND: &str` and `const CUSTOMER_FOR_UPDATE: &str` (the customer select that locks
//   the row where the backend needs it);
// - inherent methods `begin_write` (a transaction that will write), `begin_response_write` (one
//   that writes responses, keeping the feed in commit order) and `claim_jobs_impl`.
// sqlx generics over `Database` make every query bound a higher-ranked trait puzzle; compiling
// concrete code per backend keeps the code plain while the SQL text (`crate::sql`) and the row
// mapping (`crate::rows`) stay shared.
// `cargo fmt` does not reach an included file: format it with
// `rustfmt --edition 2024 --config-path rustfmt.toml crates/escucha-store/src/shared_impl.rs`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;

use escucha_core::access::CustomRole;
use escucha_core::case::{Case, CaseStatus, NewCase};
use escucha_core::customer::{Customer, CustomerPatch};
use escucha_core::feedback::{Feedback, NewFeedback};
use escucha_core::ids::{CaseId, CustomerId, JobId, OrgId, ResponseId, SurveyId, TokenId, UserId};
use escucha_core::job::{Job, JobKind, jobs_for_case, jobs_for_response};
use escucha_core::journey::Journey;
use escucha_core::org::{Organisation, Role, User, UserFields};
use escucha_core::response::Response;
use escucha_core::survey::Survey;
use escucha_core::values::{Email, ExternalId, Label, Slug};

use crate::codec::{Ts, ts_opt};
use crate::crypto::KeyRing;
use crate::rows::{
    CaseRow, CustomerRow, FeedbackRow, IdempotencyRow, IndexFeedRow, JourneyRow, OrgRow, ResponseRow, RoleRow,
    SurveyRow, TeamRow, TokenRow, UserRow, convert_all,
};
use crate::{
    ApiToken, CaseFilter, IdempotencyRecord, IdempotentResult, IndexRow, NewSurvey, NewToken, ResponseWrite, Store,
    StoreError, StoreResult, TeamNode, sql,
};

type Tx = sqlx::Transaction<'static, Db>;

/// Fixed input of the blind-index check value.
const KEYRING_CHECK_CONTEXT: &str = "escucha/keyring-check";

/// Refuses to start with a key ring that does not match the database: the blind-index key
/// (derived from the ring's first key) must be the one the database was written with, and every
/// key that sealed data must be in the ring. Without this check a process started with another
/// key would write values no other process can read, or find nobody by e-mail.
async fn check_key_ring(pool: &sqlx::Pool<Db>, keys: &KeyRing) -> StoreResult<()> {
    let expected = keys.blind_index(KEYRING_CHECK_CONTEXT, "escucha");
    sqlx::query(sql::INSERT_KEYRING_CHECK).bind("blind_index").bind(expected.as_str()).execute(pool).await?;
    let rows: Vec<(String, String)> = sqlx::query_as(sql::KEYRING_CHECK).fetch_all(pool).await?;
    let known = keys.key_ids();
    for (name, value) in rows {
        if name == "blind_index" && value != expected {
            return Err(StoreError::Config(
                "the encryption key ring does not match this database (its first key differs): give every process \
                 the ESCUCHA_SECRET_KEY or secret.key the database was written with"
                    .into(),
            ));
        }
        if let Some(id) = name.strip_prefix("key:")
            && !known.contains(&id)
        {
            return Err(StoreError::Config(format!(
                "this database holds personal data sealed with key '{id}', which this process's key ring lacks: \
                 give every process the same ESCUCHA_SECRET_KEY or secret.key"
            )));
        }
    }
    // Only a ring that passed may record its key as in use.
    sqlx::query(sql::INSERT_KEYRING_CHECK)
        .bind(format!("key:{}", keys.current_key_id()))
        .bind("in use")
        .execute(pool)
        .await?;
    Ok(())
}

/// After re-sealing everything under the current key, records it as the only key in use.
async fn forget_old_keys(pool: &sqlx::Pool<Db>, keys: &KeyRing) -> StoreResult<()> {
    let current = format!("key:{}", keys.current_key_id());
    sqlx::query(sql::INSERT_KEYRING_CHECK).bind(current.as_str()).bind("in use").execute(pool).await?;
    let rows: Vec<(String, String)> = sqlx::query_as(sql::KEYRING_CHECK).fetch_all(pool).await?;
    for (name, _) in rows {
        if name.starts_with("key:") && name != current {
            sqlx::query(sql::DELETE_KEYRING_KEY).bind(name).execute(pool).await?;
        }
    }
    Ok(())
}

/// Writes the idempotency record of a request inside its transaction.
async fn insert_idempotency(tx: &mut Tx, org: OrgId, record: &IdempotencyRecord, resource_id: i64) -> StoreResult<()> {
    sqlx::query(sql::INSERT_IDEMPOTENCY)
        .bind(org.0)
        .bind(record.key.as_str())
        .bind(record.request_hash.as_str())
        .bind(record.resource.as_str())
        .bind(resource_id)
        .bind(Ts(Utc::now()))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Reads a customer by external id inside a write transaction, locking the row where the
/// backend needs it.
async fn customer_for_update(
    tx: &mut Tx,
    keys: &KeyRing,
    org: OrgId,
    external_id: &str,
) -> StoreResult<Option<(Customer, crate::contact::RawContact)>> {
    let row: Option<CustomerRow> =
        sqlx::query_as(CUSTOMER_FOR_UPDATE).bind(org.0).bind(external_id).fetch_optional(&mut **tx).await?;
    row.map(|r| crate::contact::open_for_update(keys, r)).transpose()
}

/// Writes every field of a stored customer read as `before` (with its stored ciphertexts `raw`):
/// unchanged contact fields keep their ciphertext.
async fn update_customer(
    tx: &mut Tx,
    keys: &KeyRing,
    before: &Customer,
    raw: &crate::contact::RawContact,
    c: &Customer,
) -> StoreResult<()> {
    let sealed = crate::contact::seal_update(keys, before, raw, c)?;
    sqlx::query(sql::UPDATE_CUSTOMER)
        .bind(c.org_id.0)
        .bind(c.id.0)
        .bind(sealed.name)
        .bind(sealed.email)
        .bind(sealed.phone)
        .bind(c.language.as_ref().map(|l| l.as_str()))
        .bind(c.region.as_ref().map(Label::as_str))
        .bind(c.segment.as_ref().map(Label::as_str))
        .bind(c.lifecycle_stage.as_ref().map(Label::as_str))
        .bind(c.annual_value)
        .bind(c.owner_email.as_ref().map(Email::as_str))
        .bind(Json(&c.attributes))
        .bind(ts_opt(c.erased_at))
        .bind(Ts(c.updated_at))
        .bind(sealed.email_index)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts a new customer; `None` when another transaction inserted the same external id first.
async fn insert_customer(tx: &mut Tx, keys: &KeyRing, c: &Customer) -> StoreResult<Option<CustomerId>> {
    let sealed = crate::contact::seal(keys, c)?;
    let id: Option<i64> = sqlx::query_scalar(sql::INSERT_CUSTOMER)
        .bind(c.org_id.0)
        .bind(c.external_id.as_str())
        .bind(sealed.name)
        .bind(sealed.email)
        .bind(sealed.phone)
        .bind(c.language.as_ref().map(|l| l.as_str()))
        .bind(c.region.as_ref().map(Label::as_str))
        .bind(c.segment.as_ref().map(Label::as_str))
        .bind(c.lifecycle_stage.as_ref().map(Label::as_str))
        .bind(c.annual_value)
        .bind(c.owner_email.as_ref().map(Email::as_str))
        .bind(Json(&c.attributes))
        .bind(ts_opt(c.erased_at))
        .bind(Ts(c.created_at))
        .bind(Ts(c.updated_at))
        .bind(sealed.email_index)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(id.map(CustomerId))
}

/// Applies one customer upsert inside the batch transaction.
async fn upsert_customer(
    tx: &mut Tx,
    keys: &KeyRing,
    org: OrgId,
    external_id: ExternalId,
    patch: CustomerPatch,
    now: DateTime<Utc>,
) -> StoreResult<(Customer, bool)> {
    if let Some((current, raw)) = customer_for_update(tx, keys, org, external_id.as_str()).await? {
        let c = patch.apply_to(current.clone(), now);
        update_customer(tx, keys, &current, &raw, &c).await?;
        return Ok((c, false));
    }
    let mut c = patch.clone().apply_to(Customer::blank(org, external_id.clone(), now), now);
    if let Some(id) = insert_customer(tx, keys, &c).await? {
        c.id = id;
        return Ok((c, true));
    }
    // Another transaction created it between our read and our insert (PostgreSQL only: SQLite
    // writers are serialised): it exists now, so update it under its row lock.
    let (current, raw) = customer_for_update(tx, keys, org, external_id.as_str())
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("customer '{external_id}' changed concurrently")))?;
    let c = patch.apply_to(current.clone(), now);
    update_customer(tx, keys, &current, &raw, &c).await?;
    Ok((c, false))
}

type Args = <Db as sqlx::Database>::Arguments;

/// Runs a multi-row insert returning ids, and returns them in input order: within one
/// statement rows are inserted in `VALUES` order and take increasing ids (on PostgreSQL response
/// writers also hold the response-writer lock), so the sorted ids are the rows' ids in order.
async fn insert_returning_ids<'q>(
    tx: &mut Tx,
    query: sqlx::query::QueryScalar<'q, Db, i64, Args>,
    rows: usize,
) -> StoreResult<Vec<i64>> {
    let mut ids = query.fetch_all(&mut **tx).await?;
    if ids.len() != rows {
        return Err(StoreError::Corrupt(format!("inserted {rows} rows but got {} ids back", ids.len())));
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Writes responses with their cases and jobs, in multi-row statements of
/// [`sql::ROWS_PER_INSERT`]; returns the ids in input order.
async fn insert_response_batch(
    tx: &mut Tx,
    org: OrgId,
    items: &[ResponseWrite],
    now: Ts,
) -> StoreResult<Vec<(ResponseId, Option<CaseId>)>> {
    let label = |l: &Option<Label>| l.as_ref().map(|l| l.as_str().to_owned());
    let mut response_ids = Vec::with_capacity(items.len());
    for chunk in items.chunks(sql::ROWS_PER_INSERT) {
        let text = sql::multi_row(PARAM_MARKER, sql::INSERT_RESPONSES, sql::RESPONSE_ROW, chunk.len(), " RETURNING id");
        let mut q = sqlx::query_scalar::<Db, i64>(sqlx::AssertSqlSafe(text));
        for item in chunk {
            let r = &item.response;
            let ctx = &r.context;
            q = q
                .bind(org.0)
                .bind(r.survey_id.0)
                .bind(r.survey_version)
                .bind(r.customer_id.map(|c| c.0))
                .bind(r.invitation_id.map(|i| i.0))
                .bind(Json(&r.answers))
                .bind(label(&ctx.region))
                .bind(label(&ctx.product))
                .bind(label(&ctx.channel))
                .bind(label(&ctx.team))
                .bind(ctx.employee_email.as_ref().map(Email::as_str))
                .bind(label(&ctx.touchpoint))
                .bind(label(&ctx.journey_stage))
                .bind(label(&r.segment))
                .bind(r.language.as_ref().map(|l| l.as_str()))
                .bind(r.scores.nps.map(i16::from))
                .bind(r.scores.csat.map(i16::from))
                .bind(r.scores.ces.map(i16::from))
                .bind(r.scores.cadv.map(i16::from))
                .bind(r.scores.repurchase.map(i16::from))
                .bind(Json(&r.emotions))
                .bind(r.verbatim.as_deref())
                .bind(Ts(r.submitted_at))
                .bind(now);
        }
        response_ids.extend(insert_returning_ids(tx, q, chunk.len()).await?.into_iter().map(ResponseId));
    }

    let cases: Vec<(usize, &NewCase)> =
        items.iter().enumerate().filter_map(|(i, item)| item.case.as_ref().map(|c| (i, c))).collect();
    let mut case_ids: Vec<Option<CaseId>> = vec![None; items.len()];
    for chunk in cases.chunks(sql::ROWS_PER_INSERT) {
        let text = sql::multi_row(PARAM_MARKER, sql::INSERT_CASES, sql::CASE_ROW, chunk.len(), " RETURNING id");
        let mut q = sqlx::query_scalar::<Db, i64>(sqlx::AssertSqlSafe(text));
        for (i, case) in chunk {
            q = q
                .bind(org.0)
                .bind(case.customer_id.0)
                .bind(response_ids[*i].0)
                .bind(case.owner_email.as_str())
                .bind(case.manager_email.as_ref().map(Email::as_str))
                .bind(case.reason.as_str())
                .bind(case.priority.as_str())
                .bind(Ts(case.due_at))
                .bind(Ts(case.opened_at))
                .bind(Ts(case.opened_at));
        }
        let ids = insert_returning_ids(tx, q, chunk.len()).await?;
        for ((i, _), id) in chunk.iter().zip(ids) {
            case_ids[*i] = Some(CaseId(id));
        }
    }

    let mut jobs: Vec<JobKind> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if !item.queue_jobs {
            continue;
        }
        jobs.extend(jobs_for_response(response_ids[i], item.response.verbatim.is_some()));
        if let (Some(case_id), Some(case)) = (case_ids[i], &item.case) {
            jobs.extend(jobs_for_case(case_id, case.manager_email.is_some()));
        }
    }
    for chunk in jobs.chunks(sql::ROWS_PER_INSERT) {
        let text = sql::multi_row(PARAM_MARKER, sql::INSERT_JOBS, sql::JOB_ROW, chunk.len(), "");
        let mut q = sqlx::query::<Db>(sqlx::AssertSqlSafe(text));
        for kind in chunk {
            q = q.bind(org.0).bind(kind.name()).bind(Json(kind)).bind(now).bind(now).bind(now);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(response_ids.into_iter().zip(case_ids).collect())
}

#[async_trait]
impl Store for ThisStore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    async fn create_org(&self, slug: &Slug, name: &Label) -> StoreResult<Organisation> {
        let row: OrgRow = sqlx::query_as(sql::INSERT_ORG)
            .bind(slug.as_str())
            .bind(name.as_str())
            .bind(Ts(Utc::now()))
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    async fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Organisation>> {
        let row: Option<OrgRow> = sqlx::query_as(sql::ORG_BY_SLUG).bind(slug).fetch_optional(&self.pool).await?;
        row.map(Organisation::try_from).transpose()
    }

    async fn org(&self, org: OrgId) -> StoreResult<Option<Organisation>> {
        let row: Option<OrgRow> = sqlx::query_as(sql::ORG_BY_ID).bind(org.0).fetch_optional(&self.pool).await?;
        row.map(Organisation::try_from).transpose()
    }

    async fn create_token(&self, org: OrgId, token: NewToken) -> StoreResult<ApiToken> {
        let row: TokenRow = sqlx::query_as(sql::INSERT_TOKEN)
            .bind(org.0)
            .bind(token.name.as_str())
            .bind(token.role.as_str())
            .bind(token.user_id.map(|u| u.0))
            .bind(token.hash.as_str())
            .bind(ts_opt(token.expires_at))
            .bind(Ts(Utc::now()))
            .bind(serde_json::to_string(&token.scopes).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    async fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        let row: Option<TokenRow> = sqlx::query_as(sql::TOKEN_BY_HASH).bind(hash).fetch_optional(&self.pool).await?;
        row.map(ApiToken::try_from).transpose()
    }

    async fn token_and_user_by_hash(&self, hash: &str) -> StoreResult<Option<(ApiToken, Option<User>)>> {
        let row: Option<crate::rows::TokenUserRow> =
            sqlx::query_as(sql::TOKEN_AND_USER_BY_HASH).bind(hash).fetch_optional(&self.pool).await?;
        row.map(<(ApiToken, Option<User>)>::try_from).transpose()
    }

    async fn touch_token(&self, token: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(sql::TOUCH_TOKEN).bind(token.0).bind(Ts(at)).execute(&self.pool).await?;
        Ok(())
    }

    async fn revoke_token(&self, org: OrgId, token: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        let done = sqlx::query(sql::REVOKE_TOKEN).bind(org.0).bind(token.0).bind(Ts(at)).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {token}")));
        }
        Ok(())
    }

    async fn append_audit(&self, org: OrgId, entry: crate::NewAuditEntry) -> StoreResult<()> {
        sqlx::query(sql::INSERT_AUDIT)
            .bind(org.0)
            .bind(Ts(entry.at))
            .bind(entry.actor)
            .bind(entry.action)
            .bind(entry.target)
            .bind(Json(entry.detail))
            .bind(entry.ip)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_audit(&self, org: OrgId, filter: crate::AuditFilter) -> StoreResult<Vec<crate::AuditEntry>> {
        let rows: Vec<crate::rows::AuditRow> = sqlx::query_as(sql::LIST_AUDIT)
            .bind(org.0)
            .bind(filter.action)
            .bind(filter.actor)
            .bind(filter.from.map(Ts))
            .bind(filter.to.map(Ts))
            .bind(filter.before_id)
            .bind(filter.limit.clamp(1, 500))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(crate::AuditEntry::from).collect())
    }

    async fn list_tokens(&self, org: OrgId) -> StoreResult<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = sqlx::query_as(sql::LIST_TOKENS).bind(org.0).fetch_all(&self.pool).await?;
        convert_all(rows)
    }

    async fn create_session(&self, org: OrgId, user: UserId, hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(sql::INSERT_SESSION)
            .bind(org.0)
            .bind(user.0)
            .bind(hash)
            .bind(Ts(expires_at))
            .bind(Ts(Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn session_by_hash(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(OrgId, User)>> {
        let row: Option<UserRow> =
            sqlx::query_as(sql::SESSION_BY_HASH).bind(hash).bind(Ts(now)).fetch_optional(&self.pool).await?;
        row.map(|r| User::try_from(r).map(|u| (u.org_id, u))).transpose()
    }

    async fn delete_session(&self, hash: &str) -> StoreResult<()> {
        sqlx::query(sql::DELETE_SESSION).bind(hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        Ok(sqlx::query(sql::DELETE_EXPIRED_SESSIONS).bind(Ts(now)).execute(&self.pool).await?.rows_affected())
    }

    async fn upsert_user(&self, org: OrgId, email: &Email, fields: UserFields) -> StoreResult<(User, bool)> {
        let now = Ts(Utc::now());
        let name = fields.name.as_ref().map(Label::as_str);
        let manager = fields.manager_email.as_ref().map(Email::as_str);
        let team = fields.team.as_ref().map(Label::as_str);
        let region = fields.region.as_ref().map(Label::as_str);
        let custom_role = fields.custom_role.clone().flatten();
        let scope = match &fields.scope {
            Some(Some(scope)) => Some(serde_json::to_string(scope).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            _ => None,
        };
        let inserted: Option<UserRow> = sqlx::query_as(sql::INSERT_USER)
            .bind(org.0)
            .bind(email.as_str())
            .bind(name)
            .bind(fields.role.unwrap_or(Role::Viewer).as_str())
            .bind(manager)
            .bind(team)
            .bind(region)
            .bind(now)
            .bind(custom_role.as_deref())
            .bind(scope.as_deref())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = inserted {
            return Ok((row.try_into()?, true));
        }
        let updated: Option<UserRow> = sqlx::query_as(sql::UPDATE_USER)
            .bind(org.0)
            .bind(email.as_str())
            .bind(name)
            .bind(fields.role.map(Role::as_str))
            .bind(manager)
            .bind(team)
            .bind(region)
            .bind(now)
            .bind(fields.custom_role.is_some())
            .bind(custom_role.as_deref())
            .bind(fields.scope.is_some())
            .bind(scope.as_deref())
            .fetch_optional(&self.pool)
            .await?;
        match updated {
            Some(row) => Ok((row.try_into()?, false)),
            None => Err(StoreError::Conflict(format!("user {email} changed concurrently"))),
        }
    }

    async fn user_by_email(&self, org: OrgId, email: &Email) -> StoreResult<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as(sql::USER_BY_EMAIL).bind(org.0).bind(email.as_str()).fetch_optional(&self.pool).await?;
        row.map(User::try_from).transpose()
    }

    async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        let row: Option<UserRow> =
            sqlx::query_as(sql::USER_BY_ID).bind(org.0).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(User::try_from).transpose()
    }

    async fn list_users(&self, org: OrgId) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(sql::LIST_USERS).bind(org.0).fetch_all(&self.pool).await?;
        convert_all(rows)
    }

    async fn set_password_hash(&self, org: OrgId, email: &Email, hash: &str) -> StoreResult<()> {
        let done = sqlx::query(sql::SET_PASSWORD)
            .bind(org.0)
            .bind(email.as_str())
            .bind(hash)
            .bind(Ts(Utc::now()))
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {email}")));
        }
        Ok(())
    }

    async fn password_hash(&self, org: OrgId, email: &Email) -> StoreResult<Option<(User, String)>> {
        let Some(user) = self.user_by_email(org, email).await? else {
            return Ok(None);
        };
        let hash: Option<Option<String>> =
            sqlx::query_scalar(sql::PASSWORD_HASH).bind(org.0).bind(email.as_str()).fetch_optional(&self.pool).await?;
        Ok(hash.flatten().map(|h| (user, h)))
    }

    async fn upsert_customers(
        &self,
        org: OrgId,
        items: Vec<(ExternalId, CustomerPatch)>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<(Customer, bool)>> {
        let mut tx = self.begin_write().await?;
        let mut out = Vec::with_capacity(items.len());
        for (external_id, patch) in items {
            out.push(upsert_customer(&mut tx, &self.keys, org, external_id, patch, now).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn customer_by_external_id(&self, org: OrgId, external_id: &str) -> StoreResult<Option<Customer>> {
        let row: Option<CustomerRow> = sqlx::query_as(sql::CUSTOMER_BY_EXTERNAL_ID)
            .bind(org.0)
            .bind(external_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| crate::contact::open(&self.keys, r)).transpose()
    }

    async fn customer(&self, org: OrgId, id: CustomerId) -> StoreResult<Option<Customer>> {
        let row: Option<CustomerRow> =
            sqlx::query_as(sql::CUSTOMER_BY_ID).bind(org.0).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(|r| crate::contact::open(&self.keys, r)).transpose()
    }

    async fn count_customers(&self, org: OrgId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(sql::COUNT_CUSTOMERS).bind(org.0).fetch_one(&self.pool).await?)
    }

    async fn upsert_journey(&self, org: OrgId, journey: Journey) -> StoreResult<Journey> {
        let row: JourneyRow = sqlx::query_as(sql::UPSERT_JOURNEY)
            .bind(org.0)
            .bind(journey.key.as_str())
            .bind(journey.name.as_str())
            .bind(Json(&journey.stages))
            .bind(Ts(Utc::now()))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.into())
    }

    async fn list_journeys(&self, org: OrgId) -> StoreResult<Vec<Journey>> {
        let rows: Vec<JourneyRow> = sqlx::query_as(sql::LIST_JOURNEYS).bind(org.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Journey::from).collect())
    }

    async fn create_survey(
        &self,
        org: OrgId,
        survey: NewSurvey,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<Survey> {
        let mut tx = self.begin_write().await?;
        let row: SurveyRow = sqlx::query_as(sql::INSERT_SURVEY)
            .bind(org.0)
            .bind(survey.name.as_str())
            .bind(Json(&survey.definition))
            .bind(survey.touchpoint.as_deref())
            .bind(Ts(survey.created_at))
            .fetch_one(&mut *tx)
            .await?;
        let created = Survey::from(row);
        sqlx::query(sql::INSERT_SURVEY_VERSION)
            .bind(created.id.0)
            .bind(org.0)
            .bind(created.version)
            .bind(Json(&created.definition))
            .bind(Ts(created.created_at))
            .execute(&mut *tx)
            .await?;
        if let Some(record) = &idempotency {
            insert_idempotency(&mut tx, org, record, created.id.0).await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    async fn survey(&self, org: OrgId, id: SurveyId) -> StoreResult<Option<Survey>> {
        let row: Option<SurveyRow> =
            sqlx::query_as(sql::SURVEY_BY_ID).bind(org.0).bind(id.0).fetch_optional(&self.pool).await?;
        Ok(row.map(Survey::from))
    }

    async fn list_surveys(&self, org: OrgId) -> StoreResult<Vec<Survey>> {
        let rows: Vec<SurveyRow> = sqlx::query_as(sql::LIST_SURVEYS).bind(org.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Survey::from).collect())
    }

    async fn insert_responses(
        &self,
        org: OrgId,
        items: Vec<ResponseWrite>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<Vec<(ResponseId, Option<CaseId>)>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_response_write().await?;
        let out = insert_response_batch(&mut tx, org, &items, Ts(Utc::now())).await?;
        if let (Some(record), Some((first, _))) = (&idempotency, out.first()) {
            insert_idempotency(&mut tx, org, record, first.0).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn response(&self, org: OrgId, id: ResponseId) -> StoreResult<Option<Response>> {
        let row: Option<ResponseRow> =
            sqlx::query_as(sql::RESPONSE_BY_ID).bind(org.0).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(Response::try_from).transpose()
    }

    async fn responses_of_customer(&self, org: OrgId, customer: CustomerId, limit: i64) -> StoreResult<Vec<Response>> {
        let rows: Vec<ResponseRow> = sqlx::query_as(sql::RESPONSES_OF_CUSTOMER)
            .bind(org.0)
            .bind(customer.0)
            .bind(limit.clamp(1, 10_000))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(Response::try_from).collect()
    }

    async fn responses_page(&self, org: OrgId, filter: crate::ResponseFilter) -> StoreResult<Vec<Response>> {
        let scope = |list: Option<Vec<String>>| match list {
            Some(l) if l.is_empty() => None,
            Some(l) => Some(l),
            None => Some(Vec::new()),
        };
        // An empty scope list selects nothing.
        let (Some(regions), Some(teams)) = (scope(filter.regions), scope(filter.teams)) else {
            return Ok(Vec::new());
        };
        let text = sql::responses_page_in_scope(regions.len(), teams.len());
        let mut q = sqlx::query_as::<Db, ResponseRow>(sqlx::AssertSqlSafe(text))
            .bind(org.0)
            .bind(filter.after_id)
            .bind(ts_opt(filter.from))
            .bind(ts_opt(filter.to))
            .bind(filter.survey_id)
            .bind(filter.owner_email.as_ref().map(|e| e.as_str().to_string()))
            .bind(filter.limit.clamp(1, 5_000));
        for value in regions.into_iter().chain(teams) {
            q = q.bind(value);
        }
        q.fetch_all(&self.pool).await?.into_iter().map(Response::try_from).collect()
    }

    async fn cases_of_customer(&self, org: OrgId, customer: CustomerId, limit: i64) -> StoreResult<Vec<Case>> {
        let rows: Vec<CaseRow> = sqlx::query_as(sql::CASES_OF_CUSTOMER)
            .bind(org.0)
            .bind(customer.0)
            .bind(limit.clamp(1, 10_000))
            .fetch_all(&self.pool)
            .await?;
        convert_all(rows)
    }

    async fn feedback_of_customer(&self, org: OrgId, customer: CustomerId, limit: i64) -> StoreResult<Vec<Feedback>> {
        let rows: Vec<FeedbackRow> = sqlx::query_as(sql::FEEDBACK_OF_CUSTOMER)
            .bind(org.0)
            .bind(customer.0)
            .bind(limit.clamp(1, 10_000))
            .fetch_all(&self.pool)
            .await?;
        convert_all(rows)
    }

    async fn count_responses(&self, org: OrgId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(sql::COUNT_RESPONSES).bind(org.0).fetch_one(&self.pool).await?)
    }

    async fn index_feed(&self, after: i64, limit: i64) -> StoreResult<Vec<IndexRow>> {
        let rows: Vec<IndexFeedRow> =
            sqlx::query_as(sql::INDEX_FEED).bind(after).bind(limit.max(0)).fetch_all(&self.pool).await?;
        convert_all(rows)
    }

    async fn insert_feedback(
        &self,
        org: OrgId,
        item: NewFeedback,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<Feedback> {
        let mut tx = self.begin_write().await?;
        let row: FeedbackRow = sqlx::query_as(sql::INSERT_FEEDBACK)
            .bind(org.0)
            .bind(item.text.as_str())
            .bind(item.source.as_str())
            .bind(item.customer_id.map(|c| c.0))
            .bind(item.captured_by_email.as_ref().map(Email::as_str))
            .bind(item.touchpoint.as_ref().map(Label::as_str))
            .bind(Ts(item.occurred_at))
            .bind(Ts(Utc::now()))
            .fetch_one(&mut *tx)
            .await?;
        let feedback = Feedback::try_from(row)?;
        if let Some(record) = &idempotency {
            insert_idempotency(&mut tx, org, record, feedback.id.0).await?;
        }
        tx.commit().await?;
        Ok(feedback)
    }

    async fn idempotent_result(&self, org: OrgId, key: &str) -> StoreResult<Option<IdempotentResult>> {
        let row: Option<IdempotencyRow> =
            sqlx::query_as(sql::IDEMPOTENCY_BY_KEY).bind(org.0).bind(key).fetch_optional(&self.pool).await?;
        Ok(row.map(IdempotentResult::from))
    }

    async fn list_cases(&self, org: OrgId, filter: CaseFilter) -> StoreResult<Vec<Case>> {
        let regions = match filter.regions {
            // An empty scope sees nothing.
            Some(r) if r.is_empty() => return Ok(Vec::new()),
            Some(r) => r,
            None => Vec::new(),
        };
        let teams = match filter.teams {
            Some(t) if t.is_empty() => return Ok(Vec::new()),
            Some(t) => t,
            None => Vec::new(),
        };
        let text = sql::list_cases_in_scope(regions.len(), teams.len());
        let mut q = sqlx::query_as::<Db, CaseRow>(sqlx::AssertSqlSafe(text))
            .bind(org.0)
            .bind(filter.status.map(CaseStatus::as_str))
            .bind(filter.owner_email.as_ref().map(Email::as_str).map(str::to_string))
            .bind(filter.before_id)
            .bind(filter.limit.clamp(1, crate::MAX_CASE_PAGE));
        for value in regions.into_iter().chain(teams) {
            q = q.bind(value);
        }
        convert_all(q.fetch_all(&self.pool).await?)
    }

    async fn case(&self, org: OrgId, id: CaseId) -> StoreResult<Option<Case>> {
        let row: Option<CaseRow> =
            sqlx::query_as(sql::CASE_BY_ID).bind(org.0).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(Case::try_from).transpose()
    }

    async fn erase_customer(
        &self,
        org: OrgId,
        customer: CustomerId,
        redacted_answers: Vec<(ResponseId, escucha_core::survey::Answers)>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(sql::ERASE_CUSTOMER)
            .bind(org.0)
            .bind(customer.0)
            .bind(format!("erased-{}", customer.0))
            .bind(Ts(at))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("customer {customer}")));
        }
        for (response, answers) in redacted_answers {
            sqlx::query(sql::ERASE_RESPONSE_TEXT)
                .bind(org.0)
                .bind(response.0)
                .bind(Json(&answers))
                .bind(customer.0)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(sql::ERASE_FEEDBACK_TEXT)
            .bind(org.0)
            .bind(customer.0)
            .bind(crate::ERASED_TEXT)
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql::ERASE_CASE_NOTES)
            .bind(org.0)
            .bind(customer.0)
            .bind(Json(Vec::<escucha_core::case::CaseNote>::new()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn save_case(&self, org: OrgId, case: &Case, expected_updated_at: DateTime<Utc>) -> StoreResult<()> {
        let done = sqlx::query(sql::SAVE_CASE)
            .bind(org.0)
            .bind(case.id.0)
            .bind(case.owner_email.as_str())
            .bind(case.manager_email.as_ref().map(Email::as_str))
            .bind(case.priority.as_str())
            .bind(case.status.as_str())
            .bind(Ts(case.due_at))
            .bind(case.root_cause.as_deref())
            .bind(case.resolution.as_deref())
            .bind(Json(&case.notes))
            .bind(Ts(case.updated_at))
            .bind(ts_opt(case.closed_at))
            .bind(Ts(expected_updated_at))
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return match self.case(org, case.id).await? {
                Some(_) => Err(StoreError::Conflict(format!("case {} changed since it was read", case.id))),
                None => Err(StoreError::NotFound(format!("case {}", case.id))),
            };
        }
        Ok(())
    }

    async fn count_cases(&self, org: OrgId, status: Option<CaseStatus>) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(sql::COUNT_CASES)
            .bind(org.0)
            .bind(status.map(CaseStatus::as_str))
            .fetch_one(&self.pool)
            .await?)
    }

    async fn claim_jobs(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Job>> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let lease_end = now + chrono::Duration::seconds(crate::JOB_LEASE_SECONDS);
        let mut jobs: Vec<Job> = convert_all(self.claim_jobs_impl(Ts(now), Ts(lease_end), limit).await?)?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    async fn complete_job(&self, job: JobId) -> StoreResult<()> {
        let done = sqlx::query(sql::COMPLETE_JOB).bind(job.0).bind(Ts(Utc::now())).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("job {job}")));
        }
        Ok(())
    }

    async fn fail_job(&self, job: JobId, error: &str, retry_at: Option<DateTime<Utc>>) -> StoreResult<()> {
        let now = Ts(Utc::now());
        let done = match retry_at {
            Some(at) => {
                sqlx::query(sql::RETRY_JOB).bind(job.0).bind(error).bind(Ts(at)).bind(now).execute(&self.pool).await?
            }
            None => sqlx::query(sql::FAIL_JOB).bind(job.0).bind(error).bind(now).execute(&self.pool).await?,
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("job {job}")));
        }
        Ok(())
    }

    async fn list_jobs(&self, org: OrgId, limit: i64) -> StoreResult<Vec<Job>> {
        let rows: Vec<JobRow> =
            sqlx::query_as(sql::LIST_JOBS).bind(org.0).bind(limit.clamp(1, 1_000)).fetch_all(&self.pool).await?;
        convert_all(rows)
    }

    async fn upsert_role(&self, org: OrgId, role: &CustomRole) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let existed: i64 =
            sqlx::query_scalar(sql::ROLE_EXISTS).bind(org.0).bind(role.name()).fetch_one(&mut *tx).await?;
        let permissions = serde_json::to_string(&role.permissions).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(sql::UPSERT_ROLE)
            .bind(org.0)
            .bind(role.name())
            .bind(permissions)
            .bind(Ts(Utc::now()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(existed == 0)
    }

    async fn list_roles(&self, org: OrgId) -> StoreResult<Vec<CustomRole>> {
        let rows: Vec<RoleRow> = sqlx::query_as(sql::LIST_ROLES).bind(org.0).fetch_all(&self.pool).await?;
        convert_all(rows)
    }

    async fn delete_role(&self, org: OrgId, name: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let holders: i64 = sqlx::query_scalar(sql::USERS_WITH_ROLE).bind(org.0).bind(name).fetch_one(&mut *tx).await?;
        if holders > 0 {
            return Err(StoreError::Conflict(format!("{holders} user(s) hold the role '{name}'")));
        }
        let done = sqlx::query(sql::DELETE_ROLE).bind(org.0).bind(name).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("role '{name}'")));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_team(&self, org: OrgId, team: &str, parent: Option<&str>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        if let Some(parent) = parent {
            let rows: Vec<TeamRow> = sqlx::query_as(sql::LIST_TEAMS).bind(org.0).fetch_all(&mut *tx).await?;
            let tree = escucha_core::access::TeamHierarchy::from_pairs(
                rows.into_iter().filter_map(|r| r.parent.map(|p| (r.name, p))),
            );
            tree.check_parent(team, parent).map_err(|e| StoreError::Conflict(e.to_string()))?;
        }
        sqlx::query(sql::UPSERT_TEAM)
            .bind(org.0)
            .bind(team)
            .bind(parent)
            .bind(Ts(Utc::now()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_teams(&self, org: OrgId) -> StoreResult<Vec<TeamNode>> {
        let rows: Vec<TeamRow> = sqlx::query_as(sql::LIST_TEAMS).bind(org.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|r| TeamNode { name: r.name, parent: r.parent }).collect())
    }

    async fn customers_by_email(&self, org: OrgId, email: &Email) -> StoreResult<Vec<Customer>> {
        let index = crate::contact::email_index(&self.keys, org, email.as_str());
        let rows: Vec<CustomerRow> =
            sqlx::query_as(sql::CUSTOMERS_BY_EMAIL_INDEX).bind(org.0).bind(index).fetch_all(&self.pool).await?;
        rows.into_iter().map(|r| crate::contact::open(&self.keys, r)).collect()
    }

    async fn reseal_personal_data(&self) -> StoreResult<u64> {
        let mut after = 0i64;
        let mut count = 0u64;
        loop {
            let mut tx = self.begin_write().await?;
            let rows: Vec<CustomerRow> =
                sqlx::query_as(sql::CUSTOMERS_WITH_CONTACT).bind(after).bind(500i64).fetch_all(&mut *tx).await?;
            let Some(last) = rows.last().map(|r| r.id) else {
                break;
            };
            for row in rows {
                let customer = crate::contact::open(&self.keys, row)?;
                let sealed = crate::contact::seal(&self.keys, &customer)?;
                sqlx::query(sql::RESEAL_CUSTOMER)
                    .bind(customer.org_id.0)
                    .bind(customer.id.0)
                    .bind(sealed.name)
                    .bind(sealed.email)
                    .bind(sealed.phone)
                    .bind(sealed.email_index)
                    .execute(&mut *tx)
                    .await?;
                count += 1;
            }
            tx.commit().await?;
            after = last;
        }
        forget_old_keys(&self.pool, &self.keys).await?;
        Ok(count)
    }

    // Governance: security policy, incidents, retention

    async fn create_policy_item(
        &self,
        org: OrgId,
        fields: &escucha_core::governance::PolicyItemFields,
        at: DateTime<Utc>,
    ) -> StoreResult<escucha_core::governance::PolicyItem> {
        let row: crate::governance::PolicyItemRow = sqlx::query_as(crate::governance::INSERT_POLICY_ITEM)
            .bind(org.0)
            .bind(fields.kind.as_str())
            .bind(fields.title.as_str())
            .bind(fields.objective.as_str())
            .bind(fields.scope.as_str())
            .bind(fields.owner_email.as_str())
            .bind(fields.review_date.format("%Y-%m-%d").to_string())
            .bind(fields.status.as_str())
            .bind(Ts(at))
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    async fn list_policy_items(&self, org: OrgId) -> StoreResult<Vec<escucha_core::governance::PolicyItem>> {
        let rows: Vec<crate::governance::PolicyItemRow> =
            sqlx::query_as(crate::governance::LIST_POLICY_ITEMS).bind(org.0).fetch_all(&self.pool).await?;
        convert_all(rows)
    }

    async fn policy_item(
        &self,
        org: OrgId,
        id: escucha_core::governance::PolicyItemId,
    ) -> StoreResult<Option<escucha_core::governance::PolicyItem>> {
        let row: Option<crate::governance::PolicyItemRow> = sqlx::query_as(crate::governance::POLICY_ITEM_BY_ID)
            .bind(org.0)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn update_policy_item(
        &self,
        org: OrgId,
        id: escucha_core::governance::PolicyItemId,
        fields: &escucha_core::governance::PolicyItemFields,
        at: DateTime<Utc>,
    ) -> StoreResult<escucha_core::governance::PolicyItem> {
        let row: Option<crate::governance::PolicyItemRow> = sqlx::query_as(crate::governance::UPDATE_POLICY_ITEM)
            .bind(org.0)
            .bind(id.0)
            .bind(fields.kind.as_str())
            .bind(fields.title.as_str())
            .bind(fields.objective.as_str())
            .bind(fields.scope.as_str())
            .bind(fields.owner_email.as_str())
            .bind(fields.review_date.format("%Y-%m-%d").to_string())
            .bind(fields.status.as_str())
            .bind(Ts(at))
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("policy item {id}")))?.try_into()
    }

    async fn delete_policy_item(&self, org: OrgId, id: escucha_core::governance::PolicyItemId) -> StoreResult<()> {
        let done =
            sqlx::query(crate::governance::DELETE_POLICY_ITEM).bind(org.0).bind(id.0).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("policy item {id}")));
        }
        Ok(())
    }

    async fn policy_stats(
        &self,
        org: OrgId,
        today: chrono::NaiveDate,
    ) -> StoreResult<escucha_core::governance::PolicyStats> {
        let items = self.list_policy_items(org).await?;
        Ok(escucha_core::governance::policy_stats(&items, today))
    }

    async fn create_incident(
        &self,
        org: OrgId,
        fields: &escucha_core::governance::IncidentFields,
        reported_by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<escucha_core::governance::Incident> {
        let row: crate::governance::IncidentRow = sqlx::query_as(crate::governance::INSERT_INCIDENT)
            .bind(org.0)
            .bind(fields.title.as_str())
            .bind(fields.description.as_deref())
            .bind(Ts(fields.occurred_at))
            .bind(Ts(fields.detected_at))
            .bind(fields.data_affected.as_str())
            .bind(fields.customers_affected)
            .bind(fields.severity.as_str())
            .bind(fields.actions_taken.as_deref())
            .bind(Json(&fields.notified_to))
            .bind(ts_opt(fields.closed_at))
            .bind(reported_by)
            .bind(Ts(at))
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    async fn list_incidents(
        &self,
        org: OrgId,
        filter: crate::IncidentFilter,
    ) -> StoreResult<Vec<escucha_core::governance::Incident>> {
        let rows: Vec<crate::governance::IncidentRow> = sqlx::query_as(crate::governance::LIST_INCIDENTS)
            .bind(org.0)
            .bind(filter.open.map(i64::from))
            .bind(filter.before_id)
            .bind(filter.limit.clamp(1, 500))
            .fetch_all(&self.pool)
            .await?;
        convert_all(rows)
    }

    async fn incident(
        &self,
        org: OrgId,
        id: escucha_core::governance::IncidentId,
    ) -> StoreResult<Option<escucha_core::governance::Incident>> {
        let row: Option<crate::governance::IncidentRow> =
            sqlx::query_as(crate::governance::INCIDENT_BY_ID).bind(org.0).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn update_incident(
        &self,
        org: OrgId,
        id: escucha_core::governance::IncidentId,
        fields: &escucha_core::governance::IncidentFields,
        at: DateTime<Utc>,
    ) -> StoreResult<escucha_core::governance::Incident> {
        let row: Option<crate::governance::IncidentRow> = sqlx::query_as(crate::governance::UPDATE_INCIDENT)
            .bind(org.0)
            .bind(id.0)
            .bind(fields.title.as_str())
            .bind(fields.description.as_deref())
            .bind(Ts(fields.occurred_at))
            .bind(Ts(fields.detected_at))
            .bind(fields.data_affected.as_str())
            .bind(fields.customers_affected)
            .bind(fields.severity.as_str())
            .bind(fields.actions_taken.as_deref())
            .bind(Json(&fields.notified_to))
            .bind(ts_opt(fields.closed_at))
            .bind(Ts(at))
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?.try_into()
    }

    async fn incident_stats(
        &self,
        org: OrgId,
        since: Option<DateTime<Utc>>,
    ) -> StoreResult<escucha_core::governance::IncidentStats> {
        let rows: Vec<crate::governance::IncidentTimesRow> = sqlx::query_as(crate::governance::INCIDENT_TIMES)
            .bind(org.0)
            .bind(ts_opt(since))
            .fetch_all(&self.pool)
            .await?;
        let times: Vec<_> = rows.iter().map(crate::governance::IncidentTimesRow::times).collect();
        Ok(escucha_core::governance::incident_stats(&times))
    }

    async fn retention_rules(&self, org: OrgId) -> StoreResult<escucha_core::governance::RetentionRules> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as(crate::governance::RETENTION_RULES).bind(org.0).fetch_all(&self.pool).await?;
        escucha_core::governance::RetentionRules::from_stored(rows)
            .map_err(|e| StoreError::Corrupt(format!("stored retention rules are invalid: {e}")))
    }

    async fn set_retention_rules(
        &self,
        org: OrgId,
        rules: &escucha_core::governance::RetentionRules,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(crate::governance::DELETE_RETENTION_RULES).bind(org.0).execute(&mut *tx).await?;
        for rule in rules.rules() {
            sqlx::query(crate::governance::INSERT_RETENTION_RULE)
                .bind(org.0)
                .bind(rule.kind.as_str())
                .bind(i64::from(rule.months))
                .bind(Ts(at))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn orgs_with_retention_rules(&self) -> StoreResult<Vec<OrgId>> {
        let ids: Vec<i64> =
            sqlx::query_scalar(crate::governance::ORGS_WITH_RETENTION_RULES).fetch_all(&self.pool).await?;
        Ok(ids.into_iter().map(OrgId).collect())
    }

    async fn inactive_customers(
        &self,
        org: OrgId,
        cutoff: DateTime<Utc>,
        after: Option<CustomerId>,
        limit: i64,
    ) -> StoreResult<Vec<CustomerId>> {
        let ids: Vec<i64> = sqlx::query_scalar(crate::governance::INACTIVE_CUSTOMERS)
            .bind(org.0)
            .bind(Ts(cutoff))
            .bind(after.map_or(0, |c| c.0))
            .bind(limit.clamp(1, 10_000))
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(CustomerId).collect())
    }

    async fn responses_with_text_before(
        &self,
        org: OrgId,
        cutoff: DateTime<Utc>,
        after: Option<ResponseId>,
        limit: i64,
    ) -> StoreResult<Vec<Response>> {
        let rows: Vec<ResponseRow> = sqlx::query_as(crate::governance::RESPONSES_WITH_TEXT_BEFORE)
            .bind(org.0)
            .bind(Ts(cutoff))
            .bind(after.map_or(0, |r| r.0))
            .bind(limit.clamp(1, 10_000))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(Response::try_from).collect()
    }

    async fn redact_responses(
        &self,
        org: OrgId,
        items: Vec<(ResponseId, escucha_core::survey::Answers)>,
    ) -> StoreResult<u64> {
        if items.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut changed = 0;
        for (response, answers) in items {
            changed += sqlx::query(crate::governance::REDACT_RESPONSE)
                .bind(org.0)
                .bind(response.0)
                .bind(Json(&answers))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    async fn retention_sweep(
        &self,
        org: OrgId,
        sweep: crate::RetentionSweep,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> StoreResult<u64> {
        use crate::RetentionSweep::*;
        use crate::governance as g;
        let count = |sql: &'static str| sqlx::query_scalar::<Db, i64>(sql).bind(org.0).bind(Ts(cutoff));
        let change = |sql: &'static str| sqlx::query::<Db>(sql).bind(org.0).bind(Ts(cutoff));
        let n = match (sweep, dry_run) {
            (FeedbackText, true) => {
                count(g::COUNT_FEEDBACK_TEXT_BEFORE)
                    .bind(crate::REDACTED_TEXT)
                    .bind(crate::ERASED_TEXT)
                    .fetch_one(&self.pool)
                    .await? as u64
            }
            (FeedbackText, false) => change(g::REDACT_FEEDBACK_TEXT_BEFORE)
                .bind(crate::REDACTED_TEXT)
                .bind(crate::ERASED_TEXT)
                .execute(&self.pool)
                .await?
                .rows_affected(),
            (AuditLog, true) => count(g::COUNT_AUDIT_BEFORE).fetch_one(&self.pool).await? as u64,
            (AuditLog, false) => change(g::DELETE_AUDIT_BEFORE).execute(&self.pool).await?.rows_affected(),
            (ClosedCaseNotes, true) => count(g::COUNT_CLOSED_CASE_NOTES_BEFORE).fetch_one(&self.pool).await? as u64,
            (ClosedCaseNotes, false) => {
                change(g::CLEAR_CLOSED_CASE_NOTES_BEFORE).bind(Ts(now)).execute(&self.pool).await?.rows_affected()
            }
        };
        Ok(n)
    }
    // Sign-in security

    async fn attempt_lock(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<DateTime<Utc>>> {
        let until: Option<Option<Ts>> =
            sqlx::query_scalar(sql::ATTEMPT_LOCK).bind(key).bind(Ts(now)).fetch_optional(&self.pool).await?;
        Ok(until.flatten().map(|t| t.0))
    }

    async fn record_failed_attempt(
        &self,
        key: &str,
        policy: &escucha_core::lockout::LockoutPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let mut tx = self.begin_write().await?;
        let (window_start, failures, lockouts, locked_until, last_seen): (Ts, i64, i64, Option<Ts>, Ts) =
            sqlx::query_as(sql::LOCK_ATTEMPT_ROW).bind(key).bind(Ts(now)).fetch_one(&mut *tx).await?;
        let mut record = escucha_core::lockout::FailureRecord {
            window_start: window_start.0,
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            lockouts: u32::try_from(lockouts).unwrap_or(u32::MAX),
            locked_until: locked_until.map(|t| t.0),
            last_seen: last_seen.0,
        };
        let locked = record.fail(now, policy);
        sqlx::query(sql::UPDATE_ATTEMPT_ROW)
            .bind(key)
            .bind(Ts(record.window_start))
            .bind(i64::from(record.failures))
            .bind(i64::from(record.lockouts))
            .bind(ts_opt(record.locked_until))
            .bind(Ts(record.last_seen))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(locked)
    }

    async fn clear_failed_attempts(&self, key: &str) -> StoreResult<()> {
        sqlx::query(sql::CLEAR_ATTEMPTS).bind(key).execute(&self.pool).await?;
        Ok(())
    }

    async fn purge_failed_attempts(&self, now: DateTime<Utc>, quiet_since: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query(sql::PURGE_ATTEMPTS).bind(Ts(now)).bind(Ts(quiet_since)).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn delete_expired_sign_in_state(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let challenges = sqlx::query(sql::DELETE_EXPIRED_CHALLENGES).bind(Ts(now)).execute(&mut *tx).await?;
        let resets = sqlx::query(sql::DELETE_EXPIRED_RESETS).bind(Ts(now)).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(challenges.rows_affected() + resets.rows_affected())
    }

    async fn create_password_reset(
        &self,
        org: OrgId,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(sql::INSERT_PASSWORD_RESET)
            .bind(org.0)
            .bind(user.0)
            .bind(token_hash)
            .bind(Ts(expires_at))
            .bind(Ts(Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn password_reset_user(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(OrgId, User)>> {
        let row: Option<UserRow> =
            sqlx::query_as(sql::PASSWORD_RESET_USER).bind(token_hash).bind(Ts(now)).fetch_optional(&self.pool).await?;
        row.map(|r| User::try_from(r).map(|u| (u.org_id, u))).transpose()
    }

    async fn reset_password(
        &self,
        token_hash: &str,
        new_password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<(OrgId, User)>> {
        let mut tx = self.begin_write().await?;
        let consumed: Option<(i64, i64)> =
            sqlx::query_as(sql::CONSUME_PASSWORD_RESET).bind(token_hash).bind(Ts(now)).fetch_optional(&mut *tx).await?;
        let Some((org, user)) = consumed else {
            return Ok(None);
        };
        sqlx::query(sql::SET_PASSWORD_BY_ID)
            .bind(org)
            .bind(user)
            .bind(new_password_hash)
            .bind(Ts(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql::DELETE_USER_SESSIONS).bind(org).bind(user).execute(&mut *tx).await?;
        sqlx::query(sql::DELETE_USER_CHALLENGES).bind(org).bind(user).execute(&mut *tx).await?;
        sqlx::query(sql::EXPIRE_OTHER_RESETS).bind(org).bind(user).bind(Ts(now)).execute(&mut *tx).await?;
        let row: Option<UserRow> =
            sqlx::query_as(sql::USER_BY_ID).bind(org).bind(user).fetch_optional(&mut *tx).await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound(format!("user {user}")));
        };
        tx.commit().await?;
        Ok(Some((OrgId(org), User::try_from(row)?)))
    }

    async fn begin_totp_enrolment(
        &self,
        org: OrgId,
        user: UserId,
        secret_base32: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let sealed = self
            .keys
            .encrypt(secret_base32, &totp_associated_data(org, user))
            .map_err(|e| StoreError::Crypto(e.to_string()))?;
        let done = sqlx::query(sql::UPSERT_PENDING_TOTP)
            .bind(org.0)
            .bind(user.0)
            .bind(sealed)
            .bind(Ts(now))
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("user {user} already has a second factor enabled")));
        }
        Ok(())
    }

    async fn totp_state(&self, org: OrgId, user: UserId) -> StoreResult<Option<crate::TotpState>> {
        let row: Option<(String, Option<Ts>, Option<i64>)> =
            sqlx::query_as(sql::TOTP_STATE).bind(org.0).bind(user.0).fetch_optional(&self.pool).await?;
        let Some((sealed, enabled_at, last_step)) = row else {
            return Ok(None);
        };
        let secret_base32 = self
            .keys
            .decrypt(&sealed, &totp_associated_data(org, user))
            .map_err(|e| StoreError::Crypto(format!("second-factor secret of user {user}: {e}")))?;
        Ok(Some(crate::TotpState { secret_base32, enabled_at: enabled_at.map(|t| t.0), last_step }))
    }

    async fn enable_totp(&self, org: OrgId, user: UserId, step: i64, now: DateTime<Utc>) -> StoreResult<()> {
        let done =
            sqlx::query(sql::ENABLE_TOTP).bind(org.0).bind(user.0).bind(step).bind(Ts(now)).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("pending second-factor enrolment of user {user}")));
        }
        Ok(())
    }

    async fn accept_totp_step(&self, org: OrgId, user: UserId, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(sql::ACCEPT_TOTP_STEP).bind(org.0).bind(user.0).bind(step).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_totp(&self, org: OrgId, user: UserId) -> StoreResult<()> {
        sqlx::query(sql::DELETE_TOTP).bind(org.0).bind(user.0).execute(&self.pool).await?;
        Ok(())
    }

    async fn create_sign_in_challenge(
        &self,
        org: OrgId,
        user: UserId,
        hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(sql::INSERT_CHALLENGE)
            .bind(org.0)
            .bind(user.0)
            .bind(hash)
            .bind(Ts(expires_at))
            .bind(Ts(Utc::now()))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sign_in_challenge(&self, hash: &str, now: DateTime<Utc>) -> StoreResult<Option<(OrgId, User)>> {
        let row: Option<UserRow> =
            sqlx::query_as(sql::CHALLENGE_BY_HASH).bind(hash).bind(Ts(now)).fetch_optional(&self.pool).await?;
        row.map(|r| User::try_from(r).map(|u| (u.org_id, u))).transpose()
    }

    async fn delete_sign_in_challenge(&self, hash: &str) -> StoreResult<()> {
        sqlx::query(sql::DELETE_CHALLENGE).bind(hash).execute(&self.pool).await?;
        Ok(())
    }
}

/// Binds a sealed TOTP secret to its organisation and user, so it does not open elsewhere.
fn totp_associated_data(org: OrgId, user: UserId) -> String {
    crate::crypto::associated_data(org, "user_totp.secret", &user.0.to_string())
}
