-- Data governance (seed 000, element 4): the organisation's customer-data security policy, the
-- register of security incidents and retention rules per data kind.
-- Retention may delete audit entries older than the organisation's rule (never younger than 12
-- months, enforced by the application): the one exception to the audit log's append-only rule,
-- and every run is itself recorded as a `retention.applied` entry.
CREATE TABLE security_policy_items (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id       INTEGER NOT NULL REFERENCES orgs (id),
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    objective    TEXT NOT NULL,
    scope        TEXT NOT NULL,
    owner_email  TEXT NOT NULL,
    review_date  TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX security_policy_items_org ON security_policy_items (org_id, id);

CREATE TABLE security_incidents (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              INTEGER NOT NULL REFERENCES orgs (id),
    title               TEXT NOT NULL,
    description         TEXT,
    occurred_at         TEXT NOT NULL,
    detected_at         TEXT NOT NULL,
    data_affected       TEXT NOT NULL,
    customers_affected  INTEGER NOT NULL,
    severity            TEXT NOT NULL,
    actions_taken       TEXT,
    notified_to         TEXT NOT NULL DEFAULT '[]',
    closed_at           TEXT,
    reported_by         TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;
CREATE INDEX security_incidents_org ON security_incidents (org_id, id);

CREATE TABLE retention_rules (
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    kind        TEXT NOT NULL,
    months      INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, kind)
) STRICT;

-- Retention deletes and exports read the audit log by time.
CREATE INDEX audit_log_org_at ON audit_log (org_id, at);
