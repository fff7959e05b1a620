-- The audit log (issue 17): append-only, one row per recorded action. No secret (password,
-- code, token) is ever written here; `detail` is a short, human-readable note.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT,
    -- The impersonator when the actor acted through an actor-token session.
    via_actor   TEXT,
    subject_id  TEXT,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    reason      TEXT,
    detail      TEXT,
    client_ip   TEXT NOT NULL,
    user_agent  TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_subject ON audit_log (subject_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- Users who may enter the admin console.
CREATE TABLE instance_admins (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- Actor tokens (impersonation) are sign-in tokens that carry the impersonator, as JSON.
ALTER TABLE sign_in_tokens ADD COLUMN actor TEXT;
-- How long the session an actor token starts may last, in seconds (Clerk's
-- `session_max_duration_in_seconds`).
ALTER TABLE sign_in_tokens ADD COLUMN session_max_duration BIGINT;
