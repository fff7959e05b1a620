//! JWT templates: their rules, their changes and the preview of their claims. The Backend API
//! (`/v1/jwt_templates`) and the admin console both call these, so a template the console saves
//! passes exactly the checks the API applies, and the console's preview is the mint's own claims.

use serde_json::{Map, Value};
use usher_types::requests::JwtTemplateParams;

use super::audit::{Actor, Audited, Event};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{AuditAction, Page, TemplateRecord, UserFilter, UserOrder, UserQuery, UserRecord},
    tokens::{
        self, RESERVED_CLAIMS, TemplateSubject,
        jwt::{Algorithm, Signer},
        shortcodes,
    },
};

/// Largest claims object, serialised: tokens end up in headers and cookies.
pub const MAX_CLAIMS_BYTES: usize = 16 * 1024;
/// Bounds of a template's lifetime, seconds.
pub const LIFETIME_SECS: std::ops::RangeInclusive<i64> = 30..=315_360_000;
/// Bounds of a template's allowed clock skew, seconds.
pub const CLOCK_SKEW_SECS: std::ops::RangeInclusive<i64> = 0..=300;
/// The algorithms a custom signing key may use.
pub const ALGORITHMS: [&str; 6] = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512"];

/// A new template's values before `p` applies: Clerk's defaults.
fn blank(state: &AppState) -> TemplateRecord {
    let now = state.now();
    TemplateRecord {
        id: ids::new_id("jtmp"),
        lifetime: 60,
        allowed_clock_skew: 5,
        signing_algorithm: "RS256".into(),
        created_at: now,
        updated_at: now,
        ..TemplateRecord::default()
    }
}

/// Applies create or update parameters to `t` and checks the result as a whole.
pub fn apply(p: JwtTemplateParams, t: &mut TemplateRecord) -> ApiResult<()> {
    if let Some(name) = p.name {
        let valid =
            !name.trim().is_empty() && name.chars().count() <= 128 && !name.chars().any(|c| c.is_control() || c == '/');
        if !valid {
            return Err(ApiError::format(
                "name",
                "name must be 1 to 128 characters, without '/' or control characters.",
            ));
        }
        t.name = name;
    }
    if let Some(claims) = p.claims {
        t.claims = claims;
    }
    if let Some(v) = p.lifetime {
        t.lifetime = v;
    }
    if let Some(v) = p.allowed_clock_skew {
        t.allowed_clock_skew = v;
    }
    if let Some(v) = p.custom_signing_key {
        t.custom_signing_key = v;
    }
    if let Some(v) = p.signing_algorithm {
        t.signing_algorithm = v;
    }
    if p.signing_key.is_some() {
        t.signing_key = p.signing_key;
    }
    check(t)
}

/// Checks a template's claims alone (an object, no reserved claims, within the size, valid
/// shortcodes): what a preview needs of text that is not saved yet.
pub fn check_claims(claims: &Value) -> ApiResult<()> {
    let Value::Object(map) = claims else {
        return Err(ApiError::format("claims", "claims must be a JSON object."));
    };
    if let Some(reserved) = RESERVED_CLAIMS.iter().find(|c| map.contains_key(**c)) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "claims",
            format!(
                "The claim {reserved} is set by the server and cannot be part of a template (reserved: {}).",
                RESERVED_CLAIMS.join(", ")
            ),
        ));
    }
    if claims.to_string().len() > MAX_CLAIMS_BYTES {
        return Err(ApiError::invalid(
            "form_param_exceeds_allowed_size",
            "claims",
            format!("claims must be at most {MAX_CLAIMS_BYTES} bytes."),
        ));
    }
    shortcodes::validate(claims).map_err(|e| ApiError::format("claims", e))
}

fn check(t: &mut TemplateRecord) -> ApiResult<()> {
    check_claims(&t.claims)?;
    if !LIFETIME_SECS.contains(&t.lifetime) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "lifetime",
            "lifetime must be between 30 and 315360000 seconds.",
        ));
    }
    if !CLOCK_SKEW_SECS.contains(&t.allowed_clock_skew) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "allowed_clock_skew",
            "allowed_clock_skew must be between 0 and 300 seconds.",
        ));
    }
    if !t.custom_signing_key {
        t.signing_algorithm = "RS256".into();
        t.signing_key = None;
        return Ok(());
    }
    let alg = Algorithm::parse(&t.signing_algorithm).ok_or_else(|| {
        ApiError::invalid(
            "form_param_value_invalid",
            "signing_algorithm",
            "signing_algorithm must be one of HS256, HS384, HS512, RS256, RS384, RS512.",
        )
    })?;
    let key = t.signing_key.as_deref().ok_or_else(|| {
        ApiError::invalid(
            "form_param_missing",
            "signing_key",
            "signing_key must be included when custom_signing_key is true.",
        )
    })?;
    // Parse now so that minting can never fail on a bad key later.
    Signer::custom(alg, key).map_err(|e| ApiError::invalid("form_param_value_invalid", "signing_key", e))?;
    Ok(())
}

/// A template by id.
pub async fn load(state: &AppState, id: &str) -> ApiResult<TemplateRecord> {
    state.store.get_template(id).await?.ok_or(ApiError::NotFound("JWT template"))
}

/// Creates a template from `p` (`name` and `claims` required).
pub async fn create(state: &AppState, actor: &Actor, p: JwtTemplateParams) -> ApiResult<TemplateRecord> {
    for (param, missing) in [("name", p.name.is_none()), ("claims", p.claims.is_none())] {
        if missing {
            return Err(ApiError::invalid("form_param_missing", param, format!("{param} must be included.")));
        }
    }
    let mut template = blank(state);
    apply(p, &mut template)?;
    let audited = Audited::new(
        state,
        Event::success(actor, AuditAction::TemplateCreated, Some(&template.id)).detail(&template.name),
    );
    audited.store().create_template(&template).await?;
    audited.done();
    Ok(template)
}

/// Changes the template `id` by `p` (absent fields keep their values).
pub async fn update(state: &AppState, actor: &Actor, id: &str, p: JwtTemplateParams) -> ApiResult<TemplateRecord> {
    let mut template = load(state, id).await?;
    apply(p, &mut template)?;
    template.updated_at = state.now();
    let audited = Audited::new(
        state,
        Event::success(actor, AuditAction::TemplateUpdated, Some(&template.id)).detail(&template.name),
    );
    if !audited.store().update_template(&template).await? {
        return Err(ApiError::NotFound("JWT template"));
    }
    audited.done();
    Ok(template)
}

/// Deletes the template `id`.
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> ApiResult<()> {
    let audited = Audited::new(state, Event::success(actor, AuditAction::TemplateDeleted, Some(id)));
    if !audited.store().delete_template(id).await? {
        return Err(ApiError::NotFound("JWT template"));
    }
    audited.done();
    Ok(())
}

/// The user named by `who`: an id, or an email address of theirs.
async fn find_user(state: &AppState, who: &str) -> ApiResult<UserRecord> {
    let who = who.trim();
    let not_found =
        || ApiError::invalid("resource_not_found", "user", "No user was found with that id or email address.");
    if who.is_empty() {
        return Err(ApiError::invalid("form_param_missing", "user", "Enter a user's id or email address."));
    }
    if !who.contains('@') {
        return state.store.get_user(who).await?.ok_or_else(not_found);
    }
    let query = UserQuery {
        filter: UserFilter { email_address: vec![who.to_lowercase()], ..UserFilter::default() },
        order_by: UserOrder::CreatedAt,
        descending: true,
        page: Page { limit: 1, offset: 0 },
    };
    state.store.list_users(&query).await?.into_iter().next().ok_or_else(not_found)
}

/// The claims `template` gives the user `who` (an id or email address; with `organization_id` active, which they
/// must belong to), computed by the mint's own code and neither signed nor stored. There is no
/// session, so `{{session.…}}` shortcodes are null; `iat`, `exp`, `nbf` and `jti` are what a
/// token minted now would carry.
pub async fn preview(
    state: &AppState,
    template: &TemplateRecord,
    who: &str,
    organization_id: Option<&str>,
) -> ApiResult<(UserRecord, Map<String, Value>)> {
    let user = find_user(state, who).await?;
    if let Some(org_id) = organization_id
        && state.store.get_membership(org_id, &user.id).await?.is_none()
    {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "organization_id",
            "The user is not a member of that organization.",
        ));
    }
    let subject = TemplateSubject { user: &user, session: None, organization_id };
    let claims = tokens::template_claims(state.minter(), template, subject, None, None).await?;
    Ok((user, claims))
}
