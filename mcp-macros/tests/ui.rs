//! Compile-fail tests: a signature `#[tool]` cannot turn into a tool is refused at the macro
//! call with a message saying what to write instead.

#[test]
fn bad_signatures_are_refused() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
