//! Users and their identifiers.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};
use usher_types::Strategy;

use super::{Bind, SqlBuilder, SqlStore, flag, json_object, map_write_err, read_flag, state};
use crate::store::{
    Change, IdentifierRecord, Page, StoreError, StoreResult, UserEdit, UserFilter, UserOrder, UserQuery, UserRecord,
    UserStore,
};

/// Above this many users, a filtered count on PostgreSQL may be estimated from a sample (see
/// `count_users`).
const ESTIMATED_COUNT_ABOVE: i64 = 100_000;

/// How many users (in the list's order) a search first looks at for its page: this many per
/// user of the page and offset, at least SEARCH_WINDOW_MIN, at most SEARCH_WINDOW (see
/// `search_walk`). A page further than SEARCH_WINDOW is never walked.
const SEARCH_WINDOW: i64 = 2_000;
const SEARCH_WINDOW_PER_USER: i64 = 20;
const SEARCH_WINDOW_MIN: i64 = 500;

/// The furthest a second walk of a search goes before the trigram indexes are asked instead.
const SEARCH_WINDOW_MAX: i64 = 20_000;

/// Offsets from this one on, in the default order without filters, are found through
/// `user_counts` on PostgreSQL (see `deep_page`); nearer ones walk the index.
const DEEP_OFFSET: i64 = 1_000;

/// About how many users the count's sample reads.
const COUNT_SAMPLE_ROWS: f64 = 1_000.0;

/// Filtered counts estimated at more than this many users are answered with the estimate;
/// below it the exact count is cheap (the indexes narrow it to few rows).
const EXACT_COUNT_UP_TO: i64 = 5_000;

/// The bucket widths of user_counts (migration 0014), widest first: a bucket at `shift` holds
/// the users whose `created_at >> shift` is its number.
const COUNT_SHIFTS: [i32; 3] = [30, 20, 10];

/// Optimistic updates retry this often before giving up with [`StoreError::Contention`].
const UPDATE_ATTEMPTS: usize = 20;

pub(super) const USER_COLUMNS: &str = "id, version, external_id, username, first_name, last_name, locale, password_hash, \
    password_updated_at, public_metadata, private_metadata, unsafe_metadata, primary_email_address_id, \
    primary_phone_number_id, banned, locked_until, failed_attempts, delete_self_enabled, create_organization_enabled, \
    create_organizations_limit, legal_accepted_at, last_sign_in_at, last_active_at, created_at, updated_at";

/// Whether the user (`u`) has each second factor, read with the user (no statement of its own).
pub(super) const FACTOR_FLAGS: &str = "(SELECT COUNT(*) FROM user_totp t WHERE t.user_id = u.id AND t.verified = 1) AS totp_on, \
    (SELECT COUNT(*) FROM user_backup_codes c WHERE c.user_id = u.id) AS backup_codes_on";

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, u: &UserRecord) -> StoreResult<()> {
        // One transaction: a user is never visible without the identifiers it was created with,
        // and a conflicting identifier leaves nothing behind.
        let mut tx = self.pool.begin().await?;
        insert_user(&mut tx, u).await?;
        self.emit(&mut tx, &[Change::UserCreated(u)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_user(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS}, {FACTOR_FLAGS} FROM users u WHERE u.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let mut users = row.iter().map(user_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.attach_identifiers(&mut users).await?;
        Ok(users.pop())
    }

    async fn list_users(&self, q: &UserQuery) -> StoreResult<Vec<UserRecord>> {
        if let Some(mut users) = self.search_walk(q).await? {
            self.attach_identifiers(&mut users).await?;
            return Ok(users);
        }
        let deep;
        let q = match self.deep_page(q).await? {
            DeepPage::NotDeep => q,
            DeepPage::PastTheEnd => return Ok(Vec::new()),
            DeepPage::Within(narrowed) => {
                deep = *narrowed;
                &deep
            }
        };
        // A deferred join: the page's ids are found first (for the default order an index-only
        // walk of (created_at, id)), then only those rows are read with their factor flags.
        // Reading whole rows for every skipped one made deep offsets cost as much as reading
        // them all.
        let mut b = SqlBuilder::new(&format!(
            "SELECT {}, {FACTOR_FLAGS} FROM users u WHERE u.id IN (",
            prefixed_user_columns()
        ));
        let searching = q.filter.query.as_deref().is_some_and(|t| !t.is_empty());
        let column = match q.order_by {
            UserOrder::CreatedAt => "u.created_at",
            UserOrder::UpdatedAt => "u.updated_at",
            UserOrder::FirstName => "LOWER(u.first_name)",
            UserOrder::LastName => "LOWER(u.last_name)",
            UserOrder::Username => "u.username_lower",
            UserOrder::LastActiveAt => "u.last_active_at",
            UserOrder::LastSignInAt => "u.last_sign_in_at",
            UserOrder::EmailAddress => {
                "(SELECT e.email_lower FROM email_addresses e WHERE e.id = u.primary_email_address_id)"
            }
            UserOrder::PhoneNumber => {
                "(SELECT p.phone_number FROM phone_numbers p WHERE p.id = u.primary_phone_number_id)"
            }
        };
        let dir = if q.descending { "DESC" } else { "ASC" };
        // Nulls last in both directions and on both databases (their defaults differ); the id
        // breaks ties so pages never overlap. Creation and update times are never null, and
        // leaving them bare lets the (created_at, id) index serve the default order.
        let nulls_last = if matches!(q.order_by, UserOrder::CreatedAt | UserOrder::UpdatedAt) {
            String::new()
        } else {
            format!("({column} IS NULL), ")
        };
        let order = format!(" ORDER BY {nulls_last}{column} {dir}, u.id {dir}");
        if searching && q.order_by == UserOrder::CreatedAt {
            push_search_in_created_order(&mut b, &q.filter, dir);
        } else {
            b.push("SELECT u.id FROM users u WHERE 1 = 1");
            push_filter(&mut b, &q.filter, Search::Sets);
            b.push(&order);
        }
        b.push(" LIMIT ").bind(Bind::Int(q.page.limit)).push(" OFFSET ").bind(Bind::Int(q.page.offset)).push(")");
        b.push(&order);
        let found = b.query().fetch_all(&self.pool).await?;
        let mut users = found.iter().map(user_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.attach_identifiers(&mut users).await?;
        Ok(users)
    }

    async fn count_users(&self, filter: &UserFilter) -> StoreResult<i64> {
        // Counting every user reads every row (or the whole index): on PostgreSQL the
        // unfiltered total is the sum of user_counts' widest buckets (migration 0014), exact
        // and a few hundred rows at most.
        //
        // A filtered count on a table of more than ESTIMATED_COUNT_ABOVE users first counts
        // the matches in a sample of about COUNT_SAMPLE_ROWS users (whole pages picked at
        // random, the same pages every time, so the number is stable between calls): a filter
        // that matches more than EXACT_COUNT_UP_TO users by that sample is answered with the
        // sample's estimate, since counting it exactly reads every match (seconds for a common
        // search term at a million users). Fewer matches are counted exactly, through the
        // indexes. SQLite always counts exactly.
        if let Some(users) = self.counted_users().await? {
            if *filter == UserFilter::default() {
                return Ok(users);
            }
            if users > ESTIMATED_COUNT_ABOVE
                && let Some(sampled) = self.sampled_count(filter, users).await?
            {
                return Ok(sampled);
            }
        }
        let mut b = SqlBuilder::new("SELECT COUNT(*) AS n FROM users u WHERE 1 = 1");
        push_filter(&mut b, filter, Search::Sets);
        Ok(b.query().fetch_one(&self.pool).await?.try_get("n")?)
    }

    async fn update_user(&self, id: &str, edit: UserEdit<'_>) -> StoreResult<Option<UserRecord>> {
        // Optimistic concurrency: write only if nobody else wrote since we read; otherwise read
        // again and re-apply the edit. Portable, and no lock is held across the edit.
        for _ in 0..UPDATE_ATTEMPTS {
            let Some(mut user) = self.get_user(id).await? else {
                return Ok(None);
            };
            let read_version = user.version;
            edit(&mut user).map_err(StoreError::Refused)?;
            user.version = read_version + 1;
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(
                "UPDATE users SET version = $3, external_id = $4, username = $5, username_lower = $6, first_name = $7, \
                 last_name = $8, locale = $9, password_hash = $10, password_updated_at = $11, public_metadata = $12, \
                 private_metadata = $13, unsafe_metadata = $14, primary_email_address_id = $15, primary_phone_number_id = $16, \
                 banned = $17, locked_until = $18, failed_attempts = $19, delete_self_enabled = $20, \
                 create_organization_enabled = $21, create_organizations_limit = $22, legal_accepted_at = $23, \
                 last_sign_in_at = $24, last_active_at = $25, updated_at = $26 WHERE id = $1 AND version = $2",
            )
            .bind(id)
            .bind(read_version)
            .bind(user.version)
            .bind(user.external_id.as_deref())
            .bind(user.username.as_deref())
            .bind(user.username.as_deref().map(str::to_lowercase))
            .bind(user.first_name.as_deref())
            .bind(user.last_name.as_deref())
            .bind(user.locale.as_deref())
            .bind(user.password_hash.as_deref())
            .bind(user.password_updated_at)
            .bind(serde_json::Value::Object(user.public_metadata.clone()).to_string())
            .bind(serde_json::Value::Object(user.private_metadata.clone()).to_string())
            .bind(serde_json::Value::Object(user.unsafe_metadata.clone()).to_string())
            .bind(user.primary_email_address_id.as_deref())
            .bind(user.primary_phone_number_id.as_deref())
            .bind(flag(user.banned))
            .bind(user.locked_until)
            .bind(user.failed_attempts)
            .bind(flag(user.delete_self_enabled))
            .bind(flag(user.create_organization_enabled))
            .bind(user.create_organizations_limit)
            .bind(user.legal_accepted_at)
            .bind(user.last_sign_in_at)
            .bind(user.last_active_at)
            .bind(user.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(map_write_err)?;
            if done.rows_affected() == 1 {
                self.emit(&mut tx, &[Change::UserUpdated(&user)]).await?;
                tx.commit().await?;
                return Ok(Some(user));
            }
        }
        Err(StoreError::Contention(format!("user {id}")))
    }

    async fn record_failed_attempt(&self, id: &str, threshold: i64, lock_until: i64) -> StoreResult<()> {
        // One statement, so concurrent failures all count; the right-hand sides read the old row.
        // It runs (in a transaction) for an id no user has just as for a real one.
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE users SET version = version + 1, \
             locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END, \
             failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END \
             WHERE id = $1 RETURNING failed_attempts, locked_until",
        )
        .bind(id)
        .bind(threshold)
        .bind(lock_until)
        .fetch_optional(&mut *tx)
        .await?;
        // This failure locked the account (the count restarted at the lock): Clerk tells the
        // app with `user.updated`, its `locked` now true.
        let locked_now = match &row {
            Some(r) => {
                r.try_get::<i64, _>("failed_attempts")? == 0
                    && r.try_get::<Option<i64>, _>("locked_until")? == Some(lock_until)
            }
            None => false,
        };
        if locked_now
            && self.events.is_some()
            && let Some(user) = user_in(&mut tx, id).await?
        {
            self.emit(&mut tx, &[Change::UserUpdated(&user)]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_user(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        let Some(user) = self.get_user(id).await? else {
            return Ok(None);
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?;
        self.emit(&mut tx, &[Change::UserDeleted(id)]).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn add_email_address(&self, user_id: &str, e: &IdentifierRecord) -> StoreResult<()> {
        let before = self.get_user(user_id).await?;
        let mut tx = self.pool.begin().await?;
        insert_email(&mut *tx, user_id, e).await?;
        bump_user(&mut *tx, user_id, e.updated_at).await?;
        if let Some(mut user) = before {
            user.emails.push(e.clone());
            user.updated_at = e.updated_at;
            self.emit(&mut tx, &[Change::UserUpdated(&user)]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn verify_email_address(&self, user_id: &str, id: &str, now: i64) -> StoreResult<bool> {
        let before = self.get_user(user_id).await?;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE email_addresses SET verified = 1, strategy = $4, updated_at = $3 WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user_id)
        .bind(now)
        .bind(Strategy::EmailCode.as_str())
        .execute(&mut *tx)
        .await?;
        bump_user(&mut *tx, user_id, now).await?;
        if let (1, Some(mut user)) = (done.rows_affected(), before) {
            for e in user.emails.iter_mut().filter(|e| e.id == id) {
                (e.verified, e.strategy, e.updated_at) = (true, Strategy::EmailCode, now);
            }
            user.updated_at = now;
            self.emit(&mut tx, &[Change::UserUpdated(&user)]).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_email_address(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let before = self.get_user(user_id).await?;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM email_addresses WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let decoy = sqlx::query("DELETE FROM decoy_email_addresses WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if let (1, Some(mut user)) = (done.rows_affected(), before) {
            user.emails.retain(|e| e.id != id);
            self.emit(&mut tx, &[Change::UserUpdated(&user)]).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() + decoy.rows_affected() == 1)
    }
}

impl SqlStore {
    /// The page of a search in the default order (`created_at`) found by walking that order
    /// and testing each user, or `None` if the walk would be longer than asking the trigram
    /// indexes.
    ///
    /// For a common term (in thousands of users) the trigram indexes find every match, which
    /// must all be read and sorted before the first page is known: seconds at a million users.
    /// Walking the (created_at, id) index and testing each user finds that page after a few
    /// dozen users, and the walk stops there. A rare term would walk the whole table, so the
    /// walk is bounded: first by a window of SEARCH_WINDOW_PER_USER users per user wanted
    /// (offset and page), so 500 for a first page of ten. If it holds too few matches, how many
    /// they hold tells about how far the page is: a second walk goes that far (with a margin)
    /// when that is shorter than SEARCH_WINDOW_MAX and than reading every match would be
    /// (about twice a walked user's cost per match, measured on PostgreSQL; see
    /// bench/results.md). Otherwise, or if the second walk still falls short, the page comes
    /// from the trigram indexes, which then have few matches to sort. Since a window is the
    /// start of the list's order, a full page from it is the page the full query returns.
    async fn search_walk(&self, q: &UserQuery) -> StoreResult<Option<Vec<UserRecord>>> {
        let searching = q.filter.query.as_deref().is_some_and(|t| !t.is_empty());
        let Page { limit, offset } = q.page;
        let wanted = offset.saturating_add(limit);
        if !searching || q.order_by != UserOrder::CreatedAt || limit <= 0 || wanted > SEARCH_WINDOW {
            return Ok(None);
        }
        let first = (wanted * SEARCH_WINDOW_PER_USER).clamp(SEARCH_WINDOW_MIN, SEARCH_WINDOW);
        let found = self.walk(q, first).await?;
        if found.len() as i64 == limit {
            return Ok(Some(found));
        }
        // An empty page past the first matches does not say how many the window held.
        if found.is_empty() && offset > 0 {
            return Ok(None);
        }
        let hits = offset + found.len() as i64;
        if hits == 0 {
            return Ok(None);
        }
        let window = wanted * first / hits * 5 / 4;
        let matches = self.counted_users().await?.map(|users| hits * users / first);
        if window > SEARCH_WINDOW_MAX || matches.is_some_and(|m| window > 2 * m) {
            return Ok(None);
        }
        let found = self.walk(q, window).await?;
        Ok((found.len() as i64 == limit).then_some(found))
    }

    /// The page of `q` among the first `window` users of the default order (a search's walk).
    async fn walk(&self, q: &UserQuery, window: i64) -> StoreResult<Vec<UserRecord>> {
        let dir = if q.descending { "DESC" } else { "ASC" };
        let order = format!(" ORDER BY u.created_at {dir}, u.id {dir}");
        let mut b = SqlBuilder::new(&format!(
            "SELECT {}, {FACTOR_FLAGS} FROM (SELECT * FROM users u{order} LIMIT ",
            prefixed_user_columns()
        ));
        b.bind(Bind::Int(window)).push(") AS u WHERE 1 = 1");
        push_filter(&mut b, &q.filter, Search::EachRow);
        b.push(&order).push(" LIMIT ");
        b.bind(Bind::Int(q.page.limit)).push(" OFFSET ").bind(Bind::Int(q.page.offset));
        let found = b.query().fetch_all(&self.pool).await?;
        found.iter().map(user_from_row).collect()
    }

    /// The number of users, from user_counts (PostgreSQL only, migration 0014); `None` on
    /// SQLite, which has no such table.
    async fn counted_users(&self) -> StoreResult<Option<i64>> {
        if self.backend != super::Backend::Postgres {
            return Ok(None);
        }
        let row = sqlx::query("SELECT CAST(COALESCE(SUM(users), 0) AS BIGINT) AS n FROM user_counts WHERE shift = $1")
            .bind(COUNT_SHIFTS[0])
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(row.try_get("n")?))
    }

    /// A deep page of the unfiltered default order, narrowed to the one-second bucket of
    /// user_counts (PostgreSQL, migration 0014) where it starts: the bucket is found by
    /// summing the counts widest first (one statement per width, each over at most 1,024 rows
    /// under the bucket chosen before), and the page is then the same query restricted to
    /// users from that bucket on (or up to it, descending), at the offset left inside it. So
    /// the walk is as long as one bucket, not the offset. Each statement sees the counts and
    /// the users of its own moment (the triggers keep them in the same transaction); a user
    /// created between them shifts the page by one, as it would any offset page.
    async fn deep_page(&self, q: &UserQuery) -> StoreResult<DeepPage> {
        if self.backend != super::Backend::Postgres
            || q.order_by != UserOrder::CreatedAt
            || q.filter != UserFilter::default()
            || q.page.offset < DEEP_OFFSET
        {
            return Ok(DeepPage::NotDeep);
        }
        let dir = if q.descending { "DESC" } else { "ASC" };
        let statement = format!(
            "SELECT bucket, ahead FROM (SELECT bucket, users, \
             CAST(SUM(users) OVER (ORDER BY bucket {dir}) AS BIGINT) - users AS ahead \
             FROM user_counts WHERE shift = $1 AND bucket >= $2 AND bucket <= $3) AS c \
             WHERE ahead + users > $4 ORDER BY bucket {dir} LIMIT 1"
        );
        let (mut low, mut high, mut skipped, mut bucket) = (i64::MIN, i64::MAX, 0, 0);
        for (i, shift) in COUNT_SHIFTS.iter().enumerate() {
            let row = sqlx::query(&statement)
                .bind(i64::from(*shift))
                .bind(low)
                .bind(high)
                .bind(q.page.offset - skipped)
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else { return Ok(DeepPage::PastTheEnd) };
            bucket = row.try_get("bucket")?;
            skipped += row.try_get::<i64, _>("ahead")?;
            // The buckets of the next width under this one.
            if let Some(next) = COUNT_SHIFTS.get(i + 1) {
                let step = shift - next;
                (low, high) = (bucket << step, (bucket << step) | ((1 << step) - 1));
            }
        }
        let shift = i64::from(COUNT_SHIFTS[COUNT_SHIFTS.len() - 1]);
        let mut narrowed = q.clone();
        narrowed.page.offset -= skipped;
        if q.descending {
            let Some(end) = bucket.checked_add(1).and_then(|b| b.checked_mul(1 << shift)) else {
                return Ok(DeepPage::NotDeep);
            };
            narrowed.filter.created_at_before = Some(end);
        } else {
            let Some(start) = (bucket << shift).checked_sub(1) else { return Ok(DeepPage::NotDeep) };
            narrowed.filter.created_at_after = Some(start);
        }
        Ok(DeepPage::Within(Box::new(narrowed)))
    }

    /// The number of users matching `filter` estimated from a sample of the table (PostgreSQL
    /// only: `TABLESAMPLE`), if it is above EXACT_COUNT_UP_TO; `None` if the exact count is cheap.
    async fn sampled_count(&self, filter: &UserFilter, users: i64) -> StoreResult<Option<i64>> {
        let percent = (100.0 * COUNT_SAMPLE_ROWS / users as f64).clamp(0.001, 100.0);
        // PostgreSQL only (`TABLESAMPLE`): `count_users` calls this for PostgreSQL alone.
        let mut b = SqlBuilder::new("SELECT COUNT(*) AS seen, COALESCE(CAST(SUM(CASE WHEN 1 = 1");
        push_filter(&mut b, filter, Search::EachRow);
        b.push(&format!(
            " THEN 1 ELSE 0 END) AS BIGINT), 0) AS hits FROM users u TABLESAMPLE SYSTEM ({percent:.4}) REPEATABLE (0)"
        ));
        let row = b.query().fetch_one(&self.pool).await?;
        let (seen, hits): (i64, i64) = (row.try_get("seen")?, row.try_get("hits")?);
        if seen == 0 {
            return Ok(None);
        }
        let estimate = (hits as f64 * users as f64 / seen as f64).round() as i64;
        Ok((estimate > EXACT_COUNT_UP_TO).then_some(estimate))
    }

    /// Loads the email addresses and phone numbers of `users` with one query.
    pub(super) async fn attach_identifiers(&self, users: &mut [UserRecord]) -> StoreResult<()> {
        attach_identifiers_with(&self.pool, users).await
    }
}

/// A user with its identifiers, read through `conn` (inside a write's transaction, so an event
/// shows the user as that transaction sees it).
pub(super) async fn user_in(conn: &mut sqlx::AnyConnection, id: &str) -> StoreResult<Option<UserRecord>> {
    let row = sqlx::query(&format!("SELECT {USER_COLUMNS}, {FACTOR_FLAGS} FROM users u WHERE u.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut users = vec![user_from_row(&row)?];
    attach_identifiers_with(&mut *conn, &mut users).await?;
    Ok(users.pop())
}

/// Loads the email addresses and phone numbers of `users` with one query.
async fn attach_identifiers_with<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    users: &mut [UserRecord],
) -> StoreResult<()> {
    // A miss runs the same statements as a hit (for an id no user has): looking up a sign-in
    // identifier must not tell by its work whether an account exists.
    let mut ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    if ids.is_empty() {
        ids.push(String::new());
    }
    let mut b = SqlBuilder::new(
        "SELECT CAST(1 AS BIGINT) AS is_email, user_id, id, email_address AS value, verified, strategy, created_at, updated_at \
         FROM email_addresses WHERE user_id IN ",
    );
    b.bind_list(&ids);
    b.push(
        " UNION ALL SELECT CAST(0 AS BIGINT) AS is_email, user_id, id, phone_number AS value, verified, strategy, created_at, \
         updated_at FROM phone_numbers WHERE user_id IN ",
    );
    b.bind_list(&ids);
    // Decoys (see `DecoyEmailStore`) are listed like any unverified address of the user.
    b.push(
        " UNION ALL SELECT CAST(1 AS BIGINT) AS is_email, user_id, id, email_address AS value, CAST(0 AS BIGINT) AS verified, \
         strategy, created_at, updated_at FROM decoy_email_addresses WHERE user_id IN ",
    );
    // The user's verified passkeys ride in the same statement (kind 2), as the account pages
    // show them: `value` is the name, `verified` the last use (or -1), `strategy` the
    // credential id. Their credentials are read only where they are used (`PasskeyStore`).
    b.bind_list(&ids);
    b.push(
        " UNION ALL SELECT CAST(2 AS BIGINT) AS is_email, user_id, id, name AS value, \
         COALESCE(last_used_at, CAST(-1 AS BIGINT)) AS verified, credential_id AS strategy, created_at, updated_at \
         FROM passkeys WHERE credential_id IS NOT NULL AND user_id IN ",
    );
    b.bind_list(&ids).push(" ORDER BY created_at, id");
    let mut by_user: HashMap<String, (Vec<IdentifierRecord>, Vec<IdentifierRecord>)> = HashMap::new();
    let mut passkeys: HashMap<String, Vec<crate::store::PasskeyRecord>> = HashMap::new();
    for row in b.query().fetch_all(executor).await? {
        let kind: i64 = row.try_get("is_email")?;
        if kind == 2 {
            let passkey = passkey_summary_from_row(&row)?;
            passkeys.entry(passkey.user_id.clone()).or_default().push(passkey);
            continue;
        }
        let (user_id, ident) = identifier_from_row(&row)?;
        let entry = by_user.entry(user_id).or_default();
        if kind == 1 { entry.0.push(ident) } else { entry.1.push(ident) }
    }
    for user in users {
        if let Some((emails, phones)) = by_user.remove(&user.id) {
            user.emails = emails;
            user.phones = phones;
        }
        user.passkeys = passkeys.remove(&user.id).unwrap_or_default();
    }
    Ok(())
}

/// Identifier changes are changes of the user: bump its version so optimistic updates
/// that read the old identifiers retry.
async fn bump_user<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE users SET version = version + 1, updated_at = $2 WHERE id = $1")
        .bind(user_id)
        .bind(now)
        .execute(executor)
        .await?;
    Ok(())
}

/// Inserts a user with its identifiers inside `tx` (also used by a completed sign-up).
pub(super) async fn insert_user(tx: &mut sqlx::Transaction<'_, sqlx::Any>, u: &UserRecord) -> StoreResult<()> {
    // One transaction: a user is never visible without the identifiers it was created with,
    // and a conflicting identifier leaves nothing behind.
    sqlx::query(&format!(
            "INSERT INTO users ({USER_COLUMNS}, username_lower) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)"
        ))
        .bind(&u.id)
        .bind(u.version)
        .bind(u.external_id.as_deref())
        .bind(u.username.as_deref())
        .bind(u.first_name.as_deref())
        .bind(u.last_name.as_deref())
        .bind(u.locale.as_deref())
        .bind(u.password_hash.as_deref())
        .bind(u.password_updated_at)
        .bind(serde_json::Value::Object(u.public_metadata.clone()).to_string())
        .bind(serde_json::Value::Object(u.private_metadata.clone()).to_string())
        .bind(serde_json::Value::Object(u.unsafe_metadata.clone()).to_string())
        .bind(u.primary_email_address_id.as_deref())
        .bind(u.primary_phone_number_id.as_deref())
        .bind(flag(u.banned))
        .bind(u.locked_until)
        .bind(u.failed_attempts)
        .bind(flag(u.delete_self_enabled))
        .bind(flag(u.create_organization_enabled))
        .bind(u.create_organizations_limit)
        .bind(u.legal_accepted_at)
        .bind(u.last_sign_in_at)
        .bind(u.last_active_at)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(u.username.as_deref().map(str::to_lowercase))
        .execute(&mut **tx)
        .await
        .map_err(map_write_err)?;
    for e in &u.emails {
        insert_email(&mut **tx, &u.id, e).await?;
    }
    for p in &u.phones {
        sqlx::query(
            "INSERT INTO phone_numbers (id, user_id, phone_number, verified, strategy, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&p.id)
        .bind(&u.id)
        .bind(&p.value)
        .bind(flag(p.verified))
        .bind(p.strategy.as_str())
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut **tx)
        .await
        .map_err(map_write_err)?;
    }
    Ok(())
}

/// Marks a sign-in: last sign-in and activity now, the failure count cleared.
pub(super) async fn mark_signed_in<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE users SET version = version + 1, last_sign_in_at = $2, last_active_at = $2, failed_attempts = 0 \
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// A user without its identifiers (they come from their own tables).
pub(super) fn user_from_row(row: &AnyRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        external_id: row.try_get("external_id")?,
        username: row.try_get("username")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        locale: row.try_get("locale")?,
        password_hash: row.try_get("password_hash")?,
        password_updated_at: row.try_get("password_updated_at")?,
        public_metadata: json_object(row, "public_metadata")?,
        private_metadata: json_object(row, "private_metadata")?,
        unsafe_metadata: json_object(row, "unsafe_metadata")?,
        primary_email_address_id: row.try_get("primary_email_address_id")?,
        primary_phone_number_id: row.try_get("primary_phone_number_id")?,
        banned: read_flag(row, "banned")?,
        locked_until: row.try_get("locked_until")?,
        failed_attempts: row.try_get("failed_attempts")?,
        totp_enabled: read_flag(row, "totp_on")?,
        backup_code_enabled: read_flag(row, "backup_codes_on")?,
        delete_self_enabled: read_flag(row, "delete_self_enabled")?,
        create_organization_enabled: read_flag(row, "create_organization_enabled")?,
        create_organizations_limit: row.try_get("create_organizations_limit")?,
        legal_accepted_at: row.try_get("legal_accepted_at")?,
        last_sign_in_at: row.try_get("last_sign_in_at")?,
        last_active_at: row.try_get("last_active_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        emails: Vec::new(),
        phones: Vec::new(),
        passkeys: Vec::new(),
    })
}

/// `(user_id, identifier)` from `SELECT user_id, id, value, verified, strategy, created_at, updated_at`.
fn identifier_from_row(row: &AnyRow) -> StoreResult<(String, IdentifierRecord)> {
    Ok((
        row.try_get("user_id")?,
        IdentifierRecord {
            id: row.try_get("id")?,
            value: row.try_get("value")?,
            verified: read_flag(row, "verified")?,
            strategy: state(row, "strategy", Strategy::parse)?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
    ))
}

/// A passkey as the user read carries it (see `attach_identifiers`): no credential.
fn passkey_summary_from_row(row: &AnyRow) -> StoreResult<crate::store::PasskeyRecord> {
    let last_used: i64 = row.try_get("verified")?;
    Ok(crate::store::PasskeyRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("value")?,
        credential_id: row.try_get("strategy")?,
        last_used_at: (last_used >= 0).then_some(last_used),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        ..Default::default()
    })
}

/// Inserts one email address of `user_id` (the lower-cased copy is what uniqueness is on).
pub(super) async fn insert_email<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    e: &IdentifierRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO email_addresses (id, user_id, email_address, email_lower, verified, strategy, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.id)
    .bind(user_id)
    .bind(&e.value)
    .bind(e.value.to_lowercase())
    .bind(flag(e.verified))
    .bind(e.strategy.as_str())
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(executor)
    .await
    .map_err(map_write_err)?;
    Ok(())
}

pub(super) fn prefixed_user_columns() -> String {
    USER_COLUMNS.split(',').map(|c| format!("u.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

/// Escapes `%`, `_` and `\` so a user's search text matches literally in `LIKE … ESCAPE '\'`.
pub(super) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn lowered(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.to_lowercase()).collect()
}

/// Where a page of the unfiltered default order lies (see `SqlStore::deep_page`).
enum DeepPage {
    /// Not deep, or not served by user_counts: the query as it is.
    NotDeep,
    /// Past the last user: empty.
    PastTheEnd,
    /// The same page, as a query over the users from its bucket on.
    Within(Box<UserQuery>),
}

/// How `push_filter` writes the `query` condition.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Search {
    /// Not at all: the caller has written it (`push_search_in_created_order`).
    Written,
    /// As sets of matching ids, one per table, which PostgreSQL's trigram indexes find
    /// (migration 0012): for a query over the whole table.
    Sets,
    /// As a test of each user row (a correlated lookup of its identifiers that the planner
    /// cannot turn into a scan of every matching identifier): for a bounded set of rows.
    EachRow,
}

/// `LOWER(a.id) LIKE … OR …`: the user columns `query` matches, as the trigram index of
/// migration 0012 covers them, for the users table aliased `alias`.
fn push_user_columns_like(b: &mut SqlBuilder, alias: &str, pattern: &Bind) {
    let columns = [
        format!("LOWER({alias}.id)"),
        format!("{alias}.username_lower"),
        format!("LOWER({alias}.first_name)"),
        format!("LOWER({alias}.last_name)"),
        format!("LOWER({alias}.external_id)"),
    ];
    b.push("(");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            b.push(" OR ");
        }
        b.push(&format!("{column} LIKE ")).bind(pattern.clone()).push(" ESCAPE '\\'");
    }
    b.push(")");
}

/// The ids of the users matching `f` (a search) in the default order, without LIMIT: one
/// branch per table the trigram indexes cover, each carrying the user's `created_at`, so the
/// page is picked from the matches' own rows (the users table's matches need no second
/// lookup of the user to be ordered) and the other filters apply in each branch.
fn push_search_in_created_order(b: &mut SqlBuilder, f: &UserFilter, dir: &str) {
    let pattern = Bind::Text(like_pattern(f.query.as_deref().unwrap_or_default()));
    b.push("SELECT m.id FROM (SELECT u.id, u.created_at FROM users u WHERE ");
    push_user_columns_like(b, "u", &pattern);
    push_filter(b, f, Search::Written);
    b.push(" UNION SELECT u.id, u.created_at FROM email_addresses e JOIN users u ON u.id = e.user_id WHERE e.email_lower LIKE ");
    b.bind(pattern.clone()).push(" ESCAPE '\\'");
    push_filter(b, f, Search::Written);
    b.push(" UNION SELECT u.id, u.created_at FROM phone_numbers p JOIN users u ON u.id = p.user_id WHERE p.phone_number LIKE ");
    b.bind(pattern).push(" ESCAPE '\\'");
    push_filter(b, f, Search::Written);
    b.push(&format!(") AS m ORDER BY m.created_at {dir}, m.id {dir}"));
}

fn push_filter(b: &mut SqlBuilder, f: &UserFilter, search: Search) {
    if !f.email_address.is_empty() {
        b.push(" AND u.id IN (SELECT user_id FROM email_addresses WHERE email_lower IN ");
        b.bind_list(&lowered(&f.email_address)).push(")");
    }
    if !f.phone_number.is_empty() {
        b.push(" AND u.id IN (SELECT user_id FROM phone_numbers WHERE phone_number IN ");
        b.bind_list(&f.phone_number).push(")");
    }
    for (column, values) in [
        ("u.external_id", f.external_id.clone()),
        ("u.username_lower", lowered(&f.username)),
        ("u.id", f.user_id.clone()),
    ] {
        if !values.is_empty() {
            b.push(&format!(" AND {column} IN "));
            b.bind_list(&values);
        }
    }
    if !f.exclude_user_id.is_empty() {
        b.push(" AND u.id NOT IN ");
        b.bind_list(&f.exclude_user_id);
    }
    if let Some(q) = f.query.as_deref().filter(|q| !q.is_empty())
        && search == Search::EachRow
    {
        // `(SELECT … LIMIT 1) IS NOT NULL`, not `EXISTS`: PostgreSQL may run an `EXISTS` as one
        // hashed scan of every matching address (200,000 of them for `gmail.com`), which is
        // what a bounded walk is there to avoid.
        let pattern = Bind::Text(like_pattern(q));
        b.push(" AND (");
        push_user_columns_like(b, "u", &pattern);
        b.push(" OR (SELECT 1 FROM email_addresses e WHERE e.user_id = u.id AND e.email_lower LIKE ");
        b.bind(pattern.clone()).push(" ESCAPE '\\' LIMIT 1) IS NOT NULL");
        b.push(" OR (SELECT 1 FROM phone_numbers p WHERE p.user_id = u.id AND p.phone_number LIKE ");
        b.bind(pattern).push(" ESCAPE '\\' LIMIT 1) IS NOT NULL)");
    } else if let Some(q) = f.query.as_deref().filter(|q| !q.is_empty())
        && search == Search::Sets
    {
        // One set of matching ids per table, each `LIKE` on an expression the PostgreSQL
        // trigram indexes of migration 0012 cover (so each is a bitmap index scan, not a scan
        // of every user); SQLite scans, as it did with the correlated form.
        let pattern = Bind::Text(like_pattern(q));
        b.push(" AND u.id IN (SELECT s.id FROM users s WHERE ");
        push_user_columns_like(b, "s", &pattern);
        b.push(" UNION SELECT e.user_id FROM email_addresses e WHERE e.email_lower LIKE ");
        b.bind(pattern.clone()).push(" ESCAPE '\\'");
        b.push(" UNION SELECT p.user_id FROM phone_numbers p WHERE p.phone_number LIKE ");
        b.bind(pattern).push(" ESCAPE '\\')");
    }
    if let Some(banned) = f.banned {
        b.push(" AND u.banned = ").bind(Bind::Int(flag(banned)));
    }
    if let Some(at) = f.locked_at {
        b.push(" AND u.locked_until > ").bind(Bind::Int(at));
    }
    let ranges = [
        ("u.created_at <", f.created_at_before),
        ("u.created_at >", f.created_at_after),
        ("u.last_active_at <", f.last_active_at_before),
        ("u.last_active_at >", f.last_active_at_after),
        ("u.last_sign_in_at <", f.last_sign_in_at_before),
        ("u.last_sign_in_at >", f.last_sign_in_at_after),
    ];
    for (condition, value) in ranges {
        if let Some(v) = value {
            b.push(&format!(" AND {condition} ")).bind(Bind::Int(v));
        }
    }
}
