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
    let now = state.now();
    let client_id = browser.client_mut(state).await?.id.clone();
    let mut attempt = sign_in::new_attempt(state, client_id.clone());
    let url =
        begin(state, p, &client_id, OAuthIntent::SignIn, Some(&attempt.id), None, &redirect_url, complete).await?;
    attempt.status = SignInStatus::NeedsFirstFactor;
    attempt.external = Some(ExternalVerification {
        status: ExternalStatus::Unverified,
        strategy: p.strategy.clone(),
        external_verification_redirect_url: Some(url),
        expire_at: Some(now + STATE_LIFETIME_MS),
        error: None,
    });
    sign_in::save(state, browser, &attempt).await?;
    Ok(attempt)
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
            let client = oidc_client(state, p).await?;
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
    let profile = match fetch_profile(state, p, &saved, &code).await {
        Ok(profile) => profile,
        Err(message) => {
            tracing::info!(provider = %p.strategy, %message, "oauth callback refused");
            let message = format!("Signing in with {} failed: {message}", p.name);
            record_failure(state, browser, &saved, "oauth_token_invalid", &message).await;
            return Err(fail("oauth_token_invalid", message, back));
        }
    };
    Ok(finish(state, browser, p, &saved, profile).await)
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
            let client = oidc_client(state, p).await.map_err(|_| format!("{} could not be reached", p.name))?;
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
            let nonce_check = move |nonce: Option<&Nonce>| match nonce {
                Some(n) if ids::sha256_hex(n.secret().as_bytes()) == expected => Ok(()),
                _ => Err("the nonce does not match".to_owned()),
            };
            let claims = id_token
                .claims(&client.id_token_verifier(), nonce_check)
                .map_err(|e| format!("the ID token is not valid ({e})"))?;
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

/// The OpenID Connect client of a provider: discovery, or the configured endpoints and their
/// JWKS.
async fn oidc_client(state: &AppState, p: &OAuthProvider) -> ApiResult<Oidc> {
    let http = http_client();
    let unreachable = |e: String| {
        tracing::warn!(provider = %p.strategy, error = %e, "oauth provider unreachable");
        ApiError::Unprocessable(ClerkError::new(
            "oauth_provider_unreachable",
            "The provider could not be reached",
            format!("{} could not be reached. Try again later.", p.name),
        ))
    };
    let metadata = match &p.endpoints {
        Endpoints::Discovery { issuer } => {
            let issuer = IssuerUrl::new(issuer.clone()).map_err(|e| unreachable(e.to_string()))?;
            CoreProviderMetadata::discover_async(issuer, &http).await.map_err(|e| unreachable(e.to_string()))?
        }
        Endpoints::Explicit { issuer, authorization_url, token_url, jwks_url, .. } => {
            let bad = |e: url::ParseError| unreachable(e.to_string());
            let jwks_url = JsonWebKeySetUrl::new(jwks_url.clone()).map_err(bad)?;
            let jwks =
                CoreJsonWebKeySet::fetch_async(&jwks_url, &http).await.map_err(|e| unreachable(e.to_string()))?;
            CoreProviderMetadata::new(
                IssuerUrl::new(issuer.clone()).map_err(bad)?,
                AuthUrl::new(authorization_url.clone()).map_err(bad)?,
                jwks_url,
                vec![openidconnect::ResponseTypes::new(vec![CoreResponseType::Code])],
                vec![CoreSubjectIdentifierType::Public],
                vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
                openidconnect::EmptyAdditionalProviderMetadata {},
            )
            .set_token_endpoint(Some(TokenUrl::new(token_url.clone()).map_err(bad)?))
            .set_jwks(jwks)
        }
        Endpoints::Github { .. } => return Err(ApiError::Internal(anyhow::anyhow!("GitHub is not OpenID Connect"))),
    };
    let redirect = RedirectUrl::new(callback_url(state)).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(p.client_secret.expose().to_owned())),
    )
    .set_redirect_uri(redirect))
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

/// What a checked profile leads to: a linked account signs in, a verified address links, and
/// anything else is transferable.
async fn finish(
    state: &AppState,
    browser: &mut Browser,
    p: &OAuthProvider,
    saved: &OAuthStateRecord,
    profile: Profile,
) -> ApiResult<String> {
    let Some(attempt_id) = saved.attempt_id.as_deref().filter(|_| saved.intent == OAuthIntent::SignIn) else {
        return Err(ApiError::invalid(
            "oauth_intent_unsupported",
            "state",
            "This kind of redirect is not supported yet.",
        ));
    };
    let mut attempt = sign_in::load(state, browser, attempt_id).await?;
    let now = state.now();
    let existing = state.store.external_account_by_provider(&p.strategy, &profile.provider_user_id).await?;
    let (user, link) = match existing {
        Some(mut account) => {
            refresh(&mut account, &profile, now);
            state.store.update_external_account(&account).await?;
            (state.store.get_user(&account.user_id).await?, None)
        }
        None => match linkable_user(state, p, &profile).await? {
            Some(user) => {
                let account = new_account(&user.id, p, &profile, now);
                (Some(user), Some(account))
            }
            None => (None, None),
        },
    };
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
    let Some(raw) = profile.email.as_deref().filter(|_| profile.email_verified) else {
        return Err(ApiError::invalid(
            "form_param_missing",
            "email_address",
            format!("{} gave no verified email address: sign up with your email address instead.", p.name),
        ));
    };
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
    let sign_up = SignUp {
        id: ids::new_id("sua"),
        client_id: attempt.client_id.clone(),
        status: SignUpStatus::Complete,
        email_address: Some(email),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        created_user_id: Some(user.id.clone()),
        created_session_id: Some(session.id.clone()),
        abandon_at: now + sign_up::ATTEMPT_LIFETIME_MS,
        created_at: now,
        ..SignUp::default()
    };
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
        )
        .await?;
    Ok(sign_up)
}
