//! Minting session tokens (Clerk's v2 claims) and JWT-template tokens.

use serde_json::{Map, Value, json};
use usher_types::token::{CATEGORY_TEMPLATE, OrganizationClaim, SessionTokenClaims, SessionTokenStatus};

use super::keys::KeyRing;
use super::{
    jwt::{self, Algorithm, Signer},
    shortcodes,
};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    store::{
        MembershipRecord, OrganizationRecord, SYSTEM_PERMISSION_PREFIX, SessionRecord, SessionStatus, Store,
        TemplateRecord, UserRecord,
    },
    wire::{self, UserContext},
};

/// What minting needs of the instance: its keys (and the store that records their longest
/// token lifetimes), its issuer, and the time.
#[derive(Clone, Copy)]
pub struct Minter<'a> {
    /// The instance's signing keys.
    pub keys: &'a KeyRing,
    /// Where key lifetimes are recorded.
    pub store: &'a dyn Store,
    /// The `iss` of every token.
    pub issuer: &'a str,
    /// Now, and how users are shown (for `{{user.…}}` shortcodes).
    pub users: UserContext,
}

/// Claims the server sets on template tokens; templates cannot override them.
pub const RESERVED_CLAIMS: [&str; 7] = ["azp", "exp", "iat", "iss", "jti", "nbf", "sub"];

/// `nbf` is back-dated this much on session tokens to tolerate verifiers' clock skew.
const SESSION_NBF_SKEW_SECS: i64 = 5;

/// A session token for a live session: RS256 with the instance key, `lifetime_secs` long.
pub async fn mint_session_token(
    minter: Minter<'_>,
    session: &SessionRecord,
    lifetime_secs: i64,
    azp: Option<&str>,
) -> ApiResult<String> {
    let key = minter.keys.signer();
    key.note_lifetime(minter.store, lifetime_secs).await?;
    let now = minter.users.now;
    let iat = now / 1000;
    let jti = ids::random_base62(20);
    // The active organization, its membership and the role's permission keys in one read: a
    // deleted organization or membership is gone from the next token. System permissions
    // never go in tokens.
    let org = match session.last_active_organization_id.as_deref() {
        Some(org_id) => minter.store.token_organization(org_id, &session.user_id).await?,
        None => None,
    };
    let (o, fea) = match &org {
        Some(organization) => {
            let keys = organization.permission_keys.iter().map(String::as_str);
            let encoded =
                OrganizationClaim::encode_permissions(keys.filter(|k| !k.starts_with(SYSTEM_PERMISSION_PREFIX)));
            let (fea, per, fpm) = match encoded {
                Some((fea, per, fpm)) => (Some(fea), Some(per), Some(fpm)),
                None => (None, None, None),
            };
            let role = &organization.role;
            let claim = OrganizationClaim {
                id: organization.id.as_str().into(),
                slg: Some(organization.slug.as_str().into()),
                rol: Some(role.strip_prefix("org:").unwrap_or(role).to_owned().into()),
                per: per.map(Into::into),
                fpm: fpm.map(Into::into),
            };
            (Some(claim), fea.map(Into::into))
        }
        None => (None, None),
    };
    let claims = SessionTokenClaims {
        act: session.actor.clone(),
        azp: azp.map(Into::into),
        exp: Some(iat + lifetime_secs),
        fea,
        // Minutes since the sign-in verified each factor; -1 for a second factor never verified.
        fva: Some(session.factor_verification_age(now)),
        iat: Some(iat),
        iss: Some(minter.issuer.into()),
        jti: Some(jti.as_str().into()),
        nbf: Some(iat - SESSION_NBF_SKEW_SECS),
        o,
        sid: Some(session.id.as_str().into()),
        sts: Some(if session.status == SessionStatus::Pending {
            SessionTokenStatus::Pending
        } else {
            SessionTokenStatus::Active
        }),
        sub: Some(session.user_id.as_str().into()),
        v: Some(2),
    };
    Ok(jwt::encode(key.header(false), &claims, key.signer()))
}

/// The organization `org_id`, the user's membership of it and the role's custom permission
/// keys, read at every mint: a deleted organization or membership is gone from the next token.
/// System permissions never go in tokens.
async fn member_organization(
    store: &dyn Store,
    org_id: &str,
    user_id: &str,
) -> ApiResult<Option<(OrganizationRecord, MembershipRecord, Vec<String>)>> {
    let Some(organization) = store.get_organization(org_id).await?.filter(|o| o.id == org_id) else {
        return Ok(None);
    };
    let Some(membership) = store.get_membership(org_id, user_id).await? else {
        return Ok(None);
    };
    let keys = store
        .role_permissions(&membership.role)
        .await?
        .into_iter()
        .map(|p| p.key)
        .filter(|k| !k.starts_with(SYSTEM_PERMISSION_PREFIX))
        .collect();
    Ok(Some((organization, membership, keys)))
}

/// Whom a template's claims are for: the user, the session minting them (none for a preview),
/// and the organization active in it.
#[derive(Clone, Copy)]
pub struct TemplateSubject<'a> {
    /// The user (`sub`, `{{user.…}}`).
    pub user: &'a UserRecord,
    /// The session minting (`{{session.…}}`); `None` renders those shortcodes as null.
    pub session: Option<&'a SessionRecord>,
    /// The active organization (`{{org.…}}`); ignored unless the user is a member.
    pub organization_id: Option<&'a str>,
}

impl<'a> TemplateSubject<'a> {
    /// The session's user and its active organization: what a mint renders.
    pub fn of_session(session: &'a SessionRecord, user: &'a UserRecord) -> Self {
        Self { user, session: Some(session), organization_id: session.last_active_organization_id.as_deref() }
    }
}

/// The claims of a template token for `subject`, exactly as [`mint_template_token`] signs them:
/// the template's rendered shortcodes, then the reserved claims. Also what the admin console's
/// preview shows, so the preview cannot drift from the mint.
pub async fn template_claims(
    minter: Minter<'_>,
    template: &TemplateRecord,
    subject: TemplateSubject<'_>,
    lifetime_override: Option<i64>,
    azp: Option<&str>,
) -> ApiResult<Map<String, Value>> {
    let now = minter.users.now;
    let user = subject.user;
    let membership = match subject.organization_id {
        Some(org_id) => member_organization(minter.store, org_id, &user.id).await?,
        None => None,
    };
    let org = match membership {
        Some((o, m, _)) => json!({
            "id": o.id,
            "name": o.name,
            "slug": o.slug,
            "role": m.role,
            "image_url": o.image_url.unwrap_or_default(),
            "public_metadata": o.public_metadata,
        }),
        None => Value::Null,
    };
    let session = match subject.session {
        Some(session) => json!({"id": session.id, "status": session.status, "actor": session.actor}),
        None => Value::Null,
    };
    let context = json!({
        "user": wire::user_claims_context(user, minter.users),
        "session": session,
        "org": org,
        "org_membership": Value::Null,
    });
    let mut claims = match shortcodes::render(&template.claims, &context) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let lifetime = lifetime_override.unwrap_or(template.lifetime);
    let iat = now / 1000;
    for (name, value) in [
        ("exp", json!(iat + lifetime)),
        ("iat", json!(iat)),
        ("iss", json!(minter.issuer)),
        ("jti", json!(ids::random_base62(20))),
        ("nbf", json!(iat - template.allowed_clock_skew)),
        ("sub", json!(user.id)),
    ] {
        claims.insert(name.into(), value);
    }
    match azp {
        Some(azp) => claims.insert("azp".into(), json!(azp)),
        None => claims.remove("azp"),
    };
    Ok(claims)
}

/// A token from a JWT template for the session's user.
pub async fn mint_template_token(
    minter: Minter<'_>,
    template: &TemplateRecord,
    session: &SessionRecord,
    user: &UserRecord,
    lifetime_override: Option<i64>,
    azp: Option<&str>,
) -> ApiResult<String> {
    let subject = TemplateSubject::of_session(session, user);
    let claims = template_claims(minter, template, subject, lifetime_override, azp).await?;
    let lifetime = lifetime_override.unwrap_or(template.lifetime);
    if template.custom_signing_key {
        let alg = Algorithm::parse(&template.signing_algorithm)
            .ok_or_else(|| anyhow::anyhow!("template {} has an unknown algorithm", template.id))?;
        let secret = template.signing_key.as_deref().unwrap_or_default();
        let signer = Signer::custom(alg, secret).map_err(|e| anyhow::anyhow!("template {} key: {e}", template.id))?;
        let header = jwt::b64_json(&json!({"alg": alg.name(), "cat": CATEGORY_TEMPLATE, "typ": "JWT"}));
        return Ok(jwt::encode(&header, &claims, &signer));
    }
    let key = minter.keys.signer();
    key.note_lifetime(minter.store, lifetime).await?;
    Ok(jwt::encode(key.header(true), &claims, key.signer()))
}

/// Refuses minting for sessions that ended or outlived their lifetimes.
pub fn ensure_live(session: &SessionRecord, now: i64) -> ApiResult<()> {
    if session.is_live(now) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "session_not_active",
            "session_id",
            format!(
                "Session {} is {} and cannot issue tokens.",
                session.id,
                if session.status == SessionStatus::Active { "expired" } else { session.status.as_str() }
            ),
        ))
    }
}
