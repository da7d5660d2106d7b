//! The one policy for which code in a picture to act on, used by every way
//! of reading one: the CLI's `--image` and `--camera`, the app's picked
//! image and its camera thread.
//!
//! A picture may hold several codes (a login page next to a shop's payment
//! code, two tabs side by side). The code to act on is the first one the
//! [`CodeCheck`] accepts; when it accepts none, the first code found (login
//! codes come first out of the decoder) is reported as refused, with the
//! reason the check gave, so the person learns why ("this code is for
//! another server") instead of "no code found".

use qrlogin_core::{LoginQr, Origin};

use crate::error::ClientError;

/// What a code must be to be acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// A login code of this server (the signed-in one): anything else is
    /// refused before any request ([`crate::Session::check_code`]).
    Server(Origin),
    /// Any well-formed login code (nobody is signed in yet; the server is
    /// checked when the code is used).
    AnyLoginCode,
}

impl CodeCheck {
    /// The login code in `text`, or why it is not one to act on.
    pub fn check(&self, text: &str) -> Result<LoginQr, ClientError> {
        let qr =
            LoginQr::parse(text.trim()).map_err(|reason| ClientError::NotALoginCode { reason })?;
        match self {
            Self::Server(server) if !qr.is_from(server) => Err(ClientError::ForeignOrigin {
                scanned: qr.origin.clone(),
                signed_in: server.clone(),
            }),
            _ => Ok(qr),
        }
    }
}

/// The code picked out of a picture.
#[derive(Debug)]
pub enum Picked {
    /// A code the check accepted: act on it.
    Accepted(String),
    /// No code was accepted; this is the first one found, and why it was
    /// refused.
    Refused { text: String, reason: ClientError },
}

impl Picked {
    pub fn text(&self) -> &str {
        match self {
            Self::Accepted(text) | Self::Refused { text, .. } => text,
        }
    }

    pub fn into_text(self) -> String {
        match self {
            Self::Accepted(text) | Self::Refused { text, .. } => text,
        }
    }
}

/// Picks the code to act on among `texts` (in the decoder's order: login
/// codes first). `None` when there is no text at all.
pub fn pick_code<S: AsRef<str>>(texts: &[S], check: &CodeCheck) -> Option<Picked> {
    let mut refused = None;
    for text in texts {
        let text = text.as_ref();
        match check.check(text) {
            Ok(_) => return Some(Picked::Accepted(text.to_owned())),
            Err(reason) => {
                refused.get_or_insert(Picked::Refused {
                    text: text.to_owned(),
                    reason,
                });
            }
        }
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "https://login.example.com/q/AAECAwQFBgcICQoLDA0ODw";
    const THEIRS: &str = "https://evil.example.net/q/AAECAwQFBgcICQoLDA0ODw";
    const SHOP: &str = "https://shop.example.com/pay?id=7";

    fn ours() -> CodeCheck {
        CodeCheck::Server(Origin::parse("https://login.example.com").unwrap())
    }

    #[test]
    fn the_signed_in_servers_code_wins_wherever_it_is() {
        let picked = pick_code(&[THEIRS, SHOP, OURS], &ours()).unwrap();
        assert!(
            matches!(&picked, Picked::Accepted(t) if t == OURS),
            "{picked:?}"
        );
    }

    #[test]
    fn without_an_acceptable_code_the_first_is_refused_with_its_reason() {
        let picked = pick_code(&[THEIRS, SHOP], &ours()).unwrap();
        match picked {
            Picked::Refused { text, reason } => {
                assert_eq!(text, THEIRS);
                assert!(
                    matches!(reason, ClientError::ForeignOrigin { .. }),
                    "{reason:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        let picked = pick_code(&[SHOP], &ours()).unwrap();
        assert!(
            matches!(
                &picked,
                Picked::Refused {
                    reason: ClientError::NotALoginCode { .. },
                    ..
                }
            ),
            "{picked:?}"
        );
    }

    #[test]
    fn before_sign_in_any_login_code_is_accepted() {
        let picked = pick_code(&[SHOP, THEIRS], &CodeCheck::AnyLoginCode).unwrap();
        assert_eq!(picked.text(), THEIRS);
        assert!(matches!(picked, Picked::Accepted(_)));
    }

    #[test]
    fn nothing_found_picks_nothing() {
        assert!(pick_code::<&str>(&[], &CodeCheck::AnyLoginCode).is_none());
    }

    #[test]
    fn surrounding_whitespace_does_not_matter() {
        let padded = format!(" {OURS}\n");
        assert!(matches!(
            pick_code(&[padded.as_str()], &ours()),
            Some(Picked::Accepted(_))
        ));
    }
}
