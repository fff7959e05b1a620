//! Organization invitations: issuing one (a ticket mailed to the invitee) and redeeming its
//! ticket when the invitee signs up or signs in through the link.
//!
//! The ticket is 43 random base62 characters; only its SHA-256 is stored, so a database dump
//! cannot join anyone. Holding the ticket proves the invitee reads that mailbox, which is why a
//! ticket sign-up needs no emailed code and a ticket sign-in no password.

use serde_json::{Map, Value};

use super::codes;
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{
        AuditAction, InvitationAcceptance, InvitationRecord, InvitationStatus, MEMBER_ROLE, MembershipRecord,
        OrganizationRecord,
    },
    validate,
};

/// Default and longest life of an invitation: 30 days, as Clerk.
pub const MAX_LIFETIME_DAYS: i64 = 30;

/// What inviting someone takes.
#[derive(Debug, Clone, Default)]
pub struct NewInvitation {
    /// Who is invited.
    pub email_address: Option<String>,
    /// The role they get; `org:member` when absent.
    pub role: Option<String>,
    /// Who invites them.
    pub inviter_user_id: Option<String>,
    /// Where the invitee lands after joining.
    pub redirect_url: Option<String>,
    /// Days the link works.
    pub expires_in_days: Option<i64>,
    /// Copied to the membership.
    pub public_metadata: Option<Map<String, Value>>,
    /// Copied to the membership.
    pub private_metadata: Option<Map<String, Value>>,
}

/// Refuses a role key no role has.
pub async fn known_role(state: &AppState, role: &str) -> ApiResult<()> {
    if state.store.get_role_by_key(role).await?.is_none() {
        return Err(ApiError::invalid("resource_not_found", "role", format!("No role with key {role} exists.")));
    }
    Ok(())
}

/// Invites `input.email_address` to `org` and queues the mail carrying the link; answers the
/// invitation and its link (shown only in this answer).
pub async fn invite(
    state: &AppState,
    org: &OrganizationRecord,
    input: NewInvitation,
) -> ApiResult<(InvitationRecord, String)> {
    create(state, None, org, input).await
}

/// [`invite`], recorded in the audit log with `actor` (with the invitation, in its transaction)
/// when there is one.
async fn create(
    state: &AppState,
    actor: Option<&super::audit::Actor>,
    org: &OrganizationRecord,
    input: NewInvitation,
) -> ApiResult<(InvitationRecord, String)> {
    let Some(raw) = input.email_address.as_deref() else {
        return Err(ApiError::invalid("form_param_missing", "email_address", "email_address must be included."));
    };
    let email = validate::email("email_address", raw)?.to_lowercase();
    let role = input.role.unwrap_or_else(|| MEMBER_ROLE.into());
    known_role(state, &role).await?;
    let days = input.expires_in_days.unwrap_or(MAX_LIFETIME_DAYS);
    if !(1..=MAX_LIFETIME_DAYS).contains(&days) {
        return Err(ApiError::format("expires_in_days", "expires_in_days must be between 1 and 30."));
    }
    if let Some(inviter) = &input.inviter_user_id
        && state.store.get_user(inviter).await?.is_none()
    {
        return Err(ApiError::invalid(
            "resource_not_found",
            "inviter_user_id",
            "No user was found with that inviter_user_id.",
        ));
    }
    let redirect_url = match input.redirect_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Some(state.origins.safe_redirect(u).ok_or_else(|| {
            ApiError::format("redirect_url", "redirect_url must be a path or an allowed http(s) URL.")
        })?),
        None => None,
    };
    let existing = super::account::find_user(state, &email).await?;
    if let Some(user) = &existing
        && state.store.get_membership(&org.id, &user.id).await?.is_some()
    {
        return Err(ApiError::invalid(
            "already_a_member_in_organization",
            "email_address",
            format!("{email} is already a member of the organization."),
        ));
    }
    let now = state.now();
    let ticket = ids::random_base62(43);
    let invitation = InvitationRecord {
        id: ids::new_id("orginv"),
        organization_id: org.id.clone(),
        email_address: email.clone(),
        role,
        status: InvitationStatus::Pending,
        inviter_user_id: input.inviter_user_id,
        redirect_url,
        ticket_digest: digest(&ticket),
        public_metadata: validate::metadata("public_metadata", input.public_metadata.unwrap_or_default())?,
        private_metadata: validate::metadata("private_metadata", input.private_metadata.unwrap_or_default())?,
        expires_at: now + days * 24 * 3600 * 1000,
        created_at: now,
        updated_at: now,
    };
    // The link leads to the page that fits: someone with an account signs in, anyone else signs
    // up (the Backend API caller may know which; the link holder learns nothing new).
    let page = if existing.is_some() { "sign-in" } else { "sign-up" };
    let query = {
        // (The serializer is not Send, so it must not live across an await.)
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("__clerk_ticket", &ticket);
        if let Some(r) = &invitation.redirect_url {
            query.append_pair("redirect_url", r);
        }
        query.finish()
    };
    let link = format!("{}/{page}?{query}", state.issuer);
    let audited = actor.map(|actor| {
        let event = super::audit::Event::success(actor, AuditAction::InvitationCreated, Some(&org.id))
            .detail(&invitation.email_address);
        super::audit::Audited::new(state, event)
    });
    audited.as_ref().map_or(state.store.as_ref(), super::audit::Audited::store).create_invitation(&invitation).await?;
    if let Some(audited) = &audited {
        audited.done();
    }
    let app = &state.config.application_name;
    codes::notify(
        state,
        &email,
        format!("You are invited to join {} on {app}", org.name),
        format!(
            "You have been invited to join {} on {app}.\n\nOpen this link to accept: {link}\n\n\
             It works once and expires in {days} days. If you did not expect it, you can ignore this message.",
            org.name
        ),
    )
    .await?;
    Ok((invitation, link))
}

fn digest(ticket: &str) -> String {
    ids::sha256_hex(ticket.trim().as_bytes())
}

/// The pending, unexpired invitation whose ticket this is.
pub async fn pending(state: &AppState, ticket: &str) -> ApiResult<Option<InvitationRecord>> {
    let found = state.store.get_invitation_by_ticket(&digest(ticket)).await?;
    Ok(found.filter(|i| i.status == InvitationStatus::Pending && i.expires_at > state.now()))
}

/// Pending, unexpired invitations to any of the user's verified addresses, newest first.
pub async fn pending_for(state: &AppState, user: &crate::store::UserRecord) -> ApiResult<Vec<InvitationRecord>> {
    let mut all = Vec::new();
    for e in user.emails.iter().filter(|e| e.verified) {
        let filter = crate::store::InvitationFilter {
            organization_id: None,
            email_address: Some(e.value.to_lowercase()),
            status: Some(InvitationStatus::Pending),
        };
        all.extend(state.store.list_invitations(&filter, crate::store::Page { limit: 100, offset: 0 }).await?.0);
    }
    let now = state.now();
    all.retain(|i| i.expires_at > now);
    all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    Ok(all)
}

/// The refusal of a ticket that is unknown, used, revoked or expired.
pub fn ticket_invalid() -> ApiError {
    ApiError::invalid("ticket_invalid", "ticket", "This invitation link is invalid, was already used, or expired.")
}

/// Makes `user_id` a member as `invitation` says and uses the invitation up.
pub async fn accept(state: &AppState, invitation: &InvitationRecord, user_id: &str) -> ApiResult<()> {
    let now = state.now();
    let membership = MembershipRecord {
        id: ids::new_id("orgmem"),
        organization_id: invitation.organization_id.clone(),
        user_id: user_id.to_owned(),
        role: invitation.role.clone(),
        public_metadata: invitation.public_metadata.clone(),
        private_metadata: invitation.private_metadata.clone(),
        created_at: now,
        updated_at: now,
    };
    match state.store.accept_invitation(&invitation.id, &membership, now).await? {
        InvitationAcceptance::Joined(_) | InvitationAcceptance::AlreadyMember => Ok(()),
        InvitationAcceptance::NotPending => Err(ticket_invalid()),
        InvitationAcceptance::Full => Err(quota_exceeded()),
    }
}

/// The organization has no room for another member.
pub fn quota_exceeded() -> ApiError {
    ApiError::Forbidden(usher_types::ClerkError::new(
        "organization_membership_quota_exceeded",
        "Membership quota exceeded",
        "The organization has reached its maximum number of memberships.",
    ))
}

/// [`invite`] by an instance admin or the secret key, recorded with its actor.
pub async fn invite_as(
    state: &AppState,
    actor: &super::audit::Actor,
    org: &OrganizationRecord,
    input: NewInvitation,
) -> ApiResult<(InvitationRecord, String)> {
    create(state, Some(actor), org, input).await
}

/// Revokes a pending invitation of `org`; one already accepted, revoked or expired stays so.
pub async fn revoke(
    state: &AppState,
    actor: &super::audit::Actor,
    org: &OrganizationRecord,
    invitation_id: &str,
) -> ApiResult<InvitationRecord> {
    let not_pending = |status: InvitationStatus| {
        ApiError::invalid(
            "organization_invitation_not_pending",
            "invitation_id",
            format!("This invitation is {} and can no longer be revoked.", status.as_str()),
        )
    };
    let pending = match state.store.get_invitation(invitation_id).await? {
        Some(i) if i.organization_id != org.id => return Err(ApiError::NotFound("organization invitation")),
        // Revoked once is enough: a second revocation is refused, not recorded again.
        Some(i) if i.status != InvitationStatus::Pending => return Err(not_pending(i.status)),
        Some(i) => i,
        None => return Err(ApiError::NotFound("organization invitation")),
    };
    let event = super::audit::Event::success(actor, AuditAction::InvitationRevoked, Some(&org.id))
        .detail(&pending.email_address);
    let audited = super::audit::Audited::new(state, event);
    let settled = audited
        .store()
        .settle_invitation(invitation_id, InvitationStatus::Revoked, state.now())
        .await?
        .ok_or(ApiError::NotFound("organization invitation"))?;
    if settled.status != InvitationStatus::Revoked {
        return Err(not_pending(settled.status));
    }
    audited.done();
    Ok(settled)
}
