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
    store::{Change, EventRenderer, MailRecord, NewEvent, OrganizationRecord, SessionStatus, request_origin},
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
            // A membership's Backend API shape needs its role, permissions and user, read by
            // the API module; not emitted yet.
            Change::MembershipCreated(_) | Change::MembershipUpdated(_) | Change::MembershipDeleted(_) => return None,
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
    fn email(&self, m: &MailRecord) -> Value {
        let body = self.mail_sealer.open_text(&m.body).unwrap_or_else(|| m.body.clone());
        let mut data = serde_json::Map::new();
        if let Some(code) = code_in(&body) {
            data.insert("otp_code".into(), code.into());
        }
        if let Some(link) = body.split_whitespace().find(|w| w.starts_with("https://") || w.starts_with("http://")) {
            data.insert("action_url".into(), link.trim_end_matches(['.', ',', ')']).into());
        }
        let slug = if data.contains_key("otp_code") {
            Value::from("verification_code")
        } else if data.contains_key("action_url") {
            Value::from("magic_link")
        } else {
            Value::Null
        };
        json!({
            "object": "email",
            "id": m.id,
            "slug": slug,
            "from_email_name": "notifications",
            "reply_to_email_name": null,
            "to_email_address": m.to,
            "email_address_id": null,
            "user_id": null,
            "subject": m.subject,
            "body": body,
            "body_plain": body,
            "status": "queued",
            "data": data,
            "delivered_by_clerk": false,
        })
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
    use super::code_in;

    #[test]
    fn finds_the_code_in_a_mail_body() {
        assert_eq!(code_in("Your usher verification code is 042117.\n\nEnter it"), Some("042117"));
        assert_eq!(code_in("It expires in 10 minutes"), None);
    }
}
