#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
mod borrowed;
pub mod codec;
pub mod entropy;
pub mod http;
pub mod jsonrpc;
pub mod schema;
pub mod session;
pub mod tasks;

/// The starting instant of unit tests: the library itself never reads a clock, and tests
/// read it once here, then move time by explicit offsets from it.
#[cfg(test)]
pub(crate) fn test_start() -> std::time::Instant {
    std::time::Instant::now()
}

/// Builder-style setters for a `#[non_exhaustive]` config struct: one `with_<field>` per
/// field, so code outside the defining crate starts from a constructor or `Default` and
/// sets what it changes, and a new field is not a breaking change.
#[doc(hidden)]
#[macro_export]
macro_rules! __config_setters {
    ($ty:ident { $($setter:ident => $field:ident: $t:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
                #[must_use]
                pub fn $setter(mut self, $field: $t) -> Self {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}
