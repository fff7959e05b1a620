-- Social / OpenID Connect sign-in: the accounts users hold at providers, and the short-lived
-- state of a redirect to a provider and back.
CREATE TABLE external_accounts (
    id                   TEXT PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider             TEXT NOT NULL,
    provider_user_id     TEXT NOT NULL,
    identification_id    TEXT NOT NULL,
    email_address        TEXT NOT NULL,
    email_verified       BIGINT NOT NULL,
    first_name           TEXT,
    last_name            TEXT,
    username             TEXT,
    avatar_url           TEXT,
    approved_scopes      TEXT NOT NULL,
    -- Sealed (seal.rs) under the instance secret key: a database dump alone yields no tokens.
    access_token_sealed  TEXT,
    refresh_token_sealed TEXT,
    token_expire_at      BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (provider, provider_user_id)
);
CREATE INDEX external_accounts_user ON external_accounts (user_id, created_at);

-- One row per redirect to a provider, deleted when the callback takes it (single use). Only the
-- SHA-256 of the `state` parameter and of the nonce are kept; the PKCE verifier is sealed.
CREATE TABLE oauth_states (
    state_hash                   TEXT PRIMARY KEY,
    client_id                    TEXT NOT NULL,
    provider                     TEXT NOT NULL,
    intent                       TEXT NOT NULL,
    attempt_id                   TEXT,
    user_id                      TEXT,
    pkce_verifier_sealed         TEXT NOT NULL,
    nonce_hash                   TEXT NOT NULL,
    redirect_url                 TEXT NOT NULL,
    action_complete_redirect_url TEXT,
    expire_at                    BIGINT NOT NULL,
    created_at                   BIGINT NOT NULL
);
CREATE INDEX oauth_states_expire_at ON oauth_states (expire_at);
