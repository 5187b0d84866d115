//! The four things the driver needs from an async runtime.

use std::future::Future;
use std::pin::Pin;
use std::time::{Instant, SystemTime};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An async runtime, reduced to clock, timer and spawn. Implemented by `mcp-tokio`,
/// `mcp-smol`, or by hand for a custom event loop.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// The monotonic clock.
    fn now(&self) -> Instant;

    /// The wall clock (used once per session to date tasks).
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    /// A future that completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;

    /// Runs `future` in the background.
    fn spawn(&self, future: BoxFuture<'static, ()>);
}

/// Operating-system randomness for the core's [`Entropy`](mcp_proto::entropy::Entropy).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl mcp_proto::entropy::Entropy for OsEntropy {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // A machine without an OS random source cannot mint safe ids; failing loudly beats
        // predictable task ids.
        getrandom::fill(dest).expect("the operating system's random source failed");
    }
}
