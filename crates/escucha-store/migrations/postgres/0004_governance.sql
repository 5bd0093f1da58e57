-- Data governance (seed 000, element 4): the organisation's customer-data security policy, the
-- register of security incidents and retention rules per data kind.
-- Retention may delete audit entries older than the organisation's rule (never younger than 12
-- months, enforced by the application): the one exception to the audit log's append-only rule,
-- and every run is itself recorded as a `retention.applied` entry.
-- Review dates are ISO `YYYY-MM-DD` text on both backends, so the SQL is shared.
CREATE TABLE security_policy_items (
    id           BIGSERIAL PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES orgs (id),
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    objective    TEXT NOT NULL,
    scope        TEXT NOT NULL,
    owner_email  TEXT NOT NULL,
    review_date  TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX security_policy_items_org ON security_policy_items (org_id, id);

CREATE TABLE security_incidents (
    id                  BIGSERIAL PRIMARY KEY,
    org_id              BIGINT NOT NULL REFERENCES orgs (id),
    title               TEXT NOT NULL,
    description         TEXT,
    occurred_at         TIMESTAMPTZ NOT NULL,
    detected_at         TIMESTAMPTZ NOT NULL,
    data_affected       TEXT NOT NULL,
    customers_affected  BIGINT NOT NULL,
    severity            TEXT NOT NULL,
    actions_taken       TEXT,
    notified_to         JSONB NOT NULL DEFAULT '[]'::jsonb,
    closed_at           TIMESTAMPTZ,
    reported_by         TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX security_incidents_org ON security_incidents (org_id, id);

CREATE TABLE retention_rules (
    org_id      BIGINT NOT NULL REFERENCES orgs (id),
    kind        TEXT NOT NULL,
    months      BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, kind)
);

-- Retention deletes and exports read the audit log by time.
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);
