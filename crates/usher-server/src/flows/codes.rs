//! One-time email codes: six digits from the OS CSPRNG, valid 10 minutes, for one subject (an
//! attempt or an email address), used once, and stored only as an HMAC under the secret key.

use crate::{
    error::ApiResult,
    ids,
    state::AppState,
    store::{CodeRecord, MailRecord},
};

/// How long a code works.
pub const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// Wrong guesses a code survives; after that a new one must be requested.
pub const MAX_GUESSES: i64 = 5;

/// What checking a code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right, and now used up.
    Accepted,
    /// Wrong (the guess was counted).
    Incorrect,
    /// Older than [`CODE_LIFETIME_MS`].
    Expired,
    /// No live code: never sent, already used, or too many wrong guesses.
    Missing,
}

fn code_hash(state: &AppState, subject_id: &str, code: &str) -> String {
    // The subject is part of the MAC, so a code only ever verifies the attempt it was sent for.
    ids::hmac_hex(state.config.secret_key.expose().as_bytes(), format!("{subject_id}:{code}").as_bytes())
}

/// Issues a fresh code for `subject_id` and queues the mail carrying it, atomically; an
/// earlier code for the same subject stops working.
pub async fn issue(state: &AppState, subject_id: &str, to: &str, purpose: &str) -> ApiResult<()> {
    let code = ids::random_digits(6);
    let mail = code_mail(state, &code, purpose);
    issue_secret(state, subject_id, subject_id, &code, Some((to, mail.0, mail.1))).await
}

/// The subject line and body of a mail carrying `code`.
pub fn code_mail(state: &AppState, code: &str, purpose: &str) -> (String, String) {
    let app = &state.config.application_name;
    (
        format!("Your {app} verification code"),
        format!(
            "Your {app} verification code is {code}.\n\nEnter it to {purpose}. It expires in 10 minutes and works once.\n\
             If you did not ask for it, you can ignore this message."
        ),
    )
}

/// Stores `secret` (a code or a link token) for `subject_id`, replacing the subject's earlier
/// one, and queues `mail` (to, subject, body) with it in one transaction. The stored MAC covers
/// `mac_key` (the subject, or the attempt a shared subject's code is bound to), so the secret
/// verifies nothing else.
pub async fn issue_secret(
    state: &AppState,
    subject_id: &str,
    mac_key: &str,
    secret: &str,
    mail: Option<(&str, String, String)>,
) -> ApiResult<()> {
    let mut record = record(state, subject_id, secret);
    record.code_hash = code_hash(state, mac_key, secret);
    let mail = mail.map(|(to, subject, body)| self::mail(state, to, subject, body));
    state.store.issue_code(&record, mail.as_ref()).await?;
    if mail.is_some() {
        state.mail_wakeup.notify_one();
    }
    Ok(())
}

/// Issues a code nobody is told, for an attempt whose identifier has no account (or whose
/// address is taken): it is stored, counted and expires exactly like a real one, so guesses
/// against it get the answers guesses against a real code get. `notice` (to, subject, body) is
/// queued with it instead of a code mail.
pub async fn issue_decoy(state: &AppState, subject_id: &str, notice: Option<(&str, String, String)>) -> ApiResult<()> {
    let record = record(state, subject_id, &ids::random_digits(6));
    let notice = notice.map(|(to, subject, body)| mail(state, to, subject, body));
    state.store.issue_code(&record, notice.as_ref()).await?;
    if notice.is_some() {
        state.mail_wakeup.notify_one();
    }
    Ok(())
}

fn record(state: &AppState, subject_id: &str, code: &str) -> CodeRecord {
    let now = state.now();
    CodeRecord {
        subject_id: subject_id.to_owned(),
        code_hash: code_hash(state, subject_id, code),
        attempts: 0,
        expire_at: now + CODE_LIFETIME_MS,
        created_at: now,
    }
}

/// Queues a message without a code (for example "you already have an account").
pub async fn notify(state: &AppState, to: &str, subject: String, body: String) -> ApiResult<()> {
    state.store.enqueue_mail(&mail(state, to, subject, body)).await?;
    state.mail_wakeup.notify_one();
    Ok(())
}

/// A queued message; its body is sealed (see [`crate::mail::sealed`]).
fn mail(state: &AppState, to: &str, subject: String, body: String) -> MailRecord {
    let now = state.now();
    MailRecord {
        id: ids::new_id("mail"),
        to: to.to_owned(),
        subject,
        body: state.sealer.seal_text(&body),
        attempts: 0,
        next_attempt_at: now,
        sent_at: None,
        last_error: None,
        created_at: now,
    }
}

/// Checks `code` for `subject_id`; every guess takes one of the code's [`MAX_GUESSES`] before
/// it is compared, and a right code is consumed.
pub async fn check(state: &AppState, subject_id: &str, code: &str) -> ApiResult<CodeCheck> {
    check_keyed(state, subject_id, subject_id, code).await
}

/// [`check`] for a secret stored by [`issue_secret`] under `mac_key`.
pub async fn check_keyed(state: &AppState, subject_id: &str, mac_key: &str, code: &str) -> ApiResult<CodeCheck> {
    let Some(stored) = state.store.take_guess(subject_id, MAX_GUESSES).await? else {
        return Ok(CodeCheck::Missing);
    };
    if stored.expire_at <= state.now() {
        return Ok(CodeCheck::Expired);
    }
    let presented = code_hash(state, mac_key, code.trim());
    if !ids::secrets_equal(presented.as_bytes(), stored.code_hash.as_bytes()) {
        return Ok(CodeCheck::Incorrect);
    }
    // Only one of two concurrent right answers gets the row.
    Ok(if state.store.consume_code(subject_id, &stored.code_hash).await? {
        CodeCheck::Accepted
    } else {
        CodeCheck::Missing
    })
}
