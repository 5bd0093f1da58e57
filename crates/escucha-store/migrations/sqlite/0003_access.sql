-- Access control: token scopes, custom roles, explicit user scopes, the team tree, the blind
-- index of customers' e-mails and the key-ring check.

-- Token scopes as a JSON list of names; NULL for tokens made before scopes existed, which keep
-- everything their role allows (the `admin` scope).
ALTER TABLE api_tokens ADD COLUMN scopes TEXT;

-- A user's custom role (its permissions replace the built-in role's) and explicit data scope
-- (JSON `{"kind": …, "values": …}`), both optional.
ALTER TABLE users ADD COLUMN custom_role TEXT;
ALTER TABLE users ADD COLUMN scope TEXT;

CREATE TABLE roles (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id       INTEGER NOT NULL REFERENCES orgs (id),
    name         TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (org_id, name)
) STRICT;

-- The team tree: each team's parent (NULL at the top).
CREATE TABLE teams (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    parent      TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (org_id, name)
) STRICT;

-- Keyed hash of the normalised e-mail, so a customer is found by e-mail without decrypting.
ALTER TABLE customers ADD COLUMN email_index TEXT;
CREATE INDEX customers_email_index ON customers (org_id, email_index);

-- What the key ring must match: the blind-index check value and the ids of keys that sealed data.
CREATE TABLE keyring_check (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) STRICT;
