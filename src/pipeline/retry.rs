//! When to send a request again, and after how long: a pure function of the failure, the attempt
//! number, the time spent so far and a random draw.

use std::time::Duration;

use crate::error::Error;

/// How a failed request is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Sending it again unchanged would fail again: 4xx other than 408 and 429, a body that did
    /// not decode, a configuration error.
    Final,
    /// A transport error, a timeout, 408 or 5xx: back off and retry.
    Retryable,
    /// The server asked for at least this wait (`Retry-After`, with 429, 503 or any retryable
    /// status).
    Throttled(Duration),
}

/// Classifies a client error.
pub(crate) fn classify(error: &Error) -> Class {
    if !error.is_retryable() {
        return Class::Final;
    }
    match error.retry_after() {
        Some(wait) => Class::Throttled(wait),
        None => Class::Retryable,
    }
}

/// Exponential backoff with jitter, bounded in total time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// The first backoff (before jitter).
    pub(crate) initial: Duration,
    /// The longest backoff (before jitter).
    pub(crate) max_delay: Duration,
    /// No retry starts later than this after the first attempt; a `Retry-After` that would end
    /// beyond it gives up instead of waiting less than the server asked.
    pub(crate) max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(200),
            max_delay: Duration::from_secs(15),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1 for the first retry) of a request that failed
    /// with `class`, `elapsed` after its first attempt, or `None` to give up. `jitter` is a
    /// uniform draw in `[0, 1)`: the backoff is spread over its upper half so that clients that
    /// failed together do not retry together.
    ///
    /// A server's `Retry-After` is a floor, never a replacement for the backoff: `0` or a date in
    /// the past still waits the backoff, so a server cannot make the client retry in a loop.
    pub(crate) fn next(
        &self,
        class: Class,
        attempt: u32,
        elapsed: Duration,
        jitter: f64,
    ) -> Option<Duration> {
        let exponent = attempt.saturating_sub(1).min(30);
        let base = self
            .initial
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let backoff = base.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0);
        let wait = match class {
            Class::Final => return None,
            Class::Throttled(asked) => asked.max(backoff),
            Class::Retryable => backoff,
        };
        (elapsed.saturating_add(wait) <= self.max_elapsed).then_some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<Duration>) -> Error {
        Error::Status {
            method: "POST",
            path: "/v1/sessions".into(),
            status,
            message: "m".into(),
            error_code: None,
            retry_after,
        }
    }

    #[test]
    fn client_errors_are_final_and_server_errors_retryable() {
        for code in [400, 401, 403, 404, 409, 413, 422] {
            assert_eq!(classify(&status(code, None)), Class::Final, "{code}");
        }
        for code in [408, 429, 500, 502, 503, 504] {
            assert_eq!(classify(&status(code, None)), Class::Retryable, "{code}");
        }
        let timeout = Error::Timeout {
            method: "POST",
            path: "/".into(),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(classify(&timeout), Class::Retryable);
        let decode = Error::Decode {
            method: "POST",
            path: "/".into(),
            json_path: ".".into(),
            reason: "r".into(),
        };
        assert_eq!(classify(&decode), Class::Final);
    }

    #[test]
    fn retry_after_is_honoured_on_retryable_statuses_only() {
        let wait = Duration::from_secs(3);
        assert_eq!(classify(&status(429, Some(wait))), Class::Throttled(wait));
        assert_eq!(classify(&status(503, Some(wait))), Class::Throttled(wait));
        assert_eq!(classify(&status(400, Some(wait))), Class::Final);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_within_its_jitter_band() {
        let policy = RetryPolicy {
            initial: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
            max_elapsed: Duration::from_secs(3600),
        };
        let at = |attempt, jitter| {
            policy
                .next(Class::Retryable, attempt, Duration::ZERO, jitter)
                .unwrap()
        };
        assert_eq!(at(1, 0.0), Duration::from_millis(50));
        assert_eq!(at(1, 0.5), Duration::from_millis(75));
        assert_eq!(at(2, 0.0), Duration::from_millis(100));
        assert_eq!(at(3, 0.0), Duration::from_millis(200));
        assert_eq!(at(4, 1.0), Duration::from_millis(800));
        assert_eq!(at(5, 1.0), Duration::from_millis(800));
        assert_eq!(at(u32::MAX, 1.0), Duration::from_millis(800));
    }

    #[test]
    fn throttling_waits_what_the_server_asked_when_it_is_longer_than_the_backoff() {
        let policy = RetryPolicy::default();
        let wait = Duration::from_millis(1500);
        assert_eq!(
            policy.next(Class::Throttled(wait), 1, Duration::ZERO, 0.3),
            Some(wait)
        );
    }

    #[test]
    fn a_zero_or_past_retry_after_still_backs_off() {
        let policy = RetryPolicy::default();
        let zero = Class::Throttled(Duration::ZERO);
        assert_eq!(
            policy.next(zero, 1, Duration::ZERO, 0.0),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            policy.next(zero, 4, Duration::ZERO, 1.0),
            Some(Duration::from_millis(1600)),
            "the backoff keeps growing"
        );
        let short = Class::Throttled(Duration::from_millis(10));
        assert_eq!(
            policy.next(short, 3, Duration::ZERO, 0.0),
            Some(Duration::from_millis(400))
        );
    }

    #[test]
    fn no_retry_starts_past_the_total_budget() {
        let policy = RetryPolicy {
            max_elapsed: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let long = Class::Throttled(Duration::from_secs(11));
        assert_eq!(policy.next(long, 1, Duration::ZERO, 0.0), None);
        let short = Class::Throttled(Duration::from_secs(2));
        assert_eq!(policy.next(short, 1, Duration::from_secs(9), 0.0), None);
        assert!(policy.next(short, 1, Duration::from_secs(7), 0.0).is_some());
        assert_eq!(policy.next(Class::Final, 1, Duration::ZERO, 0.0), None);
    }
}
