//! The OpenID Provider's endpoints: discovery, authorization (the hosted QR
//! page bound to the request), token, userinfo and revocation. Errors of
//! the token, userinfo and revocation endpoints are RFC 6749 §5.2 JSON;
//! the authorization endpoint answers an error page (unknown client,
//! unregistered redirect URI) or redirects with the error.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, LOCATION, PRAGMA};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use qrlogin_core::oidc::{OAuthErrorCode, ProviderMetadata, TokenResponse, UserClaims, paths};

use crate::AppState;
use crate::http::error::OAuthErrorResponse;
use crate::http::routes::pages::{public, template};
use crate::oidc::authorize::{self, Checked};
use crate::oidc::token::Form;
use crate::oidc::{OAuthFailure, access, token};

type OAuthResult<T> = Result<T, OAuthErrorResponse>;

/// `/.well-known/openid-configuration`.
pub async fn discovery(State(state): State<AppState>) -> Response {
    let issuer = state.settings.public_url.to_string();
    // Relying parties in browsers read it across origins.
    public(Json(ProviderMetadata::for_issuer(&issuer)).into_response())
}

/// `GET /oauth2/authorize`: the QR page for a valid request.
pub async fn authorize(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    match checked(&state, query.as_deref().unwrap_or_default()).await {
        Ok(Checked::Valid(binding)) => template(
            StatusCode::OK,
            "authorize.html",
            &[("client_name", &binding.client_name)],
        ),
        Ok(other) => refused(other),
        Err(e) => OAuthErrorResponse(e).into_response(),
    }
}

/// `POST /oauth2/authorize` (form): the same request as a GET.
pub async fn authorize_form(headers: HeaderMap, body: String) -> Response {
    if !is_form(&headers) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "the authorization request must be a form",
        );
    }
    see_other(&format!("{}?{body}", paths::AUTHORIZE))
}

/// `GET /oauth2/authorize/cancel`: the page's way out after a cancel or an
/// expiry: back to the client with `access_denied`.
pub async fn cancel(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    match checked(&state, query.as_deref().unwrap_or_default()).await {
        Ok(Checked::Valid(binding)) => see_other(&authorize::denied_redirect(&state, &binding)),
        Ok(other) => refused(other),
        Err(e) => OAuthErrorResponse(e).into_response(),
    }
}

async fn checked(state: &AppState, query: &str) -> Result<Checked, OAuthFailure> {
    match authorize::parse_query(query) {
        Some(params) => authorize::check(state, &params).await,
        None => Err(OAuthFailure::refused(
            OAuthErrorCode::InvalidRequest,
            "the authorization request does not decode",
        )),
    }
}

fn refused(checked: Checked) -> Response {
    match checked {
        Checked::ErrorPage(page) => error_page(StatusCode::BAD_REQUEST, &page.to_string()),
        Checked::Redirect(to) => see_other(&to),
        Checked::Valid(_) => error_page(StatusCode::INTERNAL_SERVER_ERROR, "unexpected request"),
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    template(status, "oauth-error.html", &[("message", message)])
}

fn see_other(location: &str) -> Response {
    match axum::http::HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(LOCATION, value)]).into_response(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, "the redirect URI cannot be used"),
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The form of a token or revocation request.
fn form_of(headers: &HeaderMap, body: &str) -> OAuthResult<Form> {
    if !is_form(headers) {
        return Err(OAuthFailure::refused(
            OAuthErrorCode::InvalidRequest,
            "send the parameters as application/x-www-form-urlencoded",
        )
        .into());
    }
    Ok(Form::parse(body)?)
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
}

/// `POST /oauth2/token`.
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> OAuthResult<Response> {
    let form = form_of(&headers, &body)?;
    let tokens: TokenResponse = token::exchange(&state, authorization(&headers), &form).await?;
    Ok((
        [(CACHE_CONTROL, "no-store"), (PRAGMA, "no-cache")],
        Json(tokens),
    )
        .into_response())
}

/// `GET|POST /oauth2/userinfo` with `Authorization: Bearer <access_token>`.
pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> OAuthResult<Json<UserClaims>> {
    let token = authorization(&headers)
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            OAuthFailure::refused(
                OAuthErrorCode::InvalidToken,
                "send the access token as Authorization: Bearer <access_token>",
            )
        })?;
    Ok(Json(access::userinfo(&state, token).await?))
}

/// `POST /oauth2/revoke` (RFC 7009): 200 whether or not the token was known.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> OAuthResult<StatusCode> {
    let form = form_of(&headers, &body)?;
    access::revoke(&state, authorization(&headers), &form).await?;
    Ok(StatusCode::OK)
}
