-- Times are milliseconds since the Unix epoch; booleans are 0/1 so both backends share one SQL text.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    private_der   BLOB NOT NULL,
    created_at    BIGINT NOT NULL,
    activates_at  BIGINT NOT NULL,
    retired_at    BIGINT,
    publish_until BIGINT,
    max_lifetime  BIGINT NOT NULL DEFAULT 60
);

CREATE TABLE users (
    id                          TEXT PRIMARY KEY,
    version                     BIGINT NOT NULL DEFAULT 0,
    external_id                 TEXT UNIQUE,
    username                    TEXT,
    username_lower              TEXT UNIQUE,
    first_name                  TEXT,
    last_name                   TEXT,
    locale                      TEXT,
    password_hash               TEXT,
    password_updated_at         BIGINT,
    public_metadata             TEXT NOT NULL DEFAULT '{}',
    private_metadata            TEXT NOT NULL DEFAULT '{}',
    unsafe_metadata             TEXT NOT NULL DEFAULT '{}',
    primary_email_address_id    TEXT,
    primary_phone_number_id     TEXT,
    banned                      BIGINT NOT NULL DEFAULT 0,
    locked_until                BIGINT,
    failed_attempts             BIGINT NOT NULL DEFAULT 0,
    delete_self_enabled         BIGINT NOT NULL DEFAULT 1,
    create_organization_enabled BIGINT NOT NULL DEFAULT 1,
    create_organizations_limit  BIGINT,
    legal_accepted_at           BIGINT,
    last_sign_in_at             BIGINT,
    last_active_at              BIGINT,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);
CREATE INDEX users_created_at ON users (created_at, id);

CREATE TABLE email_addresses (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_address TEXT NOT NULL,
    email_lower   TEXT NOT NULL UNIQUE,
    verified      BIGINT NOT NULL,
    strategy      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX email_addresses_user ON email_addresses (user_id);

CREATE TABLE phone_numbers (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phone_number TEXT NOT NULL UNIQUE,
    verified     BIGINT NOT NULL,
    strategy     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX phone_numbers_user ON phone_numbers (user_id);

CREATE TABLE sessions (
    id                          TEXT PRIMARY KEY,
    user_id                     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id                   TEXT NOT NULL,
    status                      TEXT NOT NULL,
    actor                       TEXT,
    last_active_organization_id TEXT,
    last_active_at              BIGINT NOT NULL,
    expire_at                   BIGINT NOT NULL,
    abandon_at                  BIGINT NOT NULL,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_client ON sessions (client_id, created_at);

CREATE TABLE jwt_templates (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    claims             TEXT NOT NULL,
    lifetime           BIGINT NOT NULL,
    allowed_clock_skew BIGINT NOT NULL,
    custom_signing_key BIGINT NOT NULL,
    signing_algorithm  TEXT NOT NULL,
    signing_key        TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE TABLE sign_in_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    status     TEXT NOT NULL,
    expire_at  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
