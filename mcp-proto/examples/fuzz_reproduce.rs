//! Runs fuzz inputs through a target outside libFuzzer (faster to iterate on, and
//! debuggable), exactly as `cargo fuzz` and the `fuzz_corpus` replay run them:
//!
//! ```text
//! cargo run -p mcp-proto --example fuzz_reproduce -- pair_modern fuzz/artifacts/pair_modern/crash-...
//! cargo run -p mcp-proto --example fuzz_reproduce -- http_exchange fuzz/corpus/http_exchange
//! ```
//!
//! The input may be one file or a directory (a whole corpus). A `pair_legacy` or
//! `pair_modern` file on its own is printed decoded first. Exits non-zero on a failing input (the panic says which) or an
//! unknown target.

#[path = "../../fuzz/fuzz_targets/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(target), Some(input)) = (args.next(), args.next()) else {
        eprintln!(
            "usage: fuzz_reproduce <target> <file-or-directory>\ntargets: {}",
            common::TARGETS.join(" ")
        );
        return ExitCode::from(2);
    };
    if !common::TARGETS.contains(&target.as_str()) {
        eprintln!(
            "unknown target {target}; one of: {}",
            common::TARGETS.join(" ")
        );
        return ExitCode::from(2);
    }
    let input = PathBuf::from(input);
    let files = if input.is_dir() {
        let entries = match std::fs::read_dir(&input) {
            Ok(entries) => entries,
            Err(e) => {
                eprintln!("{}: {e}", input.display());
                return ExitCode::from(2);
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
    } else {
        vec![input]
    };
    for file in &files {
        let data = match std::fs::read(file) {
            Ok(data) => data,
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                return ExitCode::from(2);
            }
        };
        if target.starts_with("pair_") && files.len() == 1 {
            eprintln!("{:#?}", common::ops::Script::decode(&data));
        }
        eprintln!("{}", file.display());
        common::run_target(&target, &data);
    }
    eprintln!("reproduced {} inputs", files.len());
    ExitCode::SUCCESS
}
