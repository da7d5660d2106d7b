//! Camera frames and images → QR code texts.
//!
//! Two pure-Rust decoders, combined by measurement (see `BENCHMARKS.md`):
//! **rxing** (a ZXing port, with two detectors; fast and robust, tried
//! first, on several preprocessed versions of the frame) and **rqrr** (a
//! quirc port; a fallback that reads some codes rxing misses). Preprocessing: inversion
//! (light-on-dark codes), contrast stretch with a light denoise, a
//! half-size pass for large noisy photos and a double-size pass for codes
//! with small modules. Every decoder call is isolated: a panic inside a
//! decoder counts as "nothing found".
//!
//! Entry points: [`decode_all`] (every text found), [`find_login_qr`] (keeps
//! trying until it finds a valid login code), [`decode_file`],
//! [`pick_code`] (the one policy for which code to act on), the frame
//! helpers in [`frame`], and [`FrameDecoder`] for live camera streams (a
//! per-frame budget: a finder-pattern prefilter drops frames without a
//! code, and the costly steps take turns across frames). Decoding a frame takes milliseconds of CPU: from
//! async code call these inside `tokio::task::spawn_blocking`.

mod binarize;
mod engines;
mod finder;
pub mod frame;
pub mod live;
mod pick;
mod prep;

use std::collections::HashMap;
use std::path::Path;

use image::GrayImage;
use qrlogin_core::LoginQr;
use rxing::common::BitMatrix;
use serde::Serialize;

pub use self::engines::Engine;
pub use self::frame::{FrameError, rgb_bytes_to_gray, rgb_to_gray, yuyv_to_gray};
pub use self::live::FrameDecoder;
pub use self::pick::{CodeCheck, Picked, pick_code};
use crate::error::ClientError;

/// A version of the input image a decoder is run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    /// The image as it is.
    Plain,
    /// Brightness inverted (light-on-dark codes). Only rqrr needs it: the
    /// rxing engine tries both polarities on one binarized image.
    Inverted,
    /// Contrast stretched and lightly blurred (dim, washed-out, noisy).
    Enhanced,
    /// Half size, area-averaged (large photos, noise, blur). Only for
    /// images of at least 600 px on the short side.
    Half,
    /// Quarter size, for photos of at least 1200 px on the short side.
    Quarter,
    /// Double size (small modules). Only for images up to 1280×720.
    Double,
}

impl Pass {
    /// Whether this pass is worth running on an image of this size.
    fn applies(self, width: u32, height: u32) -> bool {
        match self {
            Pass::Half => width.min(height) >= 600,
            Pass::Quarter => width.min(height) >= 1200,
            Pass::Double => u64::from(width) * u64::from(height) <= 1280 * 720,
            _ => true,
        }
    }
}

/// One decoder run on one version of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Step {
    pub pass: Pass,
    pub engine: Engine,
}

const fn step(pass: Pass, engine: Engine) -> Step {
    Step { pass, engine }
}

/// The default order for still images, by measurement (`scripts/bench
/// decode`, see `BENCHMARKS.md`): rxing on the image reads most codes; the
/// contrast-stretched and half-size versions add the dim, noisy and blurred
/// ones; rxing's classic detector and rqrr read a few that the first
/// detector misses; doubling the size (costly) rescues tiny modules.
pub const DEFAULT_PLAN: &[Step] = &[
    step(Pass::Plain, Engine::Rxing),
    step(Pass::Enhanced, Engine::Rxing),
    step(Pass::Half, Engine::Rxing),
    step(Pass::Plain, Engine::RxingClassic),
    step(Pass::Plain, Engine::Rqrr),
    step(Pass::Inverted, Engine::Rqrr),
    step(Pass::Enhanced, Engine::RxingClassic),
    step(Pass::Enhanced, Engine::Rqrr),
    step(Pass::Quarter, Engine::Rxing),
    step(Pass::Double, Engine::Rxing),
];

/// A code found in an image, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub text: String,
    pub engine: Engine,
    pub pass: Pass,
}

impl Found {
    /// The login code in this text, if it is one.
    pub fn login_qr(&self) -> Option<LoginQr> {
        LoginQr::parse(&self.text).ok()
    }
}

/// A decoding plan: which steps, in which order, and when to stop.
#[derive(Debug, Clone)]
pub struct Decoder {
    plan: Vec<Step>,
    until_login_code: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DEFAULT_PLAN.to_vec())
    }
}

impl Decoder {
    /// A decoder that runs `plan` in order and stops at the first step that
    /// finds anything.
    pub fn new(plan: Vec<Step>) -> Self {
        Self {
            plan,
            until_login_code: false,
        }
    }

    /// The default plan restricted to some engines (for measurements).
    pub fn with_engines(engines: &[Engine]) -> Self {
        Self::new(
            DEFAULT_PLAN
                .iter()
                .copied()
                .filter(|s| engines.contains(&s.engine))
                .collect(),
        )
    }

    /// Keep going past codes that are not login codes, until one is found.
    pub fn until_login_code(mut self) -> Self {
        self.until_login_code = true;
        self
    }

    pub fn plan(&self) -> &[Step] {
        &self.plan
    }

    /// Runs the plan on `img`; returns every distinct text found, login
    /// codes first.
    pub fn decode(&self, img: &GrayImage) -> Vec<Found> {
        self.decode_binarized(img, None)
    }

    /// [`Decoder::decode`], with `img` already binarized for rxing
    /// ([`binarize::hybrid`]) if `plain_bits` is given.
    fn decode_binarized(&self, img: &GrayImage, plain_bits: Option<BitMatrix>) -> Vec<Found> {
        let mut versions: HashMap<Pass, GrayImage> = HashMap::new();
        // Each version is binarized once for both rxing detectors.
        let mut binarized: HashMap<Pass, Option<BitMatrix>> = HashMap::new();
        if let Some(bits) = plain_bits {
            binarized.insert(Pass::Plain, Some(bits));
        }
        let mut found: Vec<Found> = Vec::new();
        let (w, h) = img.dimensions();
        for s in self.plan.iter().filter(|s| s.pass.applies(w, h)) {
            let version = match s.pass {
                Pass::Plain => img,
                pass => versions
                    .entry(pass)
                    .or_insert_with(|| make_version(img, pass)),
            };
            let texts = match s.engine {
                Engine::Rxing | Engine::RxingClassic => {
                    let bits = binarized
                        .entry(s.pass)
                        .or_insert_with(|| binarize::hybrid(version))
                        .as_ref();
                    if s.engine == Engine::Rxing {
                        engines::rxing(version, bits)
                    } else {
                        engines::rxing_classic(version, bits)
                    }
                }
                Engine::Rqrr => engines::rqrr(version),
            };
            for text in texts {
                if !found.iter().any(|f| f.text == text) {
                    found.push(Found {
                        text,
                        engine: s.engine,
                        pass: s.pass,
                    });
                }
            }
            let done = if self.until_login_code {
                found.iter().any(|f| f.login_qr().is_some())
            } else {
                !found.is_empty()
            };
            if done {
                break;
            }
        }
        found.sort_by_key(|f| f.login_qr().is_none());
        found
    }
}

fn make_version(img: &GrayImage, pass: Pass) -> GrayImage {
    match pass {
        Pass::Plain => img.clone(),
        Pass::Inverted => prep::invert(img),
        Pass::Enhanced => prep::denoise(&prep::stretch_contrast(img)),
        Pass::Half => prep::scale(img, 0.5),
        Pass::Quarter => prep::scale(img, 0.25),
        Pass::Double => prep::scale(img, 2.0),
    }
}

/// Every QR text found in `img` (default plan), login codes first.
pub fn decode_all(img: &GrayImage) -> Vec<String> {
    Decoder::default()
        .decode(img)
        .into_iter()
        .map(|f| f.text)
        .collect()
}

/// The first valid login code in `img`, trying every step of the default
/// plan before giving up.
pub fn find_login_qr(img: &GrayImage) -> Option<LoginQr> {
    accepted_login_qr(Decoder::default().until_login_code().decode(img))
}

/// The login code [`pick_code`] accepts among `found`, any server's.
fn accepted_login_qr(found: Vec<Found>) -> Option<LoginQr> {
    let texts: Vec<String> = found.into_iter().map(|f| f.text).collect();
    match pick_code(&texts, &CodeCheck::AnyLoginCode)? {
        Picked::Accepted(text) => CodeCheck::AnyLoginCode.check(&text).ok(),
        Picked::Refused { .. } => None,
    }
}

/// Loads an image file (PNG or JPEG) as grayscale.
pub fn load_gray(path: &Path) -> Result<GrayImage, ClientError> {
    image::open(path)
        .map(|img| img.into_luma8())
        .map_err(|e| ClientError::Image {
            path: path.display().to_string(),
            detail: e.to_string(),
        })
}

/// Every QR text found in an image file, login codes first (keeps trying
/// until it finds a login code, since a file is decoded once, not 30 times a
/// second).
pub fn decode_file(path: &Path) -> Result<Vec<String>, ClientError> {
    let img = load_gray(path)?;
    Ok(Decoder::default()
        .until_login_code()
        .decode(&img)
        .into_iter()
        .map(|f| f.text)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pass_applies_to_a_webcam_frame_except_halving_small_ones() {
        assert!(Pass::Double.applies(1280, 720));
        assert!(!Pass::Double.applies(1920, 1080));
        assert!(Pass::Half.applies(1280, 720));
        assert!(!Pass::Half.applies(640, 480));
        assert!(!Pass::Quarter.applies(1920, 1080));
        assert!(Pass::Quarter.applies(4000, 3000));
    }

    #[test]
    fn with_engines_keeps_only_those_engines_in_order() {
        let d = Decoder::with_engines(&[Engine::Rqrr]);
        assert!(!d.plan().is_empty());
        assert!(d.plan().iter().all(|s| s.engine == Engine::Rqrr));
        assert_eq!(d.plan()[0], step(Pass::Plain, Engine::Rqrr));
    }

    #[test]
    fn blank_frame_yields_nothing() {
        let img = GrayImage::from_pixel(320, 240, image::Luma([200]));
        assert!(decode_all(&img).is_empty());
        assert_eq!(find_login_qr(&img), None);
    }
}
