//! Decoding generated images: every distortion of `synth::cases()` must be
//! read, and frames from each camera format.

use qrlogin_client::decode::{self, Decoder, Engine};

use crate::synth;

#[test]
fn every_generated_case_is_read() {
    let mut failed = Vec::new();
    let cases = synth::cases();
    for case in &cases {
        let texts = decode::decode_all(&case.image);
        if !texts.contains(&case.text) {
            failed.push(case.name.clone());
        }
    }
    assert!(failed.is_empty(), "not read: {failed:?} of {}", cases.len());
}

#[test]
fn rotations_up_to_45_degrees_are_read() {
    let text = synth::login_text("https://login.example.com", 200);
    let code = synth::render(&text, 5);
    for deg in [5.0, 15.0, 30.0, 40.0, 45.0] {
        let img = synth::center(&synth::rotate(&code, deg), 1280, 720);
        assert_eq!(decode::decode_all(&img), vec![text.clone()], "{deg}°");
    }
}

#[test]
fn a_small_code_in_a_720p_frame_is_read() {
    let text = synth::login_text("https://login.example.com", 201);
    let img = synth::place(&synth::render(&text, 3), 1280, 720, 1000, 500);
    assert_eq!(decode::find_login_qr(&img).unwrap().to_string(), text);
}

#[test]
fn inverted_and_low_contrast_codes_are_read() {
    let text = synth::login_text("http://127.0.0.1:8080", 202);
    let clean = synth::center(&synth::render(&text, 6), 640, 480);
    for img in [
        synth::invert(&clean),
        synth::low_contrast(&clean, 120, 155),
        synth::invert(&synth::low_contrast(&clean, 20, 60)),
    ] {
        assert_eq!(decode::decode_all(&img), vec![text.clone()]);
    }
}

#[test]
fn jpeg_quality_30_blur_and_noise_are_read() {
    let text = synth::login_text("https://login.example.com", 203);
    let clean = synth::center(&synth::render(&text, 5), 640, 480);
    for img in [
        synth::jpeg(&clean, 30),
        synth::blur(&clean, 1.8),
        synth::noise(&clean, 30.0, 1),
        synth::perspective(&clean, 0.25),
    ] {
        assert_eq!(decode::decode_all(&img), vec![text.clone()]);
    }
}

#[test]
fn every_code_in_a_frame_is_returned_login_codes_first() {
    let login = synth::login_text("https://login.example.com", 204);
    let other = "WIFI:S:home;T:WPA;P:secret;;";
    let mut frame = synth::center(&image::GrayImage::new(0, 0), 1280, 720);
    image::imageops::overlay(&mut frame, &synth::render(other, 6), 80, 120);
    image::imageops::overlay(&mut frame, &synth::render(&login, 6), 700, 120);
    let texts = decode::decode_all(&frame);
    assert_eq!(texts, vec![login.clone(), other.to_string()]);
    assert_eq!(decode::find_login_qr(&frame).unwrap().to_string(), login);
}

#[test]
fn a_non_login_code_is_decoded_but_is_not_a_login_code() {
    let img = synth::center(&synth::render("https://example.com/menu", 6), 640, 480);
    assert_eq!(
        decode::decode_all(&img),
        vec!["https://example.com/menu".to_string()]
    );
    assert_eq!(decode::find_login_qr(&img), None);
}

#[test]
fn rgb_and_yuyv_frames_decode_like_gray_ones() {
    let text = synth::login_text("https://login.example.com", 205);
    let gray = synth::center(&synth::render(&text, 5), 640, 480);
    let rgb = image::DynamicImage::ImageLuma8(gray.clone()).into_rgb8();
    assert_eq!(
        decode::decode_all(&decode::rgb_to_gray(&rgb)),
        vec![text.clone()]
    );
    let rgb_frame = decode::rgb_bytes_to_gray(rgb.as_raw(), 640, 480).unwrap();
    assert_eq!(decode::decode_all(&rgb_frame), vec![text.clone()]);
    let yuyv: Vec<u8> = gray.as_raw().iter().flat_map(|&y| [y, 128]).collect();
    let yuyv_frame = decode::yuyv_to_gray(&yuyv, 640, 480).unwrap();
    assert_eq!(yuyv_frame, gray);
    assert_eq!(decode::decode_all(&yuyv_frame), vec![text]);
}

#[test]
fn every_engine_reads_a_clean_code_on_its_own() {
    let text = synth::login_text("https://login.example.com", 206);
    let img = synth::center(&synth::render(&text, 6), 640, 480);
    for engine in [Engine::Rxing, Engine::RxingClassic, Engine::Rqrr] {
        let found = Decoder::with_engines(&[engine]).decode(&img);
        assert_eq!(found.len(), 1, "{engine:?}");
        assert_eq!(found[0].engine, engine);
        assert_eq!(found[0].text, text);
    }
}

#[test]
fn garbage_frames_never_crash_the_decoder() {
    // Random-looking pixels, stripes and finder-like blobs: nothing must
    // panic through, whatever the decoders do inside.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for size in [(1, 1), (7, 3), (64, 64), (640, 480)] {
        let noise = image::GrayImage::from_fn(size.0, size.1, |_, _| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            image::Luma([(seed & 0xff) as u8])
        });
        let _ = decode::decode_all(&noise);
        let stripes = image::GrayImage::from_fn(size.0, size.1, |x, _| {
            image::Luma([if (x / 3) % 2 == 0 { 0 } else { 255 }])
        });
        let _ = decode::decode_all(&stripes);
    }
}

#[test]
fn one_rxing_step_reads_both_polarities() {
    let text = synth::login_text("https://login.example.com", 207);
    let img = synth::invert(&synth::center(&synth::render(&text, 6), 640, 480));
    let one_step = Decoder::new(vec![qrlogin_client::decode::live::EVERY_FRAME]);
    let found = one_step.decode(&img);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].text, text);
}

#[test]
fn a_live_stream_reads_codes_the_first_step_misses_within_a_few_frames() {
    use qrlogin_client::decode::FrameDecoder;
    use qrlogin_client::decode::live::{EVERY_FRAME, IN_TURN};
    let first_step = Decoder::new(vec![EVERY_FRAME]);
    let hard: Vec<synth::Case> = synth::cases()
        .into_iter()
        .filter(|c| !first_step.decode(&c.image).iter().any(|f| f.text == c.text))
        .collect();
    assert!(!hard.is_empty(), "the set has cases the first step misses");
    for case in &hard {
        let mut live = FrameDecoder::new();
        let frames = (1..=IN_TURN.len()).find(|_| {
            live.find_login_qr(&case.image)
                .is_some_and(|q| q.to_string() == case.text)
        });
        assert!(
            frames.is_some(),
            "{} not read within {} frames",
            case.name,
            IN_TURN.len()
        );
    }
}
