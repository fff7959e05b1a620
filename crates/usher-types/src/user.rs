//! Users and their identifiers (email addresses, phone numbers).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A user, in the shape of Clerk's `User` object.
///
/// Collections usher does not implement (web3 wallets, passkeys, external accounts, …) are
/// always present as empty arrays so strict clients deserialise the object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct User {
    /// Always `"user"`.
    pub object: String,
    /// `user_…`.
    pub id: String,
    /// The id of this user in the application's own database.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Id of the primary [`EmailAddress`].
    #[serde(default)]
    pub primary_email_address_id: Option<String>,
    /// Id of the primary [`PhoneNumber`].
    #[serde(default)]
    pub primary_phone_number_id: Option<String>,
    /// Always null: usher has no web3 wallets.
    #[serde(default)]
    pub primary_web3_wallet_id: Option<String>,
    /// Unique username, if set.
    #[serde(default)]
    pub username: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Preferred locale (BCP 47), if set.
    #[serde(default)]
    pub locale: Option<String>,
    /// Deprecated alias of `image_url`.
    #[serde(default)]
    pub profile_image_url: String,
    /// URL of the user's avatar (empty in usher, which stores no images).
    #[serde(default)]
    pub image_url: String,
    /// Whether the user uploaded an image (never, in usher).
    #[serde(default)]
    pub has_image: bool,
    /// Readable by the frontend, writable by the backend only.
    #[serde(default)]
    pub public_metadata: Map<String, Value>,
    /// Backend only.
    #[serde(default)]
    pub private_metadata: Map<String, Value>,
    /// Readable and writable by the frontend.
    #[serde(default)]
    pub unsafe_metadata: Map<String, Value>,
    /// All email addresses, in no guaranteed order; `primary_email_address_id` names the primary.
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    /// All phone numbers.
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Always empty.
    #[serde(default)]
    pub web3_wallets: Vec<Value>,
    /// Always empty.
    #[serde(default)]
    pub passkeys: Vec<Value>,
    /// Whether the user has a password.
    #[serde(default)]
    pub password_enabled: bool,
    /// Whether a second factor is on (never, for now).
    #[serde(default)]
    pub two_factor_enabled: bool,
    /// Whether TOTP is on (never, for now).
    #[serde(default)]
    pub totp_enabled: bool,
    /// Whether backup codes are on (never, for now).
    #[serde(default)]
    pub backup_code_enabled: bool,
    /// When MFA was enabled, ms since the epoch (never, in usher).
    #[serde(default)]
    pub mfa_enabled_at: Option<i64>,
    /// When MFA was disabled, ms since the epoch (never, in usher).
    #[serde(default)]
    pub mfa_disabled_at: Option<i64>,
    /// When the password was last set, ms since the epoch.
    #[serde(default)]
    pub password_last_updated_at: Option<i64>,
    /// Always empty.
    #[serde(default)]
    pub external_accounts: Vec<Value>,
    /// Always empty.
    #[serde(default)]
    pub saml_accounts: Vec<Value>,
    /// Always empty.
    #[serde(default)]
    pub enterprise_accounts: Vec<Value>,
    /// Last sign-in, ms since the epoch.
    #[serde(default)]
    pub last_sign_in_at: Option<i64>,
    /// A banned user cannot sign in and has no sessions.
    #[serde(default)]
    pub banned: bool,
    /// A locked user cannot sign in until the lock expires or is lifted.
    #[serde(default)]
    pub locked: bool,
    /// Seconds until a lockout ends, when locked.
    #[serde(default)]
    pub lockout_expires_in_seconds: Option<i64>,
    /// Failed attempts left before a lockout.
    #[serde(default)]
    pub verification_attempts_remaining: Option<i64>,
    /// Whether the user may delete their own account.
    #[serde(default)]
    pub delete_self_enabled: bool,
    /// Whether the user may create organizations.
    #[serde(default)]
    pub create_organization_enabled: bool,
    /// How many organizations the user may create; null means no limit.
    #[serde(default)]
    pub create_organizations_limit: Option<i64>,
    /// Last activity, ms since the epoch.
    #[serde(default)]
    pub last_active_at: Option<i64>,
    /// When the user accepted the legal terms, ms since the epoch.
    #[serde(default)]
    pub legal_accepted_at: Option<i64>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

impl User {
    /// The primary email address, if the user has one.
    pub fn primary_email_address(&self) -> Option<&str> {
        let id = self.primary_email_address_id.as_deref()?;
        self.email_addresses.iter().find(|e| e.id == id).map(|e| e.email_address.as_str())
    }
}

/// One link from an identifier to where it came from (always empty in usher).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LinkedTo {
    /// The kind of link, e.g. `oauth_google`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The id of the linked object.
    pub id: String,
}

/// An email address of a user (`idn_…`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EmailAddress {
    /// Always `"email_address"`.
    pub object: String,
    /// `idn_…`.
    pub id: String,
    /// The address as the user typed it.
    pub email_address: String,
    /// Whether the address is reserved (never, in usher).
    #[serde(default)]
    pub reserved: bool,
    /// How the address was verified, or that it is not yet (usher always sends one; Clerk may
    /// send null).
    #[serde(default)]
    pub verification: Option<Verification>,
    /// Always an array; empty in usher.
    #[serde(default)]
    pub linked_to: Vec<LinkedTo>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// A phone number of a user (`idn_…`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PhoneNumber {
    /// Always `"phone_number"`.
    pub object: String,
    /// `idn_…`.
    pub id: String,
    /// The number in E.164 form.
    pub phone_number: String,
    /// Whether the number is reserved for a second factor.
    #[serde(default)]
    pub reserved_for_second_factor: bool,
    /// Whether the number is the default second factor.
    #[serde(default)]
    pub default_second_factor: bool,
    /// Whether the number is reserved (never, in usher).
    #[serde(default)]
    pub reserved: bool,
    /// How the number was verified, or that it is not yet (usher always sends one; Clerk may
    /// send null).
    #[serde(default)]
    pub verification: Option<Verification>,
    /// Always an array; empty in usher.
    #[serde(default)]
    pub linked_to: Vec<LinkedTo>,
    /// Backup codes attached to the number (never, in usher).
    #[serde(default)]
    pub backup_codes: Option<Vec<String>>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// The verification state of an identifier (`verification_admin` or `verification_otp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Verification {
    /// `verification_admin` (set by the Backend API) or `verification_otp` (a code).
    pub object: String,
    /// Where the verification stands.
    pub status: VerificationStatus,
    /// How the identifier is (to be) verified.
    pub strategy: Strategy,
    /// Failed attempts so far, for code verifications.
    #[serde(default)]
    pub attempts: Option<i64>,
    /// When a pending code expires, ms since the epoch.
    #[serde(default)]
    pub expire_at: Option<i64>,
}

impl Verification {
    /// Verified by an administrator through the Backend API.
    pub fn admin() -> Self {
        Self {
            object: "verification_admin".into(),
            status: VerificationStatus::Verified,
            strategy: Strategy::Admin,
            attempts: None,
            expire_at: None,
        }
    }

    /// A one-time-code verification with `strategy` (`email_code`, `phone_code`) in `status`.
    pub fn otp(strategy: Strategy, status: VerificationStatus) -> Self {
        Self { object: "verification_otp".into(), status, strategy, attempts: None, expire_at: None }
    }

    /// Whether the identifier is verified.
    pub fn is_verified(&self) -> bool {
        self.status == VerificationStatus::Verified
    }
}

/// Where a verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    /// Not verified yet; where every verification begins.
    #[default]
    Unverified,
    /// Verified.
    Verified,
    /// The last attempt failed.
    Failed,
    /// The code (or link) expired.
    Expired,
    /// A status this version does not know (a newer server's).
    #[serde(other)]
    Unknown,
}

/// How something is verified or how a factor is used: Clerk's strategy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Set by an administrator through the Backend API.
    Admin,
    /// A password.
    Password,
    /// A one-time code sent by email.
    EmailCode,
    /// A one-time code sent by text message.
    PhoneCode,
    /// A Backend API sign-in token.
    Ticket,
    /// A code from an authenticator app (second factor).
    Totp,
    /// A single-use backup code (second factor).
    BackupCode,
    /// A one-time code sent by email to reset a forgotten password.
    ResetPasswordEmailCode,
    /// A one-time link sent by email.
    EmailLink,
    /// A passkey (WebAuthn credential).
    Passkey,
    /// A strategy this version does not know (a newer server's).
    #[serde(other)]
    Unknown,
}

impl Strategy {
    /// The wire name, e.g. `"email_code"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Password => "password",
            Self::EmailCode => "email_code",
            Self::PhoneCode => "phone_code",
            Self::Ticket => "ticket",
            Self::Totp => "totp",
            Self::BackupCode => "backup_code",
            Self::ResetPasswordEmailCode => "reset_password_email_code",
            Self::EmailLink => "email_link",
            Self::Passkey => "passkey",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a wire name; `None` for anything unknown.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.into())).ok().filter(|s| *s != Self::Unknown)
    }
}
