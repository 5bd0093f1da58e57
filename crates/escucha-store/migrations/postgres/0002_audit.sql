-- Append-only audit log: who did what, to what, when and from where. Rows are never updated
-- or deleted by the application.
CREATE TABLE audit_log (
    id      BIGSERIAL PRIMARY KEY,
    org_id  BIGINT NOT NULL REFERENCES orgs (id),
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    detail  JSONB NOT NULL,
    ip      TEXT
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);
CREATE INDEX audit_log_org_action ON audit_log (org_id, action, id);
