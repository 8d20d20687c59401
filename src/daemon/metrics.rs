//! Prometheus text exposition of the daemon's counters. Hand-rolled: four metric families do
//! not justify a metrics crate, and the text format is a few lines.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::forge::ForgeStats;

/// Upper bounds (seconds) of the processing latency histogram.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The daemon's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    deliveries: Mutex<BTreeMap<(String, String), u64>>,
    latency: Mutex<Histogram>,
}

impl Metrics {
    /// Counts a delivery of `event` that ended in `outcome`.
    pub fn delivery(&self, event: &str, outcome: &str) {
        let key = (clean(event), outcome.to_string());
        *self
            .deliveries
            .lock()
            .expect("lock")
            .entry(key)
            .or_default() += 1;
    }

    /// Records how long a delivery took from acceptance to done.
    pub fn processed(&self, took: Duration) {
        let s = took.as_secs_f64();
        let mut h = self.latency.lock().expect("lock");
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += s;
    }

    /// The Prometheus text.
    pub fn render(&self, queue_depth: usize, forge: &ForgeStats) -> String {
        let mut out = String::new();
        out.push_str("# HELP bazaar_deliveries_total Webhook deliveries by event and outcome.\n");
        out.push_str("# TYPE bazaar_deliveries_total counter\n");
        for ((event, outcome), n) in self.deliveries.lock().expect("lock").iter() {
            let _ = writeln!(
                out,
                "bazaar_deliveries_total{{event=\"{event}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP bazaar_queue_depth Deliveries accepted and not yet done.\n");
        out.push_str("# TYPE bazaar_queue_depth gauge\n");
        let _ = writeln!(out, "bazaar_queue_depth {queue_depth}");
        out.push_str(
            "# HELP bazaar_processing_seconds Time from accepting a delivery to its work done.\n",
        );
        out.push_str("# TYPE bazaar_processing_seconds histogram\n");
        {
            let h = self.latency.lock().expect("lock");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "bazaar_processing_seconds_bucket{{le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "bazaar_processing_seconds_bucket{{le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "bazaar_processing_seconds_sum {}", h.sum);
            let _ = writeln!(out, "bazaar_processing_seconds_count {}", h.count);
        }
        out.push_str(
            "# HELP bazaar_forge_calls_total Forge API calls by HTTP status (0: no answer).\n",
        );
        out.push_str("# TYPE bazaar_forge_calls_total counter\n");
        for (status, n) in forge.calls.lock().expect("lock").iter() {
            let _ = writeln!(out, "bazaar_forge_calls_total{{status=\"{status}\"}} {n}");
        }
        out.push_str(
            "# HELP bazaar_forge_rate_limit_remaining Requests left in the forge's rate limit window (-1: unknown).\n",
        );
        out.push_str("# TYPE bazaar_forge_rate_limit_remaining gauge\n");
        let _ = writeln!(
            out,
            "bazaar_forge_rate_limit_remaining {}",
            forge.rate_remaining.load(Ordering::Relaxed)
        );
        out
    }
}

/// Event names come from a header: keep label values to a safe alphabet.
fn clean(s: &str) -> String {
    let s: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    if s.is_empty() { "unknown".into() } else { s }
}
