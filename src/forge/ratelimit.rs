//! GitHub's rate limits, as its REST documentation describes them: on 403 or 429 wait for
//! `retry-after` when given, else until `x-ratelimit-reset` when no requests are left, else at
//! least a minute.

use std::time::Duration;

/// How long to wait before trying again after a response, or `None` when the response is not a
/// rate limit. `now_epoch` is the current Unix time in seconds.
pub fn wait_for(
    status: u16,
    header: impl Fn(&str) -> Option<String>,
    body: &str,
    now_epoch: u64,
) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    let retry_after = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok());
    let remaining = header("x-ratelimit-remaining").and_then(|v| v.trim().parse::<u64>().ok());
    let reset = header("x-ratelimit-reset").and_then(|v| v.trim().parse::<u64>().ok());
    let says_limit = body.to_ascii_lowercase().contains("rate limit");
    if let Some(s) = retry_after {
        return Some(Duration::from_secs(s));
    }
    if remaining == Some(0)
        && let Some(reset) = reset
    {
        return Some(Duration::from_secs(reset.saturating_sub(now_epoch).max(1)));
    }
    // A 403 that is not about the rate limit is a permission problem: waiting will not help.
    if status == 429 || remaining == Some(0) || says_limit {
        return Some(Duration::from_secs(60));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn follows_githubs_order() {
        assert_eq!(
            wait_for(429, h(&[("retry-after", "7")]), "", 0),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            wait_for(
                403,
                h(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1030")
                ]),
                "",
                1000
            ),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            wait_for(403, h(&[]), "You have exceeded a secondary rate limit", 0),
            Some(Duration::from_secs(60))
        );
        assert_eq!(wait_for(429, h(&[]), "", 0), Some(Duration::from_secs(60)));
        assert_eq!(
            wait_for(403, h(&[]), "Resource not accessible by integration", 0),
            None
        );
        assert_eq!(wait_for(500, h(&[("retry-after", "1")]), "", 0), None);
    }
}
