//! The authorization endpoint's use cases: check a request (error page,
//! error redirect, or the QR page), bind a new ticket to it, and — once the
//! person confirmed in the app — trade the ticket for the redirect carrying
//! a single-use code (or `access_denied` after a cancel or expiry).

use qrlogin_core::oidc::{
    self, AuthorizationBinding, AuthorizationParams, AuthorizationRejection, ErrorPage,
    OAuthErrorCode, form_pairs, with_query,
};

use super::{OAuthFailure, OAuthResult};
use crate::AppState;

/// Longest authorization request query accepted.
pub const MAX_QUERY_LEN: usize = 8 * 1024;

/// What an authorization request leads to.
#[derive(Debug)]
pub enum Checked {
    /// Show the QR page for this client.
    Valid(AuthorizationBinding),
    /// Show an error page; never redirect (unknown client, unregistered URI).
    ErrorPage(ErrorPage),
    /// Send the browser back to the client with an error.
    Redirect(String),
}

/// The query string's parameters; `None` when it does not decode.
pub fn parse_query(query: &str) -> Option<AuthorizationParams> {
    if query.len() > MAX_QUERY_LEN {
        return None;
    }
    Some(AuthorizationParams::from_pairs(form_pairs(query)?))
}

/// Checks an authorization request against the registered clients.
pub async fn check(state: &AppState, params: &AuthorizationParams) -> OAuthResult<Checked> {
    let client = match params.client_id() {
        Some(id) => state.db.clients().get(id).await?,
        None => None,
    };
    Ok(
        match oidc::validate(params, client.as_ref().map(|c| &c.client)) {
            Ok(binding) => Checked::Valid(binding),
            Err(AuthorizationRejection::ErrorPage(page)) => Checked::ErrorPage(page),
            Err(AuthorizationRejection::Redirect(e)) => Checked::Redirect(error_redirect(
                state,
                &e.redirect_uri,
                e.error,
                &e.description,
                e.state.as_deref(),
            )),
        },
    )
}

/// The request of `query` as a ticket binding, for `POST /api/v1/qr`; a
/// request that would not show the QR page is refused.
pub async fn binding_for_ticket(
    state: &AppState,
    query: &str,
) -> OAuthResult<AuthorizationBinding> {
    let params = parse_query(query).ok_or_else(|| {
        OAuthFailure::refused(
            OAuthErrorCode::InvalidRequest,
            "the authorization request does not decode",
        )
    })?;
    match check(state, &params).await? {
        Checked::Valid(binding) => Ok(binding),
        Checked::ErrorPage(page) => Err(OAuthFailure::refused(
            OAuthErrorCode::InvalidRequest,
            page.to_string(),
        )),
        Checked::Redirect(_) => Err(OAuthFailure::refused(
            OAuthErrorCode::InvalidRequest,
            "the authorization request is not valid",
        )),
    }
}

/// Where a cancelled or expired sign-in sends the browser.
pub fn denied_redirect(state: &AppState, binding: &AuthorizationBinding) -> String {
    error_redirect(
        state,
        &binding.redirect_uri,
        OAuthErrorCode::AccessDenied,
        "the sign-in was cancelled in the app or timed out",
        binding.state.as_deref(),
    )
}

/// `redirect_uri?error=…&error_description=…&state=…&iss=…` (RFC 6749
/// §4.1.2.1, RFC 9207).
fn error_redirect(
    state: &AppState,
    redirect_uri: &str,
    error: OAuthErrorCode,
    description: &str,
    client_state: Option<&str>,
) -> String {
    let params = [
        ("error", error.as_str()),
        ("error_description", description),
    ];
    response_redirect(state, redirect_uri, &params, client_state)
}

/// An authorization response (a code or an error) to `redirect_uri`: the
/// `params`, then the client's `state` and our `iss` (RFC 9207).
pub fn response_redirect(
    state: &AppState,
    redirect_uri: &str,
    params: &[(&str, &str)],
    client_state: Option<&str>,
) -> String {
    let issuer = state.settings.public_url.to_string();
    let mut params = params.to_vec();
    if let Some(s) = client_state {
        params.push(("state", s));
    }
    params.push(("iss", &issuer));
    with_query(redirect_uri, &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_into_parameters() {
        let params =
            parse_query("client_id=demo&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&state=a+b")
                .unwrap();
        assert_eq!(params.client_id(), Some("demo"));
        assert!(parse_query("client_id=%zz").is_none());
        assert!(parse_query(&"a".repeat(MAX_QUERY_LEN + 1)).is_none());
    }
}
