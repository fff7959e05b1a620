-- Deep pages of the user list in the default order (GET /v1/users?offset=…, the console's
-- last pages) and its unfiltered total.
--
-- An offset is otherwise a walk of that many entries of users_created_at (0001): about 370 ms
-- at offset 500,000 on PostgreSQL. user_counts keeps how many users were created in each time
-- bucket, at three widths (created_at >> 30, >> 20 and >> 10: about 12 days, 17 minutes and
-- one second), so the store finds the one-second bucket holding the offset by summing at most
-- a few thousand small rows, and walks only inside it. The counts are kept by triggers in the
-- same transaction as the users they count. Only PostgreSQL has the table (below, in its twin):
-- SQLite walks its index, and the store reads user_counts on PostgreSQL only.
-- BEGIN POSTGRESQL ONLY
CREATE TABLE user_counts (
    shift  INTEGER NOT NULL,
    bucket BIGINT NOT NULL,
    users  BIGINT NOT NULL,
    PRIMARY KEY (shift, bucket)
);
INSERT INTO user_counts (shift, bucket, users)
SELECT s.shift, u.created_at >> s.shift, COUNT(*)
FROM users u CROSS JOIN (VALUES (30), (20), (10)) AS s (shift)
GROUP BY 1, 2;
-- Statement triggers with transition tables: a multi-row insert (an import batch) adds each
-- bucket once, in a fixed order (widest first, then by bucket), so concurrent writers take
-- the rows' locks in the same order.
CREATE FUNCTION user_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts (shift, bucket, users)
    SELECT s.shift, a.created_at >> s.shift, COUNT(*)
    FROM added a CROSS JOIN (VALUES (30), (20), (10)) AS s (shift)
    GROUP BY 1, 2 ORDER BY 1 DESC, 2
    ON CONFLICT (shift, bucket) DO UPDATE SET users = user_counts.users + EXCLUDED.users;
    RETURN NULL;
END $$;
CREATE FUNCTION user_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_counts c SET users = c.users - r.users
    FROM (
        SELECT s.shift, d.created_at >> s.shift AS bucket, COUNT(*) AS users
        FROM removed d CROSS JOIN (VALUES (30), (20), (10)) AS s (shift)
        GROUP BY 1, 2
    ) AS r
    WHERE c.shift = r.shift AND c.bucket = r.bucket;
    RETURN NULL;
END $$;
-- No write changes a user's created_at today; should one, the user moves between buckets.
CREATE FUNCTION user_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_counts SET users = users - 1
    WHERE (shift = 30 AND bucket = OLD.created_at >> 30) OR (shift = 20 AND bucket = OLD.created_at >> 20)
        OR (shift = 10 AND bucket = OLD.created_at >> 10);
    INSERT INTO user_counts (shift, bucket, users)
    SELECT s.shift, NEW.created_at >> s.shift, 1 FROM (VALUES (30), (20), (10)) AS s (shift) ORDER BY 1 DESC
    ON CONFLICT (shift, bucket) DO UPDATE SET users = user_counts.users + 1;
    RETURN NULL;
END $$;
CREATE FUNCTION user_counts_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM user_counts;
    RETURN NULL;
END $$;
CREATE TRIGGER users_counted_in AFTER INSERT ON users REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION user_counts_added();
CREATE TRIGGER users_counted_out AFTER DELETE ON users REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION user_counts_removed();
CREATE TRIGGER users_counted_moved AFTER UPDATE OF created_at ON users
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at) EXECUTE FUNCTION user_counts_moved();
CREATE TRIGGER users_counted_cleared AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION user_counts_cleared();
-- END POSTGRESQL ONLY
