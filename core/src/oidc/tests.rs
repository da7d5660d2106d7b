use super::*;

fn client(kind: ClientKind) -> RegisteredClient {
    RegisteredClient {
        id: "shop".into(),
        name: "Example Shop".into(),
        kind,
        redirect_uris: vec![
            RedirectUri::parse("https://shop.example/cb").unwrap(),
            RedirectUri::parse("http://127.0.0.1/cb").unwrap(),
        ],
        id_token_alg: IdTokenAlg::RS256,
    }
}

// base64url(SHA-256(VERIFIER)), computed with Python's hashlib.
const CHALLENGE: &str = "IiLRh0XeypImx3jto9klq-rju89tuWRbfD_3AUkNCs4";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9Y5C5FoOvJf0TaY4CsQrLmH1Q";

fn params(extra: &[(&str, &str)]) -> AuthorizationParams {
    AuthorizationParams::from_pairs(pairs(extra))
}

fn pairs(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "shop"),
        ("redirect_uri", "https://shop.example/cb"),
        ("scope", "openid profile"),
        ("state", "s1"),
        ("nonce", "n1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        if !v.is_empty() {
            pairs.push((k.to_string(), v.to_string()));
        }
    }
    pairs
}

fn redirect_error(result: Result<AuthorizationBinding, AuthorizationRejection>) -> RedirectError {
    match result {
        Err(AuthorizationRejection::Redirect(e)) => e,
        other => panic!("expected a redirect with an error, got {other:?}"),
    }
}

#[test]
fn a_verifier_matches_its_s256_challenge_and_nothing_else_does() {
    let challenge = CodeChallenge::parse(CHALLENGE).unwrap();
    assert!(challenge.verify(VERIFIER));
    assert!(!challenge.verify(&VERIFIER.replace('d', "e")));
    assert!(!challenge.verify("short"));
    assert_eq!(CodeChallenge::of_verifier(VERIFIER), challenge);
    assert!(CodeChallenge::parse("not a challenge").is_none());
}

#[test]
fn a_valid_request_binds_client_redirect_scope_state_nonce_and_challenge() {
    let binding = validate(&params(&[]), Some(&client(ClientKind::Public))).unwrap();
    assert_eq!(binding.client_id, "shop");
    assert_eq!(binding.client_name, "Example Shop");
    assert_eq!(binding.redirect_uri, "https://shop.example/cb");
    assert_eq!(binding.scope.to_string(), "openid profile");
    assert_eq!(binding.state.as_deref(), Some("s1"));
    assert_eq!(binding.nonce.as_deref(), Some("n1"));
    assert_eq!(binding.code_challenge.unwrap().as_str(), CHALLENGE);
}

#[test]
fn unknown_client_or_unregistered_redirect_uri_is_an_error_page() {
    use AuthorizationRejection::ErrorPage as Page;
    let c = client(ClientKind::Confidential);
    assert_eq!(
        validate(&params(&[]), None),
        Err(Page(ErrorPage::UnknownClient))
    );
    assert_eq!(
        validate(&params(&[("client_id", "")]), Some(&c)),
        Err(Page(ErrorPage::MissingClient))
    );
    assert_eq!(
        validate(
            &params(&[("redirect_uri", "https://evil.example/cb")]),
            Some(&c)
        ),
        Err(Page(ErrorPage::UnregisteredRedirectUri))
    );
    assert_eq!(
        validate(&params(&[("redirect_uri", "")]), Some(&c)),
        Err(Page(ErrorPage::MissingRedirectUri))
    );
    // Even a broken response_type: the redirect URI is checked first.
    assert_eq!(
        validate(
            &params(&[
                ("redirect_uri", "https://evil.example/cb"),
                ("response_type", "token")
            ]),
            Some(&c)
        ),
        Err(Page(ErrorPage::UnregisteredRedirectUri))
    );
}

#[test]
fn a_loopback_redirect_on_any_port_is_accepted() {
    let binding = validate(
        &params(&[("redirect_uri", "http://127.0.0.1:49152/cb")]),
        Some(&client(ClientKind::Public)),
    )
    .unwrap();
    assert_eq!(binding.redirect_uri, "http://127.0.0.1:49152/cb");
}

#[test]
fn other_errors_redirect_with_state() {
    let c = client(ClientKind::Confidential);
    for (extra, code) in [
        (
            ("response_type", "token"),
            OAuthErrorCode::UnsupportedResponseType,
        ),
        (("response_type", ""), OAuthErrorCode::InvalidRequest),
        (("scope", "profile"), OAuthErrorCode::InvalidScope),
        (("prompt", "none"), OAuthErrorCode::LoginRequired),
        (
            ("code_challenge_method", "plain"),
            OAuthErrorCode::InvalidRequest,
        ),
        (("code_challenge", "abc"), OAuthErrorCode::InvalidRequest),
        (("max_age", "soon"), OAuthErrorCode::InvalidRequest),
        (("request", "eyJ"), OAuthErrorCode::RequestNotSupported),
        (
            ("response_mode", "fragment"),
            OAuthErrorCode::InvalidRequest,
        ),
    ] {
        let e = redirect_error(validate(&params(&[extra]), Some(&c)));
        assert_eq!(e.error, code, "{extra:?}");
        assert_eq!(e.state.as_deref(), Some("s1"));
        assert_eq!(e.redirect_uri, "https://shop.example/cb");
    }
}

#[test]
fn public_clients_must_send_a_pkce_challenge() {
    let without = params(&[("code_challenge", ""), ("code_challenge_method", "")]);
    let e = redirect_error(validate(&without, Some(&client(ClientKind::Public))));
    assert_eq!(e.error, OAuthErrorCode::InvalidRequest);
    let binding = validate(&without, Some(&client(ClientKind::Confidential))).unwrap();
    assert_eq!(binding.code_challenge, None);
}

#[test]
fn a_repeated_parameter_is_invalid() {
    let mut twice = pairs(&[]);
    twice.push(("scope".into(), "openid".into()));
    let twice = AuthorizationParams::from_pairs(twice);
    let e = redirect_error(validate(&twice, Some(&client(ClientKind::Public))));
    assert_eq!(e.error, OAuthErrorCode::InvalidRequest);
    let mut two_clients = pairs(&[]);
    two_clients.push(("client_id".into(), "other".into()));
    assert_eq!(
        AuthorizationParams::from_pairs(two_clients).client_id(),
        None
    );
}

#[test]
fn unknown_scopes_are_dropped_and_known_ones_kept_in_order() {
    let scope = Scope::parse("email  openid admin offline_access");
    assert_eq!(scope.to_string(), "openid email offline_access");
    assert!(scope.covers(&Scope::parse("openid email")));
    assert!(!scope.covers(&Scope::parse("openid profile")));
}

#[test]
fn userinfo_claims_follow_the_scope() {
    let all = UserClaims::for_scope(
        &Scope::parse("openid profile email"),
        "u1",
        "Alice Example",
        "alice",
        Some("https://x/a.png"),
        Some("alice@example.com"),
    );
    assert_eq!(all.name.as_deref(), Some("Alice Example"));
    assert_eq!(all.email_verified, Some(true));
    let bare = UserClaims::for_scope(&Scope::parse("openid"), "u1", "A", "a", None, Some("a@x"));
    assert_eq!(
        bare,
        UserClaims {
            sub: "u1".into(),
            name: None,
            preferred_username: None,
            picture: None,
            email: None,
            email_verified: None
        }
    );
}

#[test]
fn discovery_names_every_endpoint_under_the_issuer() {
    let doc = ProviderMetadata::for_issuer("https://login.example");
    assert_eq!(doc.issuer, "https://login.example");
    assert_eq!(doc.token_endpoint, "https://login.example/oauth2/token");
    assert!(
        doc.id_token_signing_alg_values_supported
            .contains(&"RS256".to_string())
    );
    assert_eq!(doc.code_challenge_methods_supported, ["S256"]);
    assert!(doc.authorization_response_iss_parameter_supported);
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(
        json["response_types_supported"],
        serde_json::json!(["code"])
    );
}

#[test]
fn at_hash_is_the_left_half_of_the_algorithms_hash() {
    // OpenID Connect Core's example access token and its at_hash (RS256).
    assert_eq!(
        at_hash(
            IdTokenAlg::RS256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        ),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
    assert_eq!(at_hash(IdTokenAlg::EdDSA, "x").len(), 43);
}

#[test]
fn a_binding_survives_json() {
    let binding = validate(&params(&[]), Some(&client(ClientKind::Public))).unwrap();
    let json = serde_json::to_string(&binding).unwrap();
    assert_eq!(
        serde_json::from_str::<AuthorizationBinding>(&json).unwrap(),
        binding
    );
}
