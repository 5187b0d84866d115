//! (filled in by the wire-types work)
