//! Per-IP throttles on the Frontend API's guessable steps (Clerk's limits): creating a sign-in
//! or sign-up 5 per 10 s, attempting a factor or a verification 3 per 10 s. Answers 429 with
//! `Retry-After`. Counters are per node.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock as _, DefaultClock},
};

use crate::error::ApiError;

/// Which throttle a route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Creating a sign-in or sign-up.
    Create,
    /// Attempting a factor or a verification.
    Attempt,
}

/// The per-IP buckets.
pub struct Limiters {
    create: DefaultKeyedRateLimiter<IpAddr>,
    attempt: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for Limiters {
    fn default() -> Self {
        Self { create: keyed(5), attempt: keyed(3) }
    }
}

fn keyed(per_10s: u32) -> DefaultKeyedRateLimiter<IpAddr> {
    let burst = NonZeroU32::new(per_10s).expect("limits are positive");
    let quota = Quota::with_period(Duration::from_secs(10) / per_10s).expect("a positive period").allow_burst(burst);
    RateLimiter::keyed(quota)
}

impl Limiters {
    /// Takes one request from `ip`'s bucket, or says how long to wait.
    pub fn check(&self, limit: Limit, ip: IpAddr) -> Result<(), ApiError> {
        let limiter = match limit {
            Limit::Create => &self.create,
            Limit::Attempt => &self.attempt,
        };
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::TooManyRequests(wait.as_secs() + 1)
        })
    }

    /// Forgets idle addresses so the maps stay small.
    pub fn prune(&self) {
        self.create.retain_recent();
        self.attempt.retain_recent();
    }
}
