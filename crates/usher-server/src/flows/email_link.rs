//! Email links ("magic links"): the `email_link` strategy, as a sign-in's first factor and as a
//! sign-up's email verification. Preparing mails `<issuer>/v1/verify?token=<attempt id>.<secret>`;
//! the secret is stored only as a MAC (in the one-time code table, under `email_link:<attempt>`),
//! works once, survives [`codes::MAX_GUESSES`] wrong tries and expires in ten minutes.
//!
//! Which browser gets the session: **only the browser that started the attempt**. Opening the
//! link in that same browser (its `__client` cookie names the attempt's client) verifies and
//! finishes at once and redirects to the attempt's `redirect_url`. Opened anywhere else (another
//! device, another browser, a mail scanner following links) nothing happens until the person
//! confirms on a page that says a sign-in was asked for from another browser; then the
//! verification is marked `verified` (with `verified_at_client`), that page says "return to
//! your original tab", and the original tab — which polls the attempt as clerk-js does — gets
//! the session on its next read. We chose this over completing wherever the link is opened
//! because the session must land where the person is signing in (that is Clerk's model too),
//! and over refusing other devices outright because reading mail on a phone while signing in on
//! a laptop is common. The confirmation step is what stops the known attack on this model: an
//! attacker starting a sign-in for the victim's address and hoping the victim clicks the link
//! (or that a scanner fetches it) — a bare `GET` from a foreign browser never verifies.
//!
//! An identifier without an account gets a decoy secret nobody is sent, so every answer is the
//! same; a sign-up for a taken address gets the "you already have an account" notice instead.

use serde::{Deserialize, Serialize};
use usher_types::{Strategy, VerificationStatus};

use super::{
    Browser,
    codes::{self, CodeCheck},
    sign_in::{self, SignIn, SignInStatus, Verification},
    sign_up::{self, SignUp, SignUpStatus},
};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{AttemptKind, AttemptRecord},
};

/// What an attempt remembers about the link it was sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkProgress {
    /// Where the link's tab goes once verified (checked against the allowed origins).
    pub redirect_url: String,
    /// The client whose browser opened the link (Clerk's `verified_at_client`).
    pub verified_at_client: Option<String>,
}

/// What opening (or confirming) a link came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Verified in the browser that started the attempt: go here (with Clerk's
    /// `__clerk_status=verified` and, when the attempt finished, `__clerk_created_session`).
    Redirect(String),
    /// Opened in another browser: ask the person to confirm before anything happens.
    Confirm,
    /// Verified for the browser that started the attempt, which finishes it.
    VerifiedElsewhere,
    /// The link expired; go here (`__clerk_status=expired`) when the link's browser started
    /// the attempt.
    Expired(Option<String>),
    /// Unknown, already used, or for an attempt that is over.
    Invalid,
}

fn subject(attempt_id: &str) -> String {
    format!("email_link:{attempt_id}")
}

/// `redirect_url`, required and on an allowed origin (or a path on usher's own).
fn checked_redirect(state: &AppState, raw: Option<&str>) -> ApiResult<String> {
    let raw = raw.map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
        ApiError::invalid("form_param_missing", "redirect_url", "redirect_url is required for an email link.")
    })?;
    state.origins.safe_redirect(raw).ok_or_else(|| {
        ApiError::invalid("form_param_value_invalid", "redirect_url", "redirect_url must be on an allowed origin.")
    })
}

/// Stores a fresh link secret for the attempt (the earlier link stops working) and queues
/// `mail` built from its URL, or nothing when `to` is `None`.
async fn send(
    state: &AppState,
    attempt_id: &str,
    to: Option<&str>,
    mail: impl FnOnce(&str) -> (String, String),
) -> ApiResult<()> {
    let secret = ids::random_base62(32);
    let url = format!("{}/v1/verify?token={attempt_id}.{secret}", state.issuer);
    let subject = subject(attempt_id);
    let mail = to.map(|to| {
        let (title, body) = mail(&url);
        (to, title, body)
    });
    codes::issue_secret(state, &subject, &subject, &secret, mail).await
}

fn link_mail(state: &AppState, url: &str, kind: &str, purpose: &str) -> (String, String) {
    let app = &state.config.application_name;
    (
        format!("Your {app} {kind} link"),
        format!(
            "Open this link to {purpose}:\n\n{url}\n\nIt expires in 10 minutes and works once.\n\
             If you did not ask for it, you can ignore this message."
        ),
    )
}

fn unverified() -> Verification {
    Verification { status: VerificationStatus::Unverified, strategy: Strategy::EmailLink, attempts: 0, expire_at: None }
}

/// Mails a sign-in link to the attempt's address (a decoy, and no mail, without an account).
pub async fn prepare_sign_in(
    state: &AppState,
    browser: &mut Browser,
    id: &str,
    redirect_url: Option<&str>,
) -> ApiResult<SignIn> {
    let mut sign_in = sign_in::load(state, browser, id).await?;
    sign_in::needs_first_factor(&sign_in)?;
    let redirect_url = checked_redirect(state, redirect_url)?;
    let user = sign_in::account_of(state, &sign_in).await?;
    let to = sign_in::factor_email(&sign_in, user.as_ref());
    send(state, &sign_in.id, to.as_deref(), |url| link_mail(state, url, "sign-in", "sign in")).await?;
    sign_in.first_factor =
        Some(Verification { expire_at: Some(state.now() + codes::CODE_LIFETIME_MS), ..unverified() });
    sign_in.email_link = Some(LinkProgress { redirect_url, verified_at_client: None });
    sign_in::save(state, browser, &sign_in).await?;
    Ok(sign_in)
}

/// Mails a verification link for a sign-up's address (or, when it has an account, the notice).
pub async fn prepare_sign_up(
    state: &AppState,
    browser: &mut Browser,
    id: &str,
    redirect_url: Option<&str>,
) -> ApiResult<SignUp> {
    let mut sign_up = sign_up::in_progress(state, browser, id).await?;
    let Some(to) = sign_up.email_address.clone() else {
        return Err(ApiError::invalid("form_param_missing", "email_address", "Enter an email address first."));
    };
    let redirect_url = checked_redirect(state, redirect_url)?;
    if sign_up.email_taken {
        let (title, body) = sign_up::taken_notice(state);
        let subject = subject(&sign_up.id);
        codes::issue_secret(state, &subject, &subject, &ids::random_base62(32), Some((&to, title, body))).await?;
    } else {
        send(state, &sign_up.id, Some(&to), |url| link_mail(state, url, "sign-up", "finish signing up")).await?;
    }
    sign_up.email_verification =
        Some(Verification { expire_at: Some(state.now() + codes::CODE_LIFETIME_MS), ..unverified() });
    sign_up.email_link = Some(LinkProgress { redirect_url, verified_at_client: None });
    sign_up::save(state, browser, &sign_up).await?;
    Ok(sign_up)
}

/// Opens a link (`GET /v1/verify`), or confirms it from another browser (`confirmed`).
pub async fn verify(state: &AppState, browser: &mut Browser, token: &str, confirmed: bool) -> ApiResult<Outcome> {
    let Some((attempt_id, secret)) = token.trim().split_once('.') else { return Ok(Outcome::Invalid) };
    let record = match state.store.get_attempt(attempt_id).await? {
        Some(r) if r.expire_at > state.now() => r,
        _ => return Ok(Outcome::Invalid),
    };
    let same = browser.client.as_ref().is_some_and(|c| c.id == record.client_id);
    if !same && !confirmed {
        // Nothing is checked or spent before the person confirms: a scanner's fetch is harmless.
        return Ok(Outcome::Confirm);
    }
    let subject = subject(attempt_id);
    let check = codes::check_keyed(state, &subject, &subject, secret).await?;
    let verifier = browser.client.as_ref().map(|c| c.id.clone());
    match record.kind {
        AttemptKind::SignIn => verify_sign_in(state, browser, record, check, same, verifier).await,
        AttemptKind::SignUp => verify_sign_up(state, browser, record, check, same, verifier).await,
    }
}

async fn verify_sign_in(
    state: &AppState,
    browser: &mut Browser,
    record: AttemptRecord,
    check: CodeCheck,
    same: bool,
    verifier: Option<String>,
) -> ApiResult<Outcome> {
    let mut sign_in: SignIn = serde_json::from_value(record.data.clone()).map_err(|e| ApiError::Internal(e.into()))?;
    let Some(mut progress) = sign_in.email_link.clone() else { return Ok(Outcome::Invalid) };
    if sign_in.status != SignInStatus::NeedsFirstFactor {
        return Ok(Outcome::Invalid);
    }
    match check {
        CodeCheck::Accepted => {
            let user = sign_in::account_of(state, &sign_in).await?;
            let Some(user) = user.filter(|u| !u.banned && !u.is_locked(state.now())) else {
                return Ok(Outcome::Invalid);
            };
            sign_in.first_factor = Some(sign_in::verified(Strategy::EmailLink));
            progress.verified_at_client = verifier;
            sign_in.email_link = Some(progress.clone());
            if same {
                let done = sign_in::finish(state, browser, sign_in, &user).await?;
                Ok(Outcome::Redirect(with_status(
                    &progress.redirect_url,
                    "verified",
                    done.created_session_id.as_deref(),
                )))
            } else {
                save_for_origin(state, &record, &sign_in).await?;
                Ok(Outcome::VerifiedElsewhere)
            }
        }
        CodeCheck::Expired => {
            if let Some(f) = sign_in.first_factor.as_mut() {
                f.status = VerificationStatus::Expired;
            }
            save_for_origin(state, &record, &sign_in).await?;
            Ok(Outcome::Expired(same.then(|| with_status(&progress.redirect_url, "expired", None))))
        }
        CodeCheck::Incorrect | CodeCheck::Missing => Ok(Outcome::Invalid),
    }
}

async fn verify_sign_up(
    state: &AppState,
    browser: &mut Browser,
    record: AttemptRecord,
    check: CodeCheck,
    same: bool,
    verifier: Option<String>,
) -> ApiResult<Outcome> {
    let mut sign_up: SignUp = serde_json::from_value(record.data.clone()).map_err(|e| ApiError::Internal(e.into()))?;
    let Some(mut progress) = sign_up.email_link.clone() else { return Ok(Outcome::Invalid) };
    if sign_up.status == SignUpStatus::Complete {
        return Ok(Outcome::Invalid);
    }
    match check {
        // Nobody was sent a taken address's secret; should it be guessed, it verifies nothing.
        CodeCheck::Accepted if !sign_up.email_taken => {
            sign_up.email_verification =
                Some(Verification { status: VerificationStatus::Verified, attempts: 1, ..unverified() });
            progress.verified_at_client = verifier;
            sign_up.email_link = Some(progress.clone());
            if !same {
                save_for_origin(state, &record, &sign_up).await?;
                return Ok(Outcome::VerifiedElsewhere);
            }
            if sign_up.missing_fields().is_empty() {
                sign_up::complete(state, browser, &mut sign_up).await?;
            } else {
                sign_up::save(state, browser, &sign_up).await?;
            }
            Ok(Outcome::Redirect(with_status(
                &progress.redirect_url,
                "verified",
                sign_up.created_session_id.as_deref(),
            )))
        }
        CodeCheck::Expired => {
            if let Some(v) = sign_up.email_verification.as_mut() {
                v.status = VerificationStatus::Expired;
            }
            save_for_origin(state, &record, &sign_up).await?;
            Ok(Outcome::Expired(same.then(|| with_status(&progress.redirect_url, "expired", None))))
        }
        _ => Ok(Outcome::Invalid),
    }
}

/// Saves an attempt for the client that started it (not necessarily this browser's).
async fn save_for_origin<T: Serialize>(state: &AppState, record: &AttemptRecord, attempt: &T) -> ApiResult<()> {
    let data = serde_json::to_value(attempt).map_err(|e| ApiError::Internal(e.into()))?;
    let updated = AttemptRecord { data, updated_at: state.now(), ..record.clone() };
    state.store.save_attempt(&updated, None).await?;
    Ok(())
}

/// The browser that started a sign-in finishes it once its link was verified elsewhere (what
/// the polling tab's next read does).
pub async fn finish_sign_in(state: &AppState, browser: &mut Browser, sign_in: SignIn) -> ApiResult<SignIn> {
    let verified = sign_in
        .first_factor
        .as_ref()
        .is_some_and(|f| f.strategy == Strategy::EmailLink && f.status == VerificationStatus::Verified);
    if sign_in.status != SignInStatus::NeedsFirstFactor || !verified {
        return Ok(sign_in);
    }
    match sign_in::account_of(state, &sign_in).await? {
        Some(user) => sign_in::finish(state, browser, sign_in, &user).await,
        None => Ok(sign_in),
    }
}

/// Likewise for a sign-up whose address was verified by a link opened elsewhere.
pub async fn finish_sign_up(state: &AppState, browser: &mut Browser, mut sign_up: SignUp) -> ApiResult<SignUp> {
    let by_link = sign_up.email_verification.as_ref().is_some_and(|v| v.strategy == Strategy::EmailLink);
    if sign_up.status != SignUpStatus::Complete
        && by_link
        && sign_up.email_verified()
        && sign_up.missing_fields().is_empty()
    {
        sign_up::complete(state, browser, &mut sign_up).await?;
    }
    Ok(sign_up)
}

/// `target` with Clerk's `__clerk_status` (and `__clerk_created_session`) added to its query.
fn with_status(target: &str, status: &str, session: Option<&str>) -> String {
    let mut query = format!("__clerk_status={status}");
    if let Some(session) = session {
        query.push_str("&__clerk_created_session=");
        query.push_str(session);
    }
    let (base, fragment) = match target.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (target, None),
    };
    let joiner = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{joiner}{query}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_status;

    #[test]
    fn status_joins_the_query() {
        assert_eq!(with_status("/done", "verified", None), "/done?__clerk_status=verified");
        assert_eq!(
            with_status("https://app.test/a?x=1#f", "verified", Some("sess_1")),
            "https://app.test/a?x=1&__clerk_status=verified&__clerk_created_session=sess_1#f"
        );
    }
}
