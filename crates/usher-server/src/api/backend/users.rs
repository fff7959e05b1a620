//! `/v1/users`: create, read, list, count, update, metadata, delete, ban, lock, verify_password.

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use serde_json::{Map, Value, json};
use usher_types::{
    ClerkError, DeletedObject, SessionStatus, Strategy, TotalCount, User,
    requests::{CreateUser, UpdateUser, UserMetadata, VerifyPassword},
};

use super::user_list::ListUsers;
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        admin,
        audit::{self, Actor, Event},
    },
    http::extract::{JsonBody, Path, Query},
    ids,
    password::Passwords,
    state::AppState,
    store::{AuditAction, IdentifierRecord, UserRecord},
    validate, wire,
};

/// Most email addresses or phone numbers a single create call may carry.
const MAX_IDENTIFIERS: usize = 10;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/count", get(count_users))
        .route("/users/{id}", get(get_user).patch(update_user).delete(delete_user))
        .route("/users/{id}/metadata", axum::routing::patch(merge_metadata).put(replace_metadata))
        .route("/users/{id}/ban", post(ban_user))
        .route("/users/{id}/unban", post(unban_user))
        .route("/users/{id}/lock", post(lock_user))
        .route("/users/{id}/unlock", post(unlock_user))
        .route("/users/{id}/verify_password", post(verify_password))
}

async fn create_user(State(state): State<AppState>, JsonBody(body): JsonBody<CreateUser>) -> ApiResult<Json<User>> {
    let now = state.now();
    let emails = identifiers(&body.email_address, "email_address", validate::email, now)?;
    let phones = identifiers(&body.phone_number, "phone_number", validate::phone, now)?;
    let password_hash = new_password_hash(
        &state.passwords,
        body.password.as_deref(),
        body.password_digest.as_deref(),
        body.password_hasher.as_deref(),
        body.skip_password_checks,
    )
    .await?;
    crate::flows::second_factor::check_import(body.totp_secret.as_deref(), &body.backup_codes)?;
    let user = UserRecord {
        id: ids::new_id("user"),
        external_id: validate::opt_text("external_id", body.external_id)?,
        username: body.username.as_deref().map(validate::username).transpose()?,
        first_name: validate::opt_text("first_name", body.first_name)?,
        last_name: validate::opt_text("last_name", body.last_name)?,
        locale: validate::opt_text("locale", body.locale)?,
        password_updated_at: password_hash.as_ref().map(|_| now),
        password_hash,
        public_metadata: validate::metadata("public_metadata", body.public_metadata.unwrap_or_default())?,
        private_metadata: validate::metadata("private_metadata", body.private_metadata.unwrap_or_default())?,
        unsafe_metadata: validate::metadata("unsafe_metadata", body.unsafe_metadata.unwrap_or_default())?,
        primary_email_address_id: emails.first().map(|e| e.id.clone()),
        primary_phone_number_id: phones.first().map(|p| p.id.clone()),
        delete_self_enabled: body.delete_self_enabled.unwrap_or(true),
        create_organization_enabled: body.create_organization_enabled.unwrap_or(true),
        create_organizations_limit: body.create_organizations_limit,
        created_at: now,
        updated_at: now,
        emails,
        phones,
        ..UserRecord::default()
    };
    // A user nobody can name cannot sign in and is only clutter: like Clerk under settings that
    // require an identifier, one is demanded (after the other fields, whose errors come first).
    if user.emails.is_empty() && user.phones.is_empty() && user.username.is_none() {
        return Err(ApiError::Unprocessable(
            ClerkError::new(
                "form_data_missing",
                "missing data",
                "email_address must be included (or another identifier: phone_number, username).",
            )
            .with_param("email_address"),
        ));
    }
    state.store.create_user(&user).await?;
    // A Clerk export's second factors come over intact (checked above, so this cannot refuse).
    if body.totp_secret.is_some() || !body.backup_codes.is_empty() {
        crate::flows::second_factor::import(&state, &user.id, body.totp_secret.as_deref(), &body.backup_codes).await?;
        let user = state.store.get_user(&user.id).await?.ok_or(ApiError::NotFound("user"))?;
        return Ok(Json(wire::user(&user, state.user_context())));
    }
    Ok(Json(wire::user(&user, state.user_context())))
}

/// Validates a list of identifiers, refusing duplicates within the request.
fn identifiers(
    raw: &[String],
    param: &str,
    check: fn(&str, &str) -> Result<String, ApiError>,
    now: i64,
) -> ApiResult<Vec<IdentifierRecord>> {
    if raw.len() > MAX_IDENTIFIERS {
        return Err(ApiError::invalid(
            "form_param_exceeds_allowed_size",
            param,
            format!("At most {MAX_IDENTIFIERS} values of {param} are allowed."),
        ));
    }
    let mut out: Vec<IdentifierRecord> = Vec::with_capacity(raw.len());
    for value in raw {
        let value = check(param, value)?;
        if out.iter().any(|o| o.value.eq_ignore_ascii_case(&value)) {
            return Err(ApiError::invalid(
                "form_identifier_exists",
                param,
                format!("{value} is given more than once."),
            ));
        }
        out.push(IdentifierRecord {
            id: ids::new_id("idn"),
            value,
            verified: true,
            strategy: Strategy::Admin,
            created_at: now,
            updated_at: now,
        });
    }
    Ok(out)
}

/// The stored hash for a new password or an imported digest, if either is given.
async fn new_password_hash(
    passwords: &Passwords,
    password: Option<&str>,
    digest: Option<&str>,
    hasher: Option<&str>,
    skip_checks: bool,
) -> ApiResult<Option<String>> {
    match (password, digest) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "form_param_value_invalid",
            "password_digest",
            "Give either password or password_digest, not both.",
        )),
        (None, Some(digest)) => {
            let hasher = hasher.ok_or_else(|| {
                ApiError::invalid(
                    "form_param_missing",
                    "password_hasher",
                    "password_hasher must be included with password_digest.",
                )
            })?;
            Passwords::check_digest(hasher, digest)?;
            Ok(Some(digest.to_owned()))
        }
        (Some(password), None) => {
            let normalized = passwords.normalize(password, skip_checks)?;
            Ok(Some(passwords.hash(normalized).await?))
        }
        (None, None) => Ok(None),
    }
}

async fn list_users(State(state): State<AppState>, Query(q): Query<ListUsers>) -> ApiResult<Json<Vec<User>>> {
    let query = q.query()?;
    let users = state.store.list_users(&query).await?;
    Ok(Json(users.iter().map(|u| wire::user(u, state.user_context())).collect()))
}

async fn count_users(State(state): State<AppState>, Query(q): Query<ListUsers>) -> ApiResult<Json<TotalCount>> {
    let filter = q.filter()?;
    Ok(Json(TotalCount::new(state.store.count_users(&filter).await?)))
}

/// Loads a user or answers 404.
pub(super) async fn load(state: &AppState, id: &str) -> ApiResult<UserRecord> {
    state.store.get_user(id).await?.ok_or(ApiError::NotFound("user"))
}

async fn get_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    let mut user = wire::user(&load(&state, &id).await?, state.user_context());
    let accounts = state.store.external_accounts_of_user(&id).await?;
    user.external_accounts = accounts.iter().map(wire::external_account).collect();
    Ok(Json(user))
}

fn clean(param: &str, value: Option<Option<String>>) -> ApiResult<Option<Option<String>>> {
    value.map(|v| validate::opt_text(param, v)).transpose()
}

/// A validated `PATCH /v1/users/{id}`: each `Some` replaces a field.
struct UserChanges {
    first_name: Option<Option<String>>,
    last_name: Option<Option<String>>,
    external_id: Option<Option<String>>,
    locale: Option<Option<String>>,
    username: Option<Option<String>>,
    primary_email_address_id: Option<String>,
    primary_phone_number_id: Option<String>,
    metadata: [Option<Map<String, Value>>; 3],
    delete_self_enabled: Option<bool>,
    create_organization_enabled: Option<bool>,
    create_organizations_limit: Option<Option<i64>>,
}

impl UserChanges {
    /// Checks every field of `b` (not the password, which is hashed separately).
    fn parse(b: &UpdateUser) -> ApiResult<Self> {
        let metadata =
            |param: &str, m: &Option<Map<String, Value>>| m.clone().map(|m| validate::metadata(param, m)).transpose();
        Ok(Self {
            first_name: clean("first_name", b.first_name.clone())?,
            last_name: clean("last_name", b.last_name.clone())?,
            external_id: clean("external_id", b.external_id.clone())?,
            locale: clean("locale", b.locale.clone())?,
            username: b.username.clone().map(|u| u.as_deref().map(validate::username).transpose()).transpose()?,
            primary_email_address_id: b.primary_email_address_id.clone(),
            primary_phone_number_id: b.primary_phone_number_id.clone(),
            metadata: [
                metadata("public_metadata", &b.public_metadata)?,
                metadata("private_metadata", &b.private_metadata)?,
                metadata("unsafe_metadata", &b.unsafe_metadata)?,
            ],
            delete_self_enabled: b.delete_self_enabled,
            create_organization_enabled: b.create_organization_enabled,
            create_organizations_limit: b.create_organizations_limit,
        })
    }

    /// Refuses primary identifiers the user does not have.
    fn check_primaries(&self, user: &UserRecord) -> ApiResult<()> {
        let owns = |id: &Option<String>, list: &[crate::store::IdentifierRecord]| {
            id.as_ref().is_none_or(|id| list.iter().any(|e| &e.id == id))
        };
        if !owns(&self.primary_email_address_id, &user.emails) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "primary_email_address_id",
                "That email address does not belong to this user.",
            ));
        }
        if !owns(&self.primary_phone_number_id, &user.phones) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "primary_phone_number_id",
                "That phone number does not belong to this user.",
            ));
        }
        Ok(())
    }

    fn apply(&self, u: &mut UserRecord) {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *target = v.clone();
            }
        }
        set(&mut u.first_name, &self.first_name);
        set(&mut u.last_name, &self.last_name);
        set(&mut u.external_id, &self.external_id);
        set(&mut u.locale, &self.locale);
        set(&mut u.username, &self.username);
        set(&mut u.primary_email_address_id, &self.primary_email_address_id.clone().map(Some));
        set(&mut u.primary_phone_number_id, &self.primary_phone_number_id.clone().map(Some));
        let [public, private, unsafe_] = &self.metadata;
        set(&mut u.public_metadata, public);
        set(&mut u.private_metadata, private);
        set(&mut u.unsafe_metadata, unsafe_);
        set(&mut u.delete_self_enabled, &self.delete_self_enabled);
        set(&mut u.create_organization_enabled, &self.create_organization_enabled);
        set(&mut u.create_organizations_limit, &self.create_organizations_limit);
    }
}

async fn update_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateUser>,
) -> ApiResult<Json<User>> {
    let changes = UserChanges::parse(&b)?;
    changes.check_primaries(&load(&state, &id).await?)?;
    let hash = new_password_hash(
        &state.passwords,
        b.password.as_deref(),
        b.password_digest.as_deref(),
        b.password_hasher.as_deref(),
        b.skip_password_checks,
    )
    .await?;
    let now = state.now();
    // A new password is a named entry, written with the change; other edits get the
    // generic Backend API entry.
    let actor = Actor::secret_key();
    let audited = hash.as_ref().map(|_| {
        let event = Event::success(&actor, AuditAction::PasswordChanged, Some(&id)).detail("PATCH /v1/users/{user_id}");
        audit::Audited::new(&state, event)
    });
    let updated = audited
        .as_ref()
        .map_or(state.store.as_ref(), audit::Audited::store)
        .update_user(&id, &mut |u: &mut UserRecord| {
            changes.apply(u);
            if let Some(h) = &hash {
                u.password_hash = Some(h.clone());
                u.password_updated_at = Some(now);
            }
            u.updated_at = now;
            Ok(())
        })
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if let Some(audited) = &audited {
        audited.done();
    }
    if hash.is_some() && b.sign_out_of_other_sessions {
        state.store.end_user_sessions(&id, SessionStatus::Revoked, now).await?;
    }
    Ok(Json(wire::user(&updated, state.user_context())))
}

/// Applies each given object to the user: merged deeply, or replacing what was there.
async fn apply_metadata(state: &AppState, id: &str, m: UserMetadata, replace: bool) -> ApiResult<Json<User>> {
    let change = admin::MetadataChange {
        public: m.public_metadata,
        private: m.private_metadata,
        unsafe_: m.unsafe_metadata,
        replace,
    };
    let updated = admin::apply_metadata(state, &Actor::secret_key(), id, change).await?;
    Ok(Json(wire::user(&updated, state.user_context())))
}

async fn merge_metadata(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UserMetadata>,
) -> ApiResult<Json<User>> {
    apply_metadata(&state, &id, b, false).await
}

async fn replace_metadata(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UserMetadata>,
) -> ApiResult<Json<User>> {
    apply_metadata(&state, &id, b, true).await
}

async fn delete_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<DeletedObject>> {
    let deleted = admin::delete(&state, &Actor::secret_key(), &id).await?;
    let mut answer = DeletedObject::new("user", &deleted.id);
    answer.external_id = deleted.external_id;
    Ok(Json(answer))
}

async fn ban_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    let user = admin::ban(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(wire::user(&user, state.user_context())))
}

async fn unban_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    let user = admin::unban(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(wire::user(&user, state.user_context())))
}

async fn lock_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    let user = admin::lock(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(wire::user(&user, state.user_context())))
}

async fn unlock_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    let user = admin::unlock(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(wire::user(&user, state.user_context())))
}

async fn verify_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<VerifyPassword>,
) -> ApiResult<Json<Value>> {
    if b.password.len() > crate::password::HARD_MAX_LEN * 4 {
        return Err(ApiError::invalid("form_password_incorrect", "password", "Password is incorrect."));
    }
    let user = load(&state, &id).await?;
    let Some(hash) = user.password_hash.as_deref() else {
        return Err(ApiError::invalid("password_not_set", "password", "This user has no password."));
    };
    if state.passwords.verify(&b.password, Some(hash)).await? {
        Ok(Json(json!({"verified": true})))
    } else {
        Err(ApiError::invalid("form_password_incorrect", "password", "Password is incorrect."))
    }
}
