//! Redirect URIs: what may be registered, how a request's URI is matched
//! against the registered ones (exactly, except the RFC 8252 §7.3 loopback
//! rule: any port), and how parameters are appended to one.

use serde::{Deserialize, Serialize};

/// Why a redirect URI cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error(
        "a redirect URI must be an absolute https:// URL (http:// only for 127.0.0.1, [::1] or localhost)"
    )]
    Scheme,
    #[error("a redirect URI must name a host")]
    Host,
    #[error("a redirect URI must not have a #fragment")]
    Fragment,
    #[error("a redirect URI must not contain spaces or control characters")]
    Characters,
    #[error("a redirect URI must be at most 2000 characters")]
    TooLong,
}

/// A registered redirect URI (RFC 6749 §3.1.2): absolute, no fragment,
/// https, or http on a loopback host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(text: &str) -> Result<Self, RedirectUriError> {
        if text.len() > 2000 {
            return Err(RedirectUriError::TooLong);
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(RedirectUriError::Characters);
        }
        if text.contains('#') {
            return Err(RedirectUriError::Fragment);
        }
        let parts = Parts::of(text).ok_or(RedirectUriError::Scheme)?;
        if parts.host.is_empty() || parts.host.contains('@') {
            return Err(RedirectUriError::Host);
        }
        match parts.scheme {
            "https" => Ok(Self(text.to_string())),
            "http" if parts.is_loopback() => Ok(Self(text.to_string())),
            _ => Err(RedirectUriError::Scheme),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `requested` (from an authorization request) is this URI:
    /// the same string, or for a loopback http URI the same string but for
    /// the port (RFC 8252 §7.3).
    pub fn matches(&self, requested: &str) -> bool {
        if self.0 == requested {
            return true;
        }
        let (Some(ours), Some(theirs)) = (Parts::of(&self.0), Parts::of(requested)) else {
            return false;
        };
        ours.scheme == "http"
            && ours.is_loopback()
            && theirs.scheme == "http"
            && ours.host == theirs.host
            && ours.rest == theirs.rest
            && theirs
                .port
                .is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = RedirectUriError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<RedirectUri> for String {
    fn from(uri: RedirectUri) -> Self {
        uri.0
    }
}

impl std::fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `scheme://host[:port]rest`, split without decoding anything.
struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<&'a str>,
    /// Path, query: everything after the authority.
    rest: &'a str,
}

impl<'a> Parts<'a> {
    fn of(text: &'a str) -> Option<Self> {
        let (scheme, after) = text.split_once("://")?;
        let end = after.find(['/', '?']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (inside, tail) = v6.split_once(']')?;
            let host = &authority[..inside.len() + 2];
            match tail {
                "" => (host, None),
                _ => (host, Some(tail.strip_prefix(':')?)),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        Some(Self {
            scheme,
            host,
            port,
            rest,
        })
    }

    fn is_loopback(&self) -> bool {
        matches!(self.host, "127.0.0.1" | "[::1]" | "localhost")
    }
}

/// `uri` with `params` appended to its query (form-urlencoded).
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_string();
    let mut separator = if uri.contains('?') { '&' } else { '?' };
    if uri.ends_with('?') || uri.ends_with('&') {
        separator = '\0';
    }
    for (name, value) in params {
        if separator != '\0' {
            out.push(separator);
        }
        separator = '&';
        out.push_str(&form_encode(name));
        out.push('=');
        out.push_str(&form_encode(value));
    }
    out
}

/// application/x-www-form-urlencoded encoding of one name or value.
pub fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The `name=value` pairs of an application/x-www-form-urlencoded text (a
/// query string or a form body), decoded; `None` when one does not decode.
pub fn form_pairs(text: &str) -> Option<Vec<(String, String)>> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

/// Decodes one application/x-www-form-urlencoded name or value (`+` is a
/// space). `None` for a bad escape or bytes that are not UTF-8.
pub fn form_decode(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            _ => out.push(byte),
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_loopback_http_can_be_registered() {
        for ok in [
            "https://app.example/cb",
            "https://app.example:8443/oidc/callback?x=1",
            "http://127.0.0.1/cb",
            "http://localhost:4180/oauth2/callback",
            "http://[::1]:8000/cb",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn other_redirect_uris_are_refused() {
        use RedirectUriError as E;
        for (bad, why) in [
            ("http://app.example/cb", E::Scheme),
            ("app.example/cb", E::Scheme),
            ("javascript://alert(1)", E::Scheme),
            ("https://app.example/cb#frag", E::Fragment),
            ("https:///cb", E::Host),
            ("https://evil@app.example/cb", E::Host),
            ("https://app.example/c b", E::Characters),
        ] {
            assert_eq!(RedirectUri::parse(bad), Err(why), "{bad}");
        }
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let uri = RedirectUri::parse("https://app.example/cb").unwrap();
        assert!(uri.matches("https://app.example/cb"));
        for other in [
            "https://app.example/cb/",
            "https://app.example/cb?x=1",
            "https://APP.example/cb",
            "https://app.example:443/cb",
            "https://app.example.evil/cb",
            "http://app.example/cb",
        ] {
            assert!(!uri.matches(other), "{other}");
        }
    }

    #[test]
    fn a_loopback_redirect_uri_matches_any_port() {
        let uri = RedirectUri::parse("http://127.0.0.1/cb").unwrap();
        assert!(uri.matches("http://127.0.0.1:53412/cb"));
        assert!(uri.matches("http://127.0.0.1/cb"));
        assert!(!uri.matches("http://127.0.0.1:53412/other"));
        assert!(!uri.matches("http://localhost:53412/cb"));
        assert!(!uri.matches("http://127.0.0.1:x/cb"));
        assert!(!uri.matches("https://127.0.0.1:53412/cb"));
        let registered_with_port = RedirectUri::parse("http://localhost:3000/cb").unwrap();
        assert!(registered_with_port.matches("http://localhost:4000/cb"));
        let v6 = RedirectUri::parse("http://[::1]/cb").unwrap();
        assert!(v6.matches("http://[::1]:9/cb"));
    }

    #[test]
    fn form_decoding_reverses_encoding() {
        for text in ["plain", "a b&c=d", "ünï", "%+"] {
            assert_eq!(form_decode(&form_encode(text)).as_deref(), Some(text));
        }
        assert_eq!(form_decode("a+b%21").as_deref(), Some("a b!"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
    }

    #[test]
    fn parameters_are_appended_encoded() {
        assert_eq!(
            with_query(
                "https://a.example/cb",
                &[("code", "x y"), ("state", "a&b=c")]
            ),
            "https://a.example/cb?code=x%20y&state=a%26b%3Dc"
        );
        assert_eq!(
            with_query("https://a.example/cb?k=v", &[("code", "1")]),
            "https://a.example/cb?k=v&code=1"
        );
        assert_eq!(
            with_query("https://a.example/cb?", &[("code", "1")]),
            "https://a.example/cb?code=1"
        );
    }
}
