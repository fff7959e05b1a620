//! `/admin/templates`: JWT templates — list, create, edit, delete, and a preview of the claims a
//! template gives a chosen user. Saving goes through [`crate::flows::templates`], the Backend
//! API's own rules; the preview is the mint's own claims ([`crate::tokens::template_claims`]),
//! of the text in the form (saved or not), neither signed nor stored.

use std::fmt::Write as _;

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use serde_json::Value;
use usher_types::requests::JwtTemplateParams;

use super::{Admin, AdminPost, Fields, csrf_field, enter, frame, given, problem_page, see_other};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser,
        audit::Actor,
        templates::{self, ALGORITHMS},
    },
    http::extract::{Path, Query},
    pages::layout::{self, Problem, escape, format_time, url_encode},
    state::AppState,
    store::{Page, TemplateRecord},
};

/// The template routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/templates", get(list).post(create))
        .route("/admin/templates/new", get(new))
        .route("/admin/templates/{id}", get(edit).post(save))
        .route("/admin/templates/{id}/delete", post(delete))
}

/// Templates shown on the list (the Backend API caps its lists the same way).
const TEMPLATES_SHOWN: i64 = 500;

/// `GET /admin/templates`.
async fn list(State(state): State<AppState>, browser: Browser, Query(f): Query<Fields>) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    let (found, total) = match state.store.list_templates(Page { limit: TEMPLATES_SHOWN, offset: 0 }).await {
        Ok(found) => found,
        Err(e) => return problem_page(&state, Some(&admin), &Problem::of(&e.into()), Some("/admin")),
    };
    let mut body = String::new();
    if given(&f.done) == Some("deleted") {
        body.push_str(&layout::status(Some("Template deleted")));
    }
    let _ = write!(
        body,
        "<p class=\"actions\"><a href=\"/admin/templates/new\">New template</a></p><p class=\"muted\" role=\"status\">{total} templates</p>"
    );
    if !found.is_empty() {
        body.push_str(
            "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Lifetime</th>\
             <th scope=\"col\">Signed with</th><th scope=\"col\">Changed</th></tr></thead><tbody>",
        );
        for t in &found {
            let _ = write!(
                body,
                "<tr><td><a href=\"/admin/templates/{}\">{}</a><br><code class=\"muted\">{}</code></td><td>{} s</td><td>{}</td><td>{}</td></tr>",
                escape(&url_encode(&t.id)),
                escape(&t.name),
                escape(&t.id),
                t.lifetime,
                if t.custom_signing_key {
                    format!("custom key ({})", escape(&t.signing_algorithm))
                } else {
                    "the instance key".to_owned()
                },
                escape(&format_time(t.updated_at)),
            );
        }
        body.push_str("</tbody></table></div>");
    }
    frame(&state, Some(&admin), StatusCode::OK, "JWT templates", &body)
}

/// `GET /admin/templates/new`.
async fn new(State(state): State<AppState>, browser: Browser) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    let draft = Draft::of(&TemplateRecord {
        lifetime: 60,
        allowed_clock_skew: 5,
        signing_algorithm: "RS256".into(),
        claims: Value::Object(serde_json::Map::new()),
        ..TemplateRecord::default()
    });
    let body = editor(&admin, None, &draft, None, None);
    frame(&state, Some(&admin), StatusCode::OK, "New JWT template", &body)
}

/// `GET /admin/templates/{id}`.
async fn edit(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Query(f): Query<Fields>,
) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    let template = match templates::load(&state, &id).await {
        Ok(t) => t,
        Err(e) => return problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/templates")),
    };
    let mut body = String::new();
    let done = match given(&f.done) {
        Some("created") => Some("Template created"),
        Some("saved") => Some("Template saved"),
        _ => None,
    };
    body.push_str(&layout::status(done));
    body.push_str(&editor(&admin, Some(&template), &Draft::of(&template), None, None));
    frame(&state, Some(&admin), StatusCode::OK, &template.name, &body)
}

/// The editor's fields as typed (or as stored).
struct Draft {
    name: String,
    claims: String,
    lifetime: String,
    allowed_clock_skew: String,
    custom_signing_key: bool,
    signing_algorithm: String,
    user: String,
    organization_id: String,
}

impl Draft {
    fn of(t: &TemplateRecord) -> Self {
        Self {
            name: t.name.clone(),
            claims: serde_json::to_string_pretty(&t.claims).unwrap_or_default(),
            lifetime: t.lifetime.to_string(),
            allowed_clock_skew: t.allowed_clock_skew.to_string(),
            custom_signing_key: t.custom_signing_key,
            signing_algorithm: t.signing_algorithm.clone(),
            user: String::new(),
            organization_id: String::new(),
        }
    }

    fn from_form(f: &Fields) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            name: text(&f.name),
            claims: text(&f.claims),
            lifetime: text(&f.lifetime),
            allowed_clock_skew: text(&f.allowed_clock_skew),
            custom_signing_key: given(&f.custom_signing_key).is_some(),
            signing_algorithm: given(&f.signing_algorithm).unwrap_or("RS256").to_owned(),
            user: text(&f.user),
            organization_id: text(&f.organization_id),
        }
    }
}

/// The form as Backend API parameters; a field that does not parse is an error about it. An
/// empty signing key keeps the stored one (the key is write-only and never shown).
fn params(f: &Fields) -> ApiResult<JwtTemplateParams> {
    let number = |param: &'static str, v: &Option<String>| -> ApiResult<i64> {
        let text = v.as_deref().unwrap_or_default().trim();
        text.parse().map_err(|_| {
            ApiError::invalid("form_param_format_invalid", param, format!("{param} must be a whole number of seconds."))
        })
    };
    let claims_text = f.claims.as_deref().unwrap_or_default();
    let claims: Value = serde_json::from_str(claims_text)
        .map_err(|e| ApiError::format("claims", format!("claims must be valid JSON: {e}.")))?;
    Ok(JwtTemplateParams {
        name: Some(f.name.clone().unwrap_or_default()),
        claims: Some(claims),
        lifetime: Some(number("lifetime", &f.lifetime)?),
        allowed_clock_skew: Some(number("allowed_clock_skew", &f.allowed_clock_skew)?),
        custom_signing_key: Some(given(&f.custom_signing_key).is_some()),
        signing_algorithm: given(&f.signing_algorithm).map(str::to_owned),
        signing_key: given(&f.signing_key).map(str::to_owned),
    })
}

/// An error paragraph beside field `name` when `problem` is about it, and the attributes that
/// tie the field to it.
fn field_error(problem: Option<&Problem>, name: &str) -> (String, &'static str) {
    match problem.filter(|p| p.param.as_deref() == Some(name)) {
        Some(p) => (
            format!("<p class=\"field-error\" id=\"{name}-error\">{}</p>", escape(&p.message)),
            " aria-invalid=\"true\"",
        ),
        None => (String::new(), ""),
    }
}

/// The editor: the template's fields, the preview's user and organization, and (for a saved
/// template) deletion. `problem` shows beside its field; `preview` is the rendered claims.
fn editor(
    admin: &Admin,
    saved: Option<&TemplateRecord>,
    d: &Draft,
    problem: Option<&Problem>,
    preview: Option<&str>,
) -> String {
    let action =
        saved.map_or_else(|| "/admin/templates".to_owned(), |t| format!("/admin/templates/{}", url_encode(&t.id)));
    let mut body = String::new();
    if let Some(p) = problem {
        body.push_str(&layout::alert(Some(p), false));
    }
    let described = |name: &str, hint: bool| {
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("{name}-hint"));
        }
        if problem.is_some_and(|p| p.param.as_deref() == Some(name)) {
            ids.push(format!("{name}-error"));
        }
        if ids.is_empty() { String::new() } else { format!(" aria-describedby=\"{}\"", ids.join(" ")) }
    };
    let (name_error, name_invalid) = field_error(problem, "name");
    let (claims_error, claims_invalid) = field_error(problem, "claims");
    let (lifetime_error, lifetime_invalid) = field_error(problem, "lifetime");
    let (skew_error, skew_invalid) = field_error(problem, "allowed_clock_skew");
    let (alg_error, alg_invalid) = field_error(problem, "signing_algorithm");
    let (key_error, key_invalid) = field_error(problem, "signing_key");
    let (user_error, user_invalid) = field_error(problem, "user");
    let (org_error, org_invalid) = field_error(problem, "organization_id");
    let mut algorithms = String::new();
    for alg in ALGORITHMS {
        let selected = if d.signing_algorithm == alg { " selected" } else { "" };
        let _ = write!(algorithms, "<option{selected}>{alg}</option>");
    }
    let key_hint = if saved.is_some_and(|t| t.custom_signing_key) {
        "The stored key is never shown. Leave empty to keep it."
    } else {
        "An HS* secret of 32 bytes or more, or an RS* private key in PEM."
    };
    let _ = write!(
        body,
        "<form method=\"post\" action=\"{action}\" id=\"template-form\">{csrf}\
         <div class=\"field\"><label for=\"name\">Name</label>{name_error}\
         <input type=\"text\" id=\"name\" name=\"name\" value=\"{name}\" maxlength=\"128\" autocomplete=\"off\"{name_invalid}{name_desc}></div>\
         <div class=\"field\"><label for=\"claims\">Claims (JSON)</label>\
         <p class=\"hint\" id=\"claims-hint\">An object; values may use shortcodes such as <code>{{{{user.id}}}}</code>, \
         <code>{{{{user.primary_email_address}}}}</code>, <code>{{{{user.public_metadata.role}}}}</code>, <code>{{{{org.slug}}}}</code>. \
         Reserved (set by the server): {reserved}.</p>{claims_error}\
         <textarea id=\"claims\" name=\"claims\" spellcheck=\"false\" rows=\"12\"{claims_invalid}{claims_desc}>{claims}</textarea></div>\
         <div class=\"field\"><label for=\"lifetime\">Lifetime (seconds)</label><p class=\"hint\" id=\"lifetime-hint\">30 to 315360000.</p>{lifetime_error}\
         <input type=\"number\" id=\"lifetime\" name=\"lifetime\" value=\"{lifetime}\" min=\"30\" max=\"315360000\"{lifetime_invalid}{lifetime_desc}></div>\
         <div class=\"field\"><label for=\"allowed_clock_skew\">Allowed clock skew (seconds)</label>\
         <p class=\"hint\" id=\"allowed_clock_skew-hint\">0 to 300; <code>nbf</code> is back-dated this much.</p>{skew_error}\
         <input type=\"number\" id=\"allowed_clock_skew\" name=\"allowed_clock_skew\" value=\"{skew}\" min=\"0\" max=\"300\"{skew_invalid}{skew_desc}></div>\
         <fieldset><legend>Signing</legend>\
         <div class=\"field\"><label><input type=\"checkbox\" name=\"custom_signing_key\" value=\"on\"{custom}> Sign with a custom key instead of the instance key</label></div>\
         <div class=\"field\"><label for=\"signing_algorithm\">Algorithm</label>{alg_error}\
         <select id=\"signing_algorithm\" name=\"signing_algorithm\"{alg_invalid}>{algorithms}</select></div>\
         <div class=\"field\"><label for=\"signing_key\">Signing key</label><p class=\"hint\" id=\"signing_key-hint\">{key_hint}</p>{key_error}\
         <textarea id=\"signing_key\" name=\"signing_key\" spellcheck=\"false\" autocomplete=\"off\"{key_invalid}{key_desc}></textarea></div></fieldset>\
         <fieldset><legend>Preview</legend>\
         <p class=\"hint\">The claims the text above gives a user, computed as a token would be minted now (without signing or saving). \
         There is no session, so <code>{{{{session.…}}}}</code> shortcodes are null.</p>\
         <div class=\"field\"><label for=\"user\">User (id or email address)</label>{user_error}\
         <input type=\"text\" id=\"user\" name=\"user\" value=\"{user}\" autocomplete=\"off\"{user_invalid}{user_desc}></div>\
         <div class=\"field\"><label for=\"organization_id\">Active organization id (optional)</label>{org_error}\
         <input type=\"text\" id=\"organization_id\" name=\"organization_id\" value=\"{org}\" autocomplete=\"off\"{org_invalid}{org_desc}></div>\
         <button type=\"submit\" name=\"intent\" value=\"preview\" class=\"secondary\">Preview</button></fieldset>\
         <p><button type=\"submit\" name=\"intent\" value=\"save\">{save}</button></p></form>",
        csrf = csrf_field(admin),
        name = escape(&d.name),
        name_desc = described("name", false),
        reserved = crate::tokens::RESERVED_CLAIMS.join(", "),
        claims = escape(&d.claims),
        claims_desc = described("claims", true),
        lifetime = escape(&d.lifetime),
        lifetime_desc = described("lifetime", true),
        skew = escape(&d.allowed_clock_skew),
        skew_desc = described("allowed_clock_skew", true),
        custom = if d.custom_signing_key { " checked" } else { "" },
        key_desc = described("signing_key", true),
        user = escape(&d.user),
        user_desc = described("user", false),
        org = escape(&d.organization_id),
        org_desc = described("organization_id", false),
        save = if saved.is_some() { "Save template" } else { "Create template" },
    );
    if let Some(claims) = preview {
        let _ = write!(
            body,
            "<section aria-labelledby=\"preview-heading\"><h2 id=\"preview-heading\">Preview for {}</h2>\
             <pre id=\"preview-claims\" tabindex=\"0\">{}</pre></section>",
            escape(&d.user),
            escape(claims)
        );
    }
    if let Some(t) = saved {
        let _ = write!(
            body,
            "<h2>Delete</h2><form method=\"post\" action=\"/admin/templates/{id}/delete\">{csrf}\
             <div class=\"field\"><label for=\"confirm\">Type the template name to confirm</label>\
             <p class=\"hint\" id=\"confirm-hint\">Tokens already minted stay valid until they expire; new ones cannot be minted.</p>\
             <input type=\"text\" id=\"confirm\" name=\"confirm\" required autocomplete=\"off\" aria-describedby=\"confirm-hint\"></div>\
             <button type=\"submit\" class=\"danger\">Delete template</button></form>",
            id = escape(&url_encode(&t.id)),
            csrf = csrf_field(admin),
        );
    }
    body
}

/// Saves or previews the form for `saved` (a new template when `None`): an error re-renders the
/// form as typed with the message beside its field, and nothing is stored.
async fn submit(state: &AppState, post: AdminPost, saved: Option<TemplateRecord>) -> Response {
    let back = saved
        .as_ref()
        .map_or_else(|| "/admin/templates/new".to_owned(), |t| format!("/admin/templates/{}", url_encode(&t.id)));
    let admin = match post.admitted(state, &back).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    let f = &post.fields;
    let draft = Draft::from_form(f);
    let title = saved.as_ref().map_or("New JWT template", |t| t.name.as_str()).to_owned();
    let outcome: ApiResult<Result<String, String>> = async {
        let p = params(f)?;
        let actor = Actor::admin(&admin.user.id);
        if given(&f.intent) == Some("preview") {
            // The unsaved text on top of what is stored, checked as saving would check it.
            let mut template = saved.clone().unwrap_or_default();
            if saved.is_none() {
                template.signing_algorithm = "RS256".into();
            }
            templates::apply(p, &mut template)?;
            let (_, claims) = templates::preview(state, &template, &draft.user, given(&f.organization_id)).await?;
            let text = serde_json::to_string_pretty(&Value::Object(claims)).unwrap_or_default();
            return Ok(Err(text));
        }
        let template = match &saved {
            Some(t) => {
                templates::update(state, &actor, &t.id, p).await?;
                format!("/admin/templates/{}?done=saved", url_encode(&t.id))
            }
            None => {
                let t = templates::create(state, &actor, p).await?;
                format!("/admin/templates/{}?done=created", url_encode(&t.id))
            }
        };
        Ok(Ok(template))
    }
    .await;
    match outcome {
        Ok(Ok(location)) => see_other(&location),
        Ok(Err(preview)) => {
            let body = editor(&admin, saved.as_ref(), &draft, None, Some(&preview));
            frame(state, Some(&admin), StatusCode::OK, &title, &body)
        }
        Err(e) => {
            let problem = Problem::of(&e);
            if problem.status.is_server_error() {
                return problem_page(state, Some(&admin), &problem, Some(&back));
            }
            let body = editor(&admin, saved.as_ref(), &draft, Some(&problem), None);
            frame(state, Some(&admin), problem.status, &title, &body)
        }
    }
}

/// `POST /admin/templates`: create, or preview the new template.
async fn create(State(state): State<AppState>, post: AdminPost) -> Response {
    submit(&state, post, None).await
}

/// `POST /admin/templates/{id}`: save, or preview the edits.
async fn save(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    // Admission first: who is not an admin learns nothing of which templates exist.
    let back = format!("/admin/templates/{}", url_encode(&id));
    let admin = match post.admitted(&state, &back).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match templates::load(&state, &id).await {
        Ok(saved) => submit(&state, post, Some(saved)).await,
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/templates")),
    }
}

/// `POST /admin/templates/{id}/delete`: after typing the name.
async fn delete(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    let back = format!("/admin/templates/{}", url_encode(&id));
    post.answer(&state, &back, async |state, admin, f| {
        let template = templates::load(state, &id).await?;
        if f.confirm.as_deref().map(str::trim) != Some(template.name.as_str()) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "confirm",
                "Type the template name exactly to confirm the deletion.",
            ));
        }
        templates::delete(state, &Actor::admin(&admin.user.id), &id).await?;
        Ok("/admin/templates?done=deleted".to_owned())
    })
    .await
}
