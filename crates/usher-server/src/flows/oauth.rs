//! Signing in through an OAuth 2.0 / OpenID Connect provider, in Clerk's shapes.
//!
//! `POST /v1/client/sign_ins` with `strategy=oauth_<p>` starts here ([`start_sign_in`]): a
//! single-use state bound to the browser's client (hash only), a PKCE S256 verifier (sealed)
//! and, for OpenID Connect, a nonce (hash only), and the provider's authorize URL as the first
//! factor's `external_verification_redirect_url`. The provider sends the browser back to
//! `/v1/oauth_callback` ([`callback`]): the state is taken (so it never works twice), the code
//! exchanged, the ID token validated by `openidconnect` (JWKS signature, `iss`, `aud`, `exp`,
//! nonce) or GitHub's profile fetched, and then the sign-in completes for a linked account, links
//! an account whose address the provider verified, or becomes `transferable`.

use openidconnect::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, JsonWebKeySetUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _, TokenUrl,
    core::{
        CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreProviderMetadata,
        CoreResponseType, CoreSubjectIdentifierType,
    },
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use usher_types::ClerkError;

use super::{
    Browser, account,
    sign_in::{self, SignIn, SignInStatus},
    sign_up::{self, SignUp, SignUpStatus},
};
use crate::{
    config::oauth::{Endpoints, OAuthProvider, ProviderKind},
    error::{ApiError, ApiResult},
    ids,
    seal::Sealer,
    state::AppState,
    store::{AttemptKind, ExternalAccountRecord, IdentifierRecord, OAuthIntent, OAuthStateRecord, UserRecord},
    validate,
};

/// A redirect to a provider must come back within this long.
pub const STATE_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// What seals PKCE verifiers and provider tokens at rest.
pub const SEAL_PURPOSE: &str = "oauth";

/// The first factor of an `oauth_*` sign-in, as Clerk shows it (`verification_oauth`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExternalVerification {
    /// `unverified` while at the provider, `verified`, `failed`, or Clerk's `transferable`.
    pub status: ExternalStatus,
    /// The provider's strategy, `oauth_google`, ….
    pub strategy: String,
    /// The provider's authorize URL, while unverified.
    pub external_verification_redirect_url: Option<String>,
    /// When the redirect stops working.
    pub expire_at: Option<i64>,
    /// Why it failed, or `external_account_not_found` when transferable.
    pub error: Option<ClerkError>,
}

/// [`ExternalVerification::status`]: the verification statuses plus `transferable`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExternalStatus {
    /// At the provider.
    Unverified,
    /// The provider vouched for the account.
    Verified,
    /// The provider refused, or its answer did not check out.
    Failed,
    /// Verified, but no user has the account: a sign-up with `transfer: true` creates one.
    Transferable,
}

impl ExternalVerification {
    /// Clerk's wire shape.
    pub fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "object": "verification_oauth",
            "status": self.status,
            "strategy": self.strategy,
            "external_verification_redirect_url": self.external_verification_redirect_url,
            "attempts": null,
            "expire_at": self.expire_at,
            "error": self.error,
        })
    }
}

/// What the provider said about the person, after every check.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Profile {
    /// The provider's stable id for the account.
    pub provider_user_id: String,
    /// Their address at the provider.
    pub email: Option<String>,
    /// Whether the provider verified it.
    pub email_verified: bool,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Login name.
    pub username: Option<String>,
    /// Picture URL.
    pub avatar_url: Option<String>,
    /// Scopes granted, space-separated.
    pub scopes: String,
    /// Sealed access token.
    pub access_token_sealed: Option<String>,
    /// Sealed refresh token.
    pub refresh_token_sealed: Option<String>,
    /// When the access token expires.
    pub token_expire_at: Option<i64>,
}

/// The configured provider for `strategy`.
pub fn provider<'a>(state: &'a AppState, strategy: &str) -> ApiResult<&'a OAuthProvider> {
    state.config.oauth_providers.iter().find(|p| p.strategy == strategy).ok_or_else(|| {
        ApiError::invalid(
            "strategy_for_user_invalid",
            "strategy",
            format!("{strategy} is not enabled on this instance."),
        )
    })
}

/// `redirect_url` (required) and `action_complete_redirect_url`, each an allowed URL.
fn redirects(
    state: &AppState,
    redirect_url: Option<&str>,
    action_complete_redirect_url: Option<&str>,
) -> ApiResult<(String, Option<String>)> {
    let redirect_url = redirect_url.and_then(|r| state.origins.safe_redirect(r)).ok_or_else(|| {
        ApiError::invalid("form_param_format_invalid", "redirect_url", "redirect_url must be an allowed URL.")
    })?;
    let complete = match action_complete_redirect_url {
        Some(r) => Some(state.origins.safe_redirect(r).ok_or_else(|| {
            ApiError::invalid(
                "form_param_format_invalid",
                "action_complete_redirect_url",
                "action_complete_redirect_url must be an allowed URL.",
            )
        })?),
        None => None,
    };
    Ok((redirect_url, complete))
}

fn unverified(p: &OAuthProvider, url: String, now: i64) -> ExternalVerification {
    ExternalVerification {
        status: ExternalStatus::Unverified,
        strategy: p.strategy.clone(),
        external_verification_redirect_url: Some(url),
        expire_at: Some(now + STATE_LIFETIME_MS),
        error: None,
    }
}

/// Starts a sign-in at a provider: a new sign-in attempt whose first factor carries the
/// provider's authorize URL.
pub async fn start_sign_in(
    state: &AppState,
    browser: &mut Browser,
    strategy: &str,
    redirect_url: Option<&str>,
    action_complete_redirect_url: Option<&str>,
) -> ApiResult<SignIn> {
    let p = provider(state, strategy)?;
    let (redirect_url, complete) = redirects(state, redirect_url, action_complete_redirect_url)?;
    let now = state.now();
    let client_id = browser.client_mut(state).await?.id.clone();
    let mut attempt = sign_in::new_attempt(state, client_id.clone());
    let url =
        begin(state, p, &client_id, OAuthIntent::SignIn, Some(&attempt.id), None, &redirect_url, complete).await?;
    attempt.status = SignInStatus::NeedsFirstFactor;
    attempt.external = Some(unverified(p, url, now));
    sign_in::save(state, browser, &attempt).await?;
    Ok(attempt)
}

/// `POST /v1/client/sign_ups` with `strategy=oauth_<p>`: a new sign-up whose
/// `verifications.external_account` carries the provider's authorize URL. The callback creates
/// the user, or signs in the one the provider account (or its verified address) belongs to.
pub async fn start_sign_up(
    state: &AppState,
    browser: &mut Browser,
    strategy: &str,
    redirect_url: Option<&str>,
    action_complete_redirect_url: Option<&str>,
) -> ApiResult<SignUp> {
    let p = provider(state, strategy)?;
    let (redirect_url, complete) = redirects(state, redirect_url, action_complete_redirect_url)?;
    let now = state.now();
    let client_id = browser.client_mut(state).await?.id.clone();
    let mut attempt = SignUp {
        id: ids::new_id("sua"),
        client_id: client_id.clone(),
        status: SignUpStatus::MissingRequirements,
        abandon_at: now + sign_up::ATTEMPT_LIFETIME_MS,
        created_at: now,
        ..SignUp::default()
    };
    let url =
        begin(state, p, &client_id, OAuthIntent::SignUp, Some(&attempt.id), None, &redirect_url, complete).await?;
    attempt.external = Some(unverified(p, url, now));
    sign_up::save(state, browser, &attempt).await?;
    Ok(attempt)
}

/// A connection of a provider account to a signed-in user, on its way to the provider: the
/// account as it will be (or is, when reauthorizing) and the redirect.
#[derive(Debug, Clone)]
pub struct PendingConnect {
    /// The account; a new one has only its id, provider and timestamps yet.
    pub account: ExternalAccountRecord,
    /// `unverified`, with the provider's authorize URL.
    pub verification: ExternalVerification,
}

/// `POST /v1/me/external_accounts` (`reauthorize` is `None`) and
/// `PATCH /v1/me/external_accounts/{id}/reauthorize`: sends the signed-in user to the provider
/// to connect a new account, or to grant again (more scopes, a fresh token) for one they have.
pub async fn start_connect(
    state: &AppState,
    browser: &mut Browser,
    user: &UserRecord,
    strategy: &str,
    redirect_url: Option<&str>,
    reauthorize: Option<ExternalAccountRecord>,
) -> ApiResult<PendingConnect> {
    let p = provider(state, strategy)?;
    let (redirect_url, _) = redirects(state, redirect_url, None)?;
    let now = state.now();
    let client_id = browser.client_mut(state).await?.id.clone();
    let account = reauthorize.unwrap_or_else(|| ExternalAccountRecord {
        id: ids::new_id("eac"),
        user_id: user.id.clone(),
        provider: p.strategy.clone(),
        identification_id: ids::new_id("idn"),
        created_at: now,
        updated_at: now,
        ..ExternalAccountRecord::default()
    });
    let url = begin(state, p, &client_id, OAuthIntent::Connect, Some(&account.id), Some(&user.id), &redirect_url, None)
        .await?;
    Ok(PendingConnect { account, verification: unverified(p, url, now) })
}

/// `DELETE /v1/me/external_accounts/{id}`: refused when it is the user's last way to sign in
/// (no password, no other provider account, no verified email address to receive a code at).
pub async fn disconnect(state: &AppState, user: &UserRecord, id: &str) -> ApiResult<()> {
    let accounts = state.store.external_accounts_of_user(&user.id).await?;
    if !accounts.iter().any(|a| a.id == id) {
        return Err(ApiError::NotFound("external account"));
    }
    let other_way =
        user.password_hash.is_some() || accounts.iter().any(|a| a.id != id) || user.emails.iter().any(|e| e.verified);
    if !other_way {
        return Err(ApiError::invalid(
            "external_account_last_identification",
            "external_account_id",
            "This is your only way to sign in: add a password or an email address first.",
        ));
    }
    if !state.store.delete_external_account(&user.id, id).await? {
        return Err(ApiError::NotFound("external account"));
    }
    Ok(())
}

/// Saves a new state and builds the provider's authorize URL.
#[allow(clippy::too_many_arguments)]
async fn begin(
    state: &AppState,
    p: &OAuthProvider,
    client_id: &str,
    intent: OAuthIntent,
    attempt_id: Option<&str>,
    user_id: Option<&str>,
    redirect_url: &str,
    action_complete_redirect_url: Option<String>,
) -> ApiResult<String> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let csrf = CsrfToken::new(ids::random_base62(43));
    let nonce = Nonce::new(ids::random_base62(43));
    let url = match &p.endpoints {
        Endpoints::Github { authorization_url, .. } => {
            let mut url = url::Url::parse(authorization_url).map_err(|e| ApiError::Internal(e.into()))?;
            url.query_pairs_mut()
                .append_pair("client_id", &p.client_id)
                .append_pair("redirect_uri", &callback_url(state))
                .append_pair("scope", &p.scopes.join(" "))
                .append_pair("state", csrf.secret())
                .append_pair("code_challenge", challenge.as_str())
                .append_pair("code_challenge_method", "S256")
                .append_pair("allow_signup", "true");
            url.to_string()
        }
        _ => {
            let client = oidc_client(state, p, false)
                .await?
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no provider metadata")))?;
            let (nonce_for_url, csrf_for_url) = (nonce.clone(), csrf.clone());
            let mut request = client
                .authorize_url(CoreAuthenticationFlow::AuthorizationCode, move || csrf_for_url, move || nonce_for_url)
                .set_pkce_challenge(challenge);
            for scope in p.scopes.iter().filter(|s| *s != "openid") {
                request = request.add_scope(Scope::new(scope.clone()));
            }
            if p.kind == ProviderKind::Apple {
                // Apple sends the name and email scopes' answer only by form post.
                request = request.add_extra_param("response_mode", "form_post");
            }
            request.url().0.to_string()
        }
    };
    let sealer = Sealer::new(state.config.secret_key.expose(), SEAL_PURPOSE);
    let now = state.now();
    // Redirects nobody came back from are swept as new ones start (one indexed delete).
    state.store.delete_expired_oauth_states(now).await?;
    state
        .store
        .create_oauth_state(&OAuthStateRecord {
            state_hash: ids::sha256_hex(csrf.secret().as_bytes()),
            client_id: client_id.to_owned(),
            provider: p.strategy.clone(),
            intent,
            attempt_id: attempt_id.map(str::to_owned),
            user_id: user_id.map(str::to_owned),
            pkce_verifier_sealed: sealer.seal_text(verifier.secret()),
            nonce_hash: ids::sha256_hex(nonce.secret().as_bytes()),
            redirect_url: redirect_url.to_owned(),
            action_complete_redirect_url,
            expire_at: now + STATE_LIFETIME_MS,
            created_at: now,
        })
        .await?;
    Ok(url)
}

/// Where providers send the browser back.
pub fn callback_url(state: &AppState) -> String {
    format!("{}/v1/oauth_callback", state.issuer)
}

/// The query of `/v1/oauth_callback` (or the form of Apple's post).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CallbackParams {
    /// The state usher sent.
    pub state: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// The provider's error code (`access_denied`, …).
    pub error: Option<String>,
    /// The provider's explanation.
    pub error_description: Option<String>,
    /// Apple's form post on a first sign-in: `{"name":{"firstName","lastName"},"email"}` (JSON
    /// text). Apple's ID token never carries the name; this is the only time Apple sends it.
    pub user: Option<String>,
}

#[derive(Deserialize)]
struct AppleUser {
    name: Option<AppleName>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppleName {
    first_name: Option<String>,
    last_name: Option<String>,
}

/// Fills the names of an Apple profile from the form post's `user` (unsigned, so only names are
/// taken from it: the address and the account come from the verified ID token).
fn apple_names(profile: &mut Profile, user: Option<&str>) {
    let Some(parsed) = user.filter(|u| u.len() <= 4096).and_then(|u| serde_json::from_str::<AppleUser>(u).ok()) else {
        return;
    };
    let clean = |n: Option<String>| n.map(|n| short(n.trim())).filter(|n| !n.is_empty());
    if let Some(name) = parsed.name {
        profile.first_name = clean(name.first_name).or(profile.first_name.take());
        profile.last_name = clean(name.last_name).or(profile.last_name.take());
    }
}

/// Why a callback did not sign anyone in; shown on the error page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackError {
    /// Clerk-style code (`oauth_state_invalid`, `oauth_access_denied`, …).
    pub code: &'static str,
    /// What the person reads.
    pub message: String,
    /// Where to offer to go back to, if the state was ours.
    pub back_to: Option<String>,
}

fn fail(code: &'static str, message: impl Into<String>, back_to: Option<&str>) -> CallbackError {
    CallbackError { code, message: message.into(), back_to: back_to.map(str::to_owned) }
}

/// Finishes a redirect from a provider; `Ok` is where to send the browser.
pub async fn callback(
    state: &AppState,
    browser: &mut Browser,
    params: CallbackParams,
) -> Result<ApiResult<String>, CallbackError> {
    let apple_user = params.user.clone();
    let Some(raw_state) = params.state.filter(|s| !s.is_empty() && s.len() <= 256) else {
        return Err(fail("oauth_state_invalid", "This sign-in link is missing its state. Start again.", None));
    };
    let taken = match state.store.take_oauth_state(&ids::sha256_hex(raw_state.as_bytes())).await {
        Ok(t) => t,
        Err(e) => return Ok(Err(e.into())),
    };
    let Some(saved) = taken else {
        return Err(fail(
            "oauth_state_invalid",
            "This sign-in link is invalid or was already used. Start again.",
            None,
        ));
    };
    let back = Some(saved.redirect_url.as_str());
    if browser.client.as_ref().map(|c| c.id.as_str()) != Some(saved.client_id.as_str()) {
        return Err(fail("oauth_state_invalid", "This sign-in was started in another browser. Start again.", None));
    }
    if saved.expire_at <= state.now() {
        return Err(fail("oauth_state_expired", "This sign-in took too long. Start again.", back));
    }
    let Ok(p) = provider(state, &saved.provider) else {
        return Err(fail("oauth_provider_unknown", "This provider is no longer enabled.", back));
    };
    if let Some(error) = params.error {
        let text = params.error_description.unwrap_or_default();
        let message = if error == "access_denied" {
            format!("{} did not grant access.", p.name)
        } else {
            format!("{} refused the sign-in ({}): {}", p.name, short(&error), short(&text))
        };
        record_failure(state, browser, &saved, "oauth_access_denied", &message).await;
        return Err(fail("oauth_access_denied", message, back));
    }
    let Some(code) = params.code.filter(|c| !c.is_empty()) else {
        return Err(fail("oauth_callback_invalid", "The provider sent no authorization code.", back));
    };
    let mut profile = match fetch_profile(state, p, &saved, &code).await {
        Ok(profile) => profile,
        Err(message) => {
            tracing::info!(provider = %p.strategy, %message, "oauth callback refused");
            let message = format!("Signing in with {} failed: {message}", p.name);
            record_failure(state, browser, &saved, "oauth_token_invalid", &message).await;
            return Err(fail("oauth_token_invalid", message, back));
        }
    };
    if p.kind == ProviderKind::Apple {
        apple_names(&mut profile, apple_user.as_deref());
    }
    finish(state, browser, p, &saved, profile).await
}

fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Marks the attempt's verification failed, so the app sees why (best effort: the error page
/// is shown either way).
async fn record_failure(state: &AppState, browser: &mut Browser, saved: &OAuthStateRecord, code: &str, message: &str) {
    if saved.intent != OAuthIntent::SignIn {
        return;
    }
    let Some(id) = saved.attempt_id.as_deref() else { return };
    let Ok(mut attempt) = sign_in::load(state, browser, id).await else { return };
    if let Some(ext) = attempt.external.as_mut() {
        ext.status = ExternalStatus::Failed;
        ext.external_verification_redirect_url = None;
        ext.error = Some(ClerkError::new(code, message, message));
    }
    let _ = sign_in::save(state, browser, &attempt).await;
}

/// Exchanges the code and checks what comes back; `Err` is a message safe to show.
async fn fetch_profile(
    state: &AppState,
    p: &OAuthProvider,
    saved: &OAuthStateRecord,
    code: &str,
) -> Result<Profile, String> {
    let sealer = Sealer::new(state.config.secret_key.expose(), SEAL_PURPOSE);
    let verifier = sealer.open_text(&saved.pkce_verifier_sealed).ok_or("the sign-in state is damaged")?;
    match &p.endpoints {
        Endpoints::Github { token_url, api_url, .. } => {
            github_profile(state, p, &sealer, token_url, api_url, code, &verifier).await
        }
        _ => {
            let unreachable = |_| format!("{} could not be reached", p.name);
            let client = oidc_client(state, p, false).await.map_err(unreachable)?.ok_or("no provider metadata")?;
            let http = http_client();
            let token = client
                .exchange_code(AuthorizationCode::new(code.to_owned()))
                .map_err(|_| "the provider has no token endpoint".to_owned())?
                .set_pkce_verifier(PkceCodeVerifier::new(verifier))
                .request_async(&http)
                .await
                .map_err(|e| format!("the code was refused ({})", token_error(&e)))?;
            let id_token = token.id_token().ok_or("the provider sent no ID token")?;
            let expected = saved.nonce_hash.clone();
            let nonce_check = |nonce: Option<&Nonce>| match nonce {
                Some(n) if ids::sha256_hex(n.secret().as_bytes()) == expected => Ok(()),
                _ => Err("the nonce does not match".to_owned()),
            };
            let template = state
                .oauth_metadata
                .get(&p.strategy)
                .map(|c| c.metadata.issuer().as_str().to_owned())
                .unwrap_or_default();
            // A `{tenantid}` issuer is compared below, against the token's tenant.
            let match_issuer = !template.contains(TENANT_PLACEHOLDER);
            let verifier = client.id_token_verifier().require_issuer_match(match_issuer);
            let mut verified = id_token.claims(&verifier, nonce_check).cloned();
            if let Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) = &verified {
                // Perhaps the provider rotated its keys since they were cached: fetch them again
                // (rate-limited) and check once more.
                if let Ok(Some(fresh)) = oidc_client(state, p, true).await {
                    let verifier = fresh.id_token_verifier().require_issuer_match(match_issuer);
                    verified = id_token.claims(&verifier, nonce_check).cloned();
                }
            }
            let claims = verified.map_err(|e| format!("the ID token is not valid ({e})"))?;
            if let Some(expected) = expected_tenant_issuer(&template, &jwt_payload(&id_token.to_string())) {
                let expected = expected?;
                if claims.issuer().as_str() != expected {
                    return Err("the ID token's issuer does not match its tenant".into());
                }
            }
            Ok(Profile {
                provider_user_id: claims.subject().as_str().to_owned(),
                email: claims.email().map(|e| e.as_str().to_owned()),
                email_verified: claims.email_verified() == Some(true),
                first_name: claims.given_name().and_then(|c| c.get(None)).map(|n| n.as_str().to_owned()),
                last_name: claims.family_name().and_then(|c| c.get(None)).map(|n| n.as_str().to_owned()),
                username: claims.preferred_username().map(|u| u.as_str().to_owned()),
                avatar_url: claims.picture().and_then(|c| c.get(None)).map(|u| u.as_str().to_owned()),
                scopes: token
                    .scopes()
                    .map_or_else(|| p.scopes.join(" "), |s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
                access_token_sealed: Some(sealer.seal_text(token.access_token().secret())),
                refresh_token_sealed: token.refresh_token().map(|r| sealer.seal_text(r.secret())),
                token_expire_at: token.expires_in().map(|d| state.now() + d.as_millis() as i64),
            })
        }
    }
}

fn token_error<E: std::error::Error>(e: &E) -> String {
    short(&e.to_string())
}

/// The HTTP client for providers: no redirects (a token endpoint that redirects is refused,
/// so a code is never sent elsewhere), and a deadline.
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .user_agent("usher")
        .build()
        .unwrap_or_default()
}

type Oidc = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The `{tenantid}` placeholder of Microsoft's multi-tenant issuers (`common`, `organizations`):
/// their discovery names `https://login.microsoftonline.com/{tenantid}/v2.0`, and each ID
/// token's `iss` has the tenant of its `tid` claim in its place.
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// The OpenID Connect client of a provider, from cached metadata unless `refresh` (a fetch
/// then, if the last one is older than [`MIN_REFRESH_MS`](crate::oauth_metadata::MIN_REFRESH_MS); `None` if it is not).
async fn oidc_client(state: &AppState, p: &OAuthProvider, refresh: bool) -> ApiResult<Option<Oidc>> {
    let now = state.now();
    let cached = state.oauth_metadata.get(&p.strategy);
    let metadata = match cached {
        Some(c) if !refresh && now - c.fetched_at < crate::oauth_metadata::METADATA_TTL_MS => c.metadata,
        Some(c) if refresh && now - c.fetched_at < crate::oauth_metadata::MIN_REFRESH_MS => {
            let _ = c;
            return Ok(None);
        }
        _ => {
            let metadata = fetch_metadata(p).await?;
            state
                .oauth_metadata
                .put(&p.strategy, crate::oauth_metadata::Cached { metadata: metadata.clone(), fetched_at: now });
            metadata
        }
    };
    let redirect = RedirectUrl::new(callback_url(state)).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Some(
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(p.client_id.clone()),
            Some(ClientSecret::new(p.client_secret.expose().to_owned())),
        )
        .set_redirect_uri(redirect),
    ))
}

/// Discovery (checking the document names the configured issuer, or its `{tenantid}`
/// template), or the configured endpoints; then the JWKS.
async fn fetch_metadata(p: &OAuthProvider) -> ApiResult<CoreProviderMetadata> {
    let http = http_client();
    let unreachable = |e: String| {
        tracing::warn!(provider = %p.strategy, error = %e, "oauth provider unreachable");
        ApiError::Unprocessable(ClerkError::new(
            "oauth_provider_unreachable",
            "The provider could not be reached",
            format!("{} could not be reached. Try again later.", p.name),
        ))
    };
    let bad = |e: url::ParseError| unreachable(e.to_string());
    match &p.endpoints {
        Endpoints::Discovery { issuer } => {
            let url = format!("{issuer}/.well-known/openid-configuration");
            let answer = http.get(&url).send().await.map_err(|e| unreachable(e.to_string()))?;
            if !answer.status().is_success() {
                return Err(unreachable(format!("discovery answered HTTP {}", answer.status().as_u16())));
            }
            let metadata: CoreProviderMetadata =
                answer.json().await.map_err(|e| unreachable(format!("discovery document: {e}")))?;
            let named = metadata.issuer().as_str().trim_end_matches('/');
            if named != issuer.trim_end_matches('/') && !is_tenant_template(named, issuer) {
                return Err(unreachable(format!("discovery names issuer {named:?}, not {issuer:?}")));
            }
            let jwks = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &http)
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            Ok(metadata.set_jwks(jwks))
        }
        Endpoints::Explicit { issuer, authorization_url, token_url, jwks_url, .. } => {
            let jwks_url = JsonWebKeySetUrl::new(jwks_url.clone()).map_err(bad)?;
            let jwks =
                CoreJsonWebKeySet::fetch_async(&jwks_url, &http).await.map_err(|e| unreachable(e.to_string()))?;
            Ok(CoreProviderMetadata::new(
                IssuerUrl::new(issuer.clone()).map_err(bad)?,
                AuthUrl::new(authorization_url.clone()).map_err(bad)?,
                jwks_url,
                vec![openidconnect::ResponseTypes::new(vec![CoreResponseType::Code])],
                vec![CoreSubjectIdentifierType::Public],
                vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
                openidconnect::EmptyAdditionalProviderMetadata {},
            )
            .set_token_endpoint(Some(TokenUrl::new(token_url.clone()).map_err(bad)?))
            .set_jwks(jwks))
        }
        Endpoints::Github { .. } => Err(ApiError::Internal(anyhow::anyhow!("GitHub is not OpenID Connect"))),
    }
}

/// Whether `named` (the discovery document's issuer) is the `{tenantid}` template of the
/// configured multi-tenant `issuer`: same origin, one path segment replaced by the placeholder.
fn is_tenant_template(named: &str, issuer: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(&named.replace(TENANT_PLACEHOLDER, "tenant")), url::Url::parse(issuer))
    else {
        return false;
    };
    let segments = |u: &url::Url| u.path().trim_matches('/').split('/').map(str::to_owned).collect::<Vec<_>>();
    let (sa, sb) = (segments(&a), segments(&b));
    named.matches(TENANT_PLACEHOLDER).count() == 1
        && a.origin() == b.origin()
        && sa.len() == sb.len()
        && sa.iter().zip(&sb).filter(|(x, y)| x != y).all(|(x, _)| x == "tenant")
}

/// For a `{tenantid}` issuer, the `iss` the token must carry: the template with its `tid`.
/// `None` when the issuer is not a template (the verifier compared `iss` already).
fn expected_tenant_issuer(template: &str, payload: &Value) -> Option<Result<String, String>> {
    if !template.contains(TENANT_PLACEHOLDER) {
        return None;
    }
    let tid = payload
        .get("tid")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'));
    Some(tid.map(|t| template.replace(TENANT_PLACEHOLDER, t)).ok_or_else(|| "the ID token names no tenant".into()))
}

/// The claims of a JWT whose signature was verified, as JSON (for claims `openidconnect`'s core
/// types do not carry, such as Microsoft's `tid`).
fn jwt_payload(jwt: &str) -> Value {
    use base64::Engine as _;
    jwt.split('.')
        .nth(1)
        .and_then(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

#[derive(Deserialize)]
struct GithubToken {
    access_token: Option<String>,
    scope: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct GithubUser {
    id: i64,
    login: Option<String>,
    name: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct GithubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

/// GitHub's documented flow: `POST /login/oauth/access_token` (JSON answer), then `GET /user`
/// and `GET /user/emails`; the address is the primary one, verified only if GitHub says so.
async fn github_profile(
    state: &AppState,
    p: &OAuthProvider,
    sealer: &Sealer,
    token_url: &str,
    api_url: &str,
    code: &str,
    verifier: &str,
) -> Result<Profile, String> {
    let http = http_client();
    let unreachable = |_| "GitHub could not be reached".to_owned();
    let answer = http
        .post(token_url)
        .header("Accept", "application/json")
        .form(&[
            ("client_id", p.client_id.as_str()),
            ("client_secret", p.client_secret.expose()),
            ("code", code),
            ("redirect_uri", &callback_url(state)),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .map_err(unreachable)?;
    if !answer.status().is_success() {
        return Err(format!("the code was refused (HTTP {})", answer.status().as_u16()));
    }
    let token: GithubToken = answer.json().await.map_err(|_| "GitHub's token answer was not understood".to_owned())?;
    let Some(access) = token.access_token else {
        let why = token.error_description.or(token.error).unwrap_or_default();
        return Err(format!("the code was refused ({})", short(&why)));
    };
    let get = |path: &str| {
        http.get(format!("{api_url}{path}"))
            .bearer_auth(&access)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .send()
    };
    let user = get("/user").await.map_err(unreachable)?;
    if !user.status().is_success() {
        return Err(format!("GitHub refused the profile (HTTP {})", user.status().as_u16()));
    }
    let user: GithubUser = user.json().await.map_err(|_| "GitHub's profile was not understood".to_owned())?;
    let emails = get("/user/emails").await.map_err(unreachable)?;
    let emails: Vec<GithubEmail> = if emails.status().is_success() {
        emails.json().await.map_err(|_| "GitHub's email list was not understood".to_owned())?
    } else {
        Vec::new()
    };
    let primary = emails.iter().find(|e| e.primary);
    let (first_name, last_name) = match user.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => match name.split_once(' ') {
            Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
            None => (Some(name.to_owned()), None),
        },
        None => (None, None),
    };
    Ok(Profile {
        provider_user_id: user.id.to_string(),
        email: primary.map(|e| e.email.clone()),
        email_verified: primary.is_some_and(|e| e.verified),
        first_name,
        last_name,
        username: user.login,
        avatar_url: user.avatar_url,
        scopes: token.scope.unwrap_or_default().replace(',', " "),
        access_token_sealed: Some(sealer.seal_text(&access)),
        refresh_token_sealed: token.refresh_token.map(|r| sealer.seal_text(&r)),
        token_expire_at: token.expires_in.map(|s| state.now() + s * 1000),
    })
}

/// What a checked profile leads to, by what the redirect was for.
async fn finish(
    state: &AppState,
    browser: &mut Browser,
    p: &OAuthProvider,
    saved: &OAuthStateRecord,
    profile: Profile,
) -> Result<ApiResult<String>, CallbackError> {
    let Some(attempt_id) = saved.attempt_id.as_deref() else {
        return Err(fail("oauth_state_invalid", "This sign-in link is invalid. Start again.", None));
    };
    match saved.intent {
        OAuthIntent::SignIn => Ok(async {
            let attempt = sign_in::load(state, browser, attempt_id).await?;
            finish_sign_in(state, browser, p, saved, profile, attempt).await
        }
        .await),
        OAuthIntent::SignUp => Ok(finish_sign_up(state, browser, p, saved, profile, attempt_id).await),
        OAuthIntent::Connect => finish_connect(state, browser, p, saved, profile, attempt_id).await,
    }
}

/// Who the profile belongs to: the user of the linked account (refreshed from the profile),
/// or one whose address the provider verified (with the account to link), or nobody.
async fn resolve(
    state: &AppState,
    p: &OAuthProvider,
    profile: &Profile,
) -> ApiResult<(Option<UserRecord>, Option<ExternalAccountRecord>)> {
    let now = state.now();
    match state.store.external_account_by_provider(&p.strategy, &profile.provider_user_id).await? {
        Some(mut account) => {
            refresh(&mut account, profile, now);
            state.store.update_external_account(&account).await?;
            Ok((state.store.get_user(&account.user_id).await?, None))
        }
        None => Ok(match linkable_user(state, p, profile).await? {
            Some(user) => {
                let account = new_account(&user.id, p, profile, now);
                (Some(user), Some(account))
            }
            None => (None, None),
        }),
    }
}

/// A sign-in: a linked account signs in, a verified address links, and anything else is
/// transferable.
async fn finish_sign_in(
    state: &AppState,
    browser: &mut Browser,
    p: &OAuthProvider,
    saved: &OAuthStateRecord,
    profile: Profile,
    mut attempt: SignIn,
) -> ApiResult<String> {
    let (user, link) = resolve(state, p, &profile).await?;
    let ext = attempt.external.get_or_insert_with(|| ExternalVerification {
        status: ExternalStatus::Unverified,
        strategy: p.strategy.clone(),
        external_verification_redirect_url: None,
        expire_at: None,
        error: None,
    });
    ext.external_verification_redirect_url = None;
    match user {
        Some(user) => {
            ext.status = ExternalStatus::Verified;
            let attempt = sign_in::complete(state, browser, attempt, &user, link.as_ref()).await?;
            if attempt.status == SignInStatus::NeedsSecondFactor {
                // Not signed in yet: back to the callback page, which asks for the second
                // factor (clerk-js's handleRedirectCallback goes on to its second-factor step).
                return Ok(saved.redirect_url.clone());
            }
            Ok(saved.action_complete_redirect_url.clone().unwrap_or_else(|| saved.redirect_url.clone()))
        }
        None => {
            ext.status = ExternalStatus::Transferable;
            ext.error = Some(ClerkError::new(
                "external_account_not_found",
                "The External Account was not found.",
                "Invalid external account, or no user is associated with it.",
            ));
            attempt.transfer = Some(profile);
            attempt.status = SignInStatus::NeedsIdentifier;
            sign_in::save(state, browser, &attempt).await?;
            Ok(saved.redirect_url.clone())
        }
    }
}

/// A sign-up: a new person becomes a user with the account linked. Someone who has a user
/// already (a linked account, or a verified address that links) is signed in instead, as a
/// sign-in with the provider would: the provider vouched for them either way.
async fn finish_sign_up(
    state: &AppState,
    browser: &mut Browser,
    p: &OAuthProvider,
    saved: &OAuthStateRecord,
    profile: Profile,
    attempt_id: &str,
) -> ApiResult<String> {
    let mut attempt = sign_up::load(state, browser, attempt_id).await?;
    if let (Some(_), _) | (_, Some(_)) = (
        state.store.external_account_by_provider(&p.strategy, &profile.provider_user_id).await?,
        linkable_user(state, p, &profile).await?,
    ) {
        let client_id = browser.client_mut(state).await?.id.clone();
        let sign_in = sign_in::new_attempt(state, client_id);
        return finish_sign_in(state, browser, p, saved, profile, sign_in).await;
    }
    let ext = attempt.external.get_or_insert_with(|| unverified(p, String::new(), state.now()));
    ext.external_verification_redirect_url = None;
    if !profile.email_verified || profile.email.is_none() {
        ext.status = ExternalStatus::Failed;
        let message = format!("{} gave no verified email address: sign up with your email address instead.", p.name);
        ext.error = Some(ClerkError::new("oauth_email_unverified", &message, &message));
        sign_up::save(state, browser, &attempt).await?;
        return Ok(saved.redirect_url.clone());
    }
    ext.status = ExternalStatus::Verified;
    create_user(state, browser, p, &profile, attempt).await?;
    Ok(saved.action_complete_redirect_url.clone().unwrap_or_else(|| saved.redirect_url.clone()))
}

/// A signed-in user connecting (or reauthorizing) an account; back to `redirect_url` either way.
async fn finish_connect(
    state: &AppState,
    browser: &mut Browser,
    p: &OAuthProvider,
    saved: &OAuthStateRecord,
    profile: Profile,
    account_id: &str,
) -> Result<ApiResult<String>, CallbackError> {
    let back = Some(saved.redirect_url.as_str());
    let signed_in = match browser.session(state).await {
        Ok(s) => s.map(|s| s.user_id),
        Err(e) => return Ok(Err(e)),
    };
    if signed_in.is_none() || signed_in.as_deref() != saved.user_id.as_deref() {
        return Err(fail("oauth_state_invalid", "Sign in again to connect an account.", back));
    }
    let user_id = signed_in.unwrap_or_default();
    let now = state.now();
    let existing = match state.store.external_account_by_provider(&p.strategy, &profile.provider_user_id).await {
        Ok(e) => e,
        Err(e) => return Ok(Err(e.into())),
    };
    let mine = match state.store.external_accounts_of_user(&user_id).await {
        Ok(list) => list.into_iter().find(|a| a.id == account_id),
        Err(e) => return Ok(Err(e.into())),
    };
    let result = match (existing, mine) {
        (Some(other), _) if other.user_id != user_id => {
            return Err(fail(
                "external_account_exists",
                format!("This {} account is connected to another user.", p.name),
                back,
            ));
        }
        // Reauthorizing must come back with the same provider account.
        (_, Some(mine)) if mine.provider_user_id != profile.provider_user_id => {
            return Err(fail(
                "external_account_mismatch",
                format!("You signed in to a different {} account than the one connected.", p.name),
                back,
            ));
        }
        (Some(mut account), _) | (None, Some(mut account)) => {
            refresh(&mut account, &profile, now);
            state.store.update_external_account(&account).await.map(|_| ())
        }
        (None, None) => {
            let mut account = new_account(&user_id, p, &profile, now);
            account.id = account_id.to_owned();
            state.store.create_external_account(&account).await
        }
    };
    Ok(result.map(|()| saved.redirect_url.clone()).map_err(Into::into))
}

/// The user to link a new external account to: one whose address matches an address the
/// provider verified, and only if the instance links by email. Never on an unverified address.
async fn linkable_user(state: &AppState, p: &OAuthProvider, profile: &Profile) -> ApiResult<Option<UserRecord>> {
    let Some(email) = profile.email.as_deref().filter(|_| profile.email_verified && p.link_verified_email) else {
        return Ok(None);
    };
    let user = account::find_user(state, email).await?;
    let lower = email.to_lowercase();
    // The user's own copy of the address must be verified too: an address someone typed at
    // sign-up and never confirmed proves nothing about who owns the account.
    Ok(user.filter(|u| u.emails.iter().any(|e| e.value.to_lowercase() == lower && e.verified)))
}

fn new_account(user_id: &str, p: &OAuthProvider, profile: &Profile, now: i64) -> ExternalAccountRecord {
    let mut account = ExternalAccountRecord {
        id: ids::new_id("eac"),
        user_id: user_id.to_owned(),
        provider: p.strategy.clone(),
        provider_user_id: profile.provider_user_id.clone(),
        identification_id: ids::new_id("idn"),
        created_at: now,
        ..ExternalAccountRecord::default()
    };
    refresh(&mut account, profile, now);
    account
}

fn refresh(account: &mut ExternalAccountRecord, profile: &Profile, now: i64) {
    account.email_address = profile.email.clone().unwrap_or_default();
    account.email_verified = profile.email_verified;
    account.first_name = profile.first_name.clone();
    account.last_name = profile.last_name.clone();
    account.username = profile.username.clone();
    account.avatar_url = profile.avatar_url.clone();
    account.approved_scopes = profile.scopes.clone();
    account.access_token_sealed = profile.access_token_sealed.clone();
    if profile.refresh_token_sealed.is_some() {
        account.refresh_token_sealed = profile.refresh_token_sealed.clone();
    }
    account.token_expire_at = profile.token_expire_at;
    account.updated_at = now;
}

/// The client's OAuth sign-in when it waits for the account's second factor (the provider's
/// callback verified the first).
pub async fn awaiting_second_factor(state: &AppState, browser: &Browser) -> ApiResult<Option<SignIn>> {
    let Some(id) = browser.client.as_ref().and_then(|c| c.sign_in_id.clone()) else { return Ok(None) };
    let Ok(attempt) = sign_in::load(state, browser, &id).await else { return Ok(None) };
    Ok(Some(attempt).filter(|a| a.status == SignInStatus::NeedsSecondFactor && a.external.is_some()))
}

/// `POST /v1/client/sign_ups` with `transfer=true`: creates the user of the client's
/// `transferable` sign-in, with the provider account linked and a session, in one transaction.
/// The address must be one the provider verified (an unverified one proves nothing and would
/// let someone claim another person's address).
pub async fn transfer(state: &AppState, browser: &mut Browser) -> ApiResult<SignUp> {
    let not_transferable =
        || ApiError::invalid("transfer_invalid", "transfer", "There is no sign-in with a provider to transfer.");
    let sign_in_id = browser.client.as_ref().and_then(|c| c.sign_in_id.clone()).ok_or_else(not_transferable)?;
    let attempt = sign_in::load(state, browser, &sign_in_id).await.map_err(|_| not_transferable())?;
    let (Some(profile), Some(ext)) = (attempt.transfer.as_ref(), attempt.external.as_ref()) else {
        return Err(not_transferable());
    };
    let p = provider(state, &ext.strategy)?;
    if profile.email.is_none() || !profile.email_verified {
        return Err(ApiError::invalid(
            "form_param_missing",
            "email_address",
            format!("{} gave no verified email address: sign up with your email address instead.", p.name),
        ));
    };
    let now = state.now();
    let base = SignUp {
        id: ids::new_id("sua"),
        client_id: attempt.client_id.clone(),
        abandon_at: now + sign_up::ATTEMPT_LIFETIME_MS,
        created_at: now,
        ..SignUp::default()
    };
    create_user(state, browser, p, &profile.clone(), base).await
}

/// Creates the user a provider vouched for (its verified address, its names), with the
/// account linked and a session, and completes `sign_up` with them, in one transaction.
async fn create_user(
    state: &AppState,
    browser: &mut Browser,
    p: &OAuthProvider,
    profile: &Profile,
    mut sign_up: SignUp,
) -> ApiResult<SignUp> {
    let raw = profile.email.as_deref().filter(|_| profile.email_verified).unwrap_or_default();
    let email = validate::email("email_address", raw)?;
    let now = state.now();
    let email_id = ids::new_id("idn");
    let user = UserRecord {
        id: ids::new_id("user"),
        first_name: profile.first_name.clone(),
        last_name: profile.last_name.clone(),
        primary_email_address_id: Some(email_id.clone()),
        delete_self_enabled: true,
        create_organization_enabled: true,
        created_at: now,
        updated_at: now,
        emails: vec![IdentifierRecord {
            id: email_id,
            value: email.clone(),
            verified: true,
            // `Strategy` has no `from_oauth_*` names; the provider's verification is recorded
            // on the external account.
            strategy: usher_types::Strategy::Admin,
            created_at: now,
            updated_at: now,
        }],
        ..UserRecord::default()
    };
    let account = new_account(&user.id, p, profile, now);
    let session = account::new_session(state, browser, &user).await?;
    sign_up.status = SignUpStatus::Complete;
    sign_up.email_address = Some(email);
    sign_up.first_name = user.first_name.clone();
    sign_up.last_name = user.last_name.clone();
    sign_up.created_user_id = Some(user.id.clone());
    sign_up.created_session_id = Some(session.id.clone());
    let key = (&*sign_up.id, sign_up.created_at, sign_up.abandon_at);
    // An address or provider account taken meanwhile is a conflict, and nothing is written.
    browser
        .complete_attempt_linking(
            state,
            AttemptKind::SignUp,
            key,
            &sign_up,
            &session,
            Some(&user),
            Some(&account),
            None,
            None,
        )
        .await?;
    Ok(sign_up)
}
