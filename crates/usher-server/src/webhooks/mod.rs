//! Outbound webhooks in the Svix / Standard Webhooks format, as Clerk sends them.
//!
//! - [`Events`] renders each store [`Change`] into Clerk's event envelope (`data` in its Backend
//!   API shape) when the store asks, inside the transaction of the change.
//! - [`sign`] holds the `whsec_…` secrets and the `svix-signature` computation.
//! - [`deliver`] is the loop that routes messages to endpoints and sends them, with retries.
//!
//! Payloads are sealed at rest (they carry personal data and, for `email.created`, codes); the
//! bytes signed and sent are the opened ones, unchanged across retries.

pub mod deliver;
pub mod endpoints;
pub mod sign;

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::{
    clock::Clock,
    ids,
    seal::Sealer,
    store::{
        Change, EmailView, EventRenderer, InvitationView, MembershipView, NewEvent, OrganizationRecord,
        PermissionRecord, RoleView, SessionStatus, request_origin,
    },
    wire,
};

/// The purpose of the sealer for stored payloads and secrets.
pub const SEAL_PURPOSE: &str = "webhooks";

/// Renders store changes into Clerk's webhook events.
pub struct Events {
    /// The time (envelope `timestamp`, message order).
    pub clock: Arc<dyn Clock>,
    /// `ins_…`, the envelope's `instance_id`.
    pub instance_id: String,
    /// For the user shape (whether a lock still holds).
    pub lockout_attempts: i64,
    /// Opens queued mail bodies (`email.created` carries them).
    pub mail_sealer: Arc<Sealer>,
    /// Seals payloads at rest.
    pub payload_sealer: Arc<Sealer>,
    /// Woken after events are written, so the delivery loop runs at once.
    pub wake: Arc<Notify>,
    /// The Backend API's organization shape (passed in: it lives above this layer).
    pub organization: fn(&OrganizationRecord) -> Value,
    /// The Backend API's membership shape.
    pub membership: fn(&MembershipView) -> Value,
    /// The Backend API's invitation shape, at a time (a pending one past its end is expired).
    pub invitation: fn(&InvitationView, i64) -> Value,
    /// The Backend API's role shape.
    pub role: fn(&RoleView) -> Value,
    /// The Backend API's permission shape.
    pub permission: fn(&PermissionRecord) -> Value,
}

/// The instance id of the instance with this secret key: stable, and telling nothing about it.
pub fn instance_id(secret_key: &str) -> String {
    format!("ins_{}", ids::keyed_base62(b"usher instance id", secret_key.as_bytes(), 27))
}

impl EventRenderer for Events {
    fn render(&self, change: &Change<'_>) -> Option<NewEvent> {
        let now = self.clock.now_ms();
        let (event_type, data) = match change {
            Change::UserCreated(u) => ("user.created", to_value(wire::user(u, self.user_context(now)))),
            Change::UserUpdated(u) => ("user.updated", to_value(wire::user(u, self.user_context(now)))),
            Change::UserDeleted(id) => ("user.deleted", deleted("user", id)),
            Change::SessionCreated(s) => ("session.created", to_value(wire::session(s))),
            Change::SessionEnded(s) => {
                let event_type = match s.status {
                    SessionStatus::Ended | SessionStatus::Replaced => "session.ended",
                    SessionStatus::Removed => "session.removed",
                    SessionStatus::Revoked => "session.revoked",
                    // Expiry is noticed lazily, not written; nothing else ends a session.
                    _ => return None,
                };
                (event_type, to_value(wire::session(s)))
            }
            Change::EmailCreated(m) => ("email.created", self.email(m)),
            Change::OrganizationCreated(o) => ("organization.created", (self.organization)(o)),
            Change::OrganizationUpdated(o) => ("organization.updated", (self.organization)(o)),
            Change::OrganizationDeleted(id) => ("organization.deleted", deleted("organization", id)),
            Change::MembershipCreated(m) => ("organizationMembership.created", (self.membership)(m)),
            Change::MembershipUpdated(m) => ("organizationMembership.updated", (self.membership)(m)),
            Change::MembershipDeleted(m) => ("organizationMembership.deleted", (self.membership)(m)),
            Change::InvitationCreated(i) => ("organizationInvitation.created", (self.invitation)(i, now)),
            Change::InvitationAccepted(i) => ("organizationInvitation.accepted", (self.invitation)(i, now)),
            Change::InvitationRevoked(i) => ("organizationInvitation.revoked", (self.invitation)(i, now)),
            Change::RoleCreated(r) => ("role.created", (self.role)(r)),
            Change::RoleUpdated(r) => ("role.updated", (self.role)(r)),
            Change::RoleDeleted(id) => ("role.deleted", deleted("role", id)),
            Change::PermissionCreated(p) => ("permission.created", (self.permission)(p)),
            Change::PermissionUpdated(p) => ("permission.updated", (self.permission)(p)),
            Change::PermissionDeleted(id) => ("permission.deleted", deleted("permission", id)),
        };
        let origin = request_origin();
        let envelope = json!({
            "data": data,
            "object": "event",
            "type": event_type,
            "timestamp": now,
            "instance_id": self.instance_id,
            "event_attributes": {"http_request": {"client_ip": origin.client_ip, "user_agent": origin.user_agent}},
        });
        let bytes = serde_json::to_vec(&envelope).ok()?;
        Some(NewEvent {
            id: ids::new_id("msg"),
            event_type: event_type.to_owned(),
            payload: self.payload_sealer.seal(&bytes),
            created_at: now,
        })
    }

    fn written(&self) {
        self.wake.notify_one();
    }
}

impl Events {
    fn user_context(&self, now: i64) -> wire::UserContext {
        wire::UserContext { now, lockout_attempts: self.lockout_attempts }
    }

    /// Clerk's `email` object for a queued mail, with the code or link found in its body.
    fn email(&self, v: &EmailView) -> Value {
        let m = &v.mail;
        let body = self.mail_sealer.open_text(&m.body).unwrap_or_else(|| m.body.clone());
        let mut data = serde_json::Map::new();
        if let Some(code) = code_in(&body) {
            data.insert("otp_code".into(), code.into());
        }
        let link = body
            .split_whitespace()
            .find(|w| w.starts_with("https://") || w.starts_with("http://"))
            .map(|w| w.trim_end_matches(['.', ',', ')']).to_owned());
        if let Some(link) = &link {
            data.insert("action_url".into(), link.clone().into());
        }
        let slug = email_slug(&m.subject, &body, data.contains_key("otp_code"), link.as_deref());
        json!({
            "object": "email",
            "id": m.id,
            "slug": slug,
            "from_email_name": "notifications",
            "reply_to_email_name": null,
            "to_email_address": m.to,
            "email_address_id": v.email_address_id,
            "user_id": v.user_id,
            "subject": m.subject,
            "body": body,
            "body_plain": body,
            "status": "queued",
            "data": data,
            "delivered_by_clerk": false,
        })
    }
}

/// Clerk's template slug for a mail usher queued, told from what it carries (usher's mails are
/// written in `flows`, one wording per kind): an invitation link, a reset code, a code, a
/// sign-up or sign-in link, the password-changed notice.
fn email_slug(subject: &str, body: &str, has_code: bool, link: Option<&str>) -> Option<&'static str> {
    match link {
        Some(l) if l.contains("__clerk_ticket=") => Some("organization_invitation"),
        Some(_) if subject.contains("sign-up link") => Some("magic_link_sign_up"),
        Some(_) => Some("magic_link_sign_in"),
        _ if has_code && body.contains("reset your password") => Some("reset_password_code"),
        _ if has_code => Some("verification_code"),
        _ if subject.contains("password was changed") => Some("password_changed"),
        _ => None,
    }
}

/// The first run of 6 to 8 digits in a mail body (usher's codes are 6 digits).
fn code_in(body: &str) -> Option<&str> {
    body.split(|c: char| !c.is_ascii_digit()).find(|run| (6..=8).contains(&run.len()))
}

fn deleted(object: &str, id: &str) -> Value {
    json!({"id": id, "object": object, "deleted": true})
}

fn to_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::{code_in, email_slug};

    #[test]
    fn names_each_mail_with_clerks_slug() {
        let ticket = Some("http://127.0.0.1:1/sign-up?__clerk_ticket=abc");
        assert_eq!(email_slug("You are invited", "", false, ticket), Some("organization_invitation"));
        assert_eq!(
            email_slug("Your usher verification code", "enter it to sign in", true, None),
            Some("verification_code")
        );
        assert_eq!(
            email_slug("Your usher verification code", "to reset your password", true, None),
            Some("reset_password_code")
        );
        let link = Some("http://h/v1/verify?token=x");
        assert_eq!(
            email_slug("Your usher sign-in link", "Open this link to sign in", false, link),
            Some("magic_link_sign_in")
        );
        assert_eq!(
            email_slug("Your usher sign-up link", "Open this link to finish signing up", false, link),
            Some("magic_link_sign_up")
        );
        assert_eq!(email_slug("Your usher password was changed", "", false, None), Some("password_changed"));
        assert_eq!(email_slug("You already have an account", "", false, None), None);
    }

    #[test]
    fn finds_the_code_in_a_mail_body() {
        assert_eq!(code_in("Your usher verification code is 042117.\n\nEnter it"), Some("042117"));
        assert_eq!(code_in("It expires in 10 minutes"), None);
    }
}
