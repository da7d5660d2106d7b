//! `cargo run -p qrlogin-typegen`: rewrites the generated TypeScript files.

use std::process::ExitCode;

fn main() -> ExitCode {
    let root = qrlogin_typegen::repo_root();
    for file in qrlogin_typegen::generated() {
        let path = root.join(file.path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, &file.text));
        if let Err(e) = written {
            eprintln!("qrlogin-typegen: could not write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", file.path);
    }
    ExitCode::SUCCESS
}
