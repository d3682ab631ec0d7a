//! Failpoints: named places where the tests can make a request die as a crash would, right
//! after its write committed and before anything else happens. Nothing in the appliance arms
//! them: only code holding the `AppState` (the test harness) can, so production never hits one.

use std::sync::atomic::{AtomicU32, Ordering};

/// A place a request can be made to die.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Failpoint {
    /// A tool's action and its stored reply have committed; the reply is not yet sent.
    ToolActed = 1,
}

/// The armed failpoints, as a bit set.
#[derive(Debug, Default)]
pub struct Failpoints {
    armed: AtomicU32,
}

impl Failpoints {
    /// Arms `f`: the next request to pass it dies there (once).
    pub fn arm(&self, f: Failpoint) {
        self.armed.fetch_or(f as u32, Ordering::SeqCst);
    }

    /// Dies (unwinds the request's task, dropping its connection) when `f` is armed.
    pub fn hit(&self, f: Failpoint) {
        let bit = f as u32;
        if self.armed.load(Ordering::Relaxed) & bit != 0
            && self.armed.fetch_and(!bit, Ordering::SeqCst) & bit != 0
        {
            panic!("failpoint {f:?}: the request dies here, as in a crash");
        }
    }
}
