//! The live decoder's prefilter: does a binarized frame hold anything like
//! a QR finder pattern (the three nested squares in a code's corners)?
//!
//! Most frames of a camera stream hold no code, and on a noisy frame the
//! detectors cost the most: rxing tries to trace a concentric pattern at
//! every 1:1:3:1:1 run of noise. This scan looks for the same runs on every
//! third row, both polarities, and keeps a run only if the runs through its
//! centre vertically and along both diagonals are 1:1:3:1:1 too — with
//! about twice the tolerances rxing allows, so that every pattern a
//! detector can locate passes. Random noise rarely passes all four.

use image::GrayImage;
use rxing::common::BitMatrix;

use super::binarize;

#[cfg(test)]
#[path = "../../tests/synth/mod.rs"]
mod synth;

/// Every third row, like rxing's finder search when trying harder.
const ROW_STEP: u32 = 3;

/// How far apart (in standard errors of the frame's noise) the mean
/// brightness of a pattern's rings and gaps must be. Measured on the
/// generated sets (`scripts/bench decode`): finder-like runs of pure noise
/// reach 6 (7.5 at half size), while every code the live decoder reads has
/// a pattern of at least 12 at full or half size.
pub const MIN_CONTRAST: f32 = 10.0;

/// Whether a frame may hold a readable code: whether `bits`, the
/// binarization of `frame`, or a half-size, less noisy version of it holds
/// a finder-like pattern (see [`has_finder_pattern`]).
pub fn may_hold_code(frame: &GrayImage, bits: &BitMatrix) -> bool {
    has_finder_pattern(frame, bits) || {
        let half = smooth_half(frame);
        binarize::hybrid(&half).is_some_and(|bits| has_finder_pattern(&half, &bits))
    }
}

/// `img` at half size, each pixel a 1:3:3:1 weighted mean of 4×4 pixels
/// (what a triangle filter does when halving): noise drops to about a third
/// while modules of 2 pixels and more stay apart.
fn smooth_half(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (hw, hh) = (w / 2, h / 2);
    let taps = |n: usize, i: usize| {
        let at = |k: isize| k.clamp(0, n as isize - 1) as usize;
        let c = 2 * i as isize;
        [at(c - 1), at(c), at(c + 1), at(c + 2)]
    };
    // Rows first (×8), then columns (×8 again).
    let mut rows = vec![0u16; hw * h];
    for (src, dst) in img.as_raw().chunks_exact(w).zip(rows.chunks_exact_mut(hw)) {
        for (x, out) in dst.iter_mut().enumerate() {
            let [a, b, c, d] = taps(w, x).map(|k| u16::from(src[k]));
            *out = a + 3 * b + 3 * c + d;
        }
    }
    let mut out = vec![0u8; hw * hh];
    for (y, dst) in out.chunks_exact_mut(hw).enumerate() {
        let [a, b, c, d] = taps(h, y).map(|k| &rows[k * hw..(k + 1) * hw]);
        for (x, px) in dst.iter_mut().enumerate() {
            let sum = u32::from(a[x]) + 3 * u32::from(b[x]) + 3 * u32::from(c[x]) + u32::from(d[x]);
            *px = ((sum + 32) / 64) as u8;
        }
    }
    // The buffer holds exactly hw × hh pixels.
    GrayImage::from_raw(hw as u32, hh as u32, out).expect("hw × hh pixels")
}

/// Whether `bits`, the binarization of `img` (set = dark), holds a
/// finder-like pattern of either polarity (dark-on-light or light-on-dark)
/// that stands out of the image's noise by [`MIN_CONTRAST`].
pub fn has_finder_pattern(img: &GrayImage, bits: &BitMatrix) -> bool {
    has_finder_pattern_of(img, bits, MIN_CONTRAST)
}

/// [`has_finder_pattern`] with a given minimum contrast.
pub fn has_finder_pattern_of(img: &GrayImage, bits: &BitMatrix, min_contrast: f32) -> bool {
    let noise = noise_level(img);
    let mut runs = Vec::new();
    let mut y = ROW_STEP - 1;
    while y < bits.height() {
        row_runs(bits, y, &mut runs);
        let line = &img.as_raw()[(y * img.width()) as usize..((y + 1) * img.width()) as usize];
        // runs[0] is light (maybe empty), then dark, light, … A window of
        // five runs starting on a dark run is a dark pattern, starting on a
        // light run a light one.
        let mut start = 0u32;
        for i in 0..runs.len().saturating_sub(4) {
            let window = [runs[i], runs[i + 1], runs[i + 2], runs[i + 3], runs[i + 4]];
            let dark = i % 2 == 1;
            if looks_like_finder(window)
                && row_contrast(line, start, window).score(dark, noise) >= min_contrast
            {
                let [a, b, c, _, _] = window;
                let center = (start + a + b + c / 2, y);
                if confirmed(bits, center, window.iter().sum(), dark) {
                    return true;
                }
            }
            start += runs[i];
        }
        y += ROW_STEP;
    }
    false
}

/// The [`Contrast`] of the row runs of a pattern starting at `start`.
fn row_contrast(line: &[u8], start: u32, runs: [u32; 5]) -> Contrast {
    let mut contrast = Contrast::default();
    let mut x = start as usize;
    for (k, &run) in runs.iter().enumerate() {
        let pixels = &line[x..x + run as usize];
        contrast.sums[k % 2] += pixels.iter().map(|&p| u32::from(p)).sum::<u32>();
        contrast.counts[k % 2] += run;
        x += run as usize;
    }
    contrast
}

/// The standard deviation of the pixel noise of `img`, estimated from the
/// median difference between neighbouring pixels (of every fourth row):
/// for Gaussian noise of deviation σ that median is 0.954σ. Edges and
/// texture make it larger, never smaller. At least 1 (quantization).
pub fn noise_level(img: &GrayImage) -> f32 {
    let mut histogram = [0u32; 256];
    let mut count = 0u32;
    for row in img
        .as_raw()
        .chunks_exact(img.width().max(1) as usize)
        .step_by(4)
    {
        for pair in row.windows(2) {
            histogram[usize::from(pair[0].abs_diff(pair[1]))] += 1;
        }
        count += row.len().saturating_sub(1) as u32;
    }
    let mut seen = 0;
    let median = histogram
        .iter()
        .position(|&n| {
            seen += n;
            seen * 2 >= count
        })
        .unwrap_or(0);
    (median as f32 / 0.954).max(1.0)
}

/// The lengths of the runs of light and dark pixels of row `y`, light
/// first (the first run is empty if the row starts dark).
fn row_runs(bits: &BitMatrix, y: u32, runs: &mut Vec<u32>) {
    runs.clear();
    let row = bits.getRow(y);
    let words = row.getBitArray();
    let width = bits.width() as usize;
    let word_bits = usize::BITS as usize;
    let mut dark = false;
    let mut run_start = 0usize;
    let mut x = 0usize;
    while x < width {
        let word = words[x / word_bits];
        let offset = x % word_bits;
        // The bits of the other colour from x on (bits past the width are
        // light, and a dark run ends there anyway).
        let other = (if dark { !word } else { word }) >> offset;
        if other == 0 {
            x += word_bits - offset;
            continue;
        }
        x += other.trailing_zeros() as usize;
        if x >= width {
            break;
        }
        runs.push((x - run_start) as u32);
        run_start = x;
        dark = !dark;
    }
    runs.push((width - run_start) as u32);
}

/// Runs proportioned 1:1:3:1:1, with about twice rxing's tolerances.
fn looks_like_finder(runs: [u32; 5]) -> bool {
    if runs.contains(&0) {
        return false;
    }
    let [a, b, c, d, e] = runs.map(|r| r as f32);
    if c < 2.0 || c < a.max(e) * 1.5 || c < b.max(d) * 0.9 {
        return false;
    }
    let bar = (a + c + e) / 5.0;
    let space = (b + d) / 2.0;
    if bar.max(space) > 4.0 * bar.min(space) {
        return false;
    }
    let bar_tol = 1.5 * bar + 1.0;
    let space_tol = 0.75 * space + 1.0;
    (a - bar).abs() <= bar_tol
        && (e - bar).abs() <= bar_tol
        && (c - 3.0 * bar).abs() <= bar_tol
        && (b - space).abs() <= space_tol
        && (d - space).abs() <= space_tol
}

/// Whether the runs through `center` vertically and along both diagonals
/// are finder-like too, of a size consistent with the row's (`size`).
fn confirmed(bits: &BitMatrix, center: (u32, u32), size: u32, dark: bool) -> bool {
    let reach = size * 2;
    [(0, 1), (1, 1), (1, -1)].into_iter().all(|step| {
        runs_through(bits, center, step, dark, reach).is_some_and(|runs| {
            let along: u32 = runs.iter().sum();
            // A diagonal step is √2 pixels; perspective and rotation change
            // the size along other directions, within reason.
            along * 3 >= size && along <= size * 3 && looks_like_finder(runs)
        })
    })
}

/// The five runs centred on `center` along `step` (both ways): the centre
/// run, then the other colour and the centre colour again on each side.
/// `None` if a run goes on past `reach` steps or off the image.
fn runs_through(
    bits: &BitMatrix,
    center: (u32, u32),
    step: (i32, i32),
    dark: bool,
    reach: u32,
) -> Option<[u32; 5]> {
    let is_center_colour = |x: i64, y: i64| -> Option<bool> {
        if x < 0 || y < 0 || x >= i64::from(bits.width()) || y >= i64::from(bits.height()) {
            return None;
        }
        Some(bits.get(x as u32, y as u32) == dark)
    };
    let mut half = [[0u32; 3]; 2];
    for (side, sign) in [(0, 1i64), (1, -1i64)] {
        let (dx, dy) = (i64::from(step.0) * sign, i64::from(step.1) * sign);
        let (mut x, mut y) = (i64::from(center.0), i64::from(center.1));
        let mut steps = 0;
        for (run, want) in [true, false, true].into_iter().enumerate() {
            while is_center_colour(x, y)? == want {
                half[side][run] += 1;
                x += dx;
                y += dy;
                steps += 1;
                if steps > reach {
                    return None;
                }
            }
            if half[side][run] == 0 {
                return None;
            }
        }
    }
    let [f, b] = half;
    Some([b[2], b[1], f[0] + b[0] - 1, f[1], f[2]])
}

/// The brightness of a pattern's rings (its centre's colour) and gaps.
#[derive(Debug, Default)]
struct Contrast {
    sums: [u32; 2],
    counts: [u32; 2],
}

impl Contrast {
    /// How much darker the rings are than the gaps (`dark`: lighter for a
    /// light pattern), in standard errors of the difference of the means
    /// with pixel noise of deviation `noise`.
    fn score(&self, dark: bool, noise: f32) -> f32 {
        let [rings, gaps] = [0, 1].map(|i| self.sums[i] as f32 / self.counts[i].max(1) as f32);
        let difference = if dark { gaps - rings } else { rings - gaps };
        let [n_rings, n_gaps] = self.counts.map(|n| n.max(1) as f32);
        difference / (noise * (1.0 / n_rings + 1.0 / n_gaps).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn passes(img: &GrayImage) -> bool {
        may_hold_code(img, &binarize::hybrid(img).unwrap())
    }

    fn empty_frame(w: u32, h: u32, noise: f64, seed: u64) -> GrayImage {
        synth::noise(
            &synth::place(&GrayImage::new(0, 0), w, h, 0, 0),
            noise,
            seed,
        )
    }

    #[test]
    fn every_frame_of_the_generated_set_passes() {
        for case in synth::cases() {
            assert!(passes(&case.image), "{}", case.name);
        }
    }

    #[test]
    fn a_noisy_frame_with_a_code_passes() {
        let text = synth::login_text("https://login.example.com", 1);
        let code = synth::rotate(&synth::render(&text, 6), 20.0);
        assert!(passes(&synth::noise(
            &synth::center(&code, 1280, 720),
            10.0,
            3
        )));
        let small = synth::render(&text, 4);
        let inverted = synth::invert(&synth::place(&small, 640, 480, 30, 40));
        assert!(passes(&synth::noise(&inverted, 25.0, 8)));
    }

    #[test]
    fn blank_and_noisy_frames_without_a_code_are_rejected() {
        assert!(!passes(&GrayImage::from_pixel(1280, 720, Luma([128]))));
        assert!(!passes(&empty_frame(1280, 720, 0.0, 1)));
        for (seed, noise) in [(2, 10.0), (4, 10.0), (5, 25.0), (6, 40.0)] {
            assert!(!passes(&empty_frame(1280, 720, noise, seed)), "{noise}");
            assert!(!passes(&empty_frame(640, 480, noise, seed)), "{noise}");
        }
    }

    #[test]
    fn noise_level_estimates_the_deviation_of_gaussian_noise() {
        let flat = GrayImage::from_pixel(320, 240, Luma([128]));
        assert_eq!(noise_level(&flat), 1.0);
        let level = noise_level(&synth::noise(&flat, 20.0, 9));
        assert!((16.0..24.0).contains(&level), "{level}");
    }

    #[test]
    fn halving_smoothly_keeps_flat_images_flat() {
        let img = GrayImage::from_pixel(41, 30, Luma([77]));
        let half = smooth_half(&img);
        assert_eq!(half.dimensions(), (20, 15));
        assert!(half.pixels().all(|p| p[0] == 77));
    }

    fn matrix(w: u32, h: u32, dark: impl Fn(u32, u32) -> bool) -> BitMatrix {
        let mut m = BitMatrix::new(w, h).unwrap();
        for y in 0..h {
            for x in 0..w {
                if dark(x, y) {
                    m.set(x, y);
                }
            }
        }
        m
    }

    #[test]
    fn row_runs_alternate_light_and_dark_starting_light() {
        let m = matrix(150, 1, |x, _| (3..5).contains(&x) || (70..140).contains(&x));
        let mut runs = Vec::new();
        row_runs(&m, 0, &mut runs);
        assert_eq!(runs, vec![3, 2, 65, 70, 10]);
        let starts_dark = matrix(130, 1, |x, _| x < 64 || x == 129);
        row_runs(&starts_dark, 0, &mut runs);
        assert_eq!(runs, vec![0, 64, 65, 1]);
    }
}
