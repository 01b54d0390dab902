//! Questions per user per minute: a sliding window in memory.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A sliding-window limit per user. `per_window == 0` turns it off.
#[derive(Debug)]
pub struct RateLimiter {
    per_window: u32,
    window: Duration,
    hits: Mutex<HashMap<u64, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// `per_minute` questions per user in any 60 seconds; 0 = no limit.
    pub fn per_minute(per_minute: u32) -> RateLimiter {
        RateLimiter::new(per_minute, Duration::from_secs(60))
    }

    pub fn new(per_window: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            per_window,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Count a question of `user` at `now`; false when it is over the limit (and then it
    /// is not counted, so a user who waits gets through).
    pub fn allow(&self, user: u64, now: Instant) -> bool {
        if self.per_window == 0 {
            return true;
        }
        let mut hits = self
            .hits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget users who have been quiet, so the map does not grow without end.
        if hits.len() > 10_000 {
            let window = self.window;
            hits.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < window)
            });
        }
        let queue = hits.entry(user).or_default();
        while queue
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            queue.pop_front();
        }
        if queue.len() >= self.per_window as usize {
            return false;
        }
        queue.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_per_window_and_per_user() {
        let limiter = RateLimiter::per_minute(2);
        let t0 = Instant::now();
        assert!(limiter.allow(1, t0));
        assert!(limiter.allow(1, t0 + Duration::from_secs(1)));
        assert!(!limiter.allow(1, t0 + Duration::from_secs(2)));
        assert!(
            limiter.allow(2, t0 + Duration::from_secs(2)),
            "another user is not limited"
        );
        // The first question leaves the window after 60 s.
        assert!(limiter.allow(1, t0 + Duration::from_secs(60)));
        assert!(!limiter.allow(1, t0 + Duration::from_secs(60)));
    }

    #[test]
    fn refused_questions_do_not_count() {
        let limiter = RateLimiter::per_minute(1);
        let t0 = Instant::now();
        assert!(limiter.allow(1, t0));
        for s in 1..50 {
            assert!(!limiter.allow(1, t0 + Duration::from_secs(s)));
        }
        assert!(limiter.allow(1, t0 + Duration::from_secs(61)));
    }

    #[test]
    fn zero_is_off() {
        let limiter = RateLimiter::per_minute(0);
        let t0 = Instant::now();
        assert!((0..100).all(|_| limiter.allow(1, t0)));
    }
}
