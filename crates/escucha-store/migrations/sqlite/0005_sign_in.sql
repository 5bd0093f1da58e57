-- Sign-in security: lockouts shared by every server process, password-reset tokens, TOTP second
-- factor and pending second-step sign-ins.

-- One row per throttled key (an opaque hash naming an account, a client IP or a reset
-- requester): failures in the current window and the lockout history. Cross-organisation by
-- nature (attempts name organisations that may not exist).
CREATE TABLE attempt_throttle (
    key           TEXT PRIMARY KEY,
    window_start  TEXT NOT NULL,
    failures      INTEGER NOT NULL,
    lockouts      INTEGER NOT NULL,
    locked_until  TEXT,
    last_seen     TEXT NOT NULL
) STRICT;
CREATE INDEX attempt_throttle_last_seen ON attempt_throttle (last_seen);

-- Single-use password-reset tokens (only the hash of the mailed secret is kept).
CREATE TABLE password_resets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    user_id     INTEGER NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    created_at  TEXT NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;
CREATE INDEX password_resets_user ON password_resets (org_id, user_id);

-- A user's TOTP secret, sealed with the key ring; enabled once a code confirmed it. last_step is
-- the time step of the last accepted code, so no code is accepted twice.
CREATE TABLE user_totp (
    org_id         INTEGER NOT NULL REFERENCES orgs (id),
    user_id        INTEGER NOT NULL,
    secret_sealed  TEXT NOT NULL,
    enabled_at     TEXT,
    last_step      INTEGER,
    created_at     TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;

-- A sign-in whose password was right and whose second factor is still to be given.
CREATE TABLE sign_in_challenges (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      INTEGER NOT NULL REFERENCES orgs (id),
    user_id     INTEGER NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;
CREATE INDEX sign_in_challenges_expiry ON sign_in_challenges (expires_at);
