//! Every `#[tokio::test]` of this crate runs its body under `mcp_testsuite::watchdog`, so a
//! hang fails with the test's name instead of stalling CI (issue #20). This reads the test
//! files and names any test that does not, so a new one cannot quietly go without.

use std::path::Path;

#[test]
fn every_tokio_test_runs_under_the_watchdog() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut missing = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a test file");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.starts_with("#[tokio::test") {
                continue;
            }
            seen += 1;
            // The function line, then the first statement of its body.
            let Some(f) = (i + 1..lines.len()).find(|&j| lines[j].starts_with("async fn ")) else {
                missing.push(format!(
                    "{}: no async fn after line {}",
                    path.display(),
                    i + 1
                ));
                continue;
            };
            let first = lines.get(f + 1).map_or("", |l| l.trim_start());
            if !first.starts_with("mcp_testsuite::watchdog(") {
                missing.push(format!(
                    "{}: {}",
                    path.display(),
                    lines[f].trim_end_matches(" {")
                ));
            }
        }
    }
    assert!(seen > 0, "no #[tokio::test] found in {}", dir.display());
    assert!(
        missing.is_empty(),
        "wrap these tests' bodies in `mcp_testsuite::watchdog(mcp_tokio::TokioRuntime, \"<name>\", \
         async move {{ .. }}).await`:\n{}",
        missing.join("\n")
    );
}
