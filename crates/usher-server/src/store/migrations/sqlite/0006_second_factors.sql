-- Second factors: an authenticator app (TOTP) and backup codes.
-- The TOTP secret is sealed under the instance secret key; `verified` turns it on (a secret
-- created by POST /v1/me/totp waits for its first code); `last_step` is the newest 30-second
-- step accepted, so no step is accepted twice.
CREATE TABLE user_totp (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    verified      BIGINT NOT NULL,
    last_step     BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Backup codes, hashed; a used one is deleted.
CREATE TABLE user_backup_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- When the session's factors were verified (for the token's `fva`); null for sessions made
-- without a sign-in (and, for the second, without a second factor).
ALTER TABLE sessions ADD COLUMN first_factor_at BIGINT;
ALTER TABLE sessions ADD COLUMN second_factor_at BIGINT;
