//! Which scopes to ask for.

/// The scopes of an authorization request, or `None` to omit `scope`:
/// - the challenge's `scope`, else the resource's `scopes_supported`, else `fallback`;
/// - united with `previous` (what was asked before: a step-up keeps it, SEP-2350);
/// - plus `offline_access` when `want_offline` and the authorization server lists it.
pub fn select_scope(
    challenge: Option<&str>,
    resource_scopes: Option<&[String]>,
    fallback: Option<&str>,
    previous: Option<&str>,
    offline_access_offered: bool,
    want_offline: bool,
) -> Option<String> {
    let base = match (challenge, resource_scopes) {
        (Some(c), _) if !c.trim().is_empty() => c.to_owned(),
        (_, Some(list)) if !list.is_empty() => list.join(" "),
        _ => fallback.unwrap_or("").to_owned(),
    };
    let mut scope = scope_union(previous.unwrap_or(""), &base);
    if want_offline && offline_access_offered && !scope.is_empty() {
        scope = scope_union(&scope, "offline_access");
    }
    (!scope.is_empty()).then_some(scope)
}

/// The union of two space-separated scope lists, in first-seen order, without duplicates.
pub fn scope_union(a: &str, b: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for s in a.split_ascii_whitespace().chain(b.split_ascii_whitespace()) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out.join(" ")
}
