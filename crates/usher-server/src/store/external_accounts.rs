//! Accounts users hold at OAuth / OpenID Connect providers, and the state of a redirect to a
//! provider and back.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreResult;

/// A user's account at a provider (Clerk's `ExternalAccount`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExternalAccountRecord {
    /// `eac_…`.
    pub id: String,
    /// Whose account it is.
    pub user_id: String,
    /// The strategy: `oauth_google`, `oauth_custom_acme`, …
    pub provider: String,
    /// The provider's stable id for the account (`sub`, GitHub's numeric id).
    pub provider_user_id: String,
    /// `idn_…`: Clerk's identification id of the account.
    pub identification_id: String,
    /// The email address the provider gave.
    pub email_address: String,
    /// Whether the provider says it verified that address.
    pub email_verified: bool,
    /// Given name at the provider.
    pub first_name: Option<String>,
    /// Family name at the provider.
    pub last_name: Option<String>,
    /// Login name at the provider (GitHub).
    pub username: Option<String>,
    /// Picture URL at the provider.
    pub avatar_url: Option<String>,
    /// Scopes the provider granted, space-separated.
    pub approved_scopes: String,
    /// The provider's access token, sealed with [`crate::seal::Sealer`].
    pub access_token_sealed: Option<String>,
    /// The provider's refresh token, sealed.
    pub refresh_token_sealed: Option<String>,
    /// When the access token expires, if the provider said.
    pub token_expire_at: Option<i64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// What a redirect to a provider is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthIntent {
    /// A sign-in attempt (`sign_in` id in `attempt_id`).
    SignIn,
    /// A sign-up attempt.
    SignUp,
    /// A signed-in user connecting (or reauthorizing) an account (`user_id`).
    Connect,
}

impl OAuthIntent {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignUp => "sign_up",
            Self::Connect => "connect",
        }
    }

    /// The intent a stored name names.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::SignIn, Self::SignUp, Self::Connect].into_iter().find(|i| i.as_str() == text)
    }
}

/// A pending redirect to a provider: single use, bound to the browser's client, short-lived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthStateRecord {
    /// SHA-256 (hex) of the `state` parameter; the parameter itself is not kept.
    pub state_hash: String,
    /// The client (browser) that started the redirect; the callback must come from it.
    pub client_id: String,
    /// The strategy.
    pub provider: String,
    /// What it is for.
    pub intent: OAuthIntent,
    /// The sign-in or sign-up attempt it continues.
    pub attempt_id: Option<String>,
    /// The signed-in user connecting an account.
    pub user_id: Option<String>,
    /// The PKCE code verifier, sealed.
    pub pkce_verifier_sealed: String,
    /// SHA-256 (hex) of the nonce sent to the provider, compared with the ID token's.
    pub nonce_hash: String,
    /// Where the browser goes after the callback (Clerk's `redirect_url`), validated.
    pub redirect_url: String,
    /// Where it goes once the sign-in is complete (`action_complete_redirect_url`).
    pub action_complete_redirect_url: Option<String>,
    /// When it stops working.
    pub expire_at: i64,
    /// Creation time.
    pub created_at: i64,
}

/// External accounts and OAuth redirect state.
#[async_trait]
pub trait ExternalAccountStore: Send + Sync {
    /// Inserts an external account; [`super::StoreError::Conflict`] with
    /// [`super::UniqueField::ExternalAccount`] if the provider account is already linked.
    async fn create_external_account(&self, account: &ExternalAccountRecord) -> StoreResult<()>;
    /// The external account of this provider account, if linked.
    async fn external_account_by_provider(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> StoreResult<Option<ExternalAccountRecord>>;
    /// A user's external accounts, oldest first.
    async fn external_accounts_of_user(&self, user_id: &str) -> StoreResult<Vec<ExternalAccountRecord>>;
    /// Replaces the profile, scopes and tokens of an external account (after a new sign-in or a
    /// reauthorization); `false` if there is no such account.
    async fn update_external_account(&self, account: &ExternalAccountRecord) -> StoreResult<bool>;
    /// Deletes one of a user's external accounts; `false` if the user has no such account.
    async fn delete_external_account(&self, user_id: &str, id: &str) -> StoreResult<bool>;
    /// Inserts a pending redirect.
    async fn create_oauth_state(&self, state: &OAuthStateRecord) -> StoreResult<()>;
    /// Deletes and returns the pending redirect with this state hash: at most one call ever
    /// gets it, whatever it then decides (expired, another client), so a state never works
    /// twice.
    async fn take_oauth_state(&self, state_hash: &str) -> StoreResult<Option<OAuthStateRecord>>;
    /// Deletes redirects that expired before `now`; how many.
    async fn delete_expired_oauth_states(&self, now: i64) -> StoreResult<u64>;
}
