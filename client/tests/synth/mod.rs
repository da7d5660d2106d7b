//! Synthetic test images of QR codes: a clean code rendered with the `qrcode`
//! crate, then the distortions real camera frames and screen photos have.
//! Shared by the decode tests (`tests/e2e`), the labelled-set generator
//! (`examples/gen_testdata.rs`) and the benchmark (`examples/bench_decode.rs`).
//! Everything is deterministic (fixed seeds).

#![allow(dead_code)] // each user takes what it needs

use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{Interpolation, Projection, rotate_about_center, warp};

/// A clean code: `module` pixels per module, 4-module quiet zone, black on white.
pub fn render(text: &str, module: u32) -> GrayImage {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .expect("test text fits in a QR code");
    code.render::<Luma<u8>>()
        .module_dimensions(module, module)
        .quiet_zone(true)
        .build()
}

/// `img` pasted at (x, y) onto a `w`×`h` canvas with a soft gradient
/// background and some texture, like a desk or a screen bezel.
pub fn place(img: &GrayImage, w: u32, h: u32, x: u32, y: u32) -> GrayImage {
    let mut canvas = GrayImage::from_fn(w, h, |px, py| {
        let g = 90 + (px * 60 / w.max(1)) + (py * 40 / h.max(1));
        let texture = ((px / 7 + py / 5) % 3) * 6;
        Luma([(g + texture).min(255) as u8])
    });
    image::imageops::overlay(&mut canvas, img, i64::from(x), i64::from(y));
    canvas
}

/// Centered on a canvas of `w`×`h`.
pub fn center(img: &GrayImage, w: u32, h: u32) -> GrayImage {
    let x = w.saturating_sub(img.width()) / 2;
    let y = h.saturating_sub(img.height()) / 2;
    place(img, w, h, x, y)
}

/// Rotated by `degrees` about the center, on a canvas large enough to hold it.
pub fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
    let side = ((img.width().max(img.height()) as f32) * 1.5) as u32;
    let padded = center(img, side, side);
    rotate_about_center(
        &padded,
        degrees.to_radians(),
        Interpolation::Bilinear,
        Luma([160]),
    )
}

/// A perspective view: the code's right edge farther away (`amount` 0..0.4).
pub fn perspective(img: &GrayImage, amount: f32) -> GrayImage {
    let side = ((img.width().max(img.height()) as f32) * 1.4) as u32;
    let canvas = center(img, side, side);
    let s = side as f32;
    let d = s * amount;
    let from = [(0.0, 0.0), (s, 0.0), (s, s), (0.0, s)];
    let to = [
        (0.0, 0.0),
        (s - d * 0.6, d),
        (s - d * 0.3, s - d * 0.8),
        (d * 0.2, s),
    ];
    let projection = Projection::from_control_points(from, to).expect("non-degenerate quad");
    warp(&canvas, &projection, Interpolation::Bilinear, Luma([150]))
}

pub fn blur(img: &GrayImage, sigma: f32) -> GrayImage {
    imageproc::filter::gaussian_blur_f32(img, sigma)
}

/// Gaussian sensor noise of standard deviation `stddev`.
pub fn noise(img: &GrayImage, stddev: f64, seed: u64) -> GrayImage {
    imageproc::noise::gaussian_noise(img, 0.0, stddev, seed)
}

pub fn salt_and_pepper(img: &GrayImage, rate: f64, seed: u64) -> GrayImage {
    imageproc::noise::salt_and_pepper_noise(img, rate, seed)
}

/// Encoded as JPEG at `quality` and decoded again.
pub fn jpeg(img: &GrayImage, quality: u8) -> GrayImage {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(img)
        .expect("JPEG encoding to memory");
    image::load_from_memory(&bytes)
        .expect("our own JPEG decodes")
        .into_luma8()
}

pub fn invert(img: &GrayImage) -> GrayImage {
    let mut out = img.clone();
    image::imageops::invert(&mut out);
    out
}

/// Brightness squeezed into `lo..=hi` (a dim or washed-out picture).
pub fn low_contrast(img: &GrayImage, lo: u8, hi: u8) -> GrayImage {
    let span = f32::from(hi - lo) / 255.0;
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p[0] = lo + (f32::from(p[0]) * span) as u8;
    }
    out
}

/// Uneven light: a bright spot fading to shadow across the frame.
pub fn uneven_light(img: &GrayImage) -> GrayImage {
    let (w, h) = img.dimensions();
    let mut out = img.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        let gain = 0.45 + 0.75 * (1.0 - ((fx - 0.3).powi(2) + (fy - 0.3).powi(2)).sqrt());
        p[0] = (f32::from(p[0]) * gain).clamp(0.0, 255.0) as u8;
    }
    out
}

/// Rescaled to `w`×`h` (camera resolution).
pub fn resize(img: &GrayImage, w: u32, h: u32) -> GrayImage {
    image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle)
}

/// A labelled case: a name, the expected text, and the image.
pub struct Case {
    pub name: String,
    pub text: String,
    pub image: GrayImage,
}

/// A login-code text for case `n` on `origin`.
pub fn login_text(origin: &str, n: u8) -> String {
    let id = qrlogin_core::TicketId::from_random_bytes([n; 16]);
    format!("{origin}/q/{id}")
}

/// The generated set: every distortion the decoder must survive, at the
/// sizes a webcam delivers. Used by the decode tests and the benchmark.
pub fn cases() -> Vec<Case> {
    let origin = "https://login.example.com";
    let mut cases = Vec::new();
    let mut n = 0u8;
    let mut add = |name: &str, make: &dyn Fn(&GrayImage) -> GrayImage, module: u32| {
        n += 1;
        let text = login_text(origin, n);
        let image = make(&render(&text, module));
        cases.push(Case {
            name: name.to_string(),
            text,
            image,
        });
    };
    add("clean_640x480", &|c| center(c, 640, 480), 6);
    add("clean_1280x720", &|c| center(c, 1280, 720), 8);
    for deg in [10.0, 22.5, 30.0, 45.0] {
        add(
            &format!("rotated_{deg}deg"),
            &move |c| center(&rotate(c, deg), 1280, 720),
            6,
        );
    }
    add(
        "perspective_0.15",
        &|c| center(&perspective(c, 0.15), 1280, 720),
        7,
    );
    add(
        "perspective_0.3",
        &|c| center(&perspective(c, 0.3), 1280, 720),
        7,
    );
    add("blur_sigma1.5", &|c| blur(&center(c, 640, 480), 1.5), 6);
    add("blur_sigma2.5", &|c| blur(&center(c, 1280, 720), 2.5), 8);
    add("noise_sd25", &|c| noise(&center(c, 640, 480), 25.0, 7), 5);
    add("noise_sd45", &|c| noise(&center(c, 1280, 720), 45.0, 11), 7);
    add(
        "salt_pepper_3pct",
        &|c| salt_and_pepper(&center(c, 640, 480), 0.03, 5),
        6,
    );
    add("jpeg_q30", &|c| jpeg(&center(c, 640, 480), 30), 5);
    add(
        "jpeg_q15_rotated",
        &|c| jpeg(&center(&rotate(c, 15.0), 640, 480), 15),
        5,
    );
    add("small_in_1280x720", &|c| place(c, 1280, 720, 900, 420), 3);
    add("tiny_2px_in_640x480", &|c| place(c, 640, 480, 40, 300), 2);
    add("inverted", &|c| invert(&center(c, 640, 480)), 6);
    add(
        "inverted_small_noisy",
        &|c| noise(&invert(&place(c, 1280, 720, 200, 200)), 15.0, 3),
        4,
    );
    add(
        "low_contrast_110_150",
        &|c| low_contrast(&center(c, 640, 480), 110, 150),
        6,
    );
    add(
        "low_contrast_dark",
        &|c| low_contrast(&center(c, 640, 480), 10, 45),
        6,
    );
    add("uneven_light", &|c| uneven_light(&center(c, 1280, 720)), 7);
    add(
        "mixed_rotate_blur_noise_jpeg",
        &|c| {
            jpeg(
                &noise(&blur(&center(&rotate(c, 30.0), 1280, 720), 1.2), 12.0, 9),
                40,
            )
        },
        6,
    );
    add(
        "mixed_perspective_lowcontrast",
        &|c| low_contrast(&center(&perspective(c, 0.25), 1280, 720), 70, 170),
        6,
    );
    add(
        "screen_downscaled",
        &|c| resize(&center(c, 1920, 1080), 640, 360),
        9,
    );
    cases
}
