//! The web explorer (`docs/explorer.md`): a page and its script and style, embedded in the
//! binary, served at `GET /` and `GET /explorer/{file}`.
//!
//! Plain HTML, CSS and JavaScript, no build step and nothing fetched from elsewhere: the
//! script reads the JSON API of the same node and follows `/events`. Everything it shows
//! from the chain is inserted as text, never as markup, and the Content-Security-Policy
//! below allows no inline script and no other origin, so a title that carries markup stays
//! text even if a bug slipped past that rule.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// The files, by name: (content type, bytes).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("explorer/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("explorer/app.css"),
    ),
];

const INDEX: &str = include_str!("explorer/index.html");

/// Same origin only, no inline script or style, no plugins, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

fn page(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`: the explorer's page.
pub(crate) async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

/// `GET /explorer/{file}`: its script and style.
pub(crate) async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .map(|(_, content_type, body)| page(content_type, body))
        .ok_or_else(|| ApiError::not_found(format!("no explorer file {file:?}")))
}
