//! The HTTP layer: the router with every route of the contract, the OpenAPI
//! document generated from the same declarations, the layers around them
//! (CORS on the web side only, body limit, security headers, metrics,
//! tracing), the extractors and the one mapping from the services' domain
//! errors to a status and `{error, message}` ([`error`]). Handlers in
//! [`routes`] are thin: extract, call a service, map the result.

mod envelope;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;
mod timeout;

use routes::{account, app, oidc, ops, pages, web, web_token};

use std::sync::Arc;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::Method;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use axum::{Json, Router};
use qrlogin_core::ErrorCode;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::envelope::EnvelopeLayer;
use crate::http::error::AppError;
use crate::http::timeout::RequestTimeoutLayer;
use crate::requester::client_ip;

/// Largest request body accepted (413 `payload_too_large` above).
pub const BODY_LIMIT: usize = 16 * 1024;

pub use envelope::{CSP, HSTS};
pub use timeout::REQUEST_TIMEOUT;

#[derive(utoipa::OpenApi)]
#[openapi(info(
    title = "QR Login",
    description = "Sign in on a web page by scanning its QR code with an app. \
        Web side: Authorization: Bearer <poll_secret>. App side: Authorization: Bearer <app session token>. \
        Errors: {\"error\": \"<code>\", \"message\": \"...\"}."
))]
struct ApiDoc;

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (router, mut api) = api_routes(&state).split_for_parts();
    openapi::complete(&mut api);
    let api = Arc::new(api);
    let https = state.settings.public_url.scheme() == qrlogin_core::qr::Scheme::Https;
    let envelope = EnvelopeLayer::new(state.metrics.clone(), https);
    let cors = cors(&state.settings.allowed_origins);
    router
        .route(
            "/api/openapi.json",
            get(move || async move { Json(api.as_ref().clone()) }),
        )
        .route("/", get(pages::index))
        .route("/sdk/qrlogin.js", get(pages::sdk))
        .route("/sdk/qrlogin.d.ts", get(pages::sdk_types))
        .route("/sdk/qrlogin/{file}", get(pages::sdk_module))
        .route("/q/{id}", get(pages::qr_landing))
        .route("/.well-known/assetlinks.json", get(pages::assetlinks))
        .route(
            "/.well-known/apple-app-site-association",
            get(pages::apple_app_site_association),
        )
        .merge(oidc_routes())
        .route("/static/{*path}", get(pages::asset))
        .fallback(|| async { AppError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            AppError::new(
                ErrorCode::MethodNotAllowed,
                "method not allowed on this route",
            )
        })
        .with_state(state)
        // Outermost of the routing layers, so that it also wraps the 405
        // fallback and can answer preflight OPTIONS requests.
        .layer(tower::util::option_layer(cors))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(envelope)
        .layer(TraceLayer::new_for_http())
}

/// The OpenID Provider's endpoints (specified by their RFCs and the
/// discovery document, not by the OpenAPI document).
fn oidc_routes() -> Router<AppState> {
    use qrlogin_core::oidc::paths;
    Router::new()
        .route(paths::DISCOVERY, get(oidc::discovery))
        .route(
            paths::AUTHORIZE,
            get(oidc::authorize).post(oidc::authorize_form),
        )
        .route("/oauth2/authorize/cancel", get(oidc::cancel))
        .route(paths::TOKEN, axum::routing::post(oidc::token))
        .route(paths::USERINFO, get(oidc::userinfo).post(oidc::userinfo))
        .route(paths::REVOKE, axum::routing::post(oidc::revoke))
        .route_layer(RequestTimeoutLayer::all())
}

/// The JSON API, documented by utoipa from the handlers' annotations.
fn api_routes(state: &AppState) -> OpenApiRouter<AppState> {
    let create = OpenApiRouter::new()
        .routes(routes!(web::create))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            limit_ticket_creation,
        ));
    let web = OpenApiRouter::new()
        .merge(create)
        .routes(routes!(web::status, web::abort))
        .routes(routes!(web::events))
        .routes(routes!(web::exchange))
        .route_layer(RequestTimeoutLayer::unless_waiting());
    let app = OpenApiRouter::new()
        .routes(routes!(app::sign_in))
        .routes(routes!(app::me))
        .routes(routes!(app::sign_out))
        .routes(routes!(app::scan))
        .routes(routes!(app::confirm))
        .routes(routes!(app::cancel))
        .routes(routes!(account::sessions))
        .routes(routes!(account::revoke_session))
        .routes(routes!(account::sign_ins))
        .routes(routes!(account::revoke_sign_in))
        .routes(routes!(account::settings, account::update_settings))
        .route_layer(RequestTimeoutLayer::all());
    let web_token = OpenApiRouter::new()
        .routes(routes!(web_token::me))
        .routes(routes!(web_token::revoked))
        .route_layer(RequestTimeoutLayer::all());
    let ops = OpenApiRouter::new()
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::jwks))
        .routes(routes!(ops::avatar))
        .route_layer(RequestTimeoutLayer::all());
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(web)
        .merge(app)
        .merge(web_token)
        .merge(ops)
}

/// CORS for the web-side calls (create, status, events, exchange, abort, me, revoked),
/// for the configured origins only; app-side calls never get CORS headers.
/// Exposes `Date` so the SDK can correct for clock skew in its countdown.
fn cors(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins = origins.to_vec();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, parts| {
                origins.contains(origin) && is_web_side(parts.uri.path())
            }))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([header::DATE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// True for the paths of the web-side API: `/api/v1/qr`, `/api/v1/qr/{id}`,
/// `/api/v1/qr/{id}/events`, `/api/v1/qr/{id}/exchange`, `/api/v1/web/me`
/// and `/api/v1/web/revoked`.
fn is_web_side(path: &str) -> bool {
    if matches!(path, "/api/v1/web/me" | "/api/v1/web/revoked") {
        return true;
    }
    let Some(rest) = path.strip_prefix("/api/v1/qr") else {
        return false;
    };
    let mut segments = rest.split('/');
    if segments.next() != Some("") {
        return false;
    }
    match (segments.next(), segments.next(), segments.next()) {
        (None, _, _) => true,
        (Some(id), None, _) => !id.is_empty(),
        (Some(id), Some("events" | "exchange"), None) => !id.is_empty(),
        _ => false,
    }
}

/// On `POST /api/v1/qr`: 429 with `Retry-After` when the client used up
/// its budget for new codes.
async fn limit_ticket_creation(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let ip = client_ip(request.headers(), peer, state.settings.trust_proxy);
    match state.limits.ticket_creation(ip).await {
        Ok(()) => next.run(request).await,
        Err(refused) => AppError::from(refused).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_side_paths_get_cors() {
        for web in [
            "/api/v1/qr",
            "/api/v1/qr/abc",
            "/api/v1/qr/abc/events",
            "/api/v1/qr/abc/exchange",
            "/api/v1/web/me",
            "/api/v1/web/revoked",
        ] {
            assert!(is_web_side(web), "{web}");
        }
        for other in [
            "/api/v1/qrx",
            "/api/v1/qr/",
            "/api/v1/qr/abc/scan",
            "/api/v1/qr/abc/confirm",
            "/api/v1/qr/abc/cancel",
            "/api/v1/qr/abc/events/x",
            "/api/v1/app/sessions",
            "/api/v1/app/sign-ins",
            "/api/v1/app/settings",
            "/api/v1/web/me/x",
            "/api/v1/web",
            "/healthz",
        ] {
            assert!(!is_web_side(other), "{other}");
        }
    }
}
