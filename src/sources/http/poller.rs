//! The loop every HTTP source runs: build the endpoint, poll, send the
//! outcome, wait; failures stretch the wait so a dead server is not hammered,
//! and the first success brings it back.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Endpoint, FetchError};
use crate::config::sources::HttpSource;
use crate::sources::{Payload, Update};

/// Longest wait between polls of a failing source.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The wait before the next poll: the configured interval while polls work,
/// doubling with each failure in a row up to `MAX_BACKOFF` (or the interval,
/// if that is longer), and back to the interval on the first success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    interval: Duration,
    failures: u32,
}

impl Backoff {
    /// A backoff around `interval`.
    pub fn new(interval: Duration) -> Backoff {
        Backoff { interval, failures: 0 }
    }

    /// Record a poll's outcome and return the wait before the next.
    pub fn record(&mut self, ok: bool) -> Duration {
        self.failures = if ok { 0 } else { self.failures.saturating_add(1) };
        self.current()
    }

    /// The wait now.
    pub fn current(&self) -> Duration {
        let cap = MAX_BACKOFF.max(self.interval);
        let factor = 1u32.checked_shl(self.failures.min(16)).unwrap_or(u32::MAX);
        self.interval.saturating_mul(factor).min(cap)
    }
}

/// Poll `source` until cancelled or the app hangs up: build its endpoint
/// (again after auth failures, so a rotated token is picked up), call `poll`,
/// send the outcome as an update named `name`, wait per the backoff.
pub fn spawn_poller<F, Fut>(
    name: &'static str,
    source: HttpSource,
    tx: mpsc::Sender<Update>,
    cancel: CancellationToken,
    poll: F,
) where
    F: Fn(Endpoint) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Payload, PollError>> + Send + 'static,
{
    tokio::spawn(async move {
        let mut backoff = Backoff::new(source.interval);
        let mut endpoint: Option<Endpoint> = None;
        loop {
            let outcome = tokio::select! {
                () = cancel.cancelled() => return,
                r = poll_once(&source, &mut endpoint, &poll) => r,
            };
            let wait = backoff.record(outcome.is_ok());
            if tx.send(Update::now(name, outcome)).await.is_err() {
                return;
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
}

/// A poll's failure: the message, and whether the endpoint must be rebuilt.
#[derive(Debug, Clone, PartialEq)]
pub struct PollError {
    /// The one line shown.
    pub message: String,
    /// Credentials were refused: resolve the secret again before the next poll.
    pub reauth: bool,
}

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<FetchError> for PollError {
    fn from(e: FetchError) -> Self {
        let reauth = matches!(&e, FetchError::Status { status, .. } if matches!(status.as_u16(), 401 | 403));
        PollError { message: e.to_string(), reauth }
    }
}

async fn poll_once<F, Fut>(
    source: &HttpSource,
    endpoint: &mut Option<Endpoint>,
    poll: &F,
) -> Result<Payload, String>
where
    F: Fn(Endpoint) -> Fut,
    Fut: Future<Output = Result<Payload, PollError>>,
{
    let ep = match endpoint {
        Some(ep) => ep.clone(),
        None => endpoint.insert(Endpoint::connect(source).await?).clone(),
    };
    poll(ep).await.map_err(|e| {
        if e.reauth {
            *endpoint = None;
        }
        e.message
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_and_resets() {
        let s = Duration::from_secs;
        let mut b = Backoff::new(s(5));
        assert_eq!(b.current(), s(5));
        let waits: Vec<_> = (0..6).map(|_| b.record(false)).collect();
        assert_eq!(waits, [s(10), s(20), s(40), s(60), s(60), s(60)]);
        assert_eq!(b.record(true), s(5));
        assert_eq!(b.record(false), s(10));
        // An interval above the cap is never shortened.
        let mut slow = Backoff::new(s(300));
        assert_eq!(slow.record(false), s(300));
        // Many failures neither overflow nor exceed the cap.
        let mut fast = Backoff::new(Duration::from_millis(100));
        for _ in 0..100 {
            fast.record(false);
        }
        assert_eq!(fast.current(), MAX_BACKOFF);
    }
}
