//! The QR payload, `https://<origin>/q/<id>`, and [`Origin`] — the server a
//! payload points at. Parsing is strict: one accepted spelling per code, and
//! plain `http` only for loopback hosts.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::{ParseIdError, TicketId};

/// Longest payload or origin text we even look at.
pub const MAX_URL_LEN: usize = 512;
const MAX_HOST_LEN: usize = 253;

/// Why a text is not a login QR or origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QrParseError {
    #[error("too long to be a login code")]
    TooLong,
    #[error("contains characters that a login link never has")]
    BadCharacter,
    #[error("not a web link (must start with https://)")]
    Scheme,
    #[error("plain http is only allowed for this computer (localhost)")]
    InsecureScheme,
    #[error("the link carries a user name or password")]
    Userinfo,
    #[error("the link's host name is not valid")]
    Host,
    #[error("the link's port is not valid")]
    Port,
    #[error("the link has a query or fragment")]
    QueryOrFragment,
    #[error("not a QR Login link (the path must be /q/<code>)")]
    Path,
    #[error("the code in the link is malformed: {0}")]
    TicketId(ParseIdError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// A web origin: scheme, lowercase ASCII host, port. Two origins are equal
/// exactly when a browser would treat them as the same site.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses `scheme://host[:port]`, allowing one trailing `/` (as in a
    /// server URL typed by a person).
    pub fn parse(text: &str) -> Result<Self, QrParseError> {
        let (origin, rest) = Self::parse_prefix(text)?;
        match rest {
            "" | "/" => Ok(origin),
            r if r.starts_with('?') || r.starts_with('#') => Err(QrParseError::QueryOrFragment),
            _ => Err(QrParseError::Path),
        }
    }

    /// Parses the origin at the start of `text`; returns it and the rest
    /// (which starts at the path, if any).
    fn parse_prefix(text: &str) -> Result<(Self, &str), QrParseError> {
        if text.len() > MAX_URL_LEN {
            return Err(QrParseError::TooLong);
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(QrParseError::BadCharacter);
        }
        let (scheme_text, after) = text.split_once("://").ok_or(QrParseError::Scheme)?;
        let scheme = match scheme_text.to_ascii_lowercase().as_str() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            _ => return Err(QrParseError::Scheme),
        };
        let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(authority_end);
        if authority.contains('@') {
            return Err(QrParseError::Userinfo);
        }
        if authority.contains('%') || authority.contains('\\') {
            return Err(QrParseError::Host);
        }
        let (host, port) = split_host_port(authority)?;
        let host = normalize_host(host)?;
        let port = match port {
            None => scheme.default_port(),
            Some(p) => parse_port(p)?,
        };
        let origin = Origin { scheme, host, port };
        if scheme == Scheme::Http && !origin.is_loopback() {
            return Err(QrParseError::InsecureScheme);
        }
        Ok((origin, rest))
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `localhost`, `127.0.0.0/8` or `[::1]`.
    pub fn is_loopback(&self) -> bool {
        if self.host == "localhost" {
            return true;
        }
        if let Ok(v4) = self.host.parse::<Ipv4Addr>() {
            return v4.is_loopback();
        }
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .and_then(|h| h.parse::<Ipv6Addr>().ok())
            .is_some_and(|v6| v6.is_loopback())
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Origin {
    type Err = QrParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Origin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), QrParseError> {
    if authority.starts_with('[') {
        let close = authority.find(']').ok_or(QrParseError::Host)?;
        let (host, rest) = authority.split_at(close + 1);
        match rest {
            "" => Ok((host, None)),
            r => r
                .strip_prefix(':')
                .map(|p| (host, Some(p)))
                .ok_or(QrParseError::Port),
        }
    } else {
        match authority.split_once(':') {
            None => Ok((authority, None)),
            Some((host, port)) => Ok((host, Some(port))),
        }
    }
}

fn parse_port(text: &str) -> Result<u16, QrParseError> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QrParseError::Port);
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(QrParseError::Port),
        Ok(p) => Ok(p),
    }
}

/// Lowercases and checks a host: an IPv6 literal in brackets, or dot-separated
/// labels of letters, digits and hyphens (IDNs must arrive as punycode).
fn normalize_host(host: &str) -> Result<String, QrParseError> {
    if host.is_empty() || host.len() > MAX_HOST_LEN {
        return Err(QrParseError::Host);
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let addr: Ipv6Addr = inner.parse().map_err(|_| QrParseError::Host)?;
        return Ok(format!("[{addr}]"));
    }
    let host = host.to_ascii_lowercase();
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !labels_ok {
        return Err(QrParseError::Host);
    }
    // Browsers read a host whose last label is numeric (or hex) as an IPv4
    // address, so such a host must be a canonical one: no "0x7f.0.0.1",
    // "127.1" or "017.0.0.1" spellings.
    let last = host.rsplit('.').next().unwrap_or_default();
    if last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x") {
        let addr: Ipv4Addr = host.parse().map_err(|_| QrParseError::Host)?;
        if addr.to_string() != host {
            return Err(QrParseError::Host);
        }
    }
    Ok(host)
}

/// The payload of a login QR code: `https://<origin>/q/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginQr {
    pub origin: Origin,
    pub id: TicketId,
}

impl LoginQr {
    pub fn new(origin: Origin, id: TicketId) -> Self {
        Self { origin, id }
    }

    pub fn parse(text: &str) -> Result<Self, QrParseError> {
        let (origin, rest) = Origin::parse_prefix(text)?;
        if rest.contains(['?', '#']) {
            return Err(QrParseError::QueryOrFragment);
        }
        let id_text = rest.strip_prefix("/q/").ok_or(QrParseError::Path)?;
        if id_text.contains('/') {
            return Err(QrParseError::Path);
        }
        let id = TicketId::parse(id_text).map_err(QrParseError::TicketId)?;
        Ok(Self { origin, id })
    }

    /// True when this code was issued by `server` — the only server the app
    /// may send its token to.
    pub fn is_from(&self, server: &Origin) -> bool {
        &self.origin == server
    }
}

impl fmt::Display for LoginQr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/q/{}", self.origin, self.id)
    }
}

impl std::str::FromStr for LoginQr {
    type Err = QrParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "AAECAwQFBgcICQoLDA0ODw";

    fn id() -> TicketId {
        TicketId::from_random_bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
    }

    #[test]
    fn builds_and_parses_the_canonical_payload() {
        assert_eq!(id().to_string(), ID);
        let qr = LoginQr::new(Origin::parse("https://login.example.com").unwrap(), id());
        let text = qr.to_string();
        assert_eq!(text, format!("https://login.example.com/q/{ID}"));
        assert_eq!(LoginQr::parse(&text), Ok(qr));
    }

    #[test]
    fn accepts_good_payloads() {
        for good in [
            format!("https://login.example.com/q/{ID}"),
            format!("https://login.example.com:8443/q/{ID}"),
            format!("HTTPS://LOGIN.EXAMPLE.COM/q/{ID}"),
            format!("http://localhost:8080/q/{ID}"),
            format!("http://127.0.0.1:8080/q/{ID}"),
            format!("http://[::1]:8080/q/{ID}"),
            format!("https://[2001:db8::1]/q/{ID}"),
            format!("https://xn--bcher-kva.example/q/{ID}"),
            format!("https://a-b.c/q/{ID}"),
        ] {
            assert!(LoginQr::parse(&good).is_ok(), "should accept {good}");
        }
    }

    #[test]
    fn normalizes_case_and_default_port() {
        let a = LoginQr::parse(&format!("HTTPS://Login.Example.com:443/q/{ID}")).unwrap();
        let b = LoginQr::parse(&format!("https://login.example.com/q/{ID}")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), format!("https://login.example.com/q/{ID}"));
    }

    #[test]
    fn rejects_bad_payloads() {
        use QrParseError as E;
        let cases: Vec<(String, QrParseError)> = vec![
            (format!("ftp://login.example.com/q/{ID}"), E::Scheme),
            (format!("javascript://login.example.com/q/{ID}"), E::Scheme),
            (format!("login.example.com/q/{ID}"), E::Scheme),
            (format!("https:/login.example.com/q/{ID}"), E::Scheme),
            (
                format!("http://login.example.com/q/{ID}"),
                E::InsecureScheme,
            ),
            (format!("http://10.0.0.1/q/{ID}"), E::InsecureScheme),
            (
                format!("http://localhost.evil.com/q/{ID}"),
                E::InsecureScheme,
            ),
            (
                format!("https://user:pw@login.example.com/q/{ID}"),
                E::Userinfo,
            ),
            (
                format!("https://login.example.com@evil.com/q/{ID}"),
                E::Userinfo,
            ),
            (
                format!("https://login.example.com/q/{ID}?x=1"),
                E::QueryOrFragment,
            ),
            (
                format!("https://login.example.com/q/{ID}#frag"),
                E::QueryOrFragment,
            ),
            (format!("https://login.example.com/x/{ID}"), E::Path),
            (format!("https://login.example.com/q/{ID}/"), E::Path),
            (format!("https://login.example.com/Q/{ID}"), E::Path),
            (format!("https://login.example.com/q/x/{ID}"), E::Path),
            (format!("https://login.example.com//q/{ID}"), E::Path),
            (
                "https://login.example.com/q/".to_string(),
                E::TicketId(ParseIdError::Length {
                    expected: 22,
                    actual: 0,
                }),
            ),
            (
                "https://login.example.com/q/AAECAwQFBgcICQoLDA0OD".to_string(),
                E::TicketId(ParseIdError::Length {
                    expected: 22,
                    actual: 21,
                }),
            ),
            (
                "https://login.example.com/q/AAECAwQFBgcICQoLDA0ODw0".to_string(),
                E::TicketId(ParseIdError::Length {
                    expected: 22,
                    actual: 23,
                }),
            ),
            (
                "https://login.example.com/q/AAECAwQFBgcICQoLDA0OD+".to_string(),
                E::TicketId(ParseIdError::Alphabet),
            ),
            (
                format!("https://login.example.com/q/{ID}%20"),
                E::TicketId(ParseIdError::Length {
                    expected: 22,
                    actual: 25,
                }),
            ),
            (format!("https://lоgin.example.com/q/{ID}"), E::BadCharacter), // Cyrillic 'о'
            (
                format!("https://login.example.com/q/{ID}\n"),
                E::BadCharacter,
            ),
            (
                format!(" https://login.example.com/q/{ID}"),
                E::BadCharacter,
            ),
            (
                format!("https://login\u{200b}.example.com/q/{ID}"),
                E::BadCharacter,
            ),
            (format!("https://login%2eexample.com/q/{ID}"), E::Host),
            (format!("https://login..example.com/q/{ID}"), E::Host),
            (format!("https://-login.example.com/q/{ID}"), E::Host),
            (format!("https://login_x.example.com/q/{ID}"), E::Host),
            (format!("https:///q/{ID}"), E::Host),
            (format!("http://127.1/q/{ID}"), E::Host),
            (format!("http://0x7f.0.0.1/q/{ID}"), E::Host),
            (format!("https://[::1/q/{ID}"), E::Host),
            (format!("https://login.example.com:0/q/{ID}"), E::Port),
            (format!("https://login.example.com:65536/q/{ID}"), E::Port),
            (format!("https://login.example.com:/q/{ID}"), E::Port),
            (format!("https://login.example.com:+443/q/{ID}"), E::Port),
            (
                format!("https://login.example.com/q/{}", "A".repeat(600)),
                E::TooLong,
            ),
            (String::new(), E::Scheme),
        ];
        assert!(cases.len() >= 20);
        for (text, expected) in cases {
            assert_eq!(LoginQr::parse(&text), Err(expected), "for {text:?}");
        }
    }

    #[test]
    fn origin_equality_is_exact() {
        let server = Origin::parse("https://login.example.com/").unwrap();
        let same = LoginQr::parse(&format!("https://login.example.com:443/q/{ID}")).unwrap();
        assert!(same.is_from(&server));
        for other in [
            format!("https://login.example.com.evil.com/q/{ID}"),
            format!("https://evil-login.example.com/q/{ID}"),
            format!("https://login.example.com:8443/q/{ID}"),
            format!("https://example.com/q/{ID}"),
        ] {
            assert!(!LoginQr::parse(&other).unwrap().is_from(&server), "{other}");
        }
        let local = Origin::parse("http://127.0.0.1:8080").unwrap();
        let downgrade = LoginQr::parse(&format!("http://127.0.0.1:8443/q/{ID}")).unwrap();
        assert!(!downgrade.is_from(&local));
        let https_local = Origin::parse("https://127.0.0.1:8080").unwrap();
        assert_ne!(https_local, local);
    }

    #[test]
    fn origin_parse_rejects_paths_and_queries() {
        assert_eq!(
            Origin::parse("https://a.example/login"),
            Err(QrParseError::Path)
        );
        assert_eq!(
            Origin::parse("https://a.example?x"),
            Err(QrParseError::QueryOrFragment)
        );
        assert_eq!(
            Origin::parse("http://localhost:8080").unwrap().to_string(),
            "http://localhost:8080"
        );
        assert!(Origin::parse("http://[::1]:9").unwrap().is_loopback());
    }
}
