//! Wire types for both eras, by area.
//!
//! One Rust type per schema interface, named as in `schema.ts`. Fields that only some versions
//! have are optional, so one type reads every version. Where the eras disagree on a shape (the
//! tasks of 2025-11-25 and those of the 2026 extension) each has its own module.

pub mod common;
pub mod completion;
pub mod content;
pub mod elicitation;
pub mod errors;
pub mod lifecycle;
pub mod logging;
pub mod messages;
pub mod mrtr;
pub mod notifications;
pub mod prompts;
pub mod resources;
pub mod roots;
pub mod sampling;
pub mod subscriptions;
pub mod tasks;
pub mod tasks_ext;
pub mod tools;
pub mod version;

pub use common::*;
pub use content::*;
pub use version::{Era, ProtocolVersion};
