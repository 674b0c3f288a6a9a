//! Prometheus-style metrics at `GET /metrics`, written by hand in the text exposition format (version 0.0.4): a few
//! counters and gauges do not need a metrics framework, and the names stay under our control.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Upper bounds of the request-duration histogram, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    events: Mutex<BTreeMap<String, u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    duration_count: AtomicU64,
    duration_sum_us: AtomicU64,
    in_flight: AtomicI64,
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
        drop(m);
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_sum_us.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Counts a named event (`reports_stored`, `ballots_stored`, `deliveries_failed`, ...).
    pub fn event(&self, name: &str) {
        *self.events.lock().unwrap_or_else(|e| e.into_inner()).entry(name.to_owned()).or_default() += 1;
    }

    /// One more (or one fewer) request in flight.
    pub fn in_flight(&self, delta: i64) {
        self.in_flight.fetch_add(delta, Ordering::Relaxed);
    }

    /// The exposition text; `gauges` are added as they are (e.g. the database's readiness, queue lengths).
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut s = String::new();
        s += "# HELP cityguide_http_requests_total HTTP requests answered, by method, route and status.\n";
        s += "# TYPE cityguide_http_requests_total counter\n";
        for ((method, route, status), n) in self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            s += &format!(
                "cityguide_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}\n",
                route.replace('\\', "\\\\").replace('"', "\\\"")
            );
        }
        s += "# HELP cityguide_http_request_duration_seconds Time to answer a request.\n";
        s += "# TYPE cityguide_http_request_duration_seconds histogram\n";
        for (i, b) in BUCKETS.iter().enumerate() {
            s += &format!(
                "cityguide_http_request_duration_seconds_bucket{{le=\"{b}\"}} {}\n",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.duration_count.load(Ordering::Relaxed);
        s += &format!("cityguide_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n");
        s += &format!(
            "cityguide_http_request_duration_seconds_sum {}\n",
            self.duration_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        s += &format!("cityguide_http_request_duration_seconds_count {count}\n");
        s += "# HELP cityguide_http_requests_in_flight Requests being answered now.\n";
        s += "# TYPE cityguide_http_requests_in_flight gauge\n";
        s += &format!("cityguide_http_requests_in_flight {}\n", self.in_flight.load(Ordering::Relaxed));
        s += "# HELP cityguide_events_total What the inbox did: reports and ballots stored, refused, delivered.\n";
        s += "# TYPE cityguide_events_total counter\n";
        for (name, n) in self.events.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            s += &format!("cityguide_events_total{{event=\"{name}\"}} {n}\n");
        }
        for (name, help, v) in gauges {
            s += &format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_is_well_formed() {
        let m = Metrics::default();
        m.request("POST", "/v1/feedback", 200, 0.003);
        m.request("POST", "/v1/feedback", 200, 0.3);
        m.event("reports_stored");
        let text = m.render(&[("cityguide_database_up", "1 when the database answers.", 1.0)]);
        assert!(
            text.contains("cityguide_http_requests_total{method=\"POST\",route=\"/v1/feedback\",status=\"200\"} 2")
        );
        assert!(text.contains("cityguide_http_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("cityguide_http_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("cityguide_events_total{event=\"reports_stored\"} 1"));
        assert!(text.contains("cityguide_database_up 1"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().expect("value");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
