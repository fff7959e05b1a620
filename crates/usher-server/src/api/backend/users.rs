//! `/v1/users`: create, read, list, count, update, metadata, delete, ban, lock, verify_password.

use axum::{
    Json, Router,
    extract::State,
    routing::{get, post},
};
use serde_json::{Value, json};
use usher_types::{
    DeletedObject, TotalCount, User,
    requests::{CreateUser, UpdateUser, UserMetadata, VerifyPassword},
};

use super::user_list::ListUsers;
use crate::{
    api::{
        extract::{JsonBody, Path, Query},
        validate,
    },
    error::{ApiError, ApiResult},
    ids,
    password::Passwords,
    state::AppState,
    store::{IdentifierRecord, UserRecord},
    wire,
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
    state.store.create_user(&user).await?;
    Ok(Json(wire::user(&user, now)))
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
            strategy: "admin".into(),
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
    let now = state.now();
    let users = state.store.list_users(&query).await?;
    Ok(Json(users.iter().map(|u| wire::user(u, now)).collect()))
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
    Ok(Json(wire::user(&load(&state, &id).await?, state.now())))
}

fn clean(param: &str, value: Option<Option<String>>) -> ApiResult<Option<Option<String>>> {
    value.map(|v| validate::opt_text(param, v)).transpose()
}

async fn update_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateUser>,
) -> ApiResult<Json<User>> {
    let first_name = clean("first_name", b.first_name)?;
    let last_name = clean("last_name", b.last_name)?;
    let external_id = clean("external_id", b.external_id)?;
    let locale = clean("locale", b.locale)?;
    let username = b.username.map(|u| u.as_deref().map(validate::username).transpose()).transpose()?;
    let metadata = [
        ("public_metadata", b.public_metadata),
        ("private_metadata", b.private_metadata),
        ("unsafe_metadata", b.unsafe_metadata),
    ]
    .map(|(param, m)| m.map(|m| validate::metadata(param, m)).transpose());
    let [public, private, unsafe_] = metadata;
    let (public, private, unsafe_) = (public?, private?, unsafe_?);
    let current = load(&state, &id).await?;
    if let Some(pid) = &b.primary_email_address_id
        && !current.emails.iter().any(|e| &e.id == pid)
    {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "primary_email_address_id",
            "That email address does not belong to this user.",
        ));
    }
    if let Some(pid) = &b.primary_phone_number_id
        && !current.phones.iter().any(|p| &p.id == pid)
    {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "primary_phone_number_id",
            "That phone number does not belong to this user.",
        ));
    }
    let hash = new_password_hash(
        &state.passwords,
        b.password.as_deref(),
        b.password_digest.as_deref(),
        b.password_hasher.as_deref(),
        b.skip_password_checks,
    )
    .await?;
    let now = state.now();
    let updated = state
        .store
        .update_user(&id, &|u: &mut UserRecord| {
            macro_rules! set {
                ($field:ident) => {
                    if let Some(v) = &$field {
                        u.$field = v.clone();
                    }
                };
            }
            set!(first_name);
            set!(last_name);
            set!(external_id);
            set!(locale);
            set!(username);
            if let Some(h) = &hash {
                u.password_hash = Some(h.clone());
                u.password_updated_at = Some(now);
            }
            if let Some(pid) = &b.primary_email_address_id {
                u.primary_email_address_id = Some(pid.clone());
            }
            if let Some(pid) = &b.primary_phone_number_id {
                u.primary_phone_number_id = Some(pid.clone());
            }
            if let Some(m) = &public {
                u.public_metadata = m.clone();
            }
            if let Some(m) = &private {
                u.private_metadata = m.clone();
            }
            if let Some(m) = &unsafe_ {
                u.unsafe_metadata = m.clone();
            }
            if let Some(v) = b.delete_self_enabled {
                u.delete_self_enabled = v;
            }
            if let Some(v) = b.create_organization_enabled {
                u.create_organization_enabled = v;
            }
            if let Some(v) = b.create_organizations_limit {
                u.create_organizations_limit = v;
            }
            u.updated_at = now;
            true
        })
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if hash.is_some() && b.sign_out_of_other_sessions {
        state.store.end_user_sessions(&id, "revoked", now).await?;
    }
    Ok(Json(wire::user(&updated, now)))
}

/// Applies each given object to the user: merged deeply, or replacing what was there.
async fn apply_metadata(state: &AppState, id: &str, m: UserMetadata, replace: bool) -> ApiResult<Json<User>> {
    let parts = [
        ("public_metadata", m.public_metadata),
        ("private_metadata", m.private_metadata),
        ("unsafe_metadata", m.unsafe_metadata),
    ];
    let now = state.now();
    // The merged result must respect the size limit too; the edit refuses to write it if not.
    let refused = std::sync::Mutex::new(None);
    let updated = state
        .store
        .update_user(id, &|u: &mut UserRecord| {
            let targets = [&mut u.public_metadata, &mut u.private_metadata, &mut u.unsafe_metadata];
            for ((param, patch), target) in parts.iter().zip(targets) {
                match patch {
                    Some(patch) if replace => *target = patch.clone(),
                    Some(patch) => validate::merge(target, patch.clone()),
                    None => continue,
                }
                if let Err(e) = validate::metadata(param, target.clone()) {
                    *refused.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    return false;
                }
            }
            u.updated_at = now;
            true
        })
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if let Some(e) = refused.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(Json(wire::user(&updated, now)))
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
    let deleted = state.store.delete_user(&id).await?.ok_or(ApiError::NotFound("user"))?;
    let mut answer = DeletedObject::new("user", &deleted.id);
    answer.external_id = deleted.external_id;
    Ok(Json(answer))
}

/// Applies `edit` and answers with the updated user.
async fn edit(state: &AppState, id: &str, edit: impl Fn(&mut UserRecord, i64) + Send + Sync) -> ApiResult<Json<User>> {
    let now = state.now();
    let updated = state
        .store
        .update_user(id, &|u: &mut UserRecord| {
            edit(u, now);
            u.updated_at = now;
            true
        })
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    Ok(Json(wire::user(&updated, now)))
}

async fn ban_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    let answer = edit(&state, &id, |u, _| u.banned = true).await?;
    // A banned user is signed out everywhere at once.
    state.store.end_user_sessions(&id, "revoked", state.now()).await?;
    Ok(answer)
}

async fn unban_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    edit(&state, &id, |u, _| u.banned = false).await
}

async fn lock_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    edit(&state, &id, |u, _| u.locked_until = Some(i64::MAX)).await
}

async fn unlock_user(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    edit(&state, &id, |u, _| {
        u.locked_until = None;
        u.failed_attempts = 0;
    })
    .await
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
