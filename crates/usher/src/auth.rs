//! The auth state of one request (`locals.auth()` in Clerk's Astro SDK).

use std::sync::Arc;

use serde_json::{Map, Value};
use usher_types::User;

use crate::{Usher, client::ClientError, verify::SessionClaims};

/// Who made the request, as far as the session token says.
///
/// Extract it in any handler behind [`UsherLayer`](crate::UsherLayer):
///
/// ```
/// use axum::{http::StatusCode, Json};
/// use usher::Auth;
///
/// async fn route(auth: Auth) -> Result<Json<serde_json::Value>, (StatusCode, &'static str)> {
///     let user_id = auth.user_id.ok_or((StatusCode::UNAUTHORIZED, "Error: No signed in user"))?;
///     Ok(Json(serde_json::json!({ "userId": user_id })))
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(route);
/// ```
#[derive(Clone)]
pub struct Auth {
    /// `sub`: the signed-in user, `None` when signed out.
    pub user_id: Option<String>,
    /// `sid`: the session.
    pub session_id: Option<String>,
    /// The active organization's id.
    pub org_id: Option<String>,
    /// The role in the active organization, `org:`-prefixed.
    pub org_role: Option<String>,
    /// The active organization's slug.
    pub org_slug: Option<String>,
    /// Permissions in the active organization, `org:<feature>:<permission>`.
    pub org_permissions: Vec<String>,
    /// The verified token and its claims, shared with the verifier's cache (cloning an `Auth`
    /// copies no claims).
    verified: Option<Arc<SessionClaims>>,
    /// Why the request is signed out, when it carried a token that was refused.
    pub reason: Option<String>,
    token: Option<Arc<str>>,
    request_url: String,
    usher: Usher,
}

/// Shows who is signed in and why not; the token is only said to be there, and the request
/// URL loses its query (handshake and dev-browser tokens travel in it).
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (url, query) = match self.request_url.split_once('?') {
            Some((path, _)) => (path, "?…"),
            None => (self.request_url.as_str(), ""),
        };
        f.debug_struct("Auth")
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("org_id", &self.org_id)
            .field("org_role", &self.org_role)
            .field("org_slug", &self.org_slug)
            .field("org_permissions", &self.org_permissions)
            .field("reason", &self.reason)
            .field("has_token", &self.token.is_some())
            .field("claims", &self.verified.as_ref().map_or(0, |v| v.claims.len()))
            .field("request_url", &format_args!("{url}{query}"))
            .finish_non_exhaustive()
    }
}

/// The auth state of a request, kept cheaply for its page step (see [`Auth::for_page`]).
pub(crate) struct PageAuth {
    usher: Usher,
    signed_in: Option<(Arc<str>, Arc<SessionClaims>)>,
}

impl PageAuth {
    /// The `Auth` again, for the head tags, which read who is signed in and the organization
    /// (never the request URL or why a token was refused, which are left empty).
    pub(crate) fn into_auth(self) -> Auth {
        match self.signed_in {
            Some((token, claims)) => Auth::signed_in(self.usher, String::new(), token, claims),
            None => Auth::signed_out(self.usher, String::new(), None),
        }
    }
}

/// What [`Auth::has`] checks.
///
/// ```
/// # fn f(auth: usher::Auth) {
/// use usher::Check;
/// if auth.has(Check::Role("admin")) || auth.has(Check::Permission("org:invoices:read")) {
///     // show the invoices
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check<'a> {
    /// An organization role, with or without the `org:` prefix.
    Role(&'a str),
    /// An organization permission, with or without the `org:` prefix.
    Permission(&'a str),
}

fn with_org_prefix(s: &str) -> String {
    if s.starts_with("org:") { s.to_owned() } else { format!("org:{s}") }
}

impl Auth {
    pub(crate) fn signed_out(usher: Usher, request_url: String, reason: Option<String>) -> Self {
        Self {
            user_id: None,
            session_id: None,
            org_id: None,
            org_role: None,
            org_slug: None,
            org_permissions: Vec::new(),
            verified: None,
            reason,
            token: None,
            request_url,
            usher,
        }
    }

    pub(crate) fn signed_in(usher: Usher, request_url: String, token: Arc<str>, claims: Arc<SessionClaims>) -> Self {
        let org = Org::from_claims(&claims.claims);
        Self {
            user_id: Some(claims.user_id.clone()),
            session_id: Some(claims.session_id.clone()),
            org_id: org.id,
            org_role: org.role,
            org_slug: org.slug,
            org_permissions: org.permissions,
            verified: Some(claims),
            reason: None,
            token: Some(token),
            request_url,
            usher,
        }
    }

    /// What the page step of [`UsherLayer`](crate::UsherLayer) keeps of this state until the
    /// response is known: reference counts only.
    pub(crate) fn for_page(&self) -> PageAuth {
        PageAuth { usher: self.usher.clone(), signed_in: self.token.clone().zip(self.verified.clone()) }
    }

    /// Whether a valid session token came with the request.
    pub fn is_authenticated(&self) -> bool {
        self.user_id.is_some()
    }

    /// Who is impersonating the signed-in user (Clerk's `actor`, the token's `act` claim, with
    /// at least `sub`), when the session was started from an actor token; `None` otherwise.
    pub fn actor(&self) -> Option<&Map<String, Value>> {
        self.session_claims()?.get("act")?.as_object()
    }

    /// The request's own session token (no network), or `None` when signed out.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The whole verified payload (`sessionClaims`), or `None` when signed out.
    pub fn session_claims(&self) -> Option<&Map<String, Value>> {
        self.verified.as_deref().map(|v| &v.claims)
    }

    /// The session token (`getToken()` with no options): the request's own token, with no
    /// network call; `None` when signed out.
    pub async fn get_token(&self) -> Result<Option<String>, ClientError> {
        Ok(self.token.as_deref().map(str::to_owned))
    }

    /// A newly minted session token from the Backend API (`POST /v1/sessions/{id}/tokens`, with
    /// the server's default lifetime), or `None` when signed out.
    pub async fn get_fresh_token(&self) -> Result<Option<String>, ClientError> {
        self.mint(None).await
    }

    /// A token from the JWT template `name` (e.g. `"supabase"`), or `None` when signed out.
    ///
    /// ```no_run
    /// # async fn f(auth: usher::Auth) -> Result<(), usher::ClientError> {
    /// if let Some(token) = auth.get_token_with_template("supabase").await? {
    ///     // call Supabase with `Authorization: Bearer {token}`
    /// #   let _ = token;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_token_with_template(&self, name: &str) -> Result<Option<String>, ClientError> {
        self.mint(Some(name)).await
    }

    async fn mint(&self, template: Option<&str>) -> Result<Option<String>, ClientError> {
        match &self.session_id {
            Some(sid) => self.usher.client().sessions().token(sid, template).await.map(Some),
            None => Ok(None),
        }
    }

    /// The signed-in user from the Backend API (`locals.currentUser()`), or `None`.
    pub async fn current_user(&self) -> Result<Option<User>, ClientError> {
        match &self.user_id {
            Some(id) => self.usher.client().users().get(id).await.map(Some),
            None => Ok(None),
        }
    }

    /// Whether the user has a role or permission in the active organization. False when
    /// signed out or without an active organization.
    pub fn has(&self, check: Check<'_>) -> bool {
        if self.user_id.is_none() || self.org_id.is_none() {
            return false;
        }
        match check {
            Check::Role(role) => self.org_role.as_deref() == Some(with_org_prefix(role).as_str()),
            Check::Permission(p) => self.org_permissions.contains(&with_org_prefix(p)),
        }
    }

    /// The URL of the sign-in page with `redirect_url` set to this request's URL.
    pub fn sign_in_redirect_url(&self) -> String {
        let base = self.usher.config().sign_in_url();
        match reqwest::Url::parse(&base) {
            Ok(mut url) => {
                url.query_pairs_mut().append_pair("redirect_url", &self.request_url);
                url.into()
            }
            Err(_) => base,
        }
    }

    /// The Backend API client (`clerkClient(context)`).
    pub fn client(&self) -> &crate::BackendClient {
        self.usher.client()
    }

    /// The URL this request was made to (from `Host` / `X-Forwarded-*`).
    pub fn request_url(&self) -> &str {
        &self.request_url
    }

    /// The SDK instance that authenticated the request (the page step reads its options).
    #[cfg(feature = "axum")]
    pub(crate) fn usher(&self) -> &Usher {
        &self.usher
    }
}

/// The active organization, from v2 claims (`o`, `fea`) or v1 claims (`org_*`).
#[derive(Default)]
struct Org {
    id: Option<String>,
    role: Option<String>,
    slug: Option<String>,
    permissions: Vec<String>,
}

impl Org {
    fn from_claims(claims: &Map<String, Value>) -> Self {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        if let Some(o) = claims.get("o").and_then(Value::as_object) {
            let features: Vec<&str> = claims
                .get("fea")
                .and_then(Value::as_str)
                .map(|f| f.split(',').filter_map(|x| x.trim().strip_prefix("o:")).collect())
                .unwrap_or_default();
            let permissions: Vec<&str> =
                o.get("per").and_then(Value::as_str).map(|p| p.split(',').map(str::trim).collect()).unwrap_or_default();
            let masks: Vec<u64> = o
                .get("fpm")
                .and_then(Value::as_str)
                .map(|m| m.split(',').filter_map(|x| x.trim().parse().ok()).collect())
                .unwrap_or_default();
            // Bit j of the i-th mask grants permission j on the i-th organization feature.
            let mut granted = Vec::new();
            for (feature, mask) in features.iter().zip(&masks) {
                for (j, permission) in permissions.iter().enumerate().filter(|(j, _)| *j < 64) {
                    if mask & (1 << j) != 0 {
                        granted.push(format!("org:{feature}:{permission}"));
                    }
                }
            }
            return Self {
                id: text(o.get("id")),
                role: text(o.get("rol")).map(|r| with_org_prefix(&r)),
                slug: text(o.get("slg")),
                permissions: granted,
            };
        }
        Self {
            id: text(claims.get("org_id")),
            role: text(claims.get("org_role")),
            slug: text(claims.get("org_slug")),
            permissions: claims
                .get("org_permissions")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use serde_json::json;

    #[test]
    fn debug_shows_who_but_never_the_token() {
        let auth = fixtures::signed_in();
        let debug = format!("{auth:?}");
        fixtures::assert_no_secrets(&debug);
        assert!(debug.contains("user_2abC") && debug.contains("has_token: true"), "{debug}");
        assert!(debug.contains("http://app.local/dashboard?…"), "{debug}");
    }

    #[test]
    fn v2_org_claims_decode_roles_and_feature_permissions() {
        let claims = json!({"fea": "o:dashboard,o:teams,u:x", "o": {"id": "org_1", "slg": "acme", "rol": "admin", "per": "manage,read", "fpm": "3,2"}});
        let org = Org::from_claims(claims.as_object().unwrap());
        assert_eq!(
            (org.id.as_deref(), org.slug.as_deref(), org.role.as_deref()),
            (Some("org_1"), Some("acme"), Some("org:admin"))
        );
        assert_eq!(org.permissions, ["org:dashboard:manage", "org:dashboard:read", "org:teams:read"]);
    }

    #[test]
    fn the_servers_permission_encoding_decodes_to_the_same_keys() {
        let keys = ["org:invoices:create", "org:invoices:read", "org:reports:read", "org:teams:manage"];
        let (fea, per, fpm) = usher_types::token::OrganizationClaim::encode_permissions(keys).unwrap();
        let claims = json!({"fea": fea, "o": {"id": "org_1", "slg": "acme", "rol": "billing", "per": per, "fpm": fpm}});
        let org = Org::from_claims(claims.as_object().unwrap());
        let mut got = org.permissions.clone();
        got.sort();
        assert_eq!(got, keys);
        assert_eq!(org.role.as_deref(), Some("org:billing"));
    }

    #[test]
    fn has_follows_clerks_rules() {
        let member = || {
            let mut auth = fixtures::signed_in();
            auth.org_id = Some("org_1".into());
            auth.org_role = Some("org:member".into());
            auth.org_permissions = vec!["org:invoices:create".into(), "org:invoices:read".into()];
            auth
        };
        let no_org = || Auth { org_id: None, ..member() };
        let signed_out = || Auth { user_id: None, ..member() };
        let table: [(Auth, Check<'_>, bool, &str); 10] = [
            (member(), Check::Permission("org:invoices:create"), true, "a permission of the role"),
            (member(), Check::Permission("invoices:create"), true, "the org: prefix is added"),
            (member(), Check::Permission("org:invoices:delete"), false, "a permission it lacks"),
            (member(), Check::Role("org:member"), true, "the role"),
            (member(), Check::Role("member"), true, "the role without its prefix"),
            (member(), Check::Role("org:admin"), false, "another role"),
            (no_org(), Check::Permission("org:invoices:create"), false, "no active organization"),
            (no_org(), Check::Role("org:member"), false, "no active organization, role"),
            (signed_out(), Check::Role("org:member"), false, "signed out"),
            (signed_out(), Check::Permission("org:invoices:read"), false, "signed out, permission"),
        ];
        for (auth, check, expected, why) in table {
            assert_eq!(auth.has(check), expected, "{why}");
        }
    }

    #[test]
    fn v1_org_claims_are_read_too() {
        let claims = json!({"org_id": "org_1", "org_role": "org:member", "org_permissions": ["org:a:b"]});
        let org = Org::from_claims(claims.as_object().unwrap());
        assert_eq!(
            (org.role.as_deref(), org.permissions.as_slice()),
            (Some("org:member"), &["org:a:b".to_owned()][..])
        );
    }
}
