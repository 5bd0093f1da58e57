-- Escucha schema, PostgreSQL flavour: the same tables and columns as migrations/sqlite, with
-- TIMESTAMPTZ timestamps, JSONB documents and identity ids. Every row carries org_id and every
-- query filters by it; references between tenant rows go through (org_id, id) pairs, so the
-- database itself refuses a row of one organisation pointing at a row of another.

CREATE TABLE orgs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES orgs (id),
    email          TEXT NOT NULL,
    name           TEXT,
    role           TEXT NOT NULL,
    manager_email  TEXT,
    team           TEXT,
    region         TEXT,
    password_hash  TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, email),
    UNIQUE (org_id, id)
);

CREATE TABLE api_tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES orgs (id),
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    user_id       BIGINT,
    hash          TEXT NOT NULL UNIQUE,
    expires_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX api_tokens_org ON api_tokens (org_id, id);

CREATE TABLE sessions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (id),
    user_id     BIGINT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE customers (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES orgs (id),
    external_id      TEXT NOT NULL,
    name             TEXT,
    email            TEXT,
    phone            TEXT,
    language         TEXT,
    region           TEXT,
    segment          TEXT,
    lifecycle_stage  TEXT,
    annual_value     DOUBLE PRECISION,
    owner_email      TEXT,
    attributes       JSONB NOT NULL DEFAULT '{}'::jsonb,
    erased_at        TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, external_id),
    UNIQUE (org_id, id)
);
CREATE INDEX customers_owner ON customers (org_id, owner_email);

CREATE TABLE journeys (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (id),
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    stages      JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, key)
);

CREATE TABLE surveys (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    definition  JSONB NOT NULL,
    touchpoint  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id)
);

-- Every version of every survey, so old answers stay readable against what was asked.
CREATE TABLE survey_versions (
    survey_id   BIGINT NOT NULL,
    org_id      BIGINT NOT NULL,
    version     INTEGER NOT NULL,
    definition  JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (survey_id, version),
    FOREIGN KEY (org_id, survey_id) REFERENCES surveys (org_id, id)
);

CREATE TABLE responses (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          BIGINT NOT NULL,
    survey_id       BIGINT NOT NULL,
    survey_version  INTEGER NOT NULL,
    customer_id     BIGINT,
    invitation_id   BIGINT,
    answers         JSONB NOT NULL,
    region          TEXT,
    product         TEXT,
    channel         TEXT,
    team            TEXT,
    employee_email  TEXT,
    touchpoint      TEXT,
    journey_stage   TEXT,
    segment         TEXT,
    language        TEXT,
    nps             SMALLINT,
    csat            SMALLINT,
    ces             SMALLINT,
    cadv            SMALLINT,
    repurchase      SMALLINT,
    emotions        JSONB NOT NULL DEFAULT '[]'::jsonb,
    verbatim        TEXT,
    submitted_at    TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, survey_id) REFERENCES surveys (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
-- org_id needs no reference of its own: the survey it must point at is the organisation's.
-- The analytics feed reads by id (the primary key); reports cut by organisation and time.
CREATE INDEX responses_org_submitted ON responses (org_id, submitted_at);
CREATE INDEX responses_customer ON responses (customer_id, submitted_at);

CREATE TABLE feedback (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id             BIGINT NOT NULL REFERENCES orgs (id),
    text               TEXT NOT NULL,
    source             TEXT NOT NULL,
    customer_id        BIGINT,
    captured_by_email  TEXT,
    touchpoint         TEXT,
    occurred_at        TIMESTAMPTZ NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
CREATE INDEX feedback_org_occurred ON feedback (org_id, occurred_at);

CREATE TABLE cases (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         BIGINT NOT NULL,
    customer_id    BIGINT NOT NULL,
    response_id    BIGINT,
    owner_email    TEXT NOT NULL,
    manager_email  TEXT,
    reason         TEXT NOT NULL,
    priority       TEXT NOT NULL,
    status         TEXT NOT NULL,
    due_at         TIMESTAMPTZ NOT NULL,
    root_cause     TEXT,
    resolution     TEXT,
    notes          JSONB NOT NULL DEFAULT '[]'::jsonb,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    closed_at      TIMESTAMPTZ,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, response_id) REFERENCES responses (org_id, id)
);
-- org_id is checked through the customer, which belongs to the organisation.
CREATE INDEX cases_org ON cases (org_id, id);
CREATE INDEX cases_org_status ON cases (org_id, status, id);
CREATE INDEX cases_org_owner ON cases (org_id, owner_email, id);
CREATE INDEX cases_customer ON cases (customer_id);

CREATE TABLE jobs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES orgs (id),
    kind          TEXT NOT NULL,
    payload       JSONB NOT NULL,
    status        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_at        TIMESTAMPTZ NOT NULL,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_org ON jobs (org_id, id);

CREATE TABLE idempotency (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES orgs (id),
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    resource      TEXT NOT NULL,
    resource_id   BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, key)
);
