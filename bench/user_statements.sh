#!/usr/bin/env bash
# PostgreSQL execution times (EXPLAIN ANALYZE, ms, five runs each) of the statements
# crates/usher-server/src/store/sql/users.rs sends for deep pages and searches of the user list.
#
#   USHER_BENCH_KEEP_DATABASE=1 target/release/list_users 1000000   # prints the database it kept
#   bench/user_statements.sh postgres://postgres@127.0.0.1:5432/usher_bench_NNNN
#
# The SQL below is the store's, with the bound values written in.
set -euo pipefail
url=${1:?usage: user_statements.sh DATABASE_URL}
sql() { psql "$url" -X -At -v ON_ERROR_STOP=1 -c "$1"; }
# Five runs of EXPLAIN ANALYZE; prints the execution times, sorted.
times() {
  for _ in 1 2 3 4 5; do
    sql "EXPLAIN (ANALYZE, TIMING OFF) $1" | sed -n 's/^Execution Time: \(.*\) ms$/\1/p'
  done | sort -n | tr '\n' ' '
}
users=$(sql "SELECT CAST(COALESCE(SUM(users), 0) AS BIGINT) FROM user_counts WHERE shift = 30")
echo "$users users (sum of user_counts)"
echo
echo "| statement | runs (ms) |"
echo "| --- | --- |"

# Deep pages: the bucket of each width, then the page inside the one-second bucket.
deep() {
  local offset=$1 dir=$2 low=-9223372036854775808 high=9223372036854775807 skipped=0 bucket=0
  for shift in 30 20 10; do
    local stmt="SELECT bucket, ahead FROM (SELECT bucket, users, CAST(SUM(users) OVER (ORDER BY bucket $dir) AS BIGINT) - users AS ahead FROM user_counts WHERE shift = $shift AND bucket >= $low AND bucket <= $high) AS c WHERE ahead + users > $((offset - skipped)) ORDER BY bucket $dir LIMIT 1"
    echo "| offset=$offset $dir: bucket at shift $shift | $(times "$stmt")|"
    local row; row=$(sql "$stmt")
    bucket=${row%|*}; skipped=$((skipped + ${row#*|}))
    low=$((bucket << 10)); high=$(((bucket << 10) | 1023))
  done
  local bound
  if [ "$dir" = DESC ]; then bound="u.created_at < $(((bucket + 1) << 10))"; else bound="u.created_at > $(((bucket << 10) - 1))"; fi
  echo "| offset=$offset $dir: the page, $bound OFFSET $((offset - skipped)) | $(times "SELECT u.id FROM users u WHERE u.id IN (SELECT u.id FROM users u WHERE 1 = 1 AND $bound ORDER BY u.created_at $dir, u.id $dir LIMIT 10 OFFSET $((offset - skipped))) ORDER BY u.created_at $dir, u.id $dir")|"
  echo "| offset=$offset $dir: before, the whole offset walked | $(times "SELECT u.id FROM users u WHERE u.id IN (SELECT u.id FROM users u WHERE 1 = 1 ORDER BY u.created_at $dir, u.id $dir LIMIT 10 OFFSET $offset) ORDER BY u.created_at $dir, u.id $dir")|"
}
deep $((users / 2)) DESC
deep $((users / 2)) ASC
echo "| unfiltered count: sum of user_counts | $(times "SELECT CAST(COALESCE(SUM(users), 0) AS BIGINT) AS n FROM user_counts WHERE shift = 30")|"

# Searches, first page of ten, newest first: the walk of a window, and the trigram form.
like() { echo "LIKE '%$1%' ESCAPE '\\'"; }
columns() { echo "(LOWER($1.id) $(like "$2") OR $1.username_lower $(like "$2") OR LOWER($1.first_name) $(like "$2") OR LOWER($1.last_name) $(like "$2") OR LOWER($1.external_id) $(like "$2"))"; }
walk() {
  echo "SELECT u.id FROM (SELECT * FROM users u ORDER BY u.created_at DESC, u.id DESC LIMIT $2) AS u WHERE 1 = 1 AND ($(columns u "$1") OR (SELECT 1 FROM email_addresses e WHERE e.user_id = u.id AND e.email_lower $(like "$1") LIMIT 1) IS NOT NULL OR (SELECT 1 FROM phone_numbers p WHERE p.user_id = u.id AND p.phone_number $(like "$1") LIMIT 1) IS NOT NULL) ORDER BY u.created_at DESC, u.id DESC LIMIT 10 OFFSET 0"
}
trigram() {
  echo "SELECT u.id FROM users u WHERE u.id IN (SELECT m.id FROM (SELECT u.id, u.created_at FROM users u WHERE $(columns u "$1") UNION SELECT u.id, u.created_at FROM email_addresses e JOIN users u ON u.id = e.user_id WHERE e.email_lower $(like "$1") UNION SELECT u.id, u.created_at FROM phone_numbers p JOIN users u ON u.id = p.user_id WHERE p.phone_number $(like "$1")) AS m ORDER BY m.created_at DESC, m.id DESC LIMIT 10 OFFSET 0) ORDER BY u.created_at DESC, u.id DESC"
}
before() {
  echo "SELECT u.id FROM users u WHERE u.id IN (SELECT u.id FROM users u WHERE 1 = 1 AND u.id IN (SELECT s.id FROM users s WHERE $(columns s "$1") UNION SELECT e.user_id FROM email_addresses e WHERE e.email_lower $(like "$1") UNION SELECT p.user_id FROM phone_numbers p WHERE p.phone_number $(like "$1")) ORDER BY u.created_at DESC, u.id DESC LIMIT 10 OFFSET 0) ORDER BY u.created_at DESC, u.id DESC"
}
rare=$(sql "SELECT substr(email_lower, 3, 8) FROM email_addresses WHERE user_id = 'user_bench' || $((users * 7 / 9))")
for term in gmail.com 13@yahoo fab 113@yahoo "$rare"; do
  matches=$(sql "SELECT COUNT(*) FROM (SELECT u.id FROM users u WHERE $(columns u "$term") UNION SELECT e.user_id FROM email_addresses e WHERE e.email_lower $(like "$term")) AS m")
  found=$(sql "SELECT COUNT(*) FROM ($(walk "$term" 500)) AS w")
  echo "| \`$term\` ($matches matches): walk of 500 ($found found) | $(times "$(walk "$term" 500)")|"
  if [ "$found" -gt 0 ] && [ "$found" -lt 10 ]; then
    window=$((10 * 500 / found * 5 / 4))
    echo "| \`$term\`: second walk of $window (taken if $window <= 20000 and <= 2 x $((found * users / 500)) estimated matches) | $(times "$(walk "$term" "$window")")|"
  fi
  echo "| \`$term\`: trigram form, matches paged by their created_at | $(times "$(trigram "$term")")|"
  echo "| \`$term\`: before, trigram ids then every match's user read | $(times "$(before "$term")")|"
done
