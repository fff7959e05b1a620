//! The injection of `usher.js` into HTML pages, kept apart from authentication.
//!
//! [`UsherLayer`](crate::UsherLayer) runs this step when `config.ui.inject_script` is on (the
//! default), as `clerkMiddleware()` does; [`InjectLayer`] is the same step as a layer of its own,
//! for apps that turn the switch off and want the script on some routes only. Either way the tags
//! are built after the response is known, and only for an uncompressed `text/html` page: JSON
//! answers and assets cost nothing.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    extract::Request,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use tower::{Layer, Service};

use crate::Auth;

/// Adds `usher.js`, its options and the request's auth state to uncompressed `text/html`
/// responses. It reads the [`Auth`] that [`UsherLayer`](crate::UsherLayer) attached, so it must
/// run inside that layer; [`UsherLayer`](crate::UsherLayer) already includes this step unless
/// `config.ui.inject_script` is off.
///
/// ```
/// use axum::{Router, response::Html, routing::get};
///
/// # fn f() -> Result<(), usher::ConfigError> {
/// let mut config = usher::UsherConfig::new("sk_test_x", "pk_test_MTI3LjAuMC4xOjg3ODck", "http://127.0.0.1:8787")?;
/// config.ui.inject_script = false;
/// let usher = usher::Usher::new(config)?;
/// let app: Router = Router::new()
///     .route("/", get(|| async { Html("<html><head></head><body>home</body></html>") }))
///     .route_layer(usher::InjectLayer::new()) // the routes above get the script
///     .route("/raw", get(|| async { Html("<p>left alone</p>") }))
///     .layer(usher.layer());
/// # let _ = app; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct InjectLayer {
    _private: (),
}

impl InjectLayer {
    /// The layer; the options come from the [`Usher`](crate::Usher) that authenticated the
    /// request.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for InjectLayer {
    type Service = InjectService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InjectService { inner }
    }
}

/// The service made by [`InjectLayer`].
#[derive(Debug, Clone)]
pub struct InjectService<S> {
    inner: S,
}

impl<S> Service<Request> for InjectService<S>
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

    fn call(&mut self, request: Request) -> Self::Future {
        // The clone is ready only if `inner` was polled; swap so the polled one is used.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // Kept aside: the handler consumes the request and its extensions.
        let auth = request.extensions().get::<Auth>().cloned();
        Box::pin(async move {
            let response = inner.call(request).await?;
            Ok(match auth {
                Some(auth) => into_page(response, || auth).await,
                None => {
                    if is_plain_html(&response) {
                        tracing::error!("usher: InjectLayer ran without UsherLayer outside it; no script was added");
                    }
                    response
                }
            })
        })
    }
}

/// `response` with the head tags for the auth state `auth` makes when it is a page; any other
/// response untouched (and `auth` never called).
pub(crate) async fn into_page(response: Response, auth: impl FnOnce() -> Auth) -> Response {
    if !is_plain_html(&response) {
        return response;
    }
    let auth = auth();
    let tags = crate::ui::head_tags(auth.usher().config(), &auth);
    inject_into(response, &tags).await
}

/// Pages get the script: uncompressed `text/html` bodies.
fn is_plain_html(response: &Response) -> bool {
    let headers = response.headers();
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"))
        && !headers.contains_key(header::CONTENT_ENCODING)
}

/// Pages larger than this are answered with a 500 rather than buffered without bound.
const MAX_INJECTED_PAGE: usize = 8 * 1024 * 1024;

async fn inject_into(response: Response, tags: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_INJECTED_PAGE).await else {
        tracing::warn!("usher: an HTML page was too large to inject the script into");
        return (StatusCode::INTERNAL_SERVER_ERROR, "page too large").into_response();
    };
    let Ok(html) = std::str::from_utf8(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let page = crate::ui::inject(html, tags);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(page))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use axum::{
        Json, Router,
        body::Body,
        response::{Html, IntoResponse},
        routing::get,
    };
    use tower::ServiceExt as _;

    use super::*;
    use crate::{Usher, UsherConfig, ui::tests::TAGS_BUILT};

    const PAGE: &str = "<html><head><title>x</title></head><body>hi</body></html>";

    fn usher(inject_script: bool) -> Usher {
        let mut config =
            UsherConfig::new("sk_test_x", "pk_test_MTI3LjAuMC4xOjg3ODck", "http://127.0.0.1:8787").unwrap();
        config.ui.inject_script = inject_script;
        Usher::new(config).unwrap()
    }

    fn routes() -> Router {
        Router::new()
            .route("/page", get(|| async { Html(PAGE) }))
            .route("/json", get(|| async { Json(serde_json::json!({"html": PAGE})) }))
            .route("/gzip", get(|| async { ([(header::CONTENT_ENCODING, "gzip")], Html(PAGE)).into_response() }))
    }

    async fn get_text(app: &Router, path: &str) -> (String, Option<String>) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let length = response.headers().get(header::CONTENT_LENGTH).map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (String::from_utf8(body.to_vec()).unwrap(), length)
    }

    fn injected(body: &str) -> bool {
        body.contains("__USHER_STATE__") && body.contains("/npm/usher.js")
    }

    #[tokio::test]
    async fn the_usher_layer_injects_into_plain_pages_only_and_builds_tags_only_for_them() {
        let app = routes().layer(usher(true).layer());
        let before = TAGS_BUILT.with(Cell::get);
        let (json, _) = get_text(&app, "/json").await;
        let (gzip, _) = get_text(&app, "/gzip").await;
        assert_eq!((json.contains("__USHER_STATE__"), gzip.as_str()), (false, PAGE), "JSON and compressed pages");
        assert_eq!(TAGS_BUILT.with(Cell::get), before, "no tags are built for a response that is not a page");
        let (page, length) = get_text(&app, "/page").await;
        assert!(injected(&page) && page.find("__USHER_STATE__") < page.find("</head>"), "{page}");
        assert_eq!(TAGS_BUILT.with(Cell::get), before + 1);
        assert_eq!(length, Some(page.len().to_string()), "the length is the injected page's, not the handler's");
    }

    #[tokio::test]
    async fn the_switch_turns_injection_off_and_the_inject_layer_brings_it_back_per_route() {
        let off = routes().layer(usher(false).layer());
        assert_eq!(get_text(&off, "/page").await.0, PAGE);
        let some = Router::new()
            .route("/page", get(|| async { Html(PAGE) }))
            .route_layer(InjectLayer::new())
            .route("/raw", get(|| async { Html(PAGE) }))
            .layer(usher(false).layer());
        assert!(injected(&get_text(&some, "/page").await.0));
        assert_eq!(get_text(&some, "/raw").await.0, PAGE);
    }

    #[tokio::test]
    async fn the_inject_layer_without_the_usher_layer_passes_pages_through() {
        let app = routes().layer(InjectLayer::new());
        assert_eq!(get_text(&app, "/page").await.0, PAGE);
    }
}
