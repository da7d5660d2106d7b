//! Camera frame formats → `GrayImage` (only brightness matters for QR codes).

use image::{GrayImage, RgbImage};

/// Why a raw frame buffer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {width}x{height} needs {expected} bytes, got {actual}")]
    Size {
        width: u32,
        height: u32,
        expected: usize,
        actual: usize,
    },
    #[error("YUYV frames need an even width, got {0}")]
    OddWidth(u32),
}

/// Luma of an RGB image (ITU-R BT.601 weights, integer maths).
pub fn rgb_to_gray(img: &RgbImage) -> GrayImage {
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let [r, g, b] = img.get_pixel(x, y).0;
        image::Luma([luma(r, g, b)])
    })
}

/// Luma of a packed RGB8 buffer (`width * height * 3` bytes).
pub fn rgb_bytes_to_gray(bytes: &[u8], width: u32, height: u32) -> Result<GrayImage, FrameError> {
    let expected = width as usize * height as usize * 3;
    if bytes.len() != expected {
        return Err(FrameError::Size {
            width,
            height,
            expected,
            actual: bytes.len(),
        });
    }
    let data = bytes
        .chunks_exact(3)
        .map(|p| luma(p[0], p[1], p[2]))
        .collect();
    GrayImage::from_raw(width, height, data).ok_or(FrameError::Size {
        width,
        height,
        expected,
        actual: bytes.len(),
    })
}

/// The Y channel of a YUYV 4:2:2 frame (`Y0 U Y1 V` per two pixels), the
/// most common raw webcam format.
pub fn yuyv_to_gray(bytes: &[u8], width: u32, height: u32) -> Result<GrayImage, FrameError> {
    if width % 2 != 0 {
        return Err(FrameError::OddWidth(width));
    }
    let expected = width as usize * height as usize * 2;
    if bytes.len() != expected {
        return Err(FrameError::Size {
            width,
            height,
            expected,
            actual: bytes.len(),
        });
    }
    let data = bytes.iter().step_by(2).copied().collect();
    GrayImage::from_raw(width, height, data).ok_or(FrameError::Size {
        width,
        height,
        expected,
        actual: bytes.len(),
    })
}

fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuyv_keeps_the_y_samples() {
        let bytes = [10, 128, 20, 128, 30, 0, 40, 255];
        let gray = yuyv_to_gray(&bytes, 4, 1).unwrap();
        assert_eq!(gray.as_raw(), &vec![10, 20, 30, 40]);
        assert_eq!(yuyv_to_gray(&bytes, 3, 1), Err(FrameError::OddWidth(3)));
        assert!(matches!(
            yuyv_to_gray(&bytes, 2, 1),
            Err(FrameError::Size { .. })
        ));
    }

    #[test]
    fn rgb_conversions_agree() {
        let rgb = RgbImage::from_fn(3, 2, |x, y| image::Rgb([x as u8 * 80, y as u8 * 90, 200]));
        let a = rgb_to_gray(&rgb);
        let b = rgb_bytes_to_gray(rgb.as_raw(), 3, 2).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            rgb_to_gray(&RgbImage::from_pixel(1, 1, image::Rgb([255; 3])))[(0, 0)][0],
            255
        );
    }
}
