//! Randomness from the operating system's CSPRNG.

/// `N` bytes from the OS random source.
///
/// Panics only if the OS has no working random source, in which case no
/// secret this server could hand out would be safe anyway.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buf).expect("the OS random number generator failed");
    buf
}

/// A bearer value of 256 random bits, base64url (43 characters): codes,
/// refresh tokens, client secrets.
pub fn token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes::<32>())
}
