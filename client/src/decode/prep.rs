//! Preprocessing for hard frames: inversion (light-on-dark codes), scaling,
//! contrast stretch, and a light denoise. All plain loops over `GrayImage`.

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};

/// Light modules become dark and the reverse.
pub fn invert(img: &GrayImage) -> GrayImage {
    let mut out = img.clone();
    imageops::invert(&mut out);
    out
}

/// Scales by `factor` (bilinear when enlarging, area-averaging when
/// shrinking, which also averages noise away).
pub fn scale(img: &GrayImage, factor: f32) -> GrayImage {
    let w = ((img.width() as f32) * factor).round().max(1.0) as u32;
    let h = ((img.height() as f32) * factor).round().max(1.0) as u32;
    if factor < 1.0 {
        shrink_box(img, w, h)
    } else {
        imageops::resize(img, w, h, FilterType::Triangle)
    }
}

/// Area-average downscale (each output pixel is the mean of its source box).
fn shrink_box(img: &GrayImage, w: u32, h: u32) -> GrayImage {
    let (sw, sh) = img.dimensions();
    if sw == 2 * w && sh == 2 * h {
        return halve(img);
    }
    GrayImage::from_fn(w, h, |x, y| {
        let x0 = x * sw / w;
        let x1 = ((x + 1) * sw / w).max(x0 + 1).min(sw);
        let y0 = y * sh / h;
        let y1 = ((y + 1) * sh / h).max(y0 + 1).min(sh);
        let mut sum = 0u32;
        for yy in y0..y1 {
            for xx in x0..x1 {
                sum += u32::from(img.get_pixel(xx, yy)[0]);
            }
        }
        Luma([(sum / ((x1 - x0) * (y1 - y0))) as u8])
    })
}

/// [`shrink_box`] to exactly half of an even size: each pixel the mean of
/// a 2×2 block (rounded down, as there), in one pass over the rows.
fn halve(img: &GrayImage) -> GrayImage {
    let (sw, w) = (img.width() as usize, img.width() / 2);
    let mut out = Vec::with_capacity(sw * img.height() as usize / 4);
    for rows in img.as_raw().chunks_exact(2 * sw) {
        let (top, bottom) = rows.split_at(sw);
        out.extend(
            top.chunks_exact(2)
                .zip(bottom.chunks_exact(2))
                .map(|(t, b)| {
                    let sum = u16::from(t[0]) + u16::from(t[1]) + u16::from(b[0]) + u16::from(b[1]);
                    (sum / 4) as u8
                }),
        );
    }
    // The buffer holds exactly w × h pixels.
    GrayImage::from_raw(w, img.height() / 2, out).expect("w × h pixels")
}

/// Stretches the 1st..99th percentile of brightness to the full range, so
/// a washed-out or dim code gets full contrast.
pub fn stretch_contrast(img: &GrayImage) -> GrayImage {
    let mut hist = [0u32; 256];
    for p in img.pixels() {
        hist[usize::from(p[0])] += 1;
    }
    let total = img.width() * img.height();
    let cut = total / 100;
    let (mut lo, mut hi) = (0usize, 255usize);
    let mut acc = 0;
    for (i, &n) in hist.iter().enumerate() {
        acc += n;
        if acc > cut {
            lo = i;
            break;
        }
    }
    acc = 0;
    for (i, &n) in hist.iter().enumerate().rev() {
        acc += n;
        if acc > cut {
            hi = i;
            break;
        }
    }
    if hi <= lo {
        return img.clone();
    }
    let (lo, span) = (lo as f32, (hi - lo) as f32);
    let lut: Vec<u8> = (0..256)
        .map(|v| (((v as f32 - lo) / span) * 255.0).clamp(0.0, 255.0) as u8)
        .collect();
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p[0] = lut[usize::from(p[0])];
    }
    out
}

/// A 3×3 box blur: takes the edge off salt-and-pepper and sensor noise
/// without smearing modules of 3 px or more.
pub fn denoise(img: &GrayImage) -> GrayImage {
    imageops::blur(img, 0.8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretch_contrast_spreads_a_narrow_range_to_full_range() {
        let img = GrayImage::from_fn(100, 10, |x, _| Luma([100 + (x / 10) as u8 * 5]));
        let out = stretch_contrast(&img);
        let min = out.pixels().map(|p| p[0]).min().unwrap();
        let max = out.pixels().map(|p| p[0]).max().unwrap();
        assert!(min < 10 && max > 245, "{min}..{max}");
    }

    #[test]
    fn scale_changes_size_and_keeps_flat_images_flat() {
        let img = GrayImage::from_pixel(40, 30, Luma([77]));
        let small = scale(&img, 0.5);
        assert_eq!(small.dimensions(), (20, 15));
        assert!(small.pixels().all(|p| p[0] == 77));
        assert_eq!(scale(&img, 2.0).dimensions(), (80, 60));
    }

    #[test]
    fn halving_an_even_size_averages_like_the_general_box_shrink() {
        let img = GrayImage::from_fn(64, 48, |x, y| Luma([((x * 37 + y * 91) % 256) as u8]));
        let general = GrayImage::from_fn(32, 24, |x, y| {
            let sum: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                .iter()
                .map(|(dx, dy)| u32::from(img.get_pixel(2 * x + dx, 2 * y + dy)[0]))
                .sum();
            Luma([(sum / 4) as u8])
        });
        assert_eq!(scale(&img, 0.5), general);
    }

    #[test]
    fn invert_is_its_own_inverse() {
        let img = GrayImage::from_fn(8, 8, |x, y| Luma([(x * 30 + y) as u8]));
        assert_eq!(invert(&invert(&img)), img);
        assert_eq!(invert(&img).get_pixel(0, 0)[0], 255);
    }
}
