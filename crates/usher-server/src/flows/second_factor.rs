//! Second factors: an authenticator app (TOTP, RFC 6238) and single-use backup codes.
//!
//! The secret is sealed at rest under the instance secret key (purpose `"totp"`); backup codes
//! are stored as keyed hashes. Each 30-second step is accepted at most once per user and a
//! backup code is deleted by its use, both by one conditional statement in the store, so a
//! replayed code fails even when two requests race. Failures count toward the same lockout
//! counter as passwords and email codes.

use aws_lc_rs::hmac;
use data_encoding::BASE32_NOPAD;
use serde::Serialize;
use subtle::ConstantTimeEq;
use usher_types::{Strategy, VerificationStatus};

use super::{
    Browser, account,
    sign_in::{self, SignIn, SignInStatus, Verification},
};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    seal::Sealer,
    state::AppState,
    store::{TotpRecord, UserRecord},
};

/// RFC 6238's default step, which every authenticator app uses.
pub const STEP_MS: i64 = 30_000;
/// Digits of a code.
const DIGITS: u32 = 6;
/// Steps accepted either side of now, for clock drift between phone and server.
const DRIFT_STEPS: i64 = 1;
/// Backup codes issued at once.
const BACKUP_CODES: usize = 10;
/// Characters of a backup code (lowercase letters and digits: 41 bits each code).
const BACKUP_CODE_LEN: usize = 8;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation for HMAC-SHA1).
const SECRET_BYTES: usize = 20;

/// An authenticator app as the Frontend API shows it (Clerk's `TOTP` resource). The secret and
/// URI are shown only when it is created; the backup codes only when it is verified.
#[derive(Debug, Clone, Serialize)]
pub struct TotpView {
    /// Always `"totp"`.
    pub object: &'static str,
    /// `totp_…`.
    pub id: String,
    /// The base32 secret (creation only).
    pub secret: Option<String>,
    /// The `otpauth://` URI (creation only).
    pub uri: Option<String>,
    /// Whether it is on.
    pub verified: bool,
    /// Fresh backup codes (verification only).
    pub backup_codes: Option<Vec<String>>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Fresh backup codes (Clerk's `BackupCode` resource).
#[derive(Debug, Clone, Serialize)]
pub struct BackupCodesView {
    /// Always `"backup_code"`.
    pub object: &'static str,
    /// `bcode_…`.
    pub id: String,
    /// The codes, shown once.
    pub codes: Vec<String>,
    /// Creation time.
    pub created_at: i64,
    /// Same as creation.
    pub updated_at: i64,
}

/// What authenticator-app secrets are sealed for (also used by `usher users import`).
pub const SEAL_PURPOSE: &str = "totp";

fn sealer(state: &AppState) -> Sealer {
    Sealer::new(state.config.secret_key.expose(), SEAL_PURPOSE)
}

/// Decodes a base32 secret as apps and Clerk exports write it (any case, spaces, padding).
pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    let clean: String =
        text.chars().filter(|c| !c.is_whitespace() && *c != '=' && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    BASE32_NOPAD.decode(clean.as_bytes()).ok().filter(|s| s.len() >= 10)
}

/// The code of `step` (RFC 4226 HOTP with HMAC-SHA1, as RFC 6238 and every app default to).
pub fn code_at(secret: &[u8], step: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]]);
    format!("{:0width$}", bin % 10u32.pow(DIGITS), width = DIGITS as usize)
}

/// The newest step within the drift window whose code is `code`, compared in constant time.
fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    let code = code.trim();
    let current = now.div_euclid(STEP_MS);
    let mut found = None;
    for step in current - DRIFT_STEPS..=current + DRIFT_STEPS {
        if bool::from(code_at(secret, step).as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI apps read from the QR code.
fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={}",
        enc(issuer),
        enc(account),
        enc(issuer),
        STEP_MS / 1000
    )
}

/// Ten new backup codes, unbiased over `[a-z0-9]`.
fn new_backup_codes() -> Vec<String> {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..BACKUP_CODES)
        .map(|_| {
            let mut code = String::with_capacity(BACKUP_CODE_LEN);
            let mut buf = [0u8; 32];
            while code.len() < BACKUP_CODE_LEN {
                aws_lc_rs::rand::fill(&mut buf).expect("the operating system's random source failed");
                // 252 = 7 × 36: larger bytes would favour the first characters.
                for &b in buf.iter().filter(|&&b| b < 252) {
                    if code.len() == BACKUP_CODE_LEN {
                        break;
                    }
                    code.push(char::from(ALPHABET[usize::from(b % 36)]));
                }
            }
            code
        })
        .collect()
}

/// The stored form of a backup code: a keyed hash of its normalised text.
fn backup_code_hash(state: &AppState, code: &str) -> String {
    let normal: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_lowercase();
    ids::hmac_hex(format!("usher backup codes v1\0{}", state.config.secret_key.expose()).as_bytes(), normal.as_bytes())
}

/// Hashes backup codes for storage.
pub fn hash_backup_codes(state: &AppState, codes: &[String]) -> Vec<String> {
    codes.iter().map(|c| backup_code_hash(state, c)).collect()
}

/// `POST /v1/me/totp`: a new secret, waiting for its first code (replacing one that waits).
pub async fn create_totp(state: &AppState, user: &UserRecord) -> ApiResult<TotpView> {
    if user.totp_enabled {
        return Err(ApiError::invalid(
            "totp_already_enabled",
            "totp",
            "An authenticator app is already set up; remove it first.",
        ));
    }
    let now = state.now();
    let mut raw = [0u8; SECRET_BYTES];
    aws_lc_rs::rand::fill(&mut raw).expect("the operating system's random source failed");
    let secret = BASE32_NOPAD.encode(&raw);
    let record = TotpRecord {
        id: ids::new_id("totp"),
        user_id: user.id.clone(),
        secret_sealed: sealer(state).seal_text(&secret),
        verified: false,
        last_step: None,
        created_at: now,
        updated_at: now,
    };
    state.store.put_totp(&record).await?;
    let account = account_name(user);
    Ok(TotpView {
        object: "totp",
        id: record.id,
        uri: Some(otpauth_uri(&state.config.application_name, &account, &secret)),
        secret: Some(secret),
        verified: false,
        backup_codes: None,
        created_at: now,
        updated_at: now,
    })
}

/// The app waiting for its first code, with its secret and URI (for the account page, which
/// shows them until the setup is finished or cancelled).
pub async fn pending_setup(state: &AppState, user: &UserRecord) -> ApiResult<Option<TotpView>> {
    let Some(record) = state.store.get_totp(&user.id).await?.filter(|t| !t.verified) else { return Ok(None) };
    let secret = BASE32_NOPAD.encode(&open_secret(state, &record)?);
    Ok(Some(TotpView {
        object: "totp",
        id: record.id,
        uri: Some(otpauth_uri(&state.config.application_name, &account_name(user), &secret)),
        secret: Some(secret),
        verified: false,
        backup_codes: None,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }))
}

/// How the app lists the account: its primary email address, else its username, else its id.
fn account_name(user: &UserRecord) -> String {
    user.primary_email().map(|e| e.value.clone()).or_else(|| user.username.clone()).unwrap_or_else(|| user.id.clone())
}

/// `POST /v1/me/totp/attempt_verification`: the first right code turns the app on and issues
/// new backup codes (shown once, in the answer).
pub async fn verify_totp_setup(state: &AppState, user: &UserRecord, code: &str) -> ApiResult<TotpView> {
    let now = state.now();
    let record =
        state.store.get_totp(&user.id).await?.filter(|t| !t.verified).ok_or_else(|| {
            ApiError::invalid("totp_not_started", "code", "Start setting up an authenticator app first.")
        })?;
    let secret = open_secret(state, &record)?;
    let codes = new_backup_codes();
    // A locked account's code is not tried (as at sign-in); a wrong one counts toward the lock,
    // so the setup is no way around the limit on guesses.
    let locked = user.is_locked(now);
    let actor = super::audit::Actor::user(Some(&user.id));
    let event = super::audit::Event::success(&actor, crate::store::AuditAction::FactorAdded, Some(&user.id));
    let audited = super::audit::Audited::new(state, event.detail("totp"));
    let accepted = match matching_step(&secret, code, now).filter(|_| !locked) {
        Some(step) => audited.store().verify_totp(&user.id, step, &hash_backup_codes(state, &codes), now).await?,
        None => false,
    };
    if !accepted {
        account::record_failure(state, Some(user).filter(|_| !locked)).await?;
        return Err(ApiError::invalid("form_code_incorrect", "code", "Incorrect code. Try again."));
    }
    audited.done();
    if state.config.second_factor_required {
        // The `setup-mfa` task is done: the user's pending sessions become active.
        state.store.activate_user_sessions(&user.id, now).await?;
    }
    Ok(TotpView {
        object: "totp",
        id: record.id,
        secret: None,
        uri: None,
        verified: true,
        backup_codes: Some(codes),
        created_at: record.created_at,
        updated_at: now,
    })
}

/// Removes the authenticator app; false if there was none. Backup codes are a fallback for it,
/// so they go too when no other second factor is left (there is none other today).
pub async fn disable_totp(state: &AppState, actor: &super::audit::Actor, user_id: &str) -> ApiResult<bool> {
    let event = super::audit::Event::success(actor, crate::store::AuditAction::FactorRemoved, Some(user_id));
    let audited = super::audit::Audited::new(state, event.detail("totp"));
    let had = audited.store().delete_totp(user_id).await?;
    audited.done();
    state.store.delete_backup_codes(user_id).await?;
    Ok(had)
}

/// `POST /v1/me/backup_codes`: new codes; the old ones stop working.
pub async fn regenerate_backup_codes(state: &AppState, user: &UserRecord) -> ApiResult<BackupCodesView> {
    if !user.totp_enabled {
        return Err(ApiError::invalid(
            "no_second_factors",
            "backup_codes",
            "Set up an authenticator app before creating backup codes.",
        ));
    }
    let now = state.now();
    let codes = new_backup_codes();
    state.store.replace_backup_codes(&user.id, &hash_backup_codes(state, &codes), now).await?;
    Ok(BackupCodesView { object: "backup_code", id: ids::new_id("bcode"), codes, created_at: now, updated_at: now })
}

/// Imports a Clerk export's second factors for a new user: the secret on and verified (no step
/// used yet), the codes hashed.
pub async fn import(state: &AppState, user_id: &str, totp_secret: Option<&str>, codes: &[String]) -> ApiResult<()> {
    let now = state.now();
    if let Some(secret) = totp_secret {
        let canonical = decode_secret(secret).map(|raw| BASE32_NOPAD.encode(&raw)).ok_or_else(|| {
            ApiError::format("totp_secret", "totp_secret must be a base32 secret of at least 80 bits.")
        })?;
        let record = TotpRecord {
            id: ids::new_id("totp"),
            user_id: user_id.to_owned(),
            secret_sealed: sealer(state).seal_text(&canonical),
            verified: true,
            last_step: None,
            created_at: now,
            updated_at: now,
        };
        state.store.put_totp(&record).await?;
    }
    if !codes.is_empty() {
        state.store.replace_backup_codes(user_id, &hash_backup_codes(state, codes), now).await?;
    }
    Ok(())
}

/// Checks the importable inputs before anything is written.
pub fn check_import(totp_secret: Option<&str>, codes: &[String]) -> ApiResult<()> {
    if totp_secret.is_some_and(|s| decode_secret(s).is_none()) {
        return Err(ApiError::format("totp_secret", "totp_secret must be a base32 secret of at least 80 bits."));
    }
    if codes.len() > 100 || codes.iter().any(|c| c.trim().is_empty() || c.len() > 64) {
        return Err(ApiError::format("backup_codes", "backup_codes must be at most 100 codes of 1 to 64 characters."));
    }
    Ok(())
}

/// Whether `code` is a right, unused code of the user for `strategy`; a right one is used up.
pub async fn check_code(state: &AppState, user_id: &str, strategy: Strategy, code: &str) -> ApiResult<bool> {
    match strategy {
        Strategy::Totp => {
            let now = state.now();
            let Some(record) = state.store.get_totp(user_id).await?.filter(|t| t.verified) else {
                return Ok(false);
            };
            let secret = open_secret(state, &record)?;
            match matching_step(&secret, code, now) {
                Some(step) => Ok(state.store.use_totp_step(user_id, step, now).await?),
                None => Ok(false),
            }
        }
        Strategy::BackupCode => Ok(state.store.use_backup_code(user_id, &backup_code_hash(state, code)).await?),
        _ => Ok(false),
    }
}

/// `POST /v1/client/sign_ins/{id}/attempt_second_factor`: a TOTP or backup code completes the
/// sign-in. A wrong or replayed code counts toward the lockout like a wrong password.
pub async fn attempt(
    state: &AppState,
    browser: &mut Browser,
    id: &str,
    strategy: Option<Strategy>,
    code: Option<String>,
) -> ApiResult<SignIn> {
    let mut attempt = sign_in::load(state, browser, id).await?;
    if attempt.status != SignInStatus::NeedsSecondFactor {
        return Err(ApiError::invalid(
            "sign_in_status_invalid",
            "status",
            format!("This sign-in is {}; no second factor is due.", attempt.status.as_str().replace('_', " ")),
        ));
    }
    let strategy = match strategy {
        Some(s @ (Strategy::Totp | Strategy::BackupCode)) if attempt.supported_second_factors.contains(&s) => s,
        _ => return Err(ApiError::format("strategy", "strategy must be one of supported_second_factors.")),
    };
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "code", "Enter the code."));
    };
    if code.len() > 64 {
        return Err(ApiError::invalid("form_code_incorrect", "code", "Incorrect code. Try again."));
    }
    let user = sign_in::account_of(state, &attempt).await?;
    let locked = sign_in::refuse_locked(state, user.as_ref())?;
    let Some(user) = user else { return Err(ApiError::NotFound("sign in attempt")) };
    // A locked account's code is not even tried: using it up would lose the user a backup code.
    let right = !locked && !user.banned && check_code(state, &user.id, strategy, &code).await?;
    let attempts = attempt.second_factor.as_ref().map_or(0, |f| f.attempts) + 1;
    if right {
        attempt.second_factor =
            Some(Verification { status: VerificationStatus::Verified, strategy, attempts, expire_at: None });
        return sign_in::finish(state, browser, attempt, &user).await;
    }
    account::record_failure(state, Some(&user).filter(|_| !locked)).await?;
    attempt.second_factor =
        Some(Verification { status: VerificationStatus::Failed, strategy, attempts, expire_at: None });
    sign_in::save(state, browser, &attempt).await?;
    Err(ApiError::invalid("form_code_incorrect", "code", "Incorrect code. Try again."))
}

/// The second factors the user can sign in with, in Clerk's order.
pub fn supported(user: &UserRecord) -> Vec<Strategy> {
    let mut out = Vec::new();
    if user.totp_enabled {
        out.push(Strategy::Totp);
    }
    if user.backup_code_enabled {
        out.push(Strategy::BackupCode);
    }
    out
}

fn open_secret(state: &AppState, record: &TotpRecord) -> ApiResult<Vec<u8>> {
    sealer(state)
        .open_text(&record.secret_sealed)
        .and_then(|s| decode_secret(&s))
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the TOTP secret of {} does not open", record.user_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_rfc_6238_test_vectors() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 8 digits there; the last 6 here.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59 / 30), "287082");
        assert_eq!(code_at(secret, 1_111_111_109 / 30), "081804");
        assert_eq!(code_at(secret, 2_000_000_000 / 30), "279037");
    }

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let secret = decode_secret("JBSWY3DPEHPK3PXP").unwrap();
        let now = 1_700_000_000_000;
        let step = now / STEP_MS;
        assert_eq!(matching_step(&secret, &code_at(&secret, step), now), Some(step));
        assert_eq!(matching_step(&secret, &code_at(&secret, step - 1), now), Some(step - 1));
        assert_eq!(matching_step(&secret, &code_at(&secret, step - 3), now), None);
        assert_eq!(decode_secret("jbsw y3dp ehpk 3pxp"), Some(secret));
        assert_eq!(decode_secret("not base32!"), None);
    }

    #[test]
    fn backup_codes_are_ten_distinct_lowercase_codes() {
        let codes = new_backup_codes();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 8 && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())));
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10);
    }
}
