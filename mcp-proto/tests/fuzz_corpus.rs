//! Replays the checked-in fuzz corpus (`fuzz/corpus/<target>/*`) under plain `cargo test`.
//!
//! The fuzz targets are thin wrappers around `fuzz/fuzz_targets/common`, included here with
//! `#[path]`, so each corpus file runs through exactly the code libFuzzer runs, minus the
//! sanitizers. A missing or empty corpus directory fails the test.
//!
//! To run one input (a crash artifact, say) outside libFuzzer, use the `fuzz_reproduce`
//! example of this crate.
//!
//! The hand-made seeds are generated from `common/seeds.rs`; after changing it, rewrite them
//! with `MCP_WRITE_CORPUS=1 cargo test -p mcp-proto --test fuzz_corpus`.

#[path = "../../fuzz/fuzz_targets/common/mod.rs"]
mod common;

use std::fs;
use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus")
}

fn files_of(target: &str) -> Vec<PathBuf> {
    let dir = corpus_root().join(target);
    let entries = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus directory {} is missing: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// With `MCP_WRITE_CORPUS` set, writes the seeds (once, before any test reads them).
fn write_seeds_if_asked() {
    static WRITE: std::sync::Once = std::sync::Once::new();
    WRITE.call_once(|| {
        if std::env::var_os("MCP_WRITE_CORPUS").is_none() {
            return;
        }
        for seed in common::seeds::all() {
            let dir = corpus_root().join(seed.target);
            fs::create_dir_all(&dir).expect("create corpus directory");
            fs::write(dir.join(&seed.name), &seed.bytes).expect("write seed");
        }
    });
}

#[test]
fn seeds_are_checked_in() {
    write_seeds_if_asked();
    let seeds = common::seeds::all();
    for target in common::TARGETS {
        assert!(
            seeds.iter().filter(|s| s.target == target).count() >= 10,
            "too few seeds for {target}"
        );
    }
    for seed in seeds {
        let path = corpus_root().join(seed.target).join(&seed.name);
        let on_disk = fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "seed {} is not checked in ({e}); run MCP_WRITE_CORPUS=1 cargo test -p mcp-proto \
                 --test fuzz_corpus",
                path.display()
            )
        });
        assert_eq!(
            on_disk,
            seed.bytes,
            "seed {} is stale; rewrite with MCP_WRITE_CORPUS=1",
            path.display()
        );
    }
}

#[test]
fn op_scripts_round_trip() {
    for seed in common::seeds::all()
        .into_iter()
        .filter(|s| s.target.starts_with("pair_"))
    {
        let script = common::ops::Script::decode(&seed.bytes);
        assert_eq!(
            script.encode(),
            seed.bytes,
            "{} does not round trip",
            seed.name
        );
    }
}

fn replay(target: &str) {
    write_seeds_if_asked();
    let files = files_of(target);
    assert!(!files.is_empty(), "no corpus files for {target}");
    for file in &files {
        let data = fs::read(file).expect("read corpus file");
        let outcome = std::panic::catch_unwind(|| common::run_target(target, &data));
        match outcome {
            Ok(known) => assert!(known, "unknown target {target}"),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                panic!("{target}: {} failed: {msg}", file.display());
            }
        }
    }
    eprintln!("{target}: replayed {} files", files.len());
}

/// Every target in `common::TARGETS`, each on its own thread: a target added to the fuzz
/// crate is replayed here without anyone listing it again.
#[test]
fn replay_every_target() {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = common::TARGETS
            .iter()
            .map(|&target| (target, scope.spawn(move || replay(target))))
            .collect();
        runs.into_iter()
            .filter_map(|(target, run)| run.join().err().map(|_| target.to_owned()))
            .collect()
    });
    assert!(
        failures.is_empty(),
        "corpus replay failed for {failures:?} (each one's panic is above)"
    );
}
