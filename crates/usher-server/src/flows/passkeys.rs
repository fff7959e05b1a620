//! Passkeys (WebAuthn) with `webauthn-rs`: registering one from the account page, and signing
//! in with one, with or without an identifier typed (a discoverable credential names its user).
//!
//! The relying party is the configured `passkey_rp_id` (default: the public URL's host, and
//! `localhost` for `usher dev`, since browsers refuse WebAuthn on an IP address); credentials are
//! accepted from usher's own origin, the allowed origins and `passkey_origins` only, so an
//! assertion made for another site is refused.
//!
//! Every ceremony's state stays on the server: a registration's in its passkey row, a sign-in's
//! in the sign-in attempt, and each is used once. A sign-in raises the stored signature counter
//! in one conditional statement, so a replayed assertion or a cloned authenticator loses.
//! Failures count toward the account's lockout like a wrong password.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use url::Url;
use usher_types::{Strategy, VerificationStatus};
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid, Webauthn, WebauthnBuilder,
};

use super::{
    Browser, account,
    sign_in::{self, SignIn, SignInStatus, Verification},
};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{PasskeyRecord, StoreError, UserRecord},
};

/// A registration waits this long for the browser's answer.
pub const REGISTRATION_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// A sign-in challenge is answered within this long (the browser's prompt times out sooner).
pub const CHALLENGE_LIFETIME_MS: i64 = 5 * 60 * 1000;
/// Passkeys a user may have (Clerk's limit).
const MAX_PASSKEYS: usize = 10;
/// Characters of a passkey's name at most.
const MAX_NAME_CHARS: usize = 256;
/// Bytes of a browser's credential JSON at most (a few KB in practice).
const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;

/// A sign-in's passkey challenge: the options the browser gets (Clerk's
/// `first_factor_verification.nonce`) and the state that checks the answer (never shown).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Challenge {
    /// `PublicKeyCredentialRequestOptions` as JSON.
    pub options: String,
    /// webauthn-rs's `DiscoverableAuthentication`, JSON.
    pub state: String,
}

/// The relying party of this instance: its id, the origins whose credentials count, and
/// whether any port of them does (`usher dev`, where apps run on any localhost port).
pub fn relying_party(state: &AppState) -> (String, Vec<Url>, bool) {
    let issuer = Url::parse(&state.issuer).ok();
    let host = issuer.as_ref().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
    let rp_id = match &state.config.passkey_rp_id {
        Some(id) => id.clone(),
        None if is_ip || host == "localhost" => "localhost".to_owned(),
        None => host.clone(),
    };
    let mut origins = Vec::new();
    if let Some(mut own) = issuer {
        // A dev server bound to an IP address is also `http://localhost:<port>` (WebAuthn needs a name).
        if is_ip && rp_id == "localhost" {
            let _ = own.set_host(Some("localhost"));
        }
        own.set_path("");
        origins.push(own);
    }
    for text in state.config.allowed_origins.iter().chain(&state.config.passkey_origins) {
        if let Ok(origin) = Url::parse(text)
            && !origins.contains(&origin)
        {
            origins.push(origin);
        }
    }
    let any_port = rp_id == "localhost" && state.config.allow_localhost_origins;
    (rp_id, origins, any_port)
}

fn webauthn(state: &AppState) -> ApiResult<Webauthn> {
    let (rp_id, origins, any_port) = relying_party(state);
    let misconfigured =
        |e: &dyn std::fmt::Display| ApiError::Internal(anyhow::anyhow!("passkey relying party {rp_id:?}: {e}"));
    // Only origins under the relying-party id can use its credentials (browsers refuse others).
    let under = |o: &&Url| o.domain().is_some_and(|d| d == rp_id || d.ends_with(&format!(".{rp_id}")));
    let mut usable = origins.iter().filter(under);
    let first = usable.next().ok_or_else(|| misconfigured(&"no allowed origin is under the relying-party id"))?;
    let mut builder = WebauthnBuilder::new(&rp_id, first)
        .map_err(|e| misconfigured(&e))?
        .rp_name(&state.config.application_name)
        .allow_any_port(any_port);
    for origin in usable {
        builder = builder.append_allowed_origin(origin);
    }
    builder.build().map_err(|e| misconfigured(&e))
}

/// The WebAuthn user handle of a user: a UUID derived from the user id, so it names the account
/// without being the id (authenticators store it) and needs no column of its own.
pub fn user_handle(user_id: &str) -> Uuid {
    let digest = ids::sha256(format!("usher passkey user handle v1\0{user_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid_v8(bytes)
}

/// RFC 9562 version 8 (custom) with the RFC variant bits.
fn uuid_v8(mut bytes: [u8; 16]) -> Uuid {
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Uuid::from_bytes(bytes)
}

fn credential(p: &PasskeyRecord) -> ApiResult<Passkey> {
    let text = p.credential.as_deref().unwrap_or_default();
    serde_json::from_str(text)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the credential of passkey {} does not parse: {e}", p.id)))
}

fn to_json<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(e.into()))
}

/// `POST /v1/me/passkeys`: a new passkey waiting for the browser's credential, and the
/// creation options to make it with (shown once, as its verification's `nonce`).
pub async fn create(state: &AppState, user: &UserRecord) -> ApiResult<(PasskeyRecord, String)> {
    if user.passkeys.len() >= MAX_PASSKEYS {
        return Err(ApiError::invalid(
            "passkey_limit_reached",
            "passkey",
            format!("An account can have at most {MAX_PASSKEYS} passkeys; remove one first."),
        ));
    }
    // The user's own credentials, so the authenticator does not make a second one.
    let exclude: Vec<CredentialID> = user
        .passkeys
        .iter()
        .filter_map(|p| p.credential_id.as_deref())
        .filter_map(|id| URL_SAFE_NO_PAD.decode(id).ok())
        .collect();
    let name =
        user.primary_email().map(|e| e.value.clone()).or_else(|| user.username.clone()).unwrap_or(user.id.clone());
    let display = match (&user.first_name, &user.last_name) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(n), None) | (None, Some(n)) => n.clone(),
        (None, None) => name.clone(),
    };
    let (options, registration) = webauthn(state)?
        .start_passkey_registration(user_handle(&user.id), &name, &display, Some(exclude))
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("starting a passkey registration: {e}")))?;
    let mut options = serde_json::to_value(&options.public_key).map_err(|e| ApiError::Internal(e.into()))?;
    // A resident (discoverable) credential, so that signing in needs no identifier typed.
    // webauthn-rs's passkey preset asks for none; its checks of the answer do not depend on it.
    if let Some(selection) = options.get_mut("authenticatorSelection").and_then(serde_json::Value::as_object_mut) {
        selection.insert("requireResidentKey".into(), true.into());
        selection.insert("residentKey".into(), "required".into());
    }
    let now = state.now();
    let record = PasskeyRecord {
        id: ids::new_id("pk"),
        user_id: user.id.clone(),
        name: "Passkey".to_owned(),
        registration_state: Some(to_json(&registration)?),
        expire_at: Some(now + REGISTRATION_LIFETIME_MS),
        created_at: now,
        updated_at: now,
        ..PasskeyRecord::default()
    };
    state.store.create_passkey(&record).await?;
    Ok((record, to_json(&options)?))
}

fn registration_failed() -> ApiError {
    ApiError::invalid(
        "passkey_registration_failed",
        "public_key_credential",
        "This passkey could not be verified. Try again.",
    )
}

/// `…/attempt_verification`: checks the browser's credential against the waiting registration
/// (origin, challenge, user verification) and turns the passkey on.
pub async fn verify(
    state: &AppState,
    user: &UserRecord,
    id: &str,
    public_key_credential: &str,
) -> ApiResult<PasskeyRecord> {
    let now = state.now();
    let pending = state
        .store
        .get_passkey(&user.id, id)
        .await?
        .filter(|p| !p.verified() && p.expire_at.is_some_and(|at| at > now))
        .ok_or(ApiError::NotFound("passkey"))?;
    let registration: PasskeyRegistration =
        serde_json::from_str(pending.registration_state.as_deref().unwrap_or_default())
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("the registration of passkey {id} does not parse: {e}")))?;
    let answer: RegisterPublicKeyCredential = parse_credential(public_key_credential)?;
    let passkey = webauthn(state)?.finish_passkey_registration(&answer, &registration).map_err(|e| {
        tracing::info!(error = %e, "passkey registration refused");
        registration_failed()
    })?;
    let credential_id = URL_SAFE_NO_PAD.encode(passkey.cred_id());
    let stored = to_json(&passkey)?;
    match state.store.verify_passkey(id, &credential_id, &stored, 0, now).await {
        Ok(true) => {}
        Ok(false) => return Err(ApiError::NotFound("passkey")),
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::invalid(
                "passkey_already_exists",
                "public_key_credential",
                "This passkey is registered already.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    state.store.get_passkey(&user.id, id).await?.ok_or(ApiError::NotFound("passkey"))
}

fn parse_credential<T: serde::de::DeserializeOwned>(text: &str) -> ApiResult<T> {
    if text.len() > MAX_CREDENTIAL_BYTES {
        return Err(ApiError::format("public_key_credential", "public_key_credential is too large."));
    }
    serde_json::from_str(text).map_err(|_| {
        ApiError::format("public_key_credential", "public_key_credential must be a WebAuthn credential as JSON.")
    })
}

/// `PATCH /v1/me/passkeys/{id}`: a new name.
pub async fn rename(state: &AppState, user: &UserRecord, id: &str, name: &str) -> ApiResult<PasskeyRecord> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::format("name", format!("name must be 1 to {MAX_NAME_CHARS} characters.")));
    }
    if !state.store.rename_passkey(&user.id, id, name, state.now()).await? {
        return Err(ApiError::NotFound("passkey"));
    }
    state.store.get_passkey(&user.id, id).await?.ok_or(ApiError::NotFound("passkey"))
}

/// Deletes a passkey of the user (theirs, or any through the Backend API); false if none.
pub async fn delete(state: &AppState, user_id: &str, id: &str) -> ApiResult<bool> {
    Ok(state.store.delete_passkey(user_id, id).await?)
}

/// A fresh sign-in challenge for any passkey of this relying party. No credential list is sent,
/// for a known identifier either: the list would tell whether the account exists.
pub fn challenge(state: &AppState) -> ApiResult<Challenge> {
    let (options, auth) = webauthn(state)?
        .start_discoverable_authentication()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("starting a passkey sign-in: {e}")))?;
    Ok(Challenge { options: to_json(&options.public_key)?, state: to_json(&auth)? })
}

/// Gives the attempt a new passkey challenge (Clerk's `prepare_first_factor` with
/// `strategy=passkey`, or a sign-in created with it and no identifier).
pub async fn prepare(state: &AppState, browser: &mut Browser, mut attempt: SignIn) -> ApiResult<SignIn> {
    attempt.passkey = Some(challenge(state)?);
    attempt.status = SignInStatus::NeedsFirstFactor;
    attempt.first_factor = Some(Verification {
        status: VerificationStatus::Unverified,
        strategy: Strategy::Passkey,
        attempts: 0,
        expire_at: Some(state.now() + CHALLENGE_LIFETIME_MS),
    });
    sign_in::save(state, browser, &attempt).await?;
    Ok(attempt)
}

fn sign_in_failed() -> ApiError {
    ApiError::invalid(
        "passkey_verification_failed",
        "public_key_credential",
        "This passkey was not accepted. Try again.",
    )
}

/// `attempt_first_factor` with `strategy=passkey`: the challenge is used up whatever the
/// outcome; a right assertion of the account's passkey (or, without an identifier, of any
/// account's) signs in. User verification was required, so the passkey is both factors.
pub async fn attempt(state: &AppState, browser: &mut Browser, mut attempt: SignIn, answer: &str) -> ApiResult<SignIn> {
    let Some(challenge) = attempt.passkey.take() else {
        return Err(ApiError::invalid(
            "verification_missing",
            "strategy",
            "Prepare the passkey first factor before attempting it.",
        ));
    };
    let attempts = attempt.first_factor.as_ref().map_or(0, |f| f.attempts) + 1;
    if attempt.first_factor.as_ref().and_then(|f| f.expire_at).is_some_and(|at| at <= state.now()) {
        sign_in::save(state, browser, &attempt).await?;
        return Err(ApiError::invalid(
            "verification_expired",
            "public_key_credential",
            "This passkey challenge expired. Try again.",
        ));
    }
    let outcome = check_assertion(state, &attempt, &challenge, answer).await;
    let (user, right) = match outcome {
        Ok(Checked { user, right }) => (user, right),
        Err(e) => {
            sign_in::save(state, browser, &attempt).await?;
            return Err(e);
        }
    };
    let locked = sign_in::refuse_locked(state, user.as_ref())?;
    match user {
        Some(user) if right && !locked && !user.banned => {
            attempt.user_id = Some(user.id.clone());
            attempt.first_factor = Some(Verification {
                status: VerificationStatus::Verified,
                strategy: Strategy::Passkey,
                attempts,
                expire_at: None,
            });
            // The authenticator verified its user (biometrics or PIN) on top of holding the key.
            attempt.second_factor = Some(sign_in::verified(Strategy::Passkey));
            sign_in::finish(state, browser, attempt, &user).await
        }
        user => {
            account::record_failure(state, user.as_ref().filter(|_| !locked)).await?;
            attempt.first_factor = Some(Verification {
                status: VerificationStatus::Failed,
                strategy: Strategy::Passkey,
                attempts,
                expire_at: None,
            });
            sign_in::save(state, browser, &attempt).await?;
            Err(sign_in_failed())
        }
    }
}

struct Checked {
    /// The account the assertion names (to count a failure against), if any.
    user: Option<UserRecord>,
    /// Whether it verified and its counter was accepted.
    right: bool,
}

async fn check_assertion(
    state: &AppState,
    attempt: &SignIn,
    challenge: &Challenge,
    answer: &str,
) -> ApiResult<Checked> {
    let assertion: PublicKeyCredential = parse_credential(answer)?;
    let auth: DiscoverableAuthentication = serde_json::from_str(&challenge.state)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a passkey challenge does not parse: {e}")))?;
    let webauthn = webauthn(state)?;
    let credential_id = URL_SAFE_NO_PAD.encode(assertion.get_credential_id());
    let Some(record) = state.store.find_passkey_by_credential(&credential_id).await? else {
        return Ok(Checked { user: sign_in::account_of(state, attempt).await?, right: false });
    };
    // With an identifier typed, only that account's passkeys sign in.
    if attempt.user_id.as_ref().is_some_and(|id| *id != record.user_id) {
        return Ok(Checked { user: sign_in::account_of(state, attempt).await?, right: false });
    }
    let user = state.store.get_user(&record.user_id).await?;
    let handle_matches = webauthn
        .identify_discoverable_authentication(&assertion)
        .is_ok_and(|(handle, _)| handle == user_handle(&record.user_id));
    let mut passkey = credential(&record)?;
    let verified = match webauthn.finish_discoverable_authentication_v2(&assertion, auth, &passkey) {
        Ok(result) if handle_matches && result.user_verified() => Some(result),
        Ok(_) => None,
        Err(e) => {
            tracing::info!(error = %e, "passkey assertion refused");
            None
        }
    };
    let Some(result) = verified else { return Ok(Checked { user, right: false }) };
    passkey.update_credential(&result);
    let counter = i64::from(result.counter());
    let right = state.store.use_passkey(&record.id, counter, &to_json(&passkey)?, state.now()).await?;
    Ok(Checked { user, right })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_handles_are_stable_version_8_uuids_that_differ_per_user() {
        let a = user_handle("user_a");
        assert_eq!(a, user_handle("user_a"));
        assert_ne!(a, user_handle("user_b"));
        assert_eq!(a.get_version_num(), 8);
        assert_eq!(a.as_bytes()[8] & 0xc0, 0x80, "the RFC variant");
    }
}
