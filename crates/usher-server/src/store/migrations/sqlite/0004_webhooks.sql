-- Outbound webhooks: endpoints, the event outbox (messages, written in the transaction of the
-- change they describe), one delivery per endpoint and message, and the log of attempts.

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    -- JSON array of event types; empty means every event.
    event_types TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    -- `whsec_…`, sealed by the layer above.
    secret TEXT NOT NULL,
    -- The secret replaced by the last rotation, still signed with until previous_secret_until.
    previous_secret TEXT,
    previous_secret_until BIGINT,
    -- First failure of the current run of failures; cleared by a success.
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE webhook_messages (
    id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    -- The exact bytes that are signed and sent.
    payload BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    -- Order among messages written in the same millisecond (a sign-up writes user.created
    -- before session.created).
    position BIGINT NOT NULL,
    -- 1 once deliveries were created for the endpoints subscribed at that time.
    fanned_out BIGINT NOT NULL
);

CREATE INDEX webhook_messages_pending ON webhook_messages (fanned_out, created_at, position);

CREATE TABLE webhook_deliveries (
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    -- While a node is sending, the end of its claim.
    next_attempt_at BIGINT NOT NULL,
    message_created_at BIGINT NOT NULL,
    message_position BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, message_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    succeeded BIGINT NOT NULL,
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL
);

CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, created_at);
