//! Wire types of Clerk's Backend API and of its session tokens, as usher speaks them.
//!
//! The server serialises these and the SDK deserialises them, so the two cannot drift apart.
//! Response objects carry every key of Clerk's schema when serialised (nulls included), because
//! strict clients such as `clerk-rs` reject missing keys; only keys Clerk itself sends some of the
//! time (a sign-in token's secret, a deleted user's external id) are left out when absent.
//! Request bodies and token claims leave out what is absent. Deserialisation is tolerant the
//! other way round: unknown keys are ignored and absent optional keys default, so a newer server
//! (or Clerk's own) does not break an older SDK.
//!
//! Layout: [`user`] (users, email addresses, phone numbers), [`session`] (sessions, tokens,
//! sign-in tokens), [`jwt`] (JWT templates, JWKS), [`token`] (the claims and header categories of
//! session tokens), [`error`] (the error body), [`requests`] (request bodies), and the small
//! objects below.

pub mod error;
pub mod jwt;
pub mod organization;
pub mod requests;
pub mod session;
pub mod token;
pub mod user;

pub use error::{ClerkError, ClerkErrors};
pub use jwt::{Jwk, Jwks, JwtTemplate};
pub use organization::{
    InvitationStatus, Organization, OrganizationInvitation, OrganizationMembership, OrganizationSettings, Permission,
    PublicUserData, Role,
};
pub use session::{Session, SessionStatus, SignInToken, SignInTokenStatus, Token};
pub use user::{EmailAddress, LinkedTo, PhoneNumber, Strategy, User, Verification, VerificationStatus};

use serde::{Deserialize, Serialize};

/// `{"object":"total_count","total_count":N}`, the answer of `GET /v1/users/count`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TotalCount {
    /// Always `"total_count"`.
    pub object: String,
    /// The number of matching objects.
    pub total_count: i64,
}

impl TotalCount {
    /// A count of `n` objects.
    pub fn new(n: i64) -> Self {
        Self { object: "total_count".into(), total_count: n }
    }
}

/// The answer to a deletion: `{"object":"user","id":…,"deleted":true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeletedObject {
    /// The kind of object that was deleted (`"user"`, `"jwt_template"`, …).
    pub object: String,
    /// Its id.
    pub id: Option<String>,
    /// Always `true`.
    pub deleted: bool,
    /// The deleted user's external id, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

impl DeletedObject {
    /// A deletion of the object `object` with id `id`.
    pub fn new(object: &str, id: &str) -> Self {
        Self { object: object.into(), id: Some(id.into()), deleted: true, external_id: None }
    }
}

/// A page of objects in the `{data, total_count}` shape Clerk uses for paginated lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Paginated<T> {
    /// The objects on this page.
    pub data: Vec<T>,
    /// How many objects match in all pages.
    pub total_count: i64,
}
