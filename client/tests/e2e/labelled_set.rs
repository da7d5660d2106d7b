//! The labelled images in `client/tests/data/`: `labels.tsv` lists the
//! generated ones (made by `cargo run -p qrlogin-client --example
//! gen_testdata`), `screenshots.tsv` real screenshots of the hosted login
//! page. Each must decode to its label, through the entry point the CLI uses.

use std::path::PathBuf;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Decodes every file of a `file<TAB>text` list; returns how many.
fn check(list: &str) -> usize {
    let labels = std::fs::read_to_string(data_dir().join(list))
        .unwrap_or_else(|e| panic!("client/tests/data/{list}: {e}"));
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
    checked
}

#[test]
fn every_generated_labelled_image_decodes_to_its_label() {
    assert!(check("labels.tsv") >= 8);
}

#[test]
fn screenshots_of_the_hosted_page_decode_to_their_login_link() {
    assert!(check("screenshots.tsv") >= 2);
}
