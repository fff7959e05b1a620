//! The endpoints from Clerk's Astro docs, route for route, on axum with the usher SDK.
//!
//! ```sh
//! usher dev                     # prints CLERK_API_URL, CLERK_SECRET_KEY, PUBLIC_CLERK_PUBLISHABLE_KEY
//! CLERK_API_URL=… CLERK_SECRET_KEY=… PUBLIC_CLERK_PUBLISHABLE_KEY=… \
//!   cargo run -p usher-example-endpoints -- --listen 127.0.0.1:4321
//! ```

use std::net::SocketAddr;

use axum::{
    Json, Router,
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use clap::Parser;
use serde_json::json;
use usher::{
    Auth, Check, CurrentUser, RequireAuth, Usher, UsherConfig, client::ListUsers, types::requests::UpdateUser,
};

#[derive(Parser)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:4321")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = Args::parse();
    let usher = Usher::new(UsherConfig::from_env()?)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("usher-example-endpoints: listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(usher)).await?;
    Ok(())
}

/// The routes, with the usher layer around them (`clerkMiddleware()`).
fn app(usher: Usher) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/api/route", get(route))
        .route("/api/supabase", get(supabase))
        .route("/api/me", get(get_me).post(update_me))
        .route("/api/user", get(user))
        .route("/api/users", get(users))
        .route("/api/invoices", get(invoices))
        .layer(usher.layer())
}

/// `src/pages/index.astro`: a page using the components and stores. The server fills in what
/// it knows (the user id); `usher.js`, which the layer injects, keeps it current in the browser.
async fn home(auth: Auth) -> Html<String> {
    let user_id = auth.user_id.as_deref().unwrap_or_default();
    // An impersonated session (`act` claim) shows who is acting as the user.
    let actor = auth.actor().and_then(|a| a.get("sub")).and_then(|s| s.as_str()).unwrap_or_default();
    // The server knows the active organization's id from the token; the page shows its name
    // once usher.js has loaded.
    let org_id = auth.org_id.as_deref().unwrap_or_default();
    Html(
        HOME.replace("{{user_id}}", &escape(user_id))
            .replace("{{actor}}", &escape(actor))
            .replace("{{org_id}}", &escape(org_id)),
    )
}

/// Ids are base62, but a page must never trust that.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const HOME: &str = include_str!("home.html");

/// `src/pages/api/route.ts`: who is signed in.
async fn route(auth: Auth) -> Response {
    let Some(user_id) = auth.user_id.clone() else {
        return (StatusCode::UNAUTHORIZED, "Error: No signed in user").into_response();
    };
    let mut body = json!({ "userId": user_id });
    if let Some(actor) = auth.actor() {
        body["actor"] = serde_json::Value::Object(actor.clone());
    }
    Json(body).into_response()
}

/// `getToken({ template: 'supabase' })`, then a call to Supabase with it.
async fn supabase(auth: Auth) -> Response {
    if auth.user_id.is_none() {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    }
    match auth.get_token_with_template("supabase").await {
        Ok(Some(token)) => Json(json!({ "supabaseData": "Hello World", "token": token })).into_response(),
        Ok(None) => (StatusCode::UNAUTHORIZED, "Unauthorized").into_response(),
        Err(e) if e.is_not_found() => {
            (StatusCode::INTERNAL_SERVER_ERROR, "The JWT template \"supabase\" does not exist: create it first")
                .into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, format!("Could not mint the token: {e}")).into_response(),
    }
}

/// `locals.currentUser()`.
async fn get_me(CurrentUser(user): CurrentUser) -> Response {
    match user {
        Some(user) => Json(json!({ "user": user })).into_response(),
        None => (StatusCode::UNAUTHORIZED, "Unauthorized").into_response(),
    }
}

/// `clerkClient(context).users.updateUser(userId, { firstName: 'Clerk', lastName: 'Cookie' })`.
async fn update_me(auth: Auth) -> Response {
    let Some(user_id) = auth.user_id.as_deref() else {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    };
    let names = UpdateUser {
        first_name: Some(Some("Clerk".into())),
        last_name: Some(Some("Cookie".into())),
        ..Default::default()
    };
    match auth_client(&auth).users().update(user_id, &names).await {
        Ok(user) => Json(json!({ "user": user })).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, format!("Could not update the user: {e}")).into_response(),
    }
}

/// `redirectToSignIn()` when signed out, else `clerkClient(context).users.getUser(userId)`.
async fn user(auth: Auth) -> Response {
    let Some(user_id) = auth.user_id.as_deref() else {
        return auth.redirect_to_sign_in();
    };
    match auth_client(&auth).users().get(user_id).await {
        Ok(user) => Json(json!({ "user": user })).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, format!("Could not load the user: {e}")).into_response(),
    }
}

/// `clerkClient(context).users.getUserList()`.
async fn users(RequireAuth(auth): RequireAuth) -> Response {
    match auth_client(&auth).users().list(&ListUsers::default()).await {
        Ok(page) => Json(json!({ "data": page.data, "totalCount": page.total_count })).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, format!("Could not list users: {e}")).into_response(),
    }
}

/// The docs' authorization example: only members of the active organization whose role holds
/// `org:invoices:create` get through (`has({ permission: 'org:invoices:create' })`).
async fn invoices(auth: Auth) -> Response {
    if auth.user_id.is_none() {
        return (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    }
    if !auth.has(Check::Permission("org:invoices:create")) {
        return (StatusCode::FORBIDDEN, "Forbidden: you may not create invoices in this organization").into_response();
    }
    Json(json!({ "orgId": auth.org_id, "invoices": [] })).into_response()
}

/// `clerkClient(context)`: the Backend API client behind this request's auth.
fn auth_client(auth: &Auth) -> &usher::BackendClient {
    auth.client()
}
