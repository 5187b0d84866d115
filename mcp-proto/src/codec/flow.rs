//! Flow control of a byte stream: when to stop reading input because output is piling up.
//!
//! Every request read produces a response to write. A peer that keeps writing requests and
//! never reads the responses would otherwise make the writer's queue grow without bound. The
//! transport reports how many bytes it holds for the peer after each write attempt
//! ([`Flow::handle_backlog`]); the answer says whether to read more input. Reading stops
//! above [`Watermarks::high`] and resumes only once the backlog has drained below
//! [`Watermarks::low`], so a slow peer is not flipped on and off for every frame.
//!
//! Pausing input bounds what the peer's requests can cost, but not what the application
//! sends on its own (notifications, requests to the peer). Past [`Watermarks::max`] the peer
//! is cut off as a reader too slow to serve: [`FlowState::Overflow`], and the transport
//! closes the connection.
//!
//! ```
//! use mcp_proto::codec::flow::{Flow, FlowState, Watermarks};
//!
//! let mut flow = Flow::new(Watermarks { high: 100, low: 40, max: 1000 });
//! assert_eq!(flow.handle_backlog(150), FlowState::Paused);
//! assert_eq!(flow.handle_backlog(60), FlowState::Paused); // not below `low` yet
//! assert_eq!(flow.handle_backlog(30), FlowState::Reading);
//! assert_eq!(flow.handle_backlog(2000), FlowState::Overflow);
//! ```

/// The backlog limits of one connection, in bytes of output queued for the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermarks {
    /// Above this, input is no longer read.
    pub high: usize,
    /// Reading resumes once the backlog is below this (at most `high`).
    pub low: usize,
    /// Above this, the peer is too slow to serve and the connection ends.
    pub max: usize,
}

impl Default for Watermarks {
    /// 1 MiB high, 256 KiB low, 64 MiB max: a peer that never reads costs about 1 MiB of
    /// responses, and one large result (up to the default 4 MiB frame limit many times over)
    /// still goes out whole.
    fn default() -> Self {
        Watermarks {
            high: 1024 * 1024,
            low: 256 * 1024,
            max: 64 * 1024 * 1024,
        }
    }
}

/// What the transport does with its input next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    /// Read input.
    Reading,
    /// Leave input unread until the backlog drains.
    Paused,
    /// The backlog passed [`Watermarks::max`]: close the connection.
    Overflow,
}

/// The flow-control state of one connection (see the module docs).
#[derive(Debug, Clone)]
pub struct Flow {
    marks: Watermarks,
    paused: bool,
    peak: usize,
}

impl Flow {
    /// A connection that reads.
    pub fn new(marks: Watermarks) -> Self {
        Flow {
            marks,
            paused: false,
            peak: 0,
        }
    }

    /// The transport now holds `backlog` bytes of output for the peer.
    #[must_use]
    pub fn handle_backlog(&mut self, backlog: usize) -> FlowState {
        self.peak = self.peak.max(backlog);
        if backlog > self.marks.max {
            return FlowState::Overflow;
        }
        if backlog > self.marks.high {
            self.paused = true;
        } else if backlog < self.marks.low.min(self.marks.high) || backlog == 0 {
            self.paused = false;
        }
        if self.paused {
            FlowState::Paused
        } else {
            FlowState::Reading
        }
    }

    /// Whether input is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The largest backlog reported so far.
    pub fn peak(&self) -> usize {
        self.peak
    }

    /// The limits in force.
    pub fn watermarks(&self) -> Watermarks {
        self.marks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_above_high_resumes_below_low_and_overflows_past_max() {
        let mut f = Flow::new(Watermarks {
            high: 10,
            low: 4,
            max: 50,
        });
        assert_eq!(f.handle_backlog(10), FlowState::Reading);
        assert_eq!(f.handle_backlog(11), FlowState::Paused);
        assert!(f.is_paused());
        assert_eq!(f.handle_backlog(4), FlowState::Paused);
        assert_eq!(f.handle_backlog(3), FlowState::Reading);
        assert_eq!(f.handle_backlog(51), FlowState::Overflow);
        assert_eq!(f.peak(), 51);
    }

    #[test]
    fn a_low_mark_above_high_or_zero_still_resumes() {
        let mut f = Flow::new(Watermarks {
            high: 10,
            low: 100,
            max: 50,
        });
        assert_eq!(f.handle_backlog(20), FlowState::Paused);
        assert_eq!(f.handle_backlog(9), FlowState::Reading);
        let mut f = Flow::new(Watermarks {
            high: 10,
            low: 0,
            max: 50,
        });
        assert_eq!(f.handle_backlog(20), FlowState::Paused);
        assert_eq!(f.handle_backlog(0), FlowState::Reading);
    }
}
