-- The user list at scale (GET /v1/users `query`, `email_address`, default order).
--
-- The default order walks users_created_at (0001) and `email_address` uses the unique
-- email_lower index. Substring search (`query`, `LIKE '%…%'`) needs trigram indexes, which only
-- PostgreSQL has here (pg_trgm, below in its twin); SQLite scans, which stays correct and
-- takes about 100 ms at 100,000 users. The marked block is the one part the two sets do not
-- share (the migration test strips it before comparing).
-- BEGIN POSTGRESQL ONLY
-- pg_trgm is a trusted extension: the database owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- Every column `query` matches, lower-cased as the filter writes it; one GIN index answers
-- the OR of them with a bitmap scan per column.
CREATE INDEX users_search_trgm ON users USING gin (
    LOWER(id) gin_trgm_ops,
    username_lower gin_trgm_ops,
    LOWER(first_name) gin_trgm_ops,
    LOWER(last_name) gin_trgm_ops,
    LOWER(external_id) gin_trgm_ops
);
CREATE INDEX email_addresses_search_trgm ON email_addresses USING gin (email_lower gin_trgm_ops);
CREATE INDEX phone_numbers_search_trgm ON phone_numbers USING gin (phone_number gin_trgm_ops);
-- END POSTGRESQL ONLY
