//! The Frontend API's JSON shapes (Clerk's FAPI objects) for clients, sessions, users and
//! attempts. The Backend API's shapes live in [`crate::wire`]; these reuse them where they agree.

use serde_json::{Value, json};
use usher_types::{SessionStatus, Strategy};

use crate::{
    error::ApiResult,
    flows::{
        Browser,
        sign_in::{SignIn, SignInStatus},
        sign_up::SignUp,
    },
    state::AppState,
    store::{Page, SessionRecord, UserFilter, UserOrder, UserQuery, UserRecord},
    tokens::mint,
    wire,
};

/// What a handler already holds when it answers, so building the client does not read it again.
#[derive(Debug, Default, Clone, Copy)]
pub struct Known<'a> {
    /// The sign-in the handler just saved.
    pub sign_in: Option<&'a SignIn>,
    /// The sign-up the handler just saved.
    pub sign_up: Option<&'a SignUp>,
    /// A user the handler loaded (the signed-in one).
    pub user: Option<&'a UserRecord>,
}

/// A user as the browser sees it: the Backend API shape without private metadata, with what
/// clerk-js's `User` reads that the Backend API does not have (`EmailAddressJSON`'s
/// `matches_sso_connection`, `VerificationJSON`'s `error` and `verified_at_client`).
pub fn user(state: &AppState, u: &UserRecord) -> Value {
    let mut value = serde_json::to_value(wire::user(u, state.user_context())).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.remove("private_metadata");
        for key in ["email_addresses", "phone_numbers"] {
            for identifier in map.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten() {
                let Some(identifier) = identifier.as_object_mut() else { continue };
                if key == "email_addresses" {
                    // No enterprise SSO in usher: no address matches a connection.
                    identifier.insert("matches_sso_connection".into(), Value::Bool(false));
                }
                if let Some(v) = identifier.get_mut("verification").and_then(Value::as_object_mut) {
                    v.entry("error").or_insert(Value::Null);
                    v.entry("verified_at_client").or_insert(Value::Null);
                }
            }
        }
    }
    value
}

/// The user's provider accounts in Clerk's shape (`ExternalAccount`), oldest first.
pub async fn external_accounts(state: &AppState, user_id: &str) -> ApiResult<Value> {
    let accounts = state.store.external_accounts_of_user(user_id).await?;
    Ok(Value::Array(accounts.iter().map(wire::external_account).collect()))
}

/// A session with its user and a fresh token.
pub fn session(state: &AppState, s: &SessionRecord, u: &UserRecord, jwt: &str) -> Value {
    let identifier = u.primary_email().map(|e| e.value.clone()).or_else(|| u.username.clone());
    json!({
        "object": "session",
        "id": s.id,
        "status": s.status,
        "expire_at": s.expire_at,
        "abandon_at": s.abandon_at,
        "last_active_at": s.last_active_at,
        "last_active_organization_id": s.last_active_organization_id,
        "actor": s.actor,
        "user": user(state, u),
        "public_user_data": {
            "first_name": u.first_name,
            "last_name": u.last_name,
            "image_url": "",
            "has_image": false,
            // `PublicUserDataJSON.identifier` is a string: empty for a user with neither.
            "identifier": identifier.unwrap_or_default(),
            "user_id": u.id,
            "username": u.username,
        },
        "last_active_token": {"object": "token", "jwt": jwt},
        "factor_verification_age": s.factor_verification_age(state.now()),
        // Clerk's session task for "require MFA": the session stays pending until it is done.
        "tasks": if s.status == SessionStatus::Pending && state.config.second_factor_required && !u.two_factor_enabled() {
            json!([{"key": "setup-mfa"}])
        } else {
            Value::Null
        },
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    })
}

/// A session without a token (lists of a user's sessions on other browsers).
pub fn session_summary(s: &SessionRecord, current: bool) -> Value {
    json!({
        "object": "session",
        "id": s.id,
        "status": s.status,
        "current": current,
        "last_active_at": s.last_active_at,
        "expire_at": s.expire_at,
        "abandon_at": s.abandon_at,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    })
}

/// A sign-in attempt.
pub fn sign_in(s: &SignIn) -> Value {
    let mut factors = vec![json!({"strategy": Strategy::Password})];
    if let (Some(identifier), Some(email_id)) = (&s.identifier, &s.email_address_id) {
        factors.push(json!({
            "strategy": Strategy::EmailCode,
            "safe_identifier": identifier,
            "email_address_id": email_id,
            "primary": true,
        }));
        // Offered for every identifier, known or not, so the list reveals nothing.
        for strategy in [Strategy::EmailLink, Strategy::ResetPasswordEmailCode] {
            factors.push(json!({
                "strategy": strategy,
                "safe_identifier": identifier,
                "email_address_id": email_id,
                "primary": true,
            }));
        }
        // `passkey` is not listed after an identifier: clerk-js starts with a listed passkey
        // factor whenever the browser has WebAuthn (every password user would be asked for a
        // passkey first), and listing it only for accounts that have one would tell which
        // identifiers have accounts. A passkey signs in without an identifier (discoverable), or
        // with `prepare_first_factor` `strategy=passkey` after one (see `flows::passkeys`).
    }
    json!({
        "object": "sign_in_attempt",
        "id": s.id,
        "status": s.status,
        "supported_identifiers": ["email_address", "username"],
        "identifier": s.identifier,
        "supported_first_factors": if s.identifier.is_some() { Value::Array(factors) } else { json!([]) },
        "supported_second_factors": if s.status == SignInStatus::NeedsSecondFactor {
            json!(s.supported_second_factors.iter().map(|strategy| json!({"strategy": strategy})).collect::<Vec<_>>())
        } else {
            Value::Null
        },
        "first_factor_verification": s
            .external
            .as_ref()
            .map_or_else(|| with_passkey(with_link(json!(s.first_factor), s.email_link.as_ref()), s), |e| e.view()),
        "second_factor_verification": s.second_factor,
        "user_data": null,
        "created_session_id": s.created_session_id,
        "abandon_at": s.abandon_at,
    })
}

/// A passkey verification with its challenge as Clerk's `nonce` (the request options, JSON).
fn with_passkey(mut verification: Value, s: &SignIn) -> Value {
    if let (Some(map), Some(challenge)) = (verification.as_object_mut(), &s.passkey) {
        map.insert("nonce".into(), json!(challenge.options));
    }
    verification
}

/// A verification with Clerk's `verified_at_client` when an email link verified it.
fn with_link(mut verification: Value, link: Option<&crate::flows::email_link::LinkProgress>) -> Value {
    if let (Some(map), Some(client)) = (verification.as_object_mut(), link.and_then(|l| l.verified_at_client.as_ref()))
    {
        map.insert("verified_at_client".into(), json!(client));
    }
    verification
}

/// A sign-up attempt.
pub fn sign_up(s: &SignUp) -> Value {
    let unverified: Vec<&str> =
        if s.email_address.is_some() && !s.email_verified() { vec!["email_address"] } else { vec![] };
    json!({
        "object": "sign_up_attempt",
        "id": s.id,
        "status": s.status,
        "required_fields": ["email_address", "password"],
        "optional_fields": ["first_name", "last_name"],
        "missing_fields": s.missing_fields(),
        "unverified_fields": unverified,
        "verifications": {"email_address": sign_up_email_verification(s), "phone_number": null, "web3_wallet": null, "external_account": s.external.as_ref().map(|e| e.view())},
        "email_address": s.email_address,
        // usher's sign-up collects none of these (no usernames, phones, wallets or legal
        // consent at sign-up): null, as Clerk sends a field nobody filled.
        "username": null,
        "phone_number": null,
        "web3_wallet": null,
        "legal_accepted_at": null,
        "locale": null,
        "external_account_strategy": s.external.as_ref().map(|e| e.strategy.clone()),
        "external_account": null,
        "first_name": s.first_name,
        "last_name": s.last_name,
        "unsafe_metadata": s.unsafe_metadata,
        "has_password": s.password_hash.is_some(),
        "created_user_id": s.created_user_id,
        "created_session_id": s.created_session_id,
        "abandon_at": s.abandon_at,
    })
}

/// A sign-up's email verification with `SignUpVerificationJSON`'s `next_action` (what the
/// browser must do next) and `supported_strategies` (how the address can be verified).
fn sign_up_email_verification(s: &SignUp) -> Value {
    let mut v = with_link(json!(s.email_verification), s.email_link.as_ref());
    if let Some(map) = v.as_object_mut() {
        let verified = s.email_verified();
        map.insert("next_action".into(), json!(if verified { "" } else { "needs_attempt" }));
        map.insert("supported_strategies".into(), json!([Strategy::EmailCode, Strategy::EmailLink]));
        map.entry("error").or_insert(Value::Null);
    }
    v
}

/// The browser's client (or `null`), and the token of its active session for `__session`.
pub async fn client(state: &AppState, browser: &Browser, known: Known<'_>) -> ApiResult<(Value, Option<String>)> {
    let Some(client) = &browser.client else { return Ok((Value::Null, None)) };
    let now = state.now();
    let lifetime = state.config.session_token_lifetime.as_secs() as i64;
    let records: Vec<SessionRecord> =
        state.store.client_sessions(&client.id).await?.into_iter().filter(|s| s.is_live(now)).collect();
    let users = session_users(state, &records, known.user).await?;
    let mut sessions = Vec::new();
    let mut active_token = None;
    let mut active_id = None;
    for s in &records {
        let Some(u) = users.iter().find(|u| u.id == s.user_id) else { continue };
        let jwt = mint::mint_session_token(state.minter(), s, lifetime, browser.origin.as_deref()).await?;
        if client.last_active_session_id.as_deref() == Some(s.id.as_str()) {
            active_token = Some(jwt.clone());
            active_id = Some(s.id.clone());
        }
        let mut v = session(state, s, u, &jwt);
        // clerk-js finds the active organization among the user's memberships.
        if let Some(user) = v.get_mut("user").and_then(Value::as_object_mut) {
            let memberships = super::organizations::user_memberships(state, &u.id).await?;
            user.insert("organization_memberships".into(), Value::Array(memberships));
            user.insert("external_accounts".into(), external_accounts(state, &u.id).await?);
        }
        sessions.push(v);
    }
    let sign_in = match (&client.sign_in_id, known.sign_in) {
        (Some(id), Some(attempt)) if *id == attempt.id => Some(sign_in(attempt)),
        (Some(id), _) => crate::flows::sign_in::load(state, browser, id).await.ok().map(|s| sign_in(&s)),
        (None, _) => None,
    };
    let sign_up = match (&client.sign_up_id, known.sign_up) {
        (Some(id), Some(attempt)) if *id == attempt.id => Some(sign_up(attempt)),
        (Some(id), _) => crate::flows::sign_up::load(state, browser, id).await.ok().map(|s| sign_up(&s)),
        (None, _) => None,
    };
    let value = json!({
        "object": "client",
        "id": client.id,
        "sessions": sessions,
        "sign_in": sign_in,
        "sign_up": sign_up,
        "last_active_session_id": active_id,
        "cookie_expires_at": client.expire_at,
        "captcha_bypass": false,
        // usher does not record which strategy a browser last signed in with (the components'
        // "last used" badge stays hidden).
        "last_authentication_strategy": null,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    });
    Ok((value, active_token))
}

/// The users of `sessions`: the one the handler holds, and the others read in one query.
async fn session_users(
    state: &AppState,
    sessions: &[SessionRecord],
    known: Option<&UserRecord>,
) -> ApiResult<Vec<UserRecord>> {
    let mut users: Vec<UserRecord> = known.into_iter().cloned().collect();
    let mut missing: Vec<String> =
        sessions.iter().map(|s| s.user_id.clone()).filter(|id| !users.iter().any(|u| &u.id == id)).collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        let limit = missing.len() as i64;
        let filter = UserFilter { user_id: missing, ..UserFilter::default() };
        let query =
            UserQuery { filter, order_by: UserOrder::CreatedAt, descending: false, page: Page { limit, offset: 0 } };
        users.extend(state.store.list_users(&query).await?);
    }
    Ok(users)
}
