//! Black and white for the rxing detectors: the same local-threshold
//! binarization as rxing's `HybridBinarizer`, bit for bit, at a fraction of
//! its cost (it set one bit at a time and was the largest single cost of
//! a frame with a code), plus a [`Binarizer`] that hands the finished
//! matrix to rxing, so one frame is binarized once for the prefilter and
//! every rxing detector.

use std::borrow::Cow;

use image::GrayImage;
use rxing::common::{BitArray, BitMatrix, HybridBinarizer, LineOrientation, Result};
use rxing::{Binarizer, Luma8Source, LuminanceSource};

/// Blocks of 8×8 pixels, each with its own black point.
const BLOCK: usize = 8;
/// Below this size `HybridBinarizer` falls back to a global histogram.
const MIN_SIDE: usize = BLOCK * 5;
/// A block whose brightness varies less than this is flat (no edge in it).
const MIN_DYNAMIC_RANGE: u8 = 24;
const WORD_BITS: usize = usize::BITS as usize;

/// The black modules of `img` (set bits), exactly as rxing's
/// `HybridBinarizer` computes them. `None` for an empty image.
pub fn hybrid(img: &GrayImage) -> Option<BitMatrix> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return None;
    }
    if w < MIN_SIDE || h < MIN_SIDE {
        // Tiny images: rxing's own (global histogram) path.
        let source = Luma8Source::new_with_slice(img.as_raw(), img.width(), img.height()).ok()?;
        return HybridBinarizer::new(source)
            .get_black_matrix()
            .ok()
            .cloned();
    }
    let luma = img.as_raw();
    let (sub_w, sub_h) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let thresholds = block_thresholds(luma, w, h, sub_w, sub_h);
    let mut matrix = BitMatrix::new(img.width(), img.height()).ok()?;
    let mut row_bits = BitArray::with_size(w);
    let mut pixel_thr = vec![0u8; w];
    let mut words = vec![0usize; w.div_ceil(WORD_BITS)];
    // One byte (0 or 1) per pixel, padded with light to whole words.
    let mut mask = vec![0u8; words.len() * WORD_BITS];
    let last_x = w - BLOCK;
    let last_y = h - BLOCK;
    let mut thr_key = None;
    for y in 0..h {
        // The block rows covering this row: its own, and the last one when
        // the height is not a multiple of 8 (the last block is pulled back
        // to end at the border, so it overlaps the one before it). A pixel
        // is black if any block covering it says so, i.e. against the
        // highest of their thresholds. The same for columns.
        let own = (y / BLOCK).min(sub_h - 1);
        let key = (own, y >= last_y);
        if thr_key != Some(key) {
            thr_key = Some(key);
            let row_thr = |bx: usize| {
                let t = thresholds[own * sub_w + bx];
                if y >= last_y {
                    t.max(thresholds[(sub_h - 1) * sub_w + bx])
                } else {
                    t
                }
            };
            let last = row_thr(sub_w - 1);
            for (x, t) in pixel_thr.iter_mut().enumerate() {
                let t0 = row_thr((x / BLOCK).min(sub_w - 1));
                *t = if x >= last_x { t0.max(last) } else { t0 };
            }
        }
        let line = &luma[y * w..(y + 1) * w];
        for ((m, &l), &t) in mask.iter_mut().zip(line).zip(&pixel_thr) {
            *m = u8::from(l <= t);
        }
        for (word, flags) in words.iter_mut().zip(mask.chunks_exact(WORD_BITS)) {
            *word = pack(flags);
        }
        for (i, &word) in words.iter().enumerate() {
            row_bits.setBulk(i * WORD_BITS, word);
        }
        matrix.setRow(y as u32, &row_bits);
    }
    Some(matrix)
}

/// `WORD_BITS` flags (bytes 0 or 1) as the bits of one word, the first
/// flag in the lowest bit.
fn pack(flags: &[u8]) -> usize {
    flags
        .chunks_exact(8)
        .enumerate()
        .map(|(i, eight)| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(eight);
            // Gathers the low bit of each byte into the top byte, byte k
            // to bit 56 + k (the products of distinct bits never carry).
            let byte = u64::from_le_bytes(bytes).wrapping_mul(0x0102_0408_1020_4080) >> 56;
            (byte as usize) << (8 * i)
        })
        .fold(0, |word, byte| word | byte)
}

/// The threshold of each 8×8 block: the mean of the black points of the
/// 5×5 blocks around it (fewer at the borders), as `HybridBinarizer` does.
fn block_thresholds(luma: &[u8], w: usize, h: usize, sub_w: usize, sub_h: usize) -> Vec<u8> {
    let points = black_points(luma, w, h, sub_w, sub_h);
    let mut out = vec![0u8; sub_w * sub_h];
    for y in 0..sub_h {
        let top = y.clamp(2, sub_h - 3);
        for x in 0..sub_w {
            let left = x.clamp(2, sub_w - 3);
            let mut sum = 0u32;
            for row in points[(top - 2) * sub_w..(top + 3) * sub_w].chunks_exact(sub_w) {
                sum += row[left - 2..=left + 2].iter().sum::<u32>();
            }
            // A mean of values ≤ 255.
            out[y * sub_w + x] = (sum / 25) as u8;
        }
    }
    out
}

/// The black point of each 8×8 block: its mean brightness, or for a flat
/// block something darker than its neighbours' (so flat areas read light).
fn black_points(luma: &[u8], w: usize, h: usize, sub_w: usize, sub_h: usize) -> Vec<u32> {
    let mut points = vec![0u32; sub_w * sub_h];
    let mut stats = vec![(0u32, u8::MAX, u8::MIN); sub_w];
    for y in 0..sub_h {
        let y0 = (y * BLOCK).min(h - BLOCK);
        stats.fill((0, u8::MAX, u8::MIN));
        // rxing stops taking the minimum and maximum once they are far
        // enough apart; taken over the whole block the result is the same
        // (the range only grows).
        for row in luma[y0 * w..(y0 + BLOCK) * w].chunks_exact(w) {
            // Whole blocks, then (if the width is not a multiple of 8) the
            // last block, pulled back to end at the border.
            let whole = row.chunks_exact(BLOCK).zip(stats.iter_mut());
            let last = (w % BLOCK != 0).then(|| &row[w - BLOCK..]);
            let last_stats = sub_w - 1;
            for (pixels, stat) in whole {
                add_to_block(stat, pixels);
            }
            if let Some(pixels) = last {
                add_to_block(&mut stats[last_stats], pixels);
            }
        }
        for (x, &(sum, min, max)) in stats.iter().enumerate() {
            let mut point = sum >> 6;
            if max - min <= MIN_DYNAMIC_RANGE {
                point = u32::from(min) / 2;
                if y > 0 && x > 0 {
                    let neighbours = (points[(y - 1) * sub_w + x]
                        + 2 * points[y * sub_w + x - 1]
                        + points[(y - 1) * sub_w + x - 1])
                        / 4;
                    if u32::from(min) < neighbours {
                        point = neighbours;
                    }
                }
            }
            points[y * sub_w + x] = point;
        }
    }
    points
}

fn add_to_block((sum, min, max): &mut (u32, u8, u8), pixels: &[u8]) {
    for &p in pixels {
        *sum += u32::from(p);
        *min = (*min).min(p);
        *max = (*max).max(p);
    }
}

/// A [`Binarizer`] whose black matrix is already computed (by [`hybrid`]).
pub struct Prebinarized<'a> {
    source: Luma8Source<'a>,
    matrix: Cow<'a, BitMatrix>,
}

impl<'a> Prebinarized<'a> {
    /// `matrix` must be [`hybrid`]`(img)`.
    pub fn new(img: &'a GrayImage, matrix: Cow<'a, BitMatrix>) -> Option<Self> {
        let source = Luma8Source::new_with_slice(img.as_raw(), img.width(), img.height()).ok()?;
        Some(Self { source, matrix })
    }
}

impl<'a> Binarizer for Prebinarized<'a> {
    type Source = Luma8Source<'a>;

    fn get_luminance_source(&self) -> &Self::Source {
        &self.source
    }

    fn get_black_row(&self, y: usize) -> Result<Cow<'_, BitArray>> {
        self.get_black_row_from_matrix(y)
    }

    fn get_black_row_from_matrix(&self, y: usize) -> Result<Cow<'_, BitArray>> {
        if y >= self.matrix.height() as usize {
            return Err(rxing::Exceptions::INDEX_OUT_OF_BOUNDS);
        }
        Ok(Cow::Owned(self.matrix.getRow(y as u32)))
    }

    fn get_black_matrix(&self) -> Result<&BitMatrix> {
        Ok(&self.matrix)
    }

    fn get_black_line(&self, l: usize, lt: LineOrientation) -> Result<Cow<'_, BitArray>> {
        match lt {
            LineOrientation::Row => self.get_black_row_from_matrix(l),
            LineOrientation::Column if l < self.matrix.width() as usize => {
                Ok(Cow::Owned(self.matrix.getCol(l as u32)))
            }
            LineOrientation::Column => Err(rxing::Exceptions::INDEX_OUT_OF_BOUNDS),
        }
    }

    /// For crops and rotations (which the QR readers do not ask for): a
    /// binarizer of the new source, binarized the same way.
    fn create_binarizer(&self, source: Self::Source) -> Self {
        let (w, h) = (source.get_width() as u32, source.get_height() as u32);
        let matrix = GrayImage::from_raw(w, h, source.get_matrix().into_owned())
            .and_then(|img| hybrid(&img))
            // Only an empty source has no matrix; 1×1 is a valid size.
            .unwrap_or_else(|| BitMatrix::new(1, 1).expect("1×1 is a valid size"));
        Self {
            source,
            matrix: Cow::Owned(matrix),
        }
    }

    fn get_width(&self) -> usize {
        self.matrix.width() as usize
    }

    fn get_height(&self) -> usize {
        self.matrix.height() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rxing's own binarization of `img`.
    fn rxing_hybrid(img: &GrayImage) -> BitMatrix {
        let source = Luma8Source::new_with_slice(img.as_raw(), img.width(), img.height()).unwrap();
        HybridBinarizer::new(source)
            .get_black_matrix()
            .unwrap()
            .clone()
    }

    fn noisy(w: u32, h: u32, seed: u64) -> GrayImage {
        let mut s = seed;
        GrayImage::from_fn(w, h, |x, y| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let base = 60 + (x * 120 / w) + (y * 40 / h);
            let wave = if (x / 5 + y / 7) % 3 == 0 { 40 } else { 0 };
            image::Luma([(base + wave + (s % 30) as u32).min(255) as u8])
        })
    }

    #[test]
    fn binarizes_exactly_like_rxings_hybrid_binarizer() {
        // Sizes that are and are not multiples of the block size, flat
        // areas, edges and noise, and a tiny image (global histogram path).
        for (w, h) in [(640, 480), (1283, 725), (41, 40), (97, 203), (30, 20)] {
            let img = noisy(w, h, u64::from(w * h));
            assert_eq!(hybrid(&img).unwrap(), rxing_hybrid(&img), "{w}×{h}");
        }
        let flat = GrayImage::from_fn(100, 60, |x, _| image::Luma([if x < 50 { 30 } else { 220 }]));
        assert_eq!(hybrid(&flat).unwrap(), rxing_hybrid(&flat));
        assert!(hybrid(&GrayImage::new(0, 0)).is_none());
    }
}
