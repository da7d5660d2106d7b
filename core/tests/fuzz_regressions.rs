//! Replays every input saved under `fuzz/regressions/<target>/` (seeds and
//! crashes the fuzzers once found) through the fuzz targets' own checks.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        check(&std::fs::read(&path).unwrap());
        count += 1;
    }
    count
}

#[test]
fn saved_login_qr_inputs_pass_the_parse_checks() {
    assert!(replay("login_qr_parse", checks::login_qr_parse) > 0);
}

#[test]
fn saved_json_inputs_pass_the_wire_checks() {
    assert!(replay("wire_json", checks::wire_json) > 0);
}
