-- Escucha schema, SQLite flavour. Every row carries org_id and every query filters by it;
-- references between tenant rows go through (org_id, id) pairs, so the database itself refuses
-- a row of one organisation pointing at a row of another.
-- Timestamps are RFC 3339 UTC text with exactly six fractional digits and a 'Z'
-- ("2026-01-31T09:15:00.000000Z"), so text order is time order. JSON is stored as text.
-- Tables are STRICT so a value of the wrong type is refused instead of silently kept.

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id         INTEGER NOT NULL REFERENCES orgs (id),
    email          TEXT NOT NULL,
    name           TEXT,
    role           TEXT NOT NULL,
    manager_email  TEXT,
    team           TEXT,
    region         TEXT,
    password_hash  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (org_id, email),
    UNIQUE (org_id, id)
) STRICT;

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id        INTEGER NOT NULL REFERENCES orgs (id),
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    user_id       INTEGER,
    hash          TEXT NOT NULL UNIQUE,
    expires_at    TEXT,
    last_used_at  TEXT,
    revoked_at    TEXT,
    created_at    TEXT NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;
CREATE INDEX api_tokens_org ON api_tokens (org_id, id);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    user_id     INTEGER NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE customers (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id           INTEGER NOT NULL REFERENCES orgs (id),
    external_id      TEXT NOT NULL,
    name             TEXT,
    email            TEXT,
    phone            TEXT,
    language         TEXT,
    region           TEXT,
    segment          TEXT,
    lifecycle_stage  TEXT,
    annual_value     REAL,
    owner_email      TEXT,
    attributes       TEXT NOT NULL DEFAULT '{}',
    erased_at        TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (org_id, external_id),
    UNIQUE (org_id, id)
) STRICT;
CREATE INDEX customers_owner ON customers (org_id, owner_email);

CREATE TABLE journeys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    stages      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (org_id, key)
) STRICT;

CREATE TABLE surveys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,
    touchpoint  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (org_id, id)
) STRICT;

-- Every version of every survey, so old answers stay readable against what was asked.
CREATE TABLE survey_versions (
    survey_id   INTEGER NOT NULL,
    org_id      INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (survey_id, version),
    FOREIGN KEY (org_id, survey_id) REFERENCES surveys (org_id, id)
) STRICT;

CREATE TABLE responses (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL,
    survey_id       INTEGER NOT NULL,
    survey_version  INTEGER NOT NULL,
    customer_id     INTEGER,
    invitation_id   INTEGER,
    answers         TEXT NOT NULL,
    region          TEXT,
    product         TEXT,
    channel         TEXT,
    team            TEXT,
    employee_email  TEXT,
    touchpoint      TEXT,
    journey_stage   TEXT,
    segment         TEXT,
    language        TEXT,
    nps             INTEGER,
    csat            INTEGER,
    ces             INTEGER,
    cadv            INTEGER,
    repurchase      INTEGER,
    emotions        TEXT NOT NULL DEFAULT '[]',
    verbatim        TEXT,
    submitted_at    TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, survey_id) REFERENCES surveys (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
) STRICT;
-- org_id needs no reference of its own: the survey it must point at is the organisation's.
-- The analytics feed reads by id (the primary key); reports cut by organisation and time.
CREATE INDEX responses_org_submitted ON responses (org_id, submitted_at);
CREATE INDEX responses_customer ON responses (customer_id, submitted_at);

CREATE TABLE feedback (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id             INTEGER NOT NULL REFERENCES orgs (id),
    text               TEXT NOT NULL,
    source             TEXT NOT NULL,
    customer_id        INTEGER,
    captured_by_email  TEXT,
    touchpoint         TEXT,
    occurred_at        TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
) STRICT;
CREATE INDEX feedback_org_occurred ON feedback (org_id, occurred_at);

CREATE TABLE cases (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id         INTEGER NOT NULL,
    customer_id    INTEGER NOT NULL,
    response_id    INTEGER,
    owner_email    TEXT NOT NULL,
    manager_email  TEXT,
    reason         TEXT NOT NULL,
    priority       TEXT NOT NULL,
    status         TEXT NOT NULL,
    due_at         TEXT NOT NULL,
    root_cause     TEXT,
    resolution     TEXT,
    notes          TEXT NOT NULL DEFAULT '[]',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    closed_at      TEXT,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, response_id) REFERENCES responses (org_id, id)
) STRICT;
-- org_id is checked through the customer, which belongs to the organisation.
CREATE INDEX cases_org ON cases (org_id, id);
CREATE INDEX cases_org_status ON cases (org_id, status, id);
CREATE INDEX cases_org_owner ON cases (org_id, owner_email, id);
CREATE INDEX cases_customer ON cases (customer_id);

CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id        INTEGER NOT NULL REFERENCES orgs (id),
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_at        TEXT NOT NULL,
    last_error    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_org ON jobs (org_id, id);

CREATE TABLE idempotency (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id        INTEGER NOT NULL REFERENCES orgs (id),
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    resource      TEXT NOT NULL,
    resource_id   INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (org_id, key)
) STRICT;
