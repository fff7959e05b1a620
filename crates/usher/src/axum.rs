//! The tower layer (`clerkMiddleware()`) and the axum extractors (`locals.auth()`).

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    extract::{FromRequestParts, Request},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use tower::{Layer, Service};
use usher_types::User;

use crate::{Auth, Usher};

/// Authenticates every request and attaches its [`Auth`]; never blocks a request by itself.
/// Unless `config.ui.inject_script` is off, it also adds `usher.js` to HTML pages, as
/// [`InjectLayer`](crate::InjectLayer) does.
///
/// ```
/// # fn f(usher: usher::Usher) {
/// let app: axum::Router = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "hello" }))
///     .layer(usher.layer()); // or usher::UsherLayer::new(usher)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct UsherLayer {
    usher: Usher,
}

impl UsherLayer {
    /// The layer for `usher`.
    pub fn new(usher: Usher) -> Self {
        Self { usher }
    }
}

impl<S> Layer<S> for UsherLayer {
    type Service = UsherService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        UsherService { inner, usher: self.usher.clone() }
    }
}

/// The service made by [`UsherLayer`].
#[derive(Debug, Clone)]
pub struct UsherService<S> {
    inner: S,
    usher: Usher,
}

impl<S> Service<Request> for UsherService<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The clone is ready only if `inner` was polled; swap so the polled one is used.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let usher = self.usher.clone();
        Box::pin(async move {
            let url = request_url(request.headers(), request.uri());
            let auth = usher.authenticate(session_token(request.headers()), url).await;
            // The one switch for the page step; it needs the auth state after the handler has
            // consumed the request, and builds its tags only if the response is a page. What
            // it keeps is two reference counts, not a copy of the `Auth`: most responses are
            // not pages.
            let page_auth = usher.config().ui.inject_script.then(|| auth.for_page());
            request.extensions_mut().insert(auth);
            let response = inner.call(request).await?;
            Ok(match page_auth {
                Some(page) => crate::inject::into_page(response, || page.into_auth()).await,
                None => response,
            })
        })
    }
}

/// The token from `Authorization: Bearer …` (or a bare token), else the `__session` cookie;
/// borrowed from the headers (a cached token is never copied).
fn session_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let token = value.strip_prefix("Bearer ").unwrap_or(value).trim();
        if !token.is_empty() && !token.contains(' ') {
            return Some(token);
        }
    }
    let values = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    usher_types::token::cookie(values, usher_types::token::SESSION_COOKIE).filter(|v| !v.is_empty())
}

/// The URL the client asked for, honouring a proxy's `X-Forwarded-Proto` / `-Host`.
fn request_url(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    // Borrowed pieces, one allocation for the URL (this runs on every request).
    let text =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.split(',').next().unwrap_or(v).trim());
    let proto = text("x-forwarded-proto").unwrap_or("http");
    let host = text("x-forwarded-host")
        .or_else(|| text("host"))
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or_default();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut url = String::with_capacity(proto.len() + 3 + host.len() + path.len());
    for piece in [proto, "://", host, path] {
        url.push_str(piece);
    }
    url
}

/// Answered when an extractor runs without [`UsherLayer`]: a wiring mistake, not a client's.
fn missing_layer() -> Response {
    tracing::error!("usher: an extractor ran on a route without UsherLayer");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "usher: Auth is not available; is UsherLayer added with `.layer(usher.layer())`?",
    )
        .into_response()
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        parts.extensions.get::<Auth>().cloned().ok_or_else(missing_layer)
    }
}

/// An [`Auth`] that must be signed in: otherwise the request gets 401 `Unauthorized`.
///
/// ```
/// use usher::RequireAuth;
///
/// async fn dashboard(RequireAuth(auth): RequireAuth) -> String {
///     format!("hello {}", auth.user_id.unwrap_or_default())
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(dashboard);
/// ```
#[derive(Debug)]
pub struct RequireAuth(pub Auth);

impl<S: Send + Sync> FromRequestParts<S> for RequireAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = Auth::from_request_parts(parts, state).await?;
        if auth.is_authenticated() {
            Ok(Self(auth))
        } else {
            Err((StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "Unauthorized").into_response())
        }
    }
}

/// The signed-in user (`locals.currentUser()`): `None` when signed out or when the user no
/// longer exists; 502 `Bad Gateway` when the Backend API cannot be asked.
///
/// ```
/// use usher::CurrentUser;
///
/// async fn me(CurrentUser(user): CurrentUser) -> String {
///     user.and_then(|u| u.first_name).unwrap_or_else(|| "stranger".into())
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(me);
/// ```
pub struct CurrentUser(pub Option<User>);

/// Shows the user's id only: the rest is personal data, and private metadata is where apps
/// keep their own secrets.
impl std::fmt::Debug for CurrentUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentUser").field("user_id", &self.0.as_ref().map(|u| &u.id)).finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let auth = Auth::from_request_parts(parts, state).await?;
        match auth.current_user().await {
            Ok(user) => Ok(Self(user)),
            Err(e) if e.is_not_found() => Ok(Self(None)),
            Err(e) => {
                tracing::error!(error = %e, "usher: loading the current user failed");
                Err((StatusCode::BAD_GATEWAY, "could not load the current user").into_response())
            }
        }
    }
}

impl Auth {
    /// A 307 to the sign-in page with `redirect_url` = this request's URL
    /// (`redirectToSignIn()`).
    ///
    /// ```
    /// use axum::response::{IntoResponse, Response};
    ///
    /// async fn page(auth: usher::Auth) -> Response {
    ///     if !auth.is_authenticated() {
    ///         return auth.redirect_to_sign_in();
    ///     }
    ///     "members only".into_response()
    /// }
    /// # let _: axum::routing::MethodRouter = axum::routing::get(page);
    /// ```
    pub fn redirect_to_sign_in(&self) -> Response {
        Redirect::temporary(&self.sign_in_redirect_url()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn debug_of_the_layer_and_the_extractors_never_shows_a_token_or_the_secret_key() {
        let layer = fixtures::usher().layer();
        let service = layer.layer(axum::Router::<()>::new());
        for debug in [format!("{layer:?}"), format!("{service:?}"), format!("{:?}", RequireAuth(fixtures::signed_in()))]
        {
            fixtures::assert_no_secrets(&debug);
            assert!(debug.contains("Usher") || debug.contains("user_2abC"), "{debug}");
        }
        let user: User = serde_json::from_value(serde_json::json!({
            "object": "user",
            "id": "user_2abC",
            "first_name": "Ada",
            "created_at": 0,
            "updated_at": 0,
            "private_metadata": {"stripe_key": fixtures::SECRET, "session_token": fixtures::TOKEN},
        }))
        .unwrap();
        let debug = format!("{:?}", CurrentUser(Some(user)));
        fixtures::assert_no_secrets(&debug);
        assert!(debug.contains("user_2abC") && !debug.contains("Ada"), "{debug}");
        assert_eq!(format!("{:?}", CurrentUser(None)), "CurrentUser { user_id: None, .. }");
    }

    #[test]
    fn tokens_come_from_the_header_first_then_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; __session=cookie.tok.en; b=2".parse().unwrap());
        assert_eq!(session_token(&headers), Some("cookie.tok.en"));
        headers.insert(header::AUTHORIZATION, "Bearer header.tok.en".parse().unwrap());
        assert_eq!(session_token(&headers), Some("header.tok.en"));
        headers.insert(header::AUTHORIZATION, "Basic dXNlcjpwYXNz x".parse().unwrap());
        assert_eq!(session_token(&headers), Some("cookie.tok.en"), "other schemes are ignored");
    }

    #[test]
    fn the_request_url_honours_forwarding_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "app.local:3000".parse().unwrap());
        let uri: axum::http::Uri = "/api/user?x=1".parse().unwrap();
        assert_eq!(request_url(&headers, &uri), "http://app.local:3000/api/user?x=1");
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        headers.insert("x-forwarded-host", "app.example.com".parse().unwrap());
        assert_eq!(request_url(&headers, &uri), "https://app.example.com/api/user?x=1");
    }
}
