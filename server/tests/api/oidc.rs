//! The OpenID Provider driven by a relying party nobody here wrote: the
//! `openidconnect` crate discovers the provider, builds the authorization
//! URL (PKCE, nonce, state), exchanges the code, verifies the id_token
//! against the JWKS (RS256 for the public demo client, EdDSA and ES256 for
//! confidential ones), calls userinfo, refreshes and revokes. The test plays
//! the browser (the hosted QR page's calls) and the app over HTTP.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse as _,
};
use qrlogin_core::CreateTicketResponse;
use qrlogin_core::oidc::{ClientKind, IdTokenAlg};
use qrlogin_server::oidc::clients::{Registration, register};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{TestApp, spawn_app};

const REDIRECT: &str = "http://127.0.0.1:43117/callback";

fn http_client() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Registers a confidential client signing id_tokens with `alg`.
async fn confidential_client(app: &TestApp, alg: IdTokenAlg) -> (String, String) {
    let state = &app.server.as_ref().unwrap().state;
    let uris = vec!["https://rp.example/callback".to_string()];
    let registered = register(
        &state.db,
        &state.clock,
        Registration {
            name: "Shop Example",
            redirect_uris: &uris,
            kind: ClientKind::Confidential,
            id_token_alg: alg,
            id: None,
        },
    )
    .await
    .unwrap();
    (registered.client_id, registered.client_secret.unwrap())
}

async fn discover(app: &TestApp) -> CoreProviderMetadata {
    CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http_client())
        .await
        .unwrap()
}

/// The browser on the authorization URL: the QR page, then the page's
/// ticket (bound to the request).
async fn open_authorization_page(app: &TestApp, auth_url: &str) -> CreateTicketResponse {
    let page = app.client.get(auth_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the QR page");
    let html = page.text().await.unwrap();
    assert!(html.contains("authorize.js"), "{html}");
    let query = auth_url.split_once('?').unwrap().1;
    let created = app
        .client
        .post(app.url("/api/v1/qr"))
        .json(&json!({ "authorization": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    created.json().await.unwrap()
}

/// The app scans (and names the client) and confirms; the page's exchange
/// answers the redirect to the client.
async fn confirm_in_app(app: &TestApp, ticket: &CreateTicketResponse, site: &str) -> String {
    let alice = app.sign_in("alice").await;
    let id = ticket.id.to_string();
    let scan = app.app_call(&alice, &id, "scan").await;
    assert_eq!(scan.status(), StatusCode::OK);
    let scan: Value = scan.json().await.unwrap();
    assert_eq!(
        scan["site"]["name"], site,
        "the confirm screen names the client"
    );
    let confirm = app.app_call(&alice, &id, "confirm").await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let exchange = app.exchange(ticket).await;
    assert_eq!(exchange.status(), StatusCode::OK);
    let body: Value = exchange.json().await.unwrap();
    body["redirect_to"].as_str().unwrap().to_string()
}

/// The query parameters of a redirect.
fn params(url: &str) -> std::collections::HashMap<String, String> {
    openidconnect::url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[tokio::test]
async fn a_public_client_signs_in_with_pkce_and_an_rs256_id_token() {
    let app = spawn_app().await;
    let metadata = discover(&app).await;
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new("demo".into()), None)
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let ticket = open_authorization_page(&app, auth_url.as_str()).await;
    let redirect = confirm_in_app(&app, &ticket, "QR Login demo client").await;
    assert!(redirect.starts_with(REDIRECT), "{redirect}");
    let back = params(&redirect);
    assert_eq!(back["state"], *csrf.secret());
    assert_eq!(back["iss"], app.base, "RFC 9207");
    assert!(back["code"].len() >= 43, "at least 256 bits");

    let http = http_client();
    let tokens = client
        .exchange_code(AuthorizationCode::new(back["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an id_token");
    let id_verifier = client.id_token_verifier();
    let claims = id_token.claims(&id_verifier, &nonce).unwrap();
    assert_eq!(
        *id_token.signing_alg().unwrap(),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );
    assert_eq!(claims.preferred_username().unwrap().as_str(), "alice");
    assert_eq!(claims.email().unwrap().as_str(), "alice@example.com");
    assert_eq!(claims.auth_method_refs().unwrap()[0].as_str(), "mca");
    assert!(claims.auth_time().is_some());
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.preferred_username().unwrap().as_str(), "alice");
    assert_eq!(info.email_verified(), Some(true));

    // The refresh token rotates; the old one, used again, ends the grant.
    let first_refresh = tokens.refresh_token().unwrap().clone();
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let second_refresh = refreshed.refresh_token().unwrap().clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    let reuse = client
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(format!("{reuse:?}").contains("invalid_grant"), "{reuse:?}");
    let after_reuse: Result<CoreUserInfoClaims, _> = client
        .user_info(refreshed.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        after_reuse.is_err(),
        "a reused refresh token revokes the family"
    );
    let family = client
        .exchange_refresh_token(&second_refresh)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        format!("{family:?}").contains("invalid_grant"),
        "{family:?}"
    );
}

#[tokio::test]
async fn confidential_clients_get_eddsa_and_es256_id_tokens_and_can_revoke() {
    let app = spawn_app().await;
    for (alg, expected) in [
        (IdTokenAlg::EdDSA, CoreJwsSigningAlgorithm::EdDsa),
        (IdTokenAlg::ES256, CoreJwsSigningAlgorithm::EcdsaP256Sha256),
    ] {
        let (id, secret) = confidential_client(&app, alg).await;
        let client = CoreClient::from_provider_metadata(
            discover(&app).await,
            ClientId::new(id.clone()),
            Some(ClientSecret::new(secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new("https://rp.example/callback".into()).unwrap());
        let (auth_url, _csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .url();
        let ticket = open_authorization_page(&app, auth_url.as_str()).await;
        let redirect = confirm_in_app(&app, &ticket, "Shop Example").await;
        let http = http_client();
        let tokens = client
            .exchange_code(AuthorizationCode::new(params(&redirect)["code"].clone()))
            .unwrap()
            .request_async(&http)
            .await
            .unwrap();
        let verifier = client.id_token_verifier().set_allowed_algs(vec![expected]);
        let claims = tokens
            .id_token()
            .unwrap()
            .claims(&verifier, &nonce)
            .unwrap();
        assert_eq!(
            claims.name().unwrap().get(None).unwrap().as_str(),
            "Alice Example"
        );
        assert!(claims.email().is_none(), "no email scope, no email");
        assert!(
            tokens.refresh_token().is_none(),
            "no offline_access, no refresh token"
        );
        // RFC 7009 (openidconnect refuses an http:// revocation URL, so the
        // request is made by hand): userinfo refuses the token at once.
        let revoked = app
            .client
            .post(app.url("/oauth2/revoke"))
            .basic_auth(&id, Some(&secret))
            .form(&[
                ("token", tokens.access_token().secret().as_str()),
                ("token_type_hint", "access_token"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), StatusCode::OK);
        let info = app
            .client
            .get(app.url("/oauth2/userinfo"))
            .bearer_auth(tokens.access_token().secret())
            .send()
            .await
            .unwrap();
        assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
        assert!(
            info.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token")
        );
    }
}

#[tokio::test]
async fn discovery_names_every_endpoint_and_capability() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], app.base);
    for (field, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("revocation_endpoint", "/oauth2/revoke"),
    ] {
        assert_eq!(doc[field], format!("{}{path}", app.base));
    }
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert!(
        doc["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("RS256"))
    );
    let jwks: Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids.len(),
        4,
        "the SDK key and one key per id_token algorithm"
    );
    let unique: std::collections::HashSet<&str> = kids.iter().copied().collect();
    assert_eq!(unique.len(), kids.len(), "every key has its own kid");
}

/// A code flow up to the code, by hand: (code, verifier) for the demo client.
async fn demo_code(app: &TestApp, state: &str) -> (String, String) {
    let verifier = "v".repeat(43);
    let challenge = qrlogin_core::oidc::CodeChallenge::of_verifier(&verifier);
    let auth_url = app.url(&format!(
        "/oauth2/authorize?response_type=code&client_id=demo&scope=openid&state={state}\
         &redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback&code_challenge={}\
         &code_challenge_method=S256",
        challenge.as_str()
    ));
    let ticket = open_authorization_page(app, &auth_url).await;
    let redirect = confirm_in_app(app, &ticket, "QR Login demo client").await;
    (params(&redirect)["code"].clone(), verifier)
}

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/oauth2/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

fn code_form<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("client_id", "demo"),
        ("code", code),
        ("code_verifier", verifier),
        ("redirect_uri", "http://127.0.0.1:5000/callback"),
    ]
}

#[tokio::test]
async fn a_code_works_once_and_its_replay_revokes_the_tokens() {
    let app = spawn_app().await;
    let (code, verifier) = demo_code(&app, "s1").await;
    let (status, tokens) = token_request(&app, &code_form(&code, &verifier)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, body) = token_request(&app, &code_form(&code, &verifier)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let info = app
        .client
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        info.status(),
        StatusCode::UNAUTHORIZED,
        "the replay revoked the grant"
    );
}

#[tokio::test]
async fn pkce_is_checked_at_the_token_endpoint() {
    let app = spawn_app().await;
    let (code, _) = demo_code(&app, "s2").await;
    let mut missing = code_form(&code, "");
    missing.retain(|(name, _)| *name != "code_verifier");
    let (status, body) = token_request(&app, &missing).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (code, _) = demo_code(&app, "s3").await;
    let wrong = "w".repeat(43);
    let (status, body) = token_request(&app, &code_form(&code, &wrong)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = crate::spawn_app_with_manual_clock(&[]).await;
    let (code, verifier) = demo_code(&app, "s4").await;
    app.clock.advance(std::time::Duration::from_secs(61));
    let (status, body) = token_request(&app, &code_form(&code, &verifier)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client() {
    let app = spawn_app().await;
    let (id, _secret) = confidential_client(&app, IdTokenAlg::RS256).await;
    let response = app
        .client
        .post(app.url("/oauth2/token"))
        .basic_auth(&id, Some("not-the-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", "https://rp.example/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    // The same secret in the form, and no secret at all for a confidential client.
    let (status, body) = token_request(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("code", "x"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
}

#[tokio::test]
async fn unknown_clients_and_unregistered_redirects_get_an_error_page_never_a_redirect() {
    let app = spawn_app().await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for query in [
        "response_type=code&client_id=nobody&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback",
        "response_type=code&client_id=demo&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2Fcallback",
        "response_type=code&scope=openid",
    ] {
        let response = no_redirects
            .get(app.url(&format!("/oauth2/authorize?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(response.headers().get("location").is_none());
        assert!(response.text().await.unwrap().contains("cannot be used"));
    }
    // A known client and URI with a bad parameter: back to the client with the error.
    let response = no_redirects
        .get(app.url("/oauth2/authorize?response_type=token&client_id=demo&scope=openid&state=xyz&redirect_uri=http%3A%2F%2F127.0.0.1%3A8123%2Fcallback"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let back = params(&location);
    assert!(location.starts_with("http://127.0.0.1:8123/callback?"));
    assert_eq!(back["error"], "unsupported_response_type");
    assert_eq!(back["state"], "xyz");
    assert_eq!(back["iss"], app.base);
    // A public client without PKCE is refused the same way.
    let response = no_redirects
        .get(app.url("/oauth2/authorize?response_type=code&client_id=demo&scope=openid&state=q&redirect_uri=http%3A%2F%2F127.0.0.1%3A8123%2Fcallback"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        params(response.headers()["location"].to_str().unwrap())["error"],
        "invalid_request"
    );
}

#[tokio::test]
async fn a_cancel_in_the_app_sends_access_denied_with_state_and_iss() {
    let app = spawn_app().await;
    let challenge = qrlogin_core::oidc::CodeChallenge::of_verifier(&"v".repeat(43));
    let query = format!(
        "response_type=code&client_id=demo&scope=openid&state=st8&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback&code_challenge={}&code_challenge_method=S256",
        challenge.as_str()
    );
    let ticket =
        open_authorization_page(&app, &app.url(&format!("/oauth2/authorize?{query}"))).await;
    let alice = app.sign_in("alice").await;
    let id = ticket.id.to_string();
    assert_eq!(
        app.app_call(&alice, &id, "scan").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.app_call(&alice, &id, "cancel").await.status(),
        StatusCode::OK
    );
    let exchange: Value = app.exchange(&ticket).await.json().await.unwrap();
    let back = params(exchange["redirect_to"].as_str().unwrap());
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], "st8");
    assert_eq!(back["iss"], app.base);
    // The page's own way out says the same.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cancel = no_redirects
        .get(app.url(&format!("/oauth2/authorize/cancel?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        params(cancel.headers()["location"].to_str().unwrap())["error"],
        "access_denied"
    );
}

#[tokio::test]
async fn was_this_you_no_in_the_app_ends_the_clients_tokens() {
    let app = spawn_app().await;
    let (code, verifier) = demo_code(&app, "s5").await;
    let (_, tokens) = token_request(&app, &code_form(&code, &verifier)).await;
    let access = tokens["access_token"].as_str().unwrap();
    let alice = app.sign_in("alice").await;
    let list: Value = app
        .client
        .get(app.url("/api/v1/app/sign-ins"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = &list["sign_ins"][0];
    assert_eq!(
        entry["client_name"], "QR Login demo client",
        "the list names the client"
    );
    let revoke = app
        .client
        .post(app.url(&format!(
            "/api/v1/app/sign-ins/{}/revoke",
            entry["id"].as_str().unwrap()
        )))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert!(revoke.status().is_success(), "{}", revoke.status());
    let info = app
        .client
        .get(app.url("/oauth2/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_sdk_flow_is_unchanged_beside_the_provider() {
    let app = spawn_app().await;
    let ticket = app.confirmed_ticket().await;
    let body: Value = app.exchange(&ticket).await.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].is_string());
    assert!(body.get("redirect_to").is_none());
}
