//! The QR code of a ticket's `qr_url` as an SVG image (the create response's
//! `qr_svg`), made on every create and so kept cheap.
//!
//! The `qrcode` crate encodes (segments, Reed–Solomon, placement); two of
//! its defaults cost most of a create's CPU and are done differently here:
//!
//! - **Mask:** the standard lets the encoder pick any of the eight masks
//!   (the decoder reads which from the format bits); `QrCode::new` draws all
//!   eight and scores each with the penalty rules (~0.5 ms). The data here is
//!   a URL ending in 128 random bits, whose codewords are already well mixed,
//!   so one fixed mask serves; `tests::every_code_reads_back` decodes
//!   hundreds of them with an independent decoder.
//! - **Drawing:** one `<path>` with a line per run of dark modules in a
//!   row, written into one string, instead of one element per module.

use std::fmt::Write as _;

use qrcode::bits;
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::types::{Color, QrError};
use qrcode::{EcLevel, ec};

/// Error correction: M (15% of the codewords may be lost) reads well off a
/// screen and keeps the code small.
const EC_LEVEL: EcLevel = EcLevel::M;

/// The one mask used (pattern 0, `(x + y) mod 2`).
const MASK: MaskPattern = MaskPattern::Checkerboard;

/// Light modules around the code, as the standard asks.
const QUIET_ZONE: usize = 4;

/// The image is at least this many pixels wide (whole pixels per module).
const MIN_PIXELS: usize = 240;

/// The modules of the QR code for `data`: `width × width` colors, row by row.
fn modules(data: &[u8]) -> Result<(usize, Vec<Color>), QrError> {
    let bits = bits::encode_auto(data, EC_LEVEL)?;
    let version = bits.version();
    let (data_codewords, ec_codewords) =
        ec::construct_codewords(&bits.into_bytes(), version, EC_LEVEL)?;
    let mut canvas = Canvas::new(version, EC_LEVEL);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data_codewords, &ec_codewords);
    canvas.apply_mask(MASK);
    let width = usize::try_from(version.width()).unwrap_or_default();
    Ok((width, canvas.into_colors()))
}

/// The SVG image of the QR code for `data`.
pub fn qr_svg(data: &str) -> Result<String, QrError> {
    let (width, colors) = modules(data.as_bytes())?;
    Ok(svg(width, &colors))
}

fn svg(width: usize, colors: &[Color]) -> String {
    let side = width + 2 * QUIET_ZONE;
    let pixels = side * MIN_PIXELS.div_ceil(side);
    let mut out = String::with_capacity(8192);
    // Single quotes: the image travels inside a JSON string, where double
    // quotes would each need an escape.
    let _ = write!(
        out,
        "<svg xmlns='http://www.w3.org/2000/svg' version='1.1' width='{pixels}' height='{pixels}' \
         viewBox='0 0 {side} {side}' shape-rendering='crispEdges'>\
         <rect width='{side}' height='{side}' fill='#fff'/><path stroke='#000' d='"
    );
    // Each run of dark modules in a row is one line, one module thick,
    // through the middle of its row: `M{x} {y}.5h{length}`.
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Light {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|c| **c == Color::Dark).count();
            out.push('M');
            push_number(&mut out, x + QUIET_ZONE);
            out.push(' ');
            push_number(&mut out, y + QUIET_ZONE);
            out.push_str(".5h");
            push_number(&mut out, run);
            x += run;
        }
    }
    out.push_str("'/></svg>");
    out
}

/// Appends `n` (< 1000: a QR code is at most 177 modules wide) in decimal,
/// without the formatting machinery, which costs more than the code itself.
fn push_number(out: &mut String, n: usize) {
    debug_assert!(n < 1000);
    if n >= 100 {
        out.push(char::from(b'0' + (n / 100) as u8));
    }
    if n >= 10 {
        out.push(char::from(b'0' + (n / 10 % 10) as u8));
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    /// The modules back out of the SVG's path (dark runs per row).
    fn modules_of_svg(svg: &str) -> (usize, Vec<bool>) {
        let side: usize = svg
            .split("viewBox='0 0 ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        let mut dark = vec![false; side * side];
        let path = svg.split(" d='").nth(1).unwrap();
        let path = path.split('\'').next().unwrap();
        for line in path.split('M').filter(|r| !r.is_empty()) {
            let (xy, run) = line.split_once(".5h").unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            let run: usize = run.parse().unwrap();
            for dx in 0..run {
                dark[y * side + x + dx] = true;
            }
        }
        (side, dark)
    }

    /// Decodes modules with rqrr (an independent decoder), 4 px per module.
    fn read_back(side: usize, dark: &[bool]) -> String {
        const SCALE: usize = 4;
        let image =
            rqrr::PreparedImage::prepare_from_greyscale(side * SCALE, side * SCALE, |x, y| {
                if dark[(y / SCALE) * side + x / SCALE] {
                    0
                } else {
                    255
                }
            });
        let mut image = image;
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one code in the image");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn every_code_reads_back() {
        for i in 0..300u32 {
            let mut bytes = [0u8; 16];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            bytes[4..].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes().repeat(3));
            let url = format!(
                "https://login.example.com:8443/q/{}",
                URL_SAFE_NO_PAD.encode(bytes)
            );
            let svg = qr_svg(&url).unwrap();
            let (side, dark) = modules_of_svg(&svg);
            assert_eq!(read_back(side, &dark), url, "case {i}");
        }
    }

    #[test]
    fn the_path_draws_exactly_the_dark_modules() {
        let url = "http://127.0.0.1:8080/q/AAAAAAAAAAAAAAAAAAAAAA";
        let (width, colors) = modules(url.as_bytes()).unwrap();
        let (side, dark) = modules_of_svg(&qr_svg(url).unwrap());
        assert_eq!(side, width + 2 * QUIET_ZONE);
        for y in 0..side {
            for x in 0..side {
                let inside = (QUIET_ZONE..QUIET_ZONE + width).contains(&x)
                    && (QUIET_ZONE..QUIET_ZONE + width).contains(&y);
                let expected =
                    inside && colors[(y - QUIET_ZONE) * width + x - QUIET_ZONE] == Color::Dark;
                assert_eq!(dark[y * side + x], expected, "module {x},{y}");
            }
        }
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        let mut out = String::new();
        for n in [0, 7, 10, 99, 100, 177, 999] {
            push_number(&mut out, n);
            out.push(',');
        }
        assert_eq!(out, "0,7,10,99,100,177,999,");
    }

    #[test]
    fn the_image_is_at_least_240_pixels_in_whole_pixels_per_module() {
        let svg = qr_svg("http://127.0.0.1:8080/q/x").unwrap();
        let width: usize = svg
            .split("width='")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        let (side, _) = modules_of_svg(&svg);
        assert!(width >= MIN_PIXELS);
        assert_eq!(width % side, 0);
    }
}
