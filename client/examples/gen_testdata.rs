//! Writes the labelled decode set to `client/tests/data/`: a selection of
//! the generated cases (`tests/synth`) as PNG (JPEG where the case is about
//! JPEG or noise, to keep the files small), and `labels.tsv`
//! (`file<TAB>expected text`). Run after changing `tests/synth`:
//!
//! ```sh
//! cargo run -p qrlogin-client --example gen_testdata
//! ```

#[path = "../tests/synth/mod.rs"]
mod synth;

use std::fmt::Write as _;
use std::path::PathBuf;

/// The cases kept in the repository (the tests regenerate the full set).
const KEEP: &[&str] = &[
    "clean_640x480",
    "rotated_45deg",
    "perspective_0.3",
    "blur_sigma1.5",
    "noise_sd25",
    "jpeg_q30",
    "small_in_1280x720",
    "inverted",
    "low_contrast_110_150",
    "uneven_light",
    "mixed_rotate_blur_noise_jpeg",
    "screen_downscaled",
];

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    std::fs::create_dir_all(&dir)?;
    let mut labels = String::from("# file\texpected text (made by examples/gen_testdata.rs)\n");
    for case in synth::cases()
        .into_iter()
        .filter(|c| KEEP.contains(&c.name.as_str()))
    {
        let lossy = case.name.contains("jpeg") || case.name.contains("noise");
        let file = if lossy {
            let file = format!("{}.jpg", case.name);
            let quality = if case.name.starts_with("jpeg_q30") {
                30
            } else {
                90
            };
            let out = std::fs::File::create(dir.join(&file))?;
            image::codecs::jpeg::JpegEncoder::new_with_quality(out, quality)
                .encode_image(&case.image)?;
            file
        } else {
            let file = format!("{}.png", case.name);
            case.image.save(dir.join(&file))?;
            file
        };
        writeln!(labels, "{file}\t{}", case.text)?;
    }
    std::fs::write(dir.join("labels.tsv"), labels)?;
    println!("wrote {} cases to {}", KEEP.len(), dir.display());
    Ok(())
}
