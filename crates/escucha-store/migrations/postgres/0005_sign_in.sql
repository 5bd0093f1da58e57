-- Sign-in security: lockouts shared by every server process, password-reset tokens, TOTP second
-- factor and pending second-step sign-ins.

-- One row per throttled key (an opaque hash naming an account, a client IP or a reset
-- requester): failures in the current window and the lockout history. Cross-organisation by
-- nature (attempts name organisations that may not exist).
CREATE TABLE attempt_throttle (
    key           TEXT PRIMARY KEY,
    window_start  TIMESTAMPTZ NOT NULL,
    failures      BIGINT NOT NULL,
    lockouts      BIGINT NOT NULL,
    locked_until  TIMESTAMPTZ,
    last_seen     TIMESTAMPTZ NOT NULL
);
CREATE INDEX attempt_throttle_last_seen ON attempt_throttle (last_seen);

-- Single-use password-reset tokens (only the hash of the mailed secret is kept).
CREATE TABLE password_resets (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (id),
    user_id     BIGINT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX password_resets_user ON password_resets (org_id, user_id);

-- A user's TOTP secret, sealed with the key ring; enabled once a code confirmed it. last_step is
-- the time step of the last accepted code, so no code is accepted twice.
CREATE TABLE user_totp (
    org_id         BIGINT NOT NULL REFERENCES orgs (id),
    user_id        BIGINT NOT NULL,
    secret_sealed  TEXT NOT NULL,
    enabled_at     TIMESTAMPTZ,
    last_step      BIGINT,
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

-- A sign-in whose password was right and whose second factor is still to be given.
CREATE TABLE sign_in_challenges (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (id),
    user_id     BIGINT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX sign_in_challenges_expiry ON sign_in_challenges (expires_at);
