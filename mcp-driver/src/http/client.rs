//! The streamable HTTP client (being written).
