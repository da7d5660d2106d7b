//! The labelled images in `client/tests/data/` (made by
//! `cargo run -p qrlogin-client --example gen_testdata`): each must decode
//! to its label, through the same entry point the CLI uses.

use std::path::PathBuf;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

#[test]
fn every_labelled_image_decodes_to_its_label() {
    let labels = std::fs::read_to_string(data_dir().join("labels.tsv"))
        .expect("client/tests/data/labels.tsv");
    let mut checked = 0;
    for line in labels
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (file, expected) = line.split_once('\t').expect("file<TAB>text");
        let texts = qrlogin_client::decode::decode_file(&data_dir().join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(texts.iter().any(|t| t == expected), "{file}: got {texts:?}");
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} labelled images");
}
