-- Addresses a signed-in user added that another account already has. Answering "taken" would
-- tell anyone with a free account who else has one, so the add is accepted as if the address
-- were new: it is listed as the user's unverified address, its codes go to nobody and it can
-- never be verified (issue 11, item 2). Kept apart from email_addresses, whose addresses are
-- unique.
CREATE TABLE decoy_email_addresses (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_address TEXT NOT NULL,
    strategy      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX decoy_email_addresses_user ON decoy_email_addresses (user_id);
