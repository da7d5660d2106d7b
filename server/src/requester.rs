//! Who asked for a code: the client address and its user agent, parsed into
//! a browser and an OS for the confirm screen.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use axum::http::header::USER_AGENT;
use qrlogin_core::RequesterInfo;
use time::OffsetDateTime;

/// Longest user agent we keep (the rest is cut off).
const MAX_USER_AGENT: usize = 512;

/// The client's IP: the socket's peer, or — only when `trust_proxy` — the
/// last entry of `X-Forwarded-For`, the one our own proxy appended. Only
/// that entry: everything before it was written by the client. When it does
/// not parse, the peer is used, never an earlier entry.
pub fn client_ip(headers: &HeaderMap, peer: SocketAddr, trust_proxy: bool) -> IpAddr {
    if trust_proxy {
        let last_entry = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next());
        if let Some(ip) = last_entry.and_then(forwarded_ip) {
            return ip.to_canonical();
        }
    }
    peer.ip().to_canonical()
}

/// One `X-Forwarded-For` entry: `203.0.113.5`, `203.0.113.5:4711`,
/// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            let bracketed = entry.strip_prefix('[')?.strip_suffix(']')?;
            bracketed.parse::<IpAddr>().ok()
        })
}

/// Whether two clients look like they are on the same network: the same
/// IPv4 address (one NAT), or the same IPv6 /64.
pub fn same_network(a: IpAddr, b: IpAddr) -> bool {
    match (a.to_canonical(), b.to_canonical()) {
        (IpAddr::V6(a), IpAddr::V6(b)) => a.segments()[..4] == b.segments()[..4],
        (a, b) => a == b,
    }
}

/// Builds the requester record from the request.
pub fn requester_info(ip: IpAddr, headers: &HeaderMap, now: OffsetDateTime) -> RequesterInfo {
    let user_agent = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| truncate(ua, MAX_USER_AGENT))
        .unwrap_or_default();
    let (browser, os) = describe_user_agent(&user_agent);
    RequesterInfo {
        ip,
        user_agent,
        browser,
        os,
        created_at: now,
    }
}

/// ("Firefox 133", "Windows 10") from a user agent; "Unknown …" when unsure.
pub fn describe_user_agent(user_agent: &str) -> (String, String) {
    let parsed = woothee::parser::Parser::new().parse(user_agent);
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    let browser = parsed
        .as_ref()
        .filter(|r| known(r.name))
        .map(|r| {
            let major = r.version.split('.').next().unwrap_or_default();
            if known(major) {
                format!("{} {major}", r.name)
            } else {
                r.name.to_string()
            }
        })
        .unwrap_or_else(|| "Unknown browser".into());
    let os = parsed
        .as_ref()
        .filter(|r| known(r.os))
        .map(|r| {
            let version = r.os_version.as_ref();
            // "Windows 10" already names its version ("NT 10.0" would only confuse).
            let named_version = r.os.bytes().any(|b| b.is_ascii_digit());
            if known(version) && !named_version {
                format!("{} {version}", r.os)
            } else {
                r.os.to_string()
            }
        })
        .unwrap_or_else(|| "Unknown OS".into());
    (browser, os)
}

fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_network_compares_ipv4_addresses_and_ipv6_prefixes() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(same_network(ip("203.0.113.7"), ip("203.0.113.7")));
        assert!(same_network(ip("203.0.113.7"), ip("::ffff:203.0.113.7")));
        assert!(!same_network(ip("203.0.113.7"), ip("203.0.113.8")));
        assert!(same_network(
            ip("2001:db8:1:2::5"),
            ip("2001:db8:1:2:aaaa::9")
        ));
        assert!(!same_network(ip("2001:db8:1:2::5"), ip("2001:db8:1:3::5")));
        assert!(!same_network(ip("203.0.113.7"), ip("2001:db8::1")));
    }

    #[test]
    fn parses_common_browsers() {
        let ff = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        let (browser, os) = describe_user_agent(ff);
        assert_eq!(browser, "Firefox 133");
        assert_eq!(os, "Windows 10");
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        let (browser, os) = describe_user_agent(chrome);
        assert_eq!(browser, "Chrome 131");
        assert_eq!(os, "Linux");
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(describe_user_agent(android).1, "Android 14");
    }

    #[test]
    fn unknown_agents_are_named_unknown() {
        assert_eq!(
            describe_user_agent(""),
            ("Unknown browser".to_string(), "Unknown OS".to_string())
        );
        assert_eq!(describe_user_agent("curl/8.5.0").1, "Unknown OS");
    }

    #[test]
    fn forwarded_for_is_used_only_when_trusted() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.2".parse().unwrap(),
        );
        assert_eq!(client_ip(&headers, peer, false), peer.ip());
        assert_eq!(
            client_ip(&headers, peer, true),
            "198.51.100.2".parse::<IpAddr>().unwrap()
        );
        headers.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_ip(&headers, peer, true), peer.ip());
    }

    #[test]
    fn only_the_last_forwarded_entry_counts_even_with_a_port() {
        // The client wrote 198.51.100.7; our proxy appended the real
        // address with a port. The client's entry must never win.
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut headers = HeaderMap::new();
        for (value, expected) in [
            ("198.51.100.7, 203.0.113.5:4711", ip("203.0.113.5")),
            ("198.51.100.7, [2001:db8::5]:4711", ip("2001:db8::5")),
            ("198.51.100.7, [2001:db8::5]", ip("2001:db8::5")),
            ("198.51.100.7,2001:db8::5", ip("2001:db8::5")),
            ("198.51.100.7, ::ffff:203.0.113.5", ip("203.0.113.5")),
            // The last entry does not parse: the peer, not the client's entry.
            ("198.51.100.7, unknown", peer.ip()),
            ("198.51.100.7, ", peer.ip()),
        ] {
            headers.insert("x-forwarded-for", value.parse().unwrap());
            assert_eq!(client_ip(&headers, peer, true), expected, "{value}");
        }
        // Several header lines: the last line's last entry.
        headers.insert("x-forwarded-for", "203.0.113.1".parse().unwrap());
        headers.append(
            "x-forwarded-for",
            "198.51.100.7, 203.0.113.2".parse().unwrap(),
        );
        assert_eq!(client_ip(&headers, peer, true), ip("203.0.113.2"));
    }

    #[test]
    fn long_user_agents_are_cut_on_a_char_boundary() {
        let ua = "é".repeat(400);
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, ua.parse().unwrap());
        let info = requester_info(
            "127.0.0.1".parse().unwrap(),
            &headers,
            OffsetDateTime::UNIX_EPOCH,
        );
        assert!(info.user_agent.len() <= MAX_USER_AGENT);
    }
}
