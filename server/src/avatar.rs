//! Initials avatars: a coloured circle with up to two letters, for users
//! without a picture, so the waiting page always has something to show.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// The SVG document for a user with this display name; `seed` (the user id)
/// picks the colour so it stays stable when the name changes.
pub fn initials_svg(display_name: &str, seed: &str) -> String {
    let initials = initials(display_name);
    let hue = u16::from_be_bytes({
        let digest = Sha256::digest(seed.as_bytes());
        [digest[0], digest[1]]
    }) % 360;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96"><circle cx="48" cy="48" r="48" fill="hsl({hue},55%,45%)"/><text x="48" y="48" dy=".35em" text-anchor="middle" font-family="system-ui,sans-serif" font-size="40" fill="#fff">{}</text></svg>"##,
        xml_escape(&initials)
    )
}

/// The same image inline, as a `data:image/svg+xml;base64,…` URL: what the
/// waiting page gets, so that no URL carrying the user id reaches it.
pub fn initials_data_url(display_name: &str, seed: &str) -> String {
    let svg = initials_svg(display_name, seed);
    format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg))
}

/// "Alice Example" → "AE"; "bob" → "B"; nothing usable → "?".
fn initials(display_name: &str) -> String {
    let letters: String = display_name
        .split_whitespace()
        .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".into()
    } else {
        letters
    }
}

fn xml_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '&' => "&amp;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_first_letters_of_two_words() {
        assert_eq!(initials("Alice Example"), "AE");
        assert_eq!(initials("bob"), "B");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("<script> alert"), "SA");
    }

    #[test]
    fn svg_is_stable_per_seed() {
        let svg = initials_svg("Alice Example", "u1");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(">AE<"));
        assert_eq!(svg, initials_svg("Alice Example", "u1"));
    }

    #[test]
    fn data_url_holds_the_svg_but_not_the_seed() {
        let url = initials_data_url("Alice Example", "user-id-123");
        let encoded = url.strip_prefix("data:image/svg+xml;base64,").unwrap();
        let svg = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
        assert_eq!(svg, initials_svg("Alice Example", "user-id-123"));
        assert!(!url.contains("user-id-123"));
    }
}
