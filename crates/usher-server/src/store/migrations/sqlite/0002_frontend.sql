-- The Frontend API: browser clients, sign-in and sign-up attempts, one-time codes, the mail outbox.

-- A browser. `token_hash` is the hash of the secret in its `__client` cookie; it changes on every
-- sign-in and sign-out, so a captured cookie stops working.
CREATE TABLE clients (
    id                     TEXT PRIMARY KEY,
    token_hash             TEXT NOT NULL,
    sign_in_id             TEXT,
    sign_up_id             TEXT,
    last_active_session_id TEXT,
    expire_at              BIGINT NOT NULL,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);

-- Sign-in and sign-up attempts: short-lived documents read and written whole, kept as JSON.
CREATE TABLE attempts (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    data       TEXT NOT NULL,
    expire_at  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX attempts_expire ON attempts (expire_at);

-- At most one live code per thing it verifies (an attempt, an email address). Only a keyed
-- hash of the code is kept; using it deletes the row, so it works once.
CREATE TABLE verification_codes (
    subject_id TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    expire_at  BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Mail waiting to be sent. Written in the same transaction as the code it carries, so a crash
-- between the two loses nothing; the body is blanked once sent.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at         BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);
