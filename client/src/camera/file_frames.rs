//! [`FileFrames`]: pictures on disk played as camera frames, at a webcam's
//! pace, over and over.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{CameraError, Frame, FrameSource};

/// A webcam's usual frame rate.
const FRAME_INTERVAL: Duration = Duration::from_millis(1000 / 30);

pub struct FileFrames {
    path: PathBuf,
    frames: Vec<Frame>,
    next: usize,
    due: Instant,
}

impl FileFrames {
    /// One picture, or every PNG/JPEG in a folder (by name).
    pub fn open(path: &Path) -> Result<Self, CameraError> {
        let fail = |detail: String| CameraError::FakeCamera {
            path: path.display().to_string(),
            detail,
        };
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| fail(e.to_string()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| is_picture(p))
                .collect();
            files.sort();
            files
        } else {
            vec![path.to_path_buf()]
        };
        let frames = files
            .iter()
            .map(|file| {
                image::open(file)
                    .map(|img| img.into_rgb8())
                    .map_err(|e| fail(format!("{}: {e}", file.display())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if frames.is_empty() {
            return Err(fail("no .png or .jpg files in the folder".into()));
        }
        Ok(Self {
            path: path.to_path_buf(),
            frames,
            next: 0,
            due: Instant::now(),
        })
    }
}

fn is_picture(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

impl FrameSource for FileFrames {
    fn name(&self) -> String {
        format!("Fake camera ({})", self.path.display())
    }

    fn next_frame(&mut self) -> Result<Frame, CameraError> {
        // Pace like a webcam: a frame every FRAME_INTERVAL, never faster.
        let now = Instant::now();
        if self.due > now {
            std::thread::sleep(self.due - now);
        }
        self.due = self.due.max(now) + FRAME_INTERVAL;
        let frame = self.frames[self.next].clone();
        self.next = (self.next + 1) % self.frames.len();
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn plays_a_folder_in_name_order_and_loops() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        RgbImage::from_pixel(4, 4, Rgb([10, 10, 10]))
            .save(dir.join("b.png"))
            .unwrap();
        RgbImage::from_pixel(4, 4, Rgb([200, 200, 200]))
            .save(dir.join("a.png"))
            .unwrap();
        std::fs::write(dir.join("notes.txt"), "not a picture").unwrap();
        let mut frames = FileFrames::open(dir).unwrap();
        let shades: Vec<u8> = (0..3)
            .map(|_| frames.next_frame().unwrap().get_pixel(0, 0)[0])
            .collect();
        assert_eq!(shades, [200, 10, 200]);
    }

    #[test]
    fn empty_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = FileFrames::open(dir.path()).err().unwrap();
        assert_eq!(err.kind(), "camera");
        assert!(err.to_string().contains("no .png or .jpg"), "{err}");
    }

    #[test]
    fn unreadable_picture_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("broken.png");
        std::fs::write(&bad, b"not a png").unwrap();
        let err = FileFrames::open(&bad).err().unwrap();
        assert!(err.to_string().contains("broken.png"), "{err}");
    }
}
