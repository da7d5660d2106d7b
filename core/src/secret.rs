//! Random identifiers and bearer secrets: [`TicketId`], [`PollSecret`],
//! [`SessionToken`] and the hashes the server keeps instead of the secrets.
//!
//! Randomness comes in as bytes; this module never draws any itself.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a string is not a valid identifier or secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseIdError {
    #[error("wrong length: expected {expected} characters, got {actual}")]
    Length { expected: usize, actual: usize },
    #[error("invalid character: only A-Z, a-z, 0-9, '-' and '_' are allowed")]
    Alphabet,
}

/// Decodes unpadded base64url of exactly `N` bytes, accepting only the
/// canonical encoding (so one value has exactly one spelling).
fn decode_fixed<const N: usize>(text: &str) -> Result<[u8; N], ParseIdError> {
    let expected = encoded_len(N);
    if text.len() != expected {
        return Err(ParseIdError::Length {
            expected,
            actual: text.len(),
        });
    }
    if !text.bytes().all(is_base64url_byte) {
        return Err(ParseIdError::Alphabet);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| ParseIdError::Alphabet)?;
    let array: [u8; N] = bytes.try_into().map_err(|_| ParseIdError::Alphabet)?;
    // Reject non-canonical trailing bits ("AB" and "AC" must not both decode).
    if URL_SAFE_NO_PAD.encode(array) != text {
        return Err(ParseIdError::Alphabet);
    }
    Ok(array)
}

const fn encoded_len(bytes: usize) -> usize {
    (bytes * 8).div_ceil(6)
}

/// True for the 64 characters of the base64url alphabet.
pub fn is_base64url_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// A ticket's public id: 128 random bits as 22 characters of base64url.
/// It appears in the QR code, so knowing it grants nothing by itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketId([u8; 16]);

impl TicketId {
    /// Length of the text form.
    pub const TEXT_LEN: usize = encoded_len(16);

    /// Builds an id from 16 bytes that the caller drew from a CSPRNG.
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub fn parse(text: &str) -> Result<Self, ParseIdError> {
        decode_fixed(text).map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TicketId({self})")
    }
}

impl std::str::FromStr for TicketId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for TicketId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TicketId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// SHA-256 of a high-entropy bearer secret. Stored instead of the secret;
/// compared in constant time.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub fn of(secret_text: &str) -> Self {
        Self(Sha256::digest(secret_text.as_bytes()).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time check that `secret_text` hashes to this value.
    pub fn matches(&self, secret_text: &str) -> bool {
        Self::of(secret_text).0.ct_eq(&self.0).into()
    }

    /// Lowercase hex, for storage in text columns and Redis.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

impl Serialize for SecretHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for SecretHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&text).ok_or_else(|| serde::de::Error::custom("invalid secret hash"))
    }
}

macro_rules! bearer_secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// 256 random bits as 43 characters of base64url. `Debug` never
        /// prints the value; use [`Self::expose`] where it must leave the process.
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Length of the text form.
            pub const TEXT_LEN: usize = encoded_len(32);

            /// Builds a secret from 32 bytes that the caller drew from a CSPRNG.
            pub fn from_random_bytes(bytes: [u8; 32]) -> Self {
                Self(URL_SAFE_NO_PAD.encode(bytes))
            }

            pub fn parse(text: &str) -> Result<Self, ParseIdError> {
                decode_fixed::<32>(text).map(|_| Self(text.to_owned()))
            }

            /// The secret's text, to send to its owner exactly once.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// What the server stores in place of the secret.
            pub fn hash(&self) -> SecretHash {
                SecretHash::of(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

bearer_secret!(
    /// Known only to the browser that created a ticket; it proves the
    /// browser's right to watch and exchange that ticket.
    PollSecret
);

bearer_secret!(
    /// An app session's bearer token, kept in the OS keyring on the device.
    SessionToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_id_round_trips_through_text() {
        let id = TicketId::from_random_bytes([7; 16]);
        let text = id.to_string();
        assert_eq!(text.len(), TicketId::TEXT_LEN);
        assert_eq!(TicketId::TEXT_LEN, 22);
        assert_eq!(TicketId::parse(&text), Ok(id));
    }

    #[test]
    fn ticket_id_rejects_wrong_length_and_alphabet() {
        assert!(matches!(
            TicketId::parse("abc"),
            Err(ParseIdError::Length { .. })
        ));
        assert_eq!(
            TicketId::parse("AAAAAAAAAAAAAAAAAAAAA+"),
            Err(ParseIdError::Alphabet)
        );
        assert_eq!(
            TicketId::parse("AAAAAAAAAAAAAAAAAAAAA="),
            Err(ParseIdError::Alphabet)
        );
    }

    #[test]
    fn ticket_id_rejects_non_canonical_trailing_bits() {
        // 16 bytes leave 4 unused bits in the last character; only 'A', 'Q', 'g', 'w' are canonical.
        assert!(TicketId::parse("AAAAAAAAAAAAAAAAAAAAAA").is_ok());
        assert_eq!(
            TicketId::parse("AAAAAAAAAAAAAAAAAAAAAB"),
            Err(ParseIdError::Alphabet)
        );
    }

    #[test]
    fn poll_secret_debug_is_redacted() {
        let secret = PollSecret::from_random_bytes([1; 32]);
        assert_eq!(format!("{secret:?}"), "PollSecret(<redacted>)");
        assert_eq!(secret.expose().len(), 43);
    }

    #[test]
    fn secret_hash_matches_only_its_secret() {
        let secret = PollSecret::from_random_bytes([2; 32]);
        let other = PollSecret::from_random_bytes([3; 32]);
        let hash = secret.hash();
        assert!(hash.matches(secret.expose()));
        assert!(!hash.matches(other.expose()));
        assert!(!hash.matches(""));
    }

    #[test]
    fn secret_hash_hex_round_trips() {
        let hash = SessionToken::from_random_bytes([9; 32]).hash();
        assert_eq!(SecretHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(SecretHash::from_hex("zz"), None);
        assert_eq!(SecretHash::from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn session_token_parse_rejects_garbage() {
        assert!(SessionToken::parse("not a token").is_err());
        let token = SessionToken::from_random_bytes([4; 32]);
        assert_eq!(SessionToken::parse(token.expose()), Ok(token));
    }
}
