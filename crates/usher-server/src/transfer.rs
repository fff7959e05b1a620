//! Moving users in and out in the CSV format of Clerk's dashboard export (`usher users import`,
//! `usher users export`).
//!
//! The dashboard writes these columns, in this order: `id, first_name, last_name, username,
//! primary_email_address, primary_phone_number, verified_email_addresses,
//! unverified_email_addresses, verified_phone_numbers, unverified_phone_numbers, totp_secret,
//! password_digest, password_hasher`; lists are comma- or pipe-separated inside one quoted cell.
//! The import also reads `external_id`, `public_metadata`, `private_metadata`, `unsafe_metadata`
//! (JSON objects) and `created_at` (ms since the epoch) when present, and the older
//! `email_addresses`/`phone_numbers` columns; the export writes the dashboard's columns and then
//! those five, so an export imports again unchanged.
//!
//! Password digests (bcrypt, argon2i, argon2id) are stored as they are and verified at sign-in
//! like those imported through the Backend API's `password_digest`; nothing is re-hashed.

use std::collections::HashMap;

use serde_json::{Map, Value};
use usher_types::Strategy;

use crate::{
    flows::second_factor,
    ids,
    password::Passwords,
    seal::Sealer,
    store::{IdentifierRecord, ImportedUser, TotpRecord, UserRecord},
    validate,
};

/// The dashboard export's columns, in its order.
pub const CLERK_COLUMNS: [&str; 13] = [
    "id",
    "first_name",
    "last_name",
    "username",
    "primary_email_address",
    "primary_phone_number",
    "verified_email_addresses",
    "unverified_email_addresses",
    "verified_phone_numbers",
    "unverified_phone_numbers",
    "totp_secret",
    "password_digest",
    "password_hasher",
];

/// Columns usher adds after the dashboard's (Clerk's own importer reads them too).
pub const EXTRA_COLUMNS: [&str; 5] =
    ["external_id", "public_metadata", "private_metadata", "unsafe_metadata", "created_at"];

/// How rows become users.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Create users under the file's `id` and match them by it; otherwise new ids are made and
    /// users are matched by `external_id` (the file's, else the Clerk id).
    pub keep_ids: bool,
    /// Now, in ms (creation time of rows without `created_at`).
    pub now: i64,
}

/// The header of a file: which column each field is in.
#[derive(Debug, Clone)]
pub struct Header {
    index: HashMap<String, usize>,
}

impl Header {
    /// Reads the header row; `id` is required.
    pub fn new(record: &csv::StringRecord) -> Result<Self, String> {
        let index: HashMap<String, usize> = record
            .iter()
            .enumerate()
            .map(|(i, name)| (name.trim().trim_start_matches('\u{feff}').to_owned(), i))
            .collect();
        if !index.contains_key("id") {
            return Err("the header has no `id` column: is this Clerk's user export?".to_owned());
        }
        Ok(Self { index })
    }

    fn has(&self, column: &str) -> bool {
        self.index.contains_key(column)
    }

    fn get<'r>(&self, row: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        let value = row.get(*self.index.get(column)?)?.trim();
        (!value.is_empty()).then_some(value)
    }
}

/// One row as a user to import, or why it cannot be.
pub fn parse_row(
    header: &Header,
    row: &csv::StringRecord,
    options: &ImportOptions,
    totp_sealer: &Sealer,
) -> Result<ImportedUser, String> {
    let get = |column: &str| header.get(row, column);
    let clerk_id = get("id").ok_or("`id` is empty")?;
    if clerk_id.len() > 128 || !clerk_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(format!("`id` {clerk_id:?} is not an id (letters, digits, `_` and `-`)"));
    }
    let text = |column: &str| -> Result<Option<String>, String> {
        get(column).map(|v| validate::text(column, v).map_err(|e| reason(&e))).transpose()
    };
    let created_at = match get("created_at") {
        None => options.now,
        Some(v) => v.parse::<i64>().map_err(|_| format!("`created_at` {v:?} is not a time in ms since the epoch"))?,
    };
    let external_id = text("external_id")?;
    let username = get("username").map(|u| validate::username(u).map_err(|e| reason(&e))).transpose()?;

    // Identifiers: the primary first; an address in no list counts as verified (the dashboard
    // lists an unverified primary under `unverified_…`).
    let emails = identifiers(
        get("primary_email_address"),
        &[get("verified_email_addresses"), get("email_addresses")],
        get("unverified_email_addresses"),
        |v| validate::email("email_address", v).map_err(|e| reason(&e)),
        created_at,
        |v| v.to_lowercase(),
    )?;
    let phones = identifiers(
        get("primary_phone_number"),
        &[get("verified_phone_numbers"), get("phone_numbers")],
        get("unverified_phone_numbers"),
        |v| validate::phone("phone_number", v).map_err(|e| reason(&e)),
        created_at,
        str::to_owned,
    )?;
    if emails.list.is_empty() && phones.list.is_empty() && username.is_none() {
        return Err("no email address, phone number or username to sign in with".to_owned());
    }

    let password_hash = match (get("password_digest"), get("password_hasher")) {
        (None, _) => None,
        (Some(_), None) => return Err("`password_digest` has no `password_hasher`".to_owned()),
        (Some(digest), Some(hasher)) => {
            let hasher = hasher.to_ascii_lowercase();
            if !matches!(hasher.as_str(), "bcrypt" | "argon2i" | "argon2id") {
                return Err(format!("password_hasher {hasher:?} is not supported (bcrypt, argon2i, argon2id)"));
            }
            Passwords::check_digest(&hasher, digest)
                .map_err(|_| format!("`password_digest` is not a valid {hasher} digest"))?;
            Some(digest.to_owned())
        }
    };
    let metadata_given = ["public_metadata", "private_metadata", "unsafe_metadata"].iter().any(|c| header.has(c));
    let metadata = |column: &str| -> Result<Map<String, Value>, String> {
        match get(column) {
            None => Ok(Map::new()),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(format!("`{column}` is not a JSON object")),
            },
        }
    };
    let (public_metadata, private_metadata, unsafe_metadata) =
        (metadata("public_metadata")?, metadata("private_metadata")?, metadata("unsafe_metadata")?);

    let id = if options.keep_ids { clerk_id.to_owned() } else { ids::new_id("user") };
    let external_id = if options.keep_ids { external_id } else { external_id.or_else(|| Some(clerk_id.to_owned())) };
    let totp = match get("totp_secret") {
        None => None,
        Some(secret) => {
            let raw = second_factor::decode_secret(secret)
                .ok_or("`totp_secret` is not a base32 secret of at least 80 bits")?;
            let canonical = data_encoding::BASE32_NOPAD.encode(&raw);
            Some(TotpRecord {
                id: ids::new_id("totp"),
                user_id: id.clone(),
                secret_sealed: totp_sealer.seal_text(&canonical),
                verified: true,
                last_step: None,
                created_at,
                updated_at: created_at,
            })
        }
    };
    let user = UserRecord {
        id,
        external_id,
        username,
        first_name: text("first_name")?,
        last_name: text("last_name")?,
        password_updated_at: password_hash.as_ref().map(|_| created_at),
        password_hash,
        public_metadata,
        private_metadata,
        unsafe_metadata,
        primary_email_address_id: emails.primary,
        primary_phone_number_id: phones.primary,
        delete_self_enabled: true,
        create_organization_enabled: true,
        created_at,
        updated_at: created_at,
        emails: emails.list,
        phones: phones.list,
        ..UserRecord::default()
    };
    Ok(ImportedUser { user, totp, match_external_id: !options.keep_ids, metadata_given })
}

/// A row's addresses (or numbers) and which is primary.
struct Identifiers {
    list: Vec<IdentifierRecord>,
    primary: Option<String>,
}

fn identifiers(
    primary: Option<&str>,
    verified: &[Option<&str>],
    unverified: Option<&str>,
    check: impl Fn(&str) -> Result<String, String>,
    now: i64,
    key: impl Fn(&str) -> String,
) -> Result<Identifiers, String> {
    let unverified: Vec<String> = split_list(unverified).map(&check).collect::<Result<_, _>>()?;
    let mut values: Vec<(String, bool)> = Vec::new();
    let mut push = |value: String, is_verified: bool| {
        if !values.iter().any(|(v, _)| key(v) == key(&value)) {
            values.push((value, is_verified));
        }
    };
    let primary = primary.map(&check).transpose()?;
    if let Some(p) = &primary {
        let listed_unverified = unverified.iter().any(|u| key(u) == key(p));
        push(p.clone(), !listed_unverified);
    }
    for list in verified {
        for value in split_list(*list) {
            push(check(value)?, true);
        }
    }
    for value in unverified {
        push(value, false);
    }
    // A millisecond apart, so they list in the file's order (identifiers are ordered by time).
    let list: Vec<IdentifierRecord> = values
        .into_iter()
        .zip(0..)
        .map(|((value, verified), i)| IdentifierRecord {
            id: ids::new_id("idn"),
            value,
            verified,
            strategy: Strategy::Admin,
            created_at: now + i,
            updated_at: now + i,
        })
        .collect();
    // Without a named primary the first address is primary, as Clerk makes it.
    let primary = list.first().map(|e| e.id.clone());
    Ok(Identifiers { list, primary })
}

fn split_list(cell: Option<&str>) -> impl Iterator<Item = &str> {
    cell.unwrap_or_default().split([',', '|', ';']).map(str::trim).filter(|v| !v.is_empty())
}

fn reason(e: &crate::error::ApiError) -> String {
    let body = e.body();
    if body.long_message.is_empty() { body.message } else { body.long_message }
}

/// The export row of `user` (columns [`CLERK_COLUMNS`] then [`EXTRA_COLUMNS`]).
pub fn export_row(user: &UserRecord, totp: Option<&TotpRecord>, totp_sealer: &Sealer) -> Vec<String> {
    let primary_email = user.primary_email().map(|e| e.value.clone()).unwrap_or_default();
    let primary_phone = user.primary_phone().map(|e| e.value.clone()).unwrap_or_default();
    let join = |list: &[IdentifierRecord], verified: bool| {
        list.iter().filter(|e| e.verified == verified).map(|e| e.value.as_str()).collect::<Vec<_>>().join(",")
    };
    let (digest, hasher) = match user.password_hash.as_deref() {
        Some(h) if h.starts_with("$argon2id$") => (h.to_owned(), "argon2id"),
        Some(h) if h.starts_with("$argon2i$") => (h.to_owned(), "argon2i"),
        Some(h) if h.starts_with("$2") => (h.to_owned(), "bcrypt"),
        _ => (String::new(), ""),
    };
    let totp_secret = totp.and_then(|t| totp_sealer.open_text(&t.secret_sealed)).unwrap_or_default();
    let json = |m: &Map<String, Value>| Value::Object(m.clone()).to_string();
    vec![
        user.id.clone(),
        user.first_name.clone().unwrap_or_default(),
        user.last_name.clone().unwrap_or_default(),
        user.username.clone().unwrap_or_default(),
        primary_email,
        primary_phone,
        join(&user.emails, true),
        join(&user.emails, false),
        join(&user.phones, true),
        join(&user.phones, false),
        totp_secret,
        digest,
        hasher.to_owned(),
        user.external_id.clone().unwrap_or_default(),
        json(&user.public_metadata),
        json(&user.private_metadata),
        json(&user.unsafe_metadata),
        user.created_at.to_string(),
    ]
}

/// The sealer of authenticator-app secrets under `secret_key`.
pub fn totp_sealer(secret_key: &str) -> Sealer {
    Sealer::new(secret_key, second_factor::SEAL_PURPOSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(header: &str, row: &str, keep_ids: bool) -> Result<ImportedUser, String> {
        let text = format!("{header}\n{row}\n");
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = Header::new(&records.next().unwrap().unwrap()).unwrap();
        let row = records.next().unwrap().unwrap();
        parse_row(&header, &row, &ImportOptions { keep_ids, now: 1 }, &totp_sealer("sk_test_x"))
    }

    const HEADER: &str = "id,first_name,last_name,username,primary_email_address,primary_phone_number,verified_email_addresses,unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,password_hasher";

    #[test]
    fn a_dashboard_row_becomes_a_user_with_its_identifiers() {
        let u = parse(HEADER, r#"user_2a,Ann,Lee,,ann@x.dev,,"ann@x.dev,a2@x.dev",b@x.dev,,,,,"#, true).unwrap();
        assert_eq!(u.user.id, "user_2a");
        let values: Vec<_> = u.user.emails.iter().map(|e| (e.value.as_str(), e.verified)).collect();
        assert_eq!(values, [("ann@x.dev", true), ("a2@x.dev", true), ("b@x.dev", false)]);
        assert_eq!(u.user.primary_email().unwrap().value, "ann@x.dev");
        let fresh = parse(HEADER, "user_2a,Ann,Lee,,ann@x.dev,,,,,,,,", false).unwrap();
        assert_ne!(fresh.user.id, "user_2a");
        assert_eq!(fresh.user.external_id.as_deref(), Some("user_2a"));
    }

    #[test]
    fn bad_rows_say_why() {
        let err = |row: &str| parse(HEADER, row, true).unwrap_err();
        assert!(err(",A,B,,a@x.dev,,,,,,,,").contains("`id` is empty"));
        assert!(err("user_1,A,B,,not-an-email,,,,,,,,").contains("email"));
        assert!(err("user_1,A,B,,,,,,,,,,").contains("no email address"));
        assert!(err("user_1,A,B,,a@x.dev,,,,,,,$2b$10$short,bcrypt").contains("not a valid bcrypt"));
        assert!(err("user_1,A,B,,a@x.dev,,,,,,,abc,md5").contains("not supported"));
        assert!(err("user_1,A,B,,a@x.dev,,,,,,!!,,").contains("totp_secret"));
    }
}
