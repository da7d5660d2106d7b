//! [`CameraThread`]: reads a [`FrameSource`] on its own thread, sends each
//! frame to its sink as a small JPEG (when the sink shows previews) and each
//! newly seen code, picked by [`pick_code`], to act on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::imageops::FilterType;

use crate::decode::{self, CodeCheck, FrameDecoder, Picked, pick_code};

use super::{CameraChoice, CameraError, Frame, Started};

/// Preview frames are at most this size (the UI shows them small).
const PREVIEW_MAX: (u32, u32) = (640, 480);
const PREVIEW_QUALITY: u8 = 70;
/// The same code is reported again only after this long, so a code held in
/// front of the camera does not flood the UI.
const REPEAT_AFTER: Duration = Duration::from_secs(3);

/// Where the camera thread's output goes (the app's window, the CLI's
/// wait for a code, or a test).
pub trait FrameSink: Send + 'static {
    /// Whether [`FrameSink::preview`] is wanted: encoding a preview costs a
    /// few milliseconds per frame.
    fn wants_previews(&self) -> bool {
        true
    }
    fn preview(&self, jpeg: Vec<u8>);
    /// A code was found in a frame (the same one again only after a pause).
    fn code(&self, picked: Picked);
    /// The source failed after it started; the thread ends.
    fn failed(&self, error: CameraError);
}

/// A running camera; stops (and joins) on [`CameraThread::stop`] or drop.
pub struct CameraThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl CameraThread {
    /// Opens `choice` on a new thread and starts streaming into `sink`;
    /// `check` says which codes are the ones to act on. Blocks until the
    /// source is open, so an error (no camera) is returned here rather than
    /// sent to the sink.
    pub fn start(
        choice: CameraChoice,
        check: CodeCheck,
        sink: impl FrameSink,
    ) -> Result<(Self, Started), CameraError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (opened_tx, opened_rx) = mpsc::sync_channel(1);
        let handle = std::thread::Builder::new()
            .name("camera".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    let mut source = match choice.open() {
                        Ok(source) => source,
                        Err(e) => {
                            let _ = opened_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = opened_tx.send(Ok(Started {
                        name: source.name(),
                    }));
                    let mut reader = FrameReader::new(check);
                    while !stop.load(Ordering::Relaxed) {
                        match source.next_frame() {
                            Ok(frame) => reader.process(&frame, &sink),
                            Err(e) => {
                                sink.failed(e);
                                break;
                            }
                        }
                    }
                }
            })
            .map_err(|e| CameraError::Failed {
                detail: format!("cannot start the camera thread: {e}"),
            })?;
        let started = opened_rx.recv().map_err(|_| CameraError::Failed {
            detail: "the camera thread ended while opening the camera".into(),
        })??;
        Ok((
            Self {
                stop,
                handle: Some(handle),
            },
            started,
        ))
    }

    /// Stops the thread and waits for it (at most one frame's time).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for CameraThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Per-frame work: preview, decode, pick, report new codes.
struct FrameReader {
    decoder: FrameDecoder,
    check: CodeCheck,
    last: Option<(String, Instant)>,
    /// Decoding waits after each decode as long as that decode took, so
    /// that at most half of the thread's time goes to it and the preview
    /// stays smooth on a slow machine (every frame is decoded on a fast one).
    decode_at: Instant,
}

impl FrameReader {
    fn new(check: CodeCheck) -> Self {
        Self {
            decoder: FrameDecoder::new(),
            check,
            last: None,
            decode_at: Instant::now(),
        }
    }

    fn process(&mut self, frame: &Frame, sink: &impl FrameSink) {
        if sink.wants_previews()
            && let Some(jpeg) = preview_jpeg(frame)
        {
            sink.preview(jpeg);
        }
        let start = Instant::now();
        if start < self.decode_at {
            return;
        }
        let found = self.decoder.decode(&decode::rgb_to_gray(frame));
        self.decode_at = Instant::now() + start.elapsed();
        let texts: Vec<String> = found.into_iter().map(|f| f.text).collect();
        // A refused code is still reported, so the front end can say why
        // ("this is not a QR Login code").
        if let Some(picked) = pick_code(&texts, &self.check)
            && self.is_new(picked.text(), Instant::now())
        {
            sink.code(picked);
        }
    }

    fn is_new(&mut self, text: &str, now: Instant) -> bool {
        if let Some((last, at)) = &self.last
            && last == text
            && now.duration_since(*at) < REPEAT_AFTER
        {
            return false;
        }
        self.last = Some((text.to_owned(), now));
        true
    }
}

/// The frame scaled down to fit 640×480, as JPEG.
pub fn preview_jpeg(frame: &Frame) -> Option<Vec<u8>> {
    let (w, h) = frame.dimensions();
    if w <= PREVIEW_MAX.0 && h <= PREVIEW_MAX.1 {
        return encode_jpeg(frame);
    }
    let ratio = f64::min(
        f64::from(PREVIEW_MAX.0) / f64::from(w),
        f64::from(PREVIEW_MAX.1) / f64::from(h),
    );
    let (sw, sh) = (
        ((f64::from(w) * ratio) as u32).max(1),
        ((f64::from(h) * ratio) as u32).max(1),
    );
    encode_jpeg(&image::imageops::resize(
        frame,
        sw,
        sh,
        FilterType::Triangle,
    ))
}

fn encode_jpeg(frame: &Frame) -> Option<Vec<u8>> {
    // libjpeg reports errors by unwinding; a bad frame only loses its preview.
    std::panic::catch_unwind(|| {
        let mut jpeg = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        jpeg.set_size(frame.width() as usize, frame.height() as usize);
        jpeg.set_fastest_defaults();
        jpeg.set_quality(f32::from(PREVIEW_QUALITY));
        let mut started = jpeg.start_compress(Vec::with_capacity(64 * 1024)).ok()?;
        started.write_scanlines(frame.as_raw()).ok()?;
        started.finish().ok()
    })
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<Seen>>);

    #[derive(Default)]
    struct Seen {
        previews: Vec<Vec<u8>>,
        codes: Vec<String>,
        refused: Vec<String>,
        failures: Vec<String>,
    }

    impl FrameSink for Collect {
        fn preview(&self, jpeg: Vec<u8>) {
            self.0.lock().unwrap().previews.push(jpeg);
        }
        fn code(&self, picked: Picked) {
            let mut seen = self.0.lock().unwrap();
            match picked {
                Picked::Accepted(text) => seen.codes.push(text),
                Picked::Refused { text, .. } => seen.refused.push(text),
            }
        }
        fn failed(&self, error: CameraError) {
            self.0.lock().unwrap().failures.push(error.to_string());
        }
    }

    const LOGIN: &str = "https://login.example.com/q/AAAAAAAAAAAAAAAAAAAAAA";

    /// A 1280×720 "camera picture": grey background, the QR in the middle.
    fn qr_picture(text: &str) -> Frame {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let qr = code
            .render::<image::Luma<u8>>()
            .min_dimensions(300, 300)
            .build();
        let mut frame = Frame::from_pixel(1280, 720, image::Rgb([150, 150, 150]));
        let (x, y) = ((1280 - qr.width()) / 2, (720 - qr.height()) / 2);
        for (px, py, p) in qr.enumerate_pixels() {
            frame.put_pixel(x + px, y + py, image::Rgb([p[0], p[0], p[0]]));
        }
        frame
    }

    #[test]
    fn reports_a_code_once_and_previews_every_frame_scaled_down() {
        let sink = Collect::default();
        let mut reader = FrameReader::new(CodeCheck::AnyLoginCode);
        let frame = qr_picture(LOGIN);
        for _ in 0..3 {
            reader.process(&frame, &sink);
        }
        let seen = sink.0.lock().unwrap();
        assert_eq!(seen.codes, [LOGIN]);
        assert_eq!(seen.previews.len(), 3);
        let preview = image::load_from_memory(&seen.previews[0]).unwrap();
        assert_eq!((preview.width(), preview.height()), (640, 360));
    }

    #[test]
    fn a_code_of_another_server_is_reported_as_refused() {
        let sink = Collect::default();
        let signed_in = crate::Origin::parse("https://other.example.org").unwrap();
        let mut reader = FrameReader::new(CodeCheck::Server(signed_in));
        reader.process(&qr_picture(LOGIN), &sink);
        let seen = sink.0.lock().unwrap();
        assert!(seen.codes.is_empty());
        assert_eq!(seen.refused, [LOGIN]);
    }

    #[test]
    fn a_held_code_is_reported_again_after_a_pause() {
        let mut reader = FrameReader::new(CodeCheck::AnyLoginCode);
        let t0 = Instant::now();
        assert!(reader.is_new("a", t0));
        assert!(!reader.is_new("a", t0 + Duration::from_secs(1)));
        assert!(reader.is_new("b", t0 + Duration::from_secs(1)));
        assert!(reader.is_new("a", t0 + Duration::from_secs(2)));
        assert!(reader.is_new("a", t0 + Duration::from_secs(2) + REPEAT_AFTER));
    }

    #[test]
    fn frames_without_a_code_report_nothing() {
        let sink = Collect::default();
        FrameReader::new(CodeCheck::AnyLoginCode).process(
            &Frame::from_pixel(640, 480, image::Rgb([90, 90, 90])),
            &sink,
        );
        let seen = sink.0.lock().unwrap();
        assert!(seen.codes.is_empty());
        assert_eq!(seen.previews.len(), 1);
    }

    #[test]
    fn file_frames_run_through_the_camera_thread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qr.png");
        qr_picture(LOGIN).save(&path).unwrap();
        let (codes_tx, codes_rx) = mpsc::channel();
        let (thread, started) = CameraThread::start(
            CameraChoice::Files(path),
            CodeCheck::AnyLoginCode,
            Forward(Mutex::new(codes_tx)),
        )
        .unwrap();
        assert!(started.name.contains("qr.png"), "{}", started.name);
        let code = codes_rx.recv_timeout(Duration::from_secs(60));
        thread.stop();
        assert_eq!(code.unwrap(), LOGIN);
    }

    /// Forwards found codes to a channel (previews are dropped).
    struct Forward(Mutex<mpsc::Sender<String>>);

    impl FrameSink for Forward {
        fn wants_previews(&self) -> bool {
            false
        }
        fn preview(&self, _jpeg: Vec<u8>) {
            panic!("a sink that wants no previews got one");
        }
        fn code(&self, picked: Picked) {
            let _ = self.0.lock().unwrap().send(picked.into_text());
        }
        fn failed(&self, error: CameraError) {
            panic!("camera failed: {error}");
        }
    }

    #[test]
    fn a_missing_fake_camera_fails_at_start() {
        let err = CameraThread::start(
            CameraChoice::Files("/nonexistent/qr.png".into()),
            CodeCheck::AnyLoginCode,
            Collect::default(),
        )
        .err()
        .unwrap();
        assert_eq!(err.kind(), "camera");
        assert!(err.to_string().contains("/nonexistent/qr.png"), "{err}");
    }
}

#[cfg(test)]
mod cost {
    use super::*;

    /// Prints where a frame's time goes (debug build): `cargo test -p qrlogin-client --lib -- --ignored --nocapture frame_cost`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn frame_cost() {
        let frame = Frame::from_fn(640, 480, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut decoder = FrameDecoder::new();
        let n = 20;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(decode::rgb_to_gray(&frame));
        }
        let gray = t.elapsed() / n;
        let g = decode::rgb_to_gray(&frame);
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(decoder.decode(&g));
        }
        let dec = t.elapsed() / n;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(preview_jpeg(&frame));
        }
        let jpeg = t.elapsed() / n;
        println!("per 640x480 frame: gray {gray:?}, decode {dec:?}, jpeg {jpeg:?}");
    }
}
