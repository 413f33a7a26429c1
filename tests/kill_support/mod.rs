//! SIGKILL at adaptive random points: takes a command to run and a seeded RNG, gives for each run
//! whether the process finished before its kill or was killed. A run that fails on its own (an
//! exit status other than 0) or panics fails the test. The span of delays adapts: a run that
//! finished before its kill shrinks it, a killed one widens it, so kills keep landing inside
//! runs (often near their end, where pins are made).

// Each test binary uses what it needs of this module.
#![allow(dead_code)]

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::mutate::Rng;

/// How one killed run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It exited successfully before the kill.
    Finished,
    /// The kill ended it.
    Killed,
}

/// Kills runs after random delays within an adapting span.
pub struct Killer {
    span_us: u64,
    first_us: u64,
}

impl Killer {
    /// Delays start within `one_run` (one uninterrupted run's duration, at least 1 ms).
    pub fn new(one_run: Duration) -> Killer {
        let span_us = (one_run.as_micros() as u64).max(1000);
        Killer {
            span_us,
            first_us: span_us,
        }
    }

    /// Spawn `cmd` (stdout discarded, stderr kept), SIGKILL it after a random delay, and say how
    /// it ended; `what` and `k` name the run in failures.
    pub fn run(&mut self, rng: &mut Rng, cmd: &mut Command, what: &str, k: usize) -> Outcome {
        let delay = Duration::from_micros(rng.below(self.span_us));
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
        std::thread::sleep(delay);
        // SIGKILL (std's kill); it may already have exited.
        let _ = child.kill();
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "kill {k}: {err}");
        if out.status.success() {
            self.span_us = (self.span_us * 8 / 10).max(200);
            Outcome::Finished
        } else if out.status.code().is_some() {
            // It ended on its own before the kill, with an error: that must not happen (a
            // previous kill left something that the next run cannot handle).
            panic!("kill {k} (after {delay:?}): {what} failed on its own: {err}");
        } else {
            self.span_us = self.span_us * 21 / 20;
            Outcome::Killed
        }
    }

    /// The first span of delays.
    pub fn first_span(&self) -> Duration {
        Duration::from_micros(self.first_us)
    }

    /// The span of delays now.
    pub fn span(&self) -> Duration {
        Duration::from_micros(self.span_us)
    }
}
