//! The console's webhook endpoints: the list, creating one, and an endpoint's page (edit,
//! enable or disable, rotate its secret, delete) with its delivery log (each message's
//! delivery status, attempts and next retry, the attempts with their answers) and replay. The
//! work is [`crate::flows::webhooks`]'s, the same the Backend API calls: the URL is validated
//! the same way, and every change is in the audit log with the admin as the actor.

use std::fmt::Write as _;

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};

use super::{Admin, AdminPost, Fields, button_form, csrf_field, enter, frame, given, pager, problem_page};
use crate::{
    error::{ApiError, ApiResult},
    flows::{Browser, audit::Actor, webhooks},
    http::extract::{Path, Query},
    pages::layout::{self, Problem, escape, format_time, url_encode},
    state::AppState,
    store::{DeliveryStatus, EndpointRecord, Page},
    webhooks::endpoints::{EVENT_TYPES, EndpointChange},
};

/// The webhook screens' routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", get(list).post(create))
        .route("/admin/webhooks/{id}", get(endpoint_page))
        .route("/admin/webhooks/{id}/edit", post(edit))
        .route("/admin/webhooks/{id}/enable", post(enable))
        .route("/admin/webhooks/{id}/disable", post(disable))
        .route("/admin/webhooks/{id}/rotate_secret", post(rotate_secret))
        .route("/admin/webhooks/{id}/delete", post(delete))
        .route("/admin/webhooks/{id}/messages/{message_id}/replay", post(replay))
}

/// Endpoints shown on a page of the list.
const ENDPOINTS_PER_PAGE: i64 = 25;
/// Deliveries (and attempts) shown on a page of an endpoint's log.
const LOG_PER_PAGE: i64 = 25;

fn endpoint_path(id: &str) -> String {
    format!("/admin/webhooks/{}", url_encode(id))
}

/// `GET /admin/webhooks`: the endpoints and the create form.
async fn list(State(state): State<AppState>, browser: Browser, Query(f): Query<Fields>) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match list_body(&state, &admin, &f).await {
        Ok(body) => frame(&state, Some(&admin), StatusCode::OK, "Webhooks", &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/webhooks")),
    }
}

async fn list_body(state: &AppState, admin: &Admin, f: &Fields) -> ApiResult<String> {
    let page = f.page.unwrap_or(1).clamp(1, 1_000_000);
    let (found, total) =
        state.store.list_endpoints(Page { limit: ENDPOINTS_PER_PAGE, offset: (page - 1) * ENDPOINTS_PER_PAGE }).await?;
    let mut body = String::new();
    if given(&f.done) == Some("deleted") {
        body.push_str(&layout::status(Some("Endpoint deleted")));
    }
    let _ = write!(body, "<p class=\"muted\" role=\"status\">{total} endpoints</p>");
    body.push_str(
        "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">URL</th><th scope=\"col\">Events</th>\
         <th scope=\"col\">State</th><th scope=\"col\">Created</th></tr></thead><tbody>",
    );
    for e in &found {
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\">{}</a><br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&endpoint_path(&e.id)),
            escape(&e.url),
            escape(&e.description),
            events_text(e),
            state_tag(e),
            escape(&format_time(e.created_at)),
        );
    }
    body.push_str("</tbody></table></div>");
    body.push_str(&pager("/admin/webhooks", &[], page, (total + ENDPOINTS_PER_PAGE - 1) / ENDPOINTS_PER_PAGE));
    let _ = write!(
        body,
        "<h2>Add an endpoint</h2><form method=\"post\" action=\"/admin/webhooks\">{csrf}{fields}\
         <button type=\"submit\">Add endpoint</button></form>",
        csrf = csrf_field(admin),
        fields = endpoint_fields(None),
    );
    Ok(body)
}

fn events_text(e: &EndpointRecord) -> String {
    if e.event_types.is_empty() { "all".to_owned() } else { escape(&e.event_types.join(", ")) }
}

fn state_tag(e: &EndpointRecord) -> &'static str {
    match (e.enabled, e.failing_since) {
        (false, _) => "<span class=\"tag warn\">disabled</span>",
        (true, Some(_)) => "<span class=\"tag warn\">failing</span>",
        (true, None) => "<span class=\"tag ok\">enabled</span>",
    }
}

/// The URL, description and event filter of an endpoint's form, filled from `e` if given.
fn endpoint_fields(e: Option<&EndpointRecord>) -> String {
    let mut boxes = String::new();
    for (n, t) in EVENT_TYPES.iter().enumerate() {
        let checked = if e.is_some_and(|e| e.event_types.iter().any(|x| x == t)) { " checked" } else { "" };
        let _ = write!(
            boxes,
            "<li><input type=\"checkbox\" id=\"event-{n}\" name=\"event_types\" value=\"{t}\"{checked}> <label for=\"event-{n}\">{t}</label></li>"
        );
    }
    format!(
        "<div class=\"field\"><label for=\"url\">URL</label><p class=\"hint\" id=\"url-hint\">http or https; events are POSTed here, signed.</p>\
         <input type=\"url\" id=\"url\" name=\"url\" required maxlength=\"2048\" value=\"{url}\" aria-describedby=\"url-hint\"></div>\
         <div class=\"field\"><label for=\"description\">Description</label>\
         <input type=\"text\" id=\"description\" name=\"description\" maxlength=\"512\" value=\"{description}\"></div>\
         <fieldset><legend>Events</legend><p class=\"hint\">None ticked: every event.</p><ul class=\"list\">{boxes}</ul></fieldset>",
        url = escape(e.map_or("", |e| e.url.as_str())),
        description = escape(e.map_or("", |e| e.description.as_str())),
    )
}

/// The form's endpoint change: every field as typed (no box ticked: every event).
fn change(f: &Fields) -> EndpointChange {
    EndpointChange {
        url: Some(f.url.clone().unwrap_or_default().trim().to_owned()),
        description: Some(f.description.clone().unwrap_or_default().trim().to_owned()),
        event_types: Some(f.event_types.clone()),
        enabled: None,
    }
}

/// The page showing a new secret, once.
fn secret_page(state: &AppState, admin: &Admin, e: &EndpointRecord, secret: &str, title: &str) -> Response {
    let body = format!(
        "<p>The endpoint's signing secret is below. Copy it now: it is not shown again.</p>\
         <p><code id=\"webhook-secret\">{}</code></p><p><a href=\"{}\">Go to the endpoint</a></p>",
        escape(secret),
        escape(&endpoint_path(&e.id)),
    );
    frame(state, Some(admin), StatusCode::OK, title, &body)
}

/// `POST /admin/webhooks`: creates the endpoint and shows its secret once.
async fn create(State(state): State<AppState>, post: AdminPost) -> Response {
    let admin = match post.admitted(&state, "/admin/webhooks").await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match webhooks::create(&state, &Actor::admin(&admin.user.id), change(&post.fields)).await {
        Ok((e, secret)) => secret_page(&state, &admin, &e, &secret, "Endpoint added"),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/webhooks")),
    }
}

/// `POST /admin/webhooks/{id}/rotate_secret`: a new secret, shown once.
async fn rotate_secret(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    let back = endpoint_path(&id);
    let admin = match post.admitted(&state, &back).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match webhooks::rotate_secret(&state, &Actor::admin(&admin.user.id), &id).await {
        Ok((e, secret)) => secret_page(&state, &admin, &e, &secret, "Secret rotated"),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some(&back)),
    }
}

/// `GET /admin/webhooks/{id}`: the endpoint and its delivery log.
async fn endpoint_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    browser: Browser,
    Query(f): Query<Fields>,
) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match endpoint_body(&state, &admin, &id, &f).await {
        Ok(body) => frame(&state, Some(&admin), StatusCode::OK, "Webhook endpoint", &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/webhooks")),
    }
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "saved" => "Endpoint saved",
        "enabled" => "Endpoint enabled",
        "disabled" => "Endpoint disabled",
        "replayed" => "Message queued for delivery again",
        _ => return None,
    })
}

async fn endpoint_body(state: &AppState, admin: &Admin, id: &str, f: &Fields) -> ApiResult<String> {
    let e = webhooks::load(state, id).await?;
    let base = endpoint_path(&e.id);
    let now = state.now();
    let mut body = layout::status(done_message(given(&f.done)));
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Id</dt><dd><code>{}</code></dd><dt>URL</dt><dd>{}</dd><dt>Events</dt><dd>{}</dd>\
         <dt>State</dt><dd>{}</dd><dt>Failing since</dt><dd>{}</dd><dt>Previous secret signs until</dt><dd>{}</dd>\
         <dt>Created</dt><dd>{}</dd></dl>",
        escape(&e.id),
        escape(&e.url),
        events_text(&e),
        state_tag(&e),
        e.failing_since.map_or_else(|| "—".to_owned(), |t| escape(&format_time(t))),
        e.previous_secret_until.filter(|t| *t > now).map_or_else(|| "—".to_owned(), |t| escape(&format_time(t))),
        escape(&format_time(e.created_at)),
    );
    body.push_str("<div class=\"actions\">");
    if e.enabled {
        body.push_str(&button_form(admin, &format!("{base}/disable"), "Disable", ""));
    } else {
        body.push_str(&button_form(admin, &format!("{base}/enable"), "Enable", ""));
    }
    body.push_str(&button_form(admin, &format!("{base}/rotate_secret"), "Rotate secret", "danger"));
    body.push_str("</div>");

    // The delivery log: one row per message routed to this endpoint, newest first.
    let page = f.page.unwrap_or(1).clamp(1, 1_000_000);
    let log_page = Page { limit: LOG_PER_PAGE, offset: (page - 1) * LOG_PER_PAGE };
    let (deliveries, total) = state.store.list_deliveries(&e.id, log_page).await?;
    let _ = write!(
        body,
        "<h2>Delivery log</h2><p class=\"muted\" role=\"status\">{total} messages</p><div class=\"scroll\"><table><thead><tr>\
         <th scope=\"col\">Message</th><th scope=\"col\">Event</th><th scope=\"col\">Status</th><th scope=\"col\">Attempts</th>\
         <th scope=\"col\">Next retry</th><th scope=\"col\">Written</th><th scope=\"col\">Actions</th></tr></thead><tbody>"
    );
    for d in &deliveries {
        let event = state.store.get_message(&d.message_id).await?.map(|m| m.event_type).unwrap_or_default();
        let status = match d.status {
            DeliveryStatus::Succeeded => "<span class=\"tag ok\">succeeded</span>",
            DeliveryStatus::Pending => "<span class=\"tag\">pending</span>",
            DeliveryStatus::Failed => "<span class=\"tag warn\">failed</span>",
        };
        let next =
            if d.status == DeliveryStatus::Pending { escape(&format_time(d.next_attempt_at)) } else { "—".into() };
        let _ = write!(
            body,
            "<tr><td><code>{}</code></td><td>{}</td><td>{status}</td><td>{}</td><td>{next}</td><td>{}</td><td>{}</td></tr>",
            escape(&d.message_id),
            escape(&event),
            d.attempts,
            escape(&format_time(d.message_created_at)),
            button_form(admin, &format!("{base}/messages/{}/replay", url_encode(&d.message_id)), "Replay", ""),
        );
    }
    body.push_str("</tbody></table></div>");
    body.push_str(&pager(&base, &[], page, (total + LOG_PER_PAGE - 1) / LOG_PER_PAGE));

    let (attempts, _) = state.store.list_webhook_attempts(&e.id, Page { limit: LOG_PER_PAGE, offset: 0 }).await?;
    body.push_str(
        "<h3>Latest attempts</h3><div class=\"scroll\"><table><thead><tr><th scope=\"col\">When</th>\
         <th scope=\"col\">Message</th><th scope=\"col\">Result</th><th scope=\"col\">Response</th>\
         <th scope=\"col\">Took</th><th scope=\"col\">Error</th></tr></thead><tbody>",
    );
    for a in &attempts {
        let _ = write!(
            body,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{} ms</td><td>{}</td></tr>",
            escape(&format_time(a.created_at)),
            escape(&a.message_id),
            if a.succeeded { "<span class=\"tag ok\">ok</span>" } else { "<span class=\"tag warn\">failed</span>" },
            a.status_code.map_or_else(|| "—".to_owned(), |c| c.to_string()),
            a.latency_ms,
            escape(a.error.as_deref().unwrap_or_default()),
        );
    }
    body.push_str("</tbody></table></div>");

    let _ = write!(
        body,
        "<h2>Edit</h2><form method=\"post\" action=\"{base}/edit\">{csrf}{fields}<button type=\"submit\">Save endpoint</button></form>\
         <h2>Delete</h2><form method=\"post\" action=\"{base}/delete\">{csrf}\
         <div class=\"field\"><label for=\"confirm\">Type the endpoint id to confirm</label>\
         <input type=\"text\" id=\"confirm\" name=\"confirm\" required autocomplete=\"off\"></div>\
         <button type=\"submit\" class=\"danger\">Delete endpoint</button></form>",
        base = escape(&base),
        csrf = csrf_field(admin),
        fields = endpoint_fields(Some(&e)),
    );
    Ok(body)
}

/// A console action on the endpoint `id`, answered with its page and `done`.
async fn on_endpoint(
    state: AppState,
    post: AdminPost,
    id: String,
    done: &'static str,
    action: impl AsyncFnOnce(&AppState, &Actor, &str, &Fields) -> ApiResult<()>,
) -> Response {
    let back = endpoint_path(&id);
    post.answer(&state, &back.clone(), async move |state, admin, f| {
        action(state, &Actor::admin(&admin.user.id), &id, f).await?;
        Ok(format!("{back}?done={done}"))
    })
    .await
}

async fn edit(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_endpoint(state, post, id, "saved", async |s, a, id, f| webhooks::update(s, a, id, change(f)).await.map(drop))
        .await
}

async fn toggle(state: AppState, post: AdminPost, id: String, on: bool) -> Response {
    let done = if on { "enabled" } else { "disabled" };
    on_endpoint(state, post, id, done, async move |s, a, id, _| {
        let change = EndpointChange { enabled: Some(on), ..EndpointChange::default() };
        webhooks::update(s, a, id, change).await.map(drop)
    })
    .await
}

async fn enable(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    toggle(state, post, id, true).await
}

async fn disable(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    toggle(state, post, id, false).await
}

async fn replay(
    State(state): State<AppState>,
    Path((id, message_id)): Path<(String, String)>,
    post: AdminPost,
) -> Response {
    on_endpoint(state, post, id, "replayed", async move |s, a, id, _| {
        webhooks::replay(s, a, &message_id, Some(id)).await.map(drop)
    })
    .await
}

async fn delete(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    let back = endpoint_path(&id);
    post.answer(&state, &back, async |state, admin, f| {
        if given(&f.confirm) != Some(id.as_str()) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "confirm",
                "Type the endpoint id exactly to confirm the deletion.",
            ));
        }
        webhooks::delete(state, &Actor::admin(&admin.user.id), &id).await?;
        Ok("/admin/webhooks?done=deleted".to_owned())
    })
    .await
}
