//! Holding a claim while the work it guards runs: the lease is renewed at a steady pace,
//! and the work is stopped as soon as the store says another sender has the claim.

use std::future::Future;
use std::time::Duration;

use super::StoreError;

/// How [`hold_claim`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held<T> {
    /// The work finished while the claim was held.
    Done(T),
    /// A renewal found the claim gone (its lease ran out and another sender took it): the
    /// work was stopped, and the other sender goes on.
    Lost,
}

/// Runs `work`, calling `renew` first and then every `every` meanwhile (every third of the
/// lease, say).
/// A renewal that fails because the database is unavailable is logged and tried again at
/// the next beat: the lease still runs, and only when it runs out can another sender
/// take over.
pub async fn hold_claim<T, W, R, RF>(work: W, every: Duration, mut renew: R) -> Held<T>
where
    W: Future<Output = T>,
    R: FnMut() -> RF,
    RF: Future<Output = Result<bool, StoreError>>,
{
    let mut beat = tokio::time::interval(every.max(Duration::from_millis(10)));
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first beat is at once, before the work starts: a sender that stalled between
    // claiming and posting learns that it lost the claim before it posts anything.
    beat.tick().await;
    if let Ok(false) = renew().await {
        return Held::Lost;
    }
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return Held::Done(done),
            _ = beat.tick() => match renew().await {
                Ok(true) => {}
                Ok(false) => return Held::Lost,
                Err(e) => tracing::warn!(error = %e, "could not renew a claim; trying again"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use tokio::sync::Notify;

    #[tokio::test]
    async fn renews_while_the_work_runs_and_stops_when_the_claim_is_lost() {
        // The work ends once the claim was renewed three times (once before it starts).
        let renewals = AtomicU32::new(0);
        let third = Notify::new();
        let held = hold_claim(third.notified(), Duration::from_millis(10), || async {
            if renewals.fetch_add(1, Ordering::SeqCst) + 1 == 3 {
                third.notify_one();
            }
            Ok(true)
        })
        .await;
        assert_eq!(held, Held::Done(()));
        assert_eq!(renewals.load(Ordering::SeqCst), 3);

        let never = std::future::pending::<()>();
        let held = hold_claim(never, Duration::from_millis(10), || async { Ok(false) }).await;
        assert_eq!(held, Held::Lost, "work that would never end is stopped");
    }
}
