//! Sessions, session/template tokens and sign-in tokens.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The life-cycle state of a [`Session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Signed in; tokens can be minted. Where every session begins.
    #[default]
    Active,
    /// Signed in but with tasks left (for example choosing an organization): counts as signed out.
    Pending,
    /// Ended by the user signing out.
    Ended,
    /// Ended by an administrator or a security event.
    Revoked,
    /// Ended because it outlived its maximum lifetime.
    Expired,
    /// Removed from its client.
    Removed,
    /// Ended because it was inactive for too long.
    Abandoned,
    /// Replaced by another session.
    Replaced,
    /// A status this version does not know (a newer server's).
    #[serde(other)]
    Unknown,
}

impl SessionStatus {
    /// The wire name, e.g. `"active"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Ended => "ended",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::Removed => "removed",
            Self::Abandoned => "abandoned",
            Self::Replaced => "replaced",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a wire name; `None` for anything unknown.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.into())).ok().filter(|s| *s != Self::Unknown)
    }

    /// Whether the session is still signed in (active, or pending with tasks left).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Active | Self::Pending)
    }
}

/// A session: one signed-in user on one client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Session {
    /// Always `"session"`.
    pub object: String,
    /// `sess_…`.
    pub id: String,
    /// The signed-in user.
    pub user_id: String,
    /// The client (browser) the session lives on.
    pub client_id: String,
    /// The impersonator, when one is acting as the user.
    #[serde(default)]
    pub actor: Option<Value>,
    /// Where the session is in its life cycle.
    pub status: SessionStatus,
    /// The organization last made active in this session.
    #[serde(default)]
    pub last_active_organization_id: Option<String>,
    /// Last activity, ms since the epoch.
    pub last_active_at: i64,
    /// When the session ends at the latest, ms since the epoch.
    pub expire_at: i64,
    /// When the session ends if it stays inactive, ms since the epoch.
    pub abandon_at: i64,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// `{"object":"token","jwt":…}`: a minted session or template token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Token {
    /// Always `"token"`.
    pub object: String,
    /// The compact JWT.
    pub jwt: String,
}

impl Token {
    /// Wraps a compact JWT.
    pub fn new(jwt: String) -> Self {
        Self { object: "token".into(), jwt }
    }
}

/// A one-time sign-in token created by the Backend API and redeemed by the Frontend API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SignInToken {
    /// Always `"sign_in_token"`.
    pub object: String,
    /// `sit_…`.
    pub id: String,
    /// Whether the token can still be used.
    pub status: SignInTokenStatus,
    /// The user the token signs in.
    pub user_id: String,
    /// The secret token; only returned when the token is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A URL that redeems the token; only returned when the token is created.
    #[serde(default)]
    pub url: Option<String>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// The state of a [`SignInToken`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignInTokenStatus {
    /// Not used yet; where every token begins.
    #[default]
    Pending,
    /// Used to sign in (once).
    Accepted,
    /// Revoked before use.
    Revoked,
    /// A status this version does not know (a newer server's).
    #[serde(other)]
    Unknown,
}

impl SignInTokenStatus {
    /// The wire name, e.g. `"pending"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a wire name; `None` for anything unknown.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.into())).ok().filter(|s| *s != Self::Unknown)
    }
}
