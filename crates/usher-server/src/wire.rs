//! Records → Clerk's wire shapes.

use serde_json::{Map, Value, json};
use usher_types::{
    EmailAddress, JwtTemplate, PhoneNumber, Session, SignInToken, Strategy, User, Verification, VerificationStatus,
};

use crate::store::{IdentifierRecord, SessionRecord, SignInTokenRecord, TemplateRecord, UserRecord};

/// What a user's shape depends on besides its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserContext {
    /// Now, ms since the epoch (whether a lock still holds).
    pub now: i64,
    /// Consecutive failures that lock an account (the configured `lockout_attempts`).
    pub lockout_attempts: i64,
}

fn verification(ident: &IdentifierRecord) -> Option<Verification> {
    match (ident.verified, ident.strategy) {
        (true, Strategy::Admin) => Some(Verification::admin()),
        (verified, strategy) => {
            let status = if verified { VerificationStatus::Verified } else { VerificationStatus::Unverified };
            Some(Verification::otp(strategy, status))
        }
    }
}

/// A user as the Backend API returns it.
pub fn user(u: &UserRecord, context: UserContext) -> User {
    let now = context.now;
    let locked = u.is_locked(now);
    User {
        object: "user".into(),
        id: u.id.clone(),
        external_id: u.external_id.clone(),
        primary_email_address_id: u.primary_email_address_id.clone(),
        primary_phone_number_id: u.primary_phone_number_id.clone(),
        primary_web3_wallet_id: None,
        username: u.username.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        locale: u.locale.clone(),
        profile_image_url: String::new(),
        image_url: String::new(),
        has_image: false,
        public_metadata: u.public_metadata.clone(),
        private_metadata: u.private_metadata.clone(),
        unsafe_metadata: u.unsafe_metadata.clone(),
        email_addresses: u
            .emails
            .iter()
            .map(|e| EmailAddress {
                object: "email_address".into(),
                id: e.id.clone(),
                email_address: e.value.clone(),
                reserved: false,
                verification: verification(e),
                linked_to: Vec::new(),
                created_at: e.created_at,
                updated_at: e.updated_at,
            })
            .collect(),
        phone_numbers: u
            .phones
            .iter()
            .map(|p| PhoneNumber {
                object: "phone_number".into(),
                id: p.id.clone(),
                phone_number: p.value.clone(),
                reserved_for_second_factor: false,
                default_second_factor: false,
                reserved: false,
                verification: verification(p),
                linked_to: Vec::new(),
                backup_codes: None,
                created_at: p.created_at,
                updated_at: p.updated_at,
            })
            .collect(),
        web3_wallets: Vec::new(),
        passkeys: u.passkeys.iter().map(|p| passkey(p, None)).collect(),
        password_enabled: u.password_hash.is_some(),
        two_factor_enabled: u.two_factor_enabled(),
        totp_enabled: u.totp_enabled,
        backup_code_enabled: u.backup_code_enabled,
        mfa_enabled_at: None,
        mfa_disabled_at: None,
        password_last_updated_at: u.password_updated_at,
        external_accounts: Vec::new(),
        saml_accounts: Vec::new(),
        enterprise_accounts: Vec::new(),
        last_sign_in_at: u.last_sign_in_at,
        banned: u.banned,
        locked,
        lockout_expires_in_seconds: match u.locked_until {
            Some(until) if locked && until != i64::MAX => Some((until - now + 999) / 1000),
            _ => None,
        },
        // None are left while the lock holds; otherwise the configured threshold less the
        // failures counted so far.
        verification_attempts_remaining: Some(if locked {
            0
        } else {
            (context.lockout_attempts - u.failed_attempts).max(0)
        }),
        delete_self_enabled: u.delete_self_enabled,
        create_organization_enabled: u.create_organization_enabled,
        create_organizations_limit: u.create_organizations_limit,
        last_active_at: u.last_active_at,
        legal_accepted_at: u.legal_accepted_at,
        created_at: u.created_at,
        updated_at: u.updated_at,
    }
}

/// A passkey in Clerk's shape. `options` is a waiting registration's creation options (JSON),
/// shown once as its verification's `nonce`.
pub fn passkey(p: &crate::store::PasskeyRecord, options: Option<&str>) -> Value {
    let verification = if p.verified() {
        json!({"object": "verification", "status": VerificationStatus::Verified, "strategy": Strategy::Passkey,
            "attempts": null, "expire_at": null, "nonce": null})
    } else {
        json!({"object": "verification", "status": VerificationStatus::Unverified, "strategy": Strategy::Passkey,
            "attempts": 0, "expire_at": p.expire_at, "nonce": options})
    };
    json!({
        "object": "passkey",
        "id": p.id,
        "name": p.name,
        "credential_id": p.credential_id,
        "last_used_at": p.last_used_at,
        "verification": verification,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    })
}

/// What `{{user.…}}` shortcodes can read: the wire user plus the fields templates name.
pub fn user_claims_context(u: &UserRecord, context: UserContext) -> Value {
    let wire = user(u, context);
    let full_name = match (u.first_name.as_deref(), u.last_name.as_deref()) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(n), None) | (None, Some(n)) => Some(n.to_owned()),
        (None, None) => None,
    };
    let mut ctx = match serde_json::to_value(&wire) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let primary_email = u.primary_email();
    let primary_phone = u.primary_phone();
    for (key, value) in [
        ("full_name", json!(full_name)),
        ("primary_email_address", json!(primary_email.map(|e| &e.value))),
        ("email_verified", json!(primary_email.is_some_and(|e| e.verified))),
        ("primary_phone_address", json!(primary_phone.map(|p| &p.value))),
        ("primary_phone_number", json!(primary_phone.map(|p| &p.value))),
        ("phone_number_verified", json!(primary_phone.is_some_and(|p| p.verified))),
        ("organizations", json!({})),
    ] {
        ctx.insert(key.into(), value);
    }
    Value::Object(ctx)
}

/// A session as the Backend API returns it.
pub fn session(s: &SessionRecord) -> Session {
    Session {
        object: "session".into(),
        id: s.id.clone(),
        user_id: s.user_id.clone(),
        client_id: s.client_id.clone(),
        actor: s.actor.clone(),
        status: s.status,
        last_active_organization_id: s.last_active_organization_id.clone(),
        last_active_at: s.last_active_at,
        expire_at: s.expire_at,
        abandon_at: s.abandon_at,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

/// A JWT template; the signing key is write-only and never returned.
pub fn template(t: &TemplateRecord) -> JwtTemplate {
    JwtTemplate {
        object: "jwt_template".into(),
        id: t.id.clone(),
        name: t.name.clone(),
        claims: t.claims.clone(),
        lifetime: t.lifetime,
        allowed_clock_skew: t.allowed_clock_skew,
        custom_signing_key: t.custom_signing_key,
        signing_algorithm: t.signing_algorithm.clone(),
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

/// A sign-in token; `secret` and `url` only when it was just created.
pub fn sign_in_token(t: &SignInTokenRecord, secret: Option<String>, url: Option<String>) -> SignInToken {
    SignInToken {
        object: "sign_in_token".into(),
        id: t.id.clone(),
        status: t.status,
        user_id: t.user_id.clone(),
        token: secret,
        url,
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

/// An external account as Clerk's Backend API shows it (`provider` is the strategy name).
pub fn external_account(a: &crate::store::ExternalAccountRecord) -> Value {
    json!({
        "object": "external_account",
        "id": a.id,
        "provider": a.provider,
        "identification_id": a.identification_id,
        "provider_user_id": a.provider_user_id,
        "approved_scopes": a.approved_scopes,
        "email_address": a.email_address,
        "email_address_verified": a.email_verified,
        "first_name": a.first_name.clone().unwrap_or_default(),
        "last_name": a.last_name.clone().unwrap_or_default(),
        "avatar_url": a.avatar_url.clone().unwrap_or_default(),
        "image_url": a.avatar_url,
        "username": a.username,
        "phone_number": null,
        "public_metadata": {},
        "label": null,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "verification": {
            "object": "verification_oauth",
            "status": "verified",
            "strategy": a.provider,
            "attempts": null,
            "expire_at": null,
        },
    })
}

/// One audit-log entry on the wire.
#[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct AuditLogEntry {
    /// `audit_log_entry`.
    pub object: String,
    /// `aud_…`.
    pub id: String,
    /// When (ms since the epoch).
    pub created_at: i64,
    /// `user`, `admin`, `secret_key` or `system`.
    pub actor_type: String,
    /// The acting user, if any.
    pub actor_id: Option<String>,
    /// The impersonator, when the actor acted in an impersonation session.
    pub impersonator_id: Option<String>,
    /// What was acted on.
    pub subject_id: Option<String>,
    /// What was done (`sign_in.failed`, `user.banned`, `backend.write`, …).
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Why it failed.
    pub reason: Option<String>,
    /// A short note (the route of a Backend API write, a strategy).
    pub detail: Option<String>,
    /// The client's address.
    pub client_ip: String,
    /// Its `User-Agent`.
    pub user_agent: String,
}

/// The wire form of an entry (also the export's lines and the console's source).
pub fn audit_entry(e: &crate::store::AuditEntry) -> AuditLogEntry {
    AuditLogEntry {
        object: "audit_log_entry".to_owned(),
        id: e.id.clone(),
        created_at: e.at,
        actor_type: e.actor_type.as_str().to_owned(),
        actor_id: e.actor_id.clone(),
        impersonator_id: e.via_actor.clone(),
        subject_id: e.subject_id.clone(),
        action: e.action.as_str().to_owned(),
        outcome: e.outcome.as_str().to_owned(),
        reason: e.reason.clone(),
        detail: e.detail.clone(),
        client_ip: e.client_ip.clone(),
        user_agent: e.user_agent.clone(),
    }
}
