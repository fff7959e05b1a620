-- Passkeys (WebAuthn credentials). A row is created by POST /v1/me/passkeys with the
-- registration ceremony's state (`registration_state`, server-side only) and no credential; the
-- browser's answer verifies it, fills `credential_id` and `credential` (webauthn-rs's record of
-- the public key, JSON) and clears the state. Unverified rows die at `expire_at`.
-- `sign_count` is the authenticator's signature counter, kept in its own column so that a
-- sign-in can raise it with one conditional statement (a cloned or replayed assertion loses).
CREATE TABLE passkeys (
    id                 TEXT PRIMARY KEY,
    user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    credential_id      TEXT UNIQUE,
    credential         TEXT,
    registration_state TEXT,
    sign_count         BIGINT NOT NULL,
    last_used_at       BIGINT,
    expire_at          BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);
