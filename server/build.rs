//! Rebuilds the crate when anything under `web/` changes, so the embedded
//! page and SDK (include_dir) are never stale — including newly added files.
fn main() {
    println!("cargo:rerun-if-changed=web");
    println!("cargo:rerun-if-changed=migrations");
}
