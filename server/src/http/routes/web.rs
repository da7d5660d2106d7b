//! Web side of the API: the page creates a ticket, watches it (long-poll or
//! SSE), exchanges it once, or gives up. Authenticated by the poll secret.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiQuery, PageAuth};
use crate::oidc::authorize;
use crate::requester::{client_ip, requester_info};
use crate::sign_ins::Exchanged;
use crate::{AppState, sign_ins};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::StreamExt as _;
use qrlogin_core::oidc::AuthorizationRedirect;
use qrlogin_core::{
    ApiError, CreateTicketRequest, CreateTicketResponse, Event, ExchangeResponse, StatusQuery,
    StatusView,
};

/// Create a sign-in code (QR) for this browser; with `{"authorization":
/// "<query>"}` the code serves that OpenID Connect authorization request.
#[utoipa::path(post, path = "/api/v1/qr", tag = "web",
    request_body(content = Option<CreateTicketRequest>, description = "optional", content_type = "application/json"),
    responses((status = 201, description = "a new pending ticket", body = CreateTicketResponse),
        (status = 400, description = "invalid_request: an authorization request that is not valid", body = ApiError),
        (status = 429, description = "rate_limited", body = ApiError)))]
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<(StatusCode, ApiJson<CreateTicketResponse>)> {
    // A body that is not this JSON object is ignored, as it always was.
    let request: CreateTicketRequest = serde_json::from_slice(&body).unwrap_or_default();
    let binding = match &request.authorization {
        Some(query) => Some(authorize::binding_for_ticket(&state, query).await?),
        None => None,
    };
    let ip = client_ip(&headers, peer, state.settings.trust_proxy);
    let requester = requester_info(ip, &headers, state.clock.now());
    let site_origin = state.settings.known_origin(&headers);
    let created = state
        .tickets
        .create(requester, site_origin, binding)
        .await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

/// The ticket's status; with `?after=V&wait=S` waits up to S (≤ 30) seconds
/// for a version above V.
#[utoipa::path(get, path = "/api/v1/qr/{id}", tag = "web",
    params(("id" = String, Path, description = "ticket id"),
        ("after" = Option<u64>, Query, description = "wait for a version above this"),
        ("wait" = Option<u32>, Query, description = "seconds to wait, at most 30")),
    responses((status = 200, description = "the ticket as the page may see it", body = StatusView),
        (status = 400, description = "invalid_ticket_id or invalid_request", body = ApiError),
        (status = 401, description = "missing or wrong poll secret", body = ApiError),
        (status = 404, description = "unknown id", body = ApiError),
        (status = 429, description = "rate_limited: too many streams and long-polls open from this client (or in total)", body = ApiError)))]
pub async fn status(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    PageAuth(access): PageAuth,
    ApiQuery(query): ApiQuery<StatusQuery>,
) -> AppResult<ApiJson<StatusView>> {
    let wait = query.wait.unwrap_or(0);
    if wait > StatusQuery::MAX_WAIT_SECS {
        return Err(AppError::invalid_request("wait must be at most 30 seconds"));
    }
    let ticket = match query.after {
        Some(after) if wait > 0 => {
            let ip = client_ip(&headers, peer, state.settings.trust_proxy);
            let _slot = state.streams.acquire(ip)?;
            let wait = Duration::from_secs(wait.into());
            state.tickets.wait_for_change(&access, after, wait).await?
        }
        _ => state.tickets.load_for_page(&access).await?,
    };
    Ok(ApiJson(ticket.view()))
}

/// Server-sent events: one StatusView per change, ending after a final state.
/// Resumes after `Last-Event-ID` (or `?after=`), the last version seen.
#[utoipa::path(get, path = "/api/v1/qr/{id}/events", tag = "web",
    params(("id" = String, Path, description = "ticket id"),
        ("after" = Option<u64>, Query, description = "resume after this version")),
    responses((status = 200, description = "text/event-stream: one StatusView (JSON) per change, id = version", content_type = "text/event-stream", body = StatusView),
        (status = 401, description = "missing or wrong poll secret", body = ApiError),
        (status = 404, description = "unknown id", body = ApiError),
        (status = 429, description = "rate_limited: too many streams and long-polls open from this client (or in total)", body = ApiError)))]
pub async fn events(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    PageAuth(access): PageAuth,
    ApiQuery(query): ApiQuery<StatusQuery>,
    headers: HeaderMap,
) -> AppResult<impl IntoResponse> {
    state.tickets.load_for_page(&access).await?;
    let ip = client_ip(&headers, peer, state.settings.trust_proxy);
    let slot = state.streams.acquire(ip)?;
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let after = last_event_id.or(query.after).unwrap_or(0);
    let stream = slot
        .hold(state.tickets.changes(access, after))
        .filter_map(|view| async move {
            let event = SseEvent::default()
                .id(view.version.to_string())
                .json_data(&view);
            event.ok().map(Ok::<_, Infallible>)
        });
    let sse = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)));
    // Tell reverse proxies (nginx) not to buffer the stream.
    Ok(([("x-accel-buffering", "no")], sse))
}

/// Trade the confirmed ticket for an access token — exactly once. A ticket
/// serving an OpenID Connect authorization request answers `{redirect_to}`
/// instead: the client's redirect URI with the code (or with
/// `error=access_denied` once cancelled or expired).
#[utoipa::path(post, path = "/api/v1/qr/{id}/exchange", tag = "web",
    params(("id" = String, Path, description = "ticket id")),
    responses((status = 200, description = "access_token (EdDSA JWT), once; or {redirect_to} for an OpenID Connect sign-in", body = ExchangeAnswer),
        (status = 401, description = "missing or wrong poll secret", body = ApiError),
        (status = 409, description = "not_confirmed or already_consumed", body = ApiError),
        (status = 410, description = "expired", body = ApiError)))]
pub async fn exchange(
    State(state): State<AppState>,
    PageAuth(access): PageAuth,
) -> AppResult<ApiJson<ExchangeAnswer>> {
    Ok(ApiJson(match sign_ins::exchange(&state, &access).await? {
        Exchanged::Token(token) => ExchangeAnswer::Token(token),
        Exchanged::Redirect(redirect) => ExchangeAnswer::Redirect(redirect),
    }))
}

/// The exchange's answer on the wire.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ExchangeAnswer {
    Token(ExchangeResponse),
    Redirect(AuthorizationRedirect),
}

/// The page gave up: the ticket becomes `cancelled`.
#[utoipa::path(delete, path = "/api/v1/qr/{id}", tag = "web",
    params(("id" = String, Path, description = "ticket id")),
    responses((status = 204, description = "cancelled"),
        (status = 401, description = "missing or wrong poll secret", body = ApiError),
        (status = 409, description = "already_consumed", body = ApiError)))]
pub async fn abort(
    State(state): State<AppState>,
    PageAuth(access): PageAuth,
) -> AppResult<StatusCode> {
    state.tickets.apply_for_page(&access, Event::Abort).await?;
    Ok(StatusCode::NO_CONTENT)
}
