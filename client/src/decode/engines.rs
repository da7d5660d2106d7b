//! The two QR decoders, each isolated with `catch_unwind`: a panic inside a
//! decoder (rqrr asserts in its geometry code on some real photos) counts as
//! "nothing found", never a crash.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use std::borrow::Cow;

use image::GrayImage;
use rxing::common::BitMatrix;
use rxing::multi::MultipleBarcodeReader;
use rxing::qrcode::QRCodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Reader};

use super::binarize::{self, Prebinarized};

/// Which decoder read a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// `rxing` (pure-Rust ZXing port) with its port of zxing-cpp's detector:
    /// several codes per image, copes with perspective; fast.
    Rxing,
    /// `rxing` with the classic ZXing detector: reads a few codes the other
    /// detector misses, at about the same cost again.
    RxingClassic,
    /// `rqrr`, the pure-Rust quirc port.
    Rqrr,
}

/// Every QR text rxing's zxing-cpp-port detector finds in `img`
/// (rxing's HybridBinarizer, TryHarder): dark codes on light ground first,
/// then — on the same binarized image, which costs only the detection —
/// light codes on dark ground. `bits`: `img` already binarized
/// ([`binarize::hybrid`]), if it is.
pub fn rxing(img: &GrayImage, bits: Option<&BitMatrix>) -> Vec<String> {
    rxing_with(img, bits, |bitmap, hints| {
        QrReader
            .decode_multiple_with_hints(bitmap, hints)
            .map(|found| found.iter().map(|r| r.getText().to_string()).collect())
            .unwrap_or_default()
    })
}

/// The QR text rxing's classic ZXing detector finds in `img`, both polarities.
pub fn rxing_classic(img: &GrayImage, bits: Option<&BitMatrix>) -> Vec<String> {
    rxing_with(img, bits, |bitmap, hints| {
        QRCodeReader
            .decode_with_hints(bitmap, hints)
            .map(|found| vec![found.getText().to_string()])
            .unwrap_or_default()
    })
}

type Bitmap<'a> = BinaryBitmap<Prebinarized<'a>>;

fn rxing_with(
    img: &GrayImage,
    bits: Option<&BitMatrix>,
    detect: impl Fn(&mut Bitmap<'_>, &DecodeHints) -> Vec<String>,
) -> Vec<String> {
    if img.width() == 0 || img.height() == 0 {
        return Vec::new();
    }
    isolate(|| {
        let hints = DecodeHints {
            TryHarder: Some(true),
            PossibleFormats: Some([BarcodeFormat::QR_CODE].into_iter().collect()),
            ..DecodeHints::default()
        };
        let matrix = match bits {
            Some(bits) => Cow::Borrowed(bits),
            None => match binarize::hybrid(img) {
                Some(bits) => Cow::Owned(bits),
                None => return Vec::new(),
            },
        };
        let Some(binarizer) = Prebinarized::new(img, matrix) else {
            return Vec::new();
        };
        let mut bitmap = BinaryBitmap::new(binarizer);
        let mut texts = detect(&mut bitmap, &hints);
        if texts.is_empty() {
            bitmap.invert();
            texts = detect(&mut bitmap, &hints);
        }
        texts
    })
}

/// Every QR text rqrr finds in `img`.
pub fn rqrr(img: &GrayImage) -> Vec<String> {
    if img.width() == 0 || img.height() == 0 {
        return Vec::new();
    }
    isolate(|| {
        let mut prepared = rqrr::PreparedImage::prepare(img.clone());
        prepared
            .detect_grids()
            .into_iter()
            .filter_map(|grid| {
                // Each grid separately: one bad grid must not lose the others.
                catch_unwind(AssertUnwindSafe(|| grid.decode()))
                    .ok()
                    .and_then(Result::ok)
                    .map(|(_, text)| text)
            })
            .collect()
    })
}

fn isolate(f: impl FnOnce() -> Vec<String>) -> Vec<String> {
    quiet_decoder_panics();
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_default()
}

/// Installs (once) a panic hook that keeps panics raised inside the decoder
/// crates off stderr — they are expected, caught, and counted as "not
/// found" — and passes every other panic to the previous hook.
fn quiet_decoder_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_decoder = info.location().is_some_and(|l| {
                let file = l.file();
                file.contains("/rqrr-") || file.contains("/rxing-")
            });
            if !in_decoder {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_images_find_nothing() {
        assert!(rxing(&GrayImage::new(0, 0), None).is_empty());
        assert!(rxing_classic(&GrayImage::new(0, 0), None).is_empty());
        assert!(rqrr(&GrayImage::new(0, 0)).is_empty());
        let white = GrayImage::from_pixel(64, 48, image::Luma([255]));
        assert!(rxing(&white, None).is_empty());
        assert!(rxing_classic(&white, None).is_empty());
        assert!(rqrr(&white).is_empty());
    }

    #[test]
    fn a_panicking_decoder_counts_as_not_found() {
        let found = isolate(|| panic!("decoder assertion"));
        assert!(found.is_empty());
    }
}
