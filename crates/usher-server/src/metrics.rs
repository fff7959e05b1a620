//! Prometheus metrics: one [`Metrics`] per server, built by `App::build` and held in the state
//! (no process-wide registry), rendered in the text exposition format at `/metrics`.
//!
//! Recording on the request path is cheap on purpose: the route label is the axum route
//! template, interned once per template, so a request costs two read-locked map lookups, a
//! counter increment and a histogram observation; nothing is allocated after the first request
//! of a route. Values that live elsewhere (queue depths, pool usage, key age) are read when
//! scraped, not kept up to date on every change.

use std::{
    collections::HashSet,
    fmt::Write as _,
    sync::{Arc, RwLock},
};

use prometheus_client::{
    encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry, Unit},
};

use crate::store::StoreGauges;

/// The route label of requests no route matched (their raw paths are never labels: a scanner
/// would make one series per probe).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// A route template (`/v1/users/{user_id}`), shared by every series of that route.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Route(Arc<str>);

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(&self.0)
    }
}

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: Route,
    status: u16,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: Route,
}

/// One `outcome` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// How a sign-in attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    /// A session was started.
    Succeeded,
    /// Wrong password or code, or no such account.
    Incorrect,
    /// The account is locked.
    Locked,
    /// The account is banned.
    Banned,
}

impl SignInOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Incorrect => "incorrect",
            Self::Locked => "locked",
            Self::Banned => "banned",
        }
    }
}

/// How a sign-up attempt's step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpOutcome {
    /// A user was created.
    Completed,
    /// The verification code was wrong (or no longer usable).
    CodeIncorrect,
    /// The verification code had expired.
    CodeExpired,
}

impl SignUpOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::CodeIncorrect => "code_incorrect",
            Self::CodeExpired => "code_expired",
        }
    }
}

/// The password-hashing pool at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashPoolUsage {
    /// Slots in the pool.
    pub size: usize,
    /// Slots held by running hashes.
    pub in_use: usize,
    /// Hashes waiting for a slot.
    pub queued: usize,
}

/// Everything read at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Queue depths and pool usage from the store.
    pub store: StoreGauges,
    /// The hashing pool.
    pub hashing: HashPoolUsage,
    /// Seconds since the key that signs now started signing.
    pub signing_key_age_seconds: i64,
}

/// The registry and the series the server records into.
pub struct Metrics {
    registry: Registry,
    routes: RwLock<HashSet<Arc<str>>>,
    unmatched: Route,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    sign_ins: Family<OutcomeLabels, Counter>,
    sign_ups: Family<OutcomeLabels, Counter>,
    lockouts: Counter,
    rate_limited: Counter,
    gauges: Gauges,
}

/// Gauges set from a [`Snapshot`] just before each scrape.
#[derive(Default)]
struct Gauges {
    hash_pool_size: Gauge,
    hash_in_use: Gauge,
    hash_queued: Gauge,
    mail_queued: Gauge,
    mail_failing: Gauge,
    mail_parked: Gauge,
    webhook_messages_unrouted: Gauge,
    webhook_deliveries_pending: Gauge,
    webhook_deliveries_failing: Gauge,
    webhook_deliveries_failed: Gauge,
    db_connections: Gauge,
    db_connections_idle: Gauge,
    db_connections_max: Gauge,
    signing_key_age: Gauge,
}

/// Latency buckets in seconds: 1 ms to about 16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every series registered (all at zero).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("usher");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        let sign_ups = Family::<OutcomeLabels, Counter>::default();
        let lockouts = Counter::default();
        let rate_limited = Counter::default();
        let gauges = Gauges::default();
        registry.register("http_requests", "HTTP requests by method, route template and status", requests.clone());
        registry.register_with_unit(
            "http_request_duration",
            "Time from routing to the response head, by method and route template",
            Unit::Seconds,
            latency.clone(),
        );
        registry.register("sign_ins", "Sign-in attempts (password and code) by outcome", sign_ins.clone());
        registry.register("sign_ups", "Sign-up verifications by outcome", sign_ups.clone());
        registry.register("lockouts", "Accounts locked after too many failed attempts", lockouts.clone());
        registry.register("rate_limited_requests", "Requests refused with 429", rate_limited.clone());
        let g = &gauges;
        for (name, help, gauge) in [
            ("password_hash_slots", "Password hashing slots in the pool", &g.hash_pool_size),
            ("password_hash_in_use", "Password hashing slots busy now", &g.hash_in_use),
            ("password_hash_queued", "Password hashes waiting for a slot", &g.hash_queued),
            ("mail_outbox_queued", "Mail messages not yet sent (retrying ones included)", &g.mail_queued),
            ("mail_outbox_failing", "Unsent mail messages whose last attempt failed", &g.mail_failing),
            ("mail_outbox_parked", "Mail messages given up on after repeated failures", &g.mail_parked),
            ("webhook_messages_unrouted", "Webhook events not yet routed to endpoints", &g.webhook_messages_unrouted),
            (
                "webhook_deliveries_pending",
                "Webhook deliveries waiting to be sent or retried",
                &g.webhook_deliveries_pending,
            ),
            (
                "webhook_deliveries_failing",
                "Pending webhook deliveries that failed at least once",
                &g.webhook_deliveries_failing,
            ),
            ("webhook_deliveries_failed", "Webhook deliveries given up on", &g.webhook_deliveries_failed),
            ("db_pool_connections", "Open database connections", &g.db_connections),
            ("db_pool_connections_idle", "Idle database connections", &g.db_connections_idle),
            ("db_pool_connections_max", "Most database connections the pool opens", &g.db_connections_max),
        ] {
            registry.register(name, help, gauge.clone());
        }
        registry.register_with_unit(
            "signing_key_age",
            "Time since the key that signs session tokens started signing",
            Unit::Seconds,
            g.signing_key_age.clone(),
        );
        Self {
            registry,
            routes: RwLock::default(),
            unmatched: Route(UNMATCHED_ROUTE.into()),
            requests,
            latency,
            sign_ins,
            sign_ups,
            lockouts,
            rate_limited,
            gauges,
        }
    }

    /// The shared label of `template` (`None`: no route matched).
    fn route(&self, template: Option<&str>) -> Route {
        let Some(template) = template else { return self.unmatched.clone() };
        if let Some(found) = self.routes.read().unwrap_or_else(|e| e.into_inner()).get(template) {
            return Route(found.clone());
        }
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        // Templates come from the router, so this set is as large as the route table.
        if let Some(found) = routes.get(template) {
            return Route(found.clone());
        }
        let interned: Arc<str> = Arc::from(template);
        routes.insert(interned.clone());
        Route(interned)
    }

    /// Records one answered request.
    pub fn record_request(&self, method: &axum::http::Method, template: Option<&str>, status: u16, seconds: f64) {
        let method = method_label(method);
        let route = self.route(template);
        self.latency.get_or_create(&RouteLabels { method, route: route.clone() }).observe(seconds);
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
        if status == 429 {
            self.rate_limited.inc();
        }
    }

    /// Counts a sign-in attempt.
    pub fn sign_in(&self, outcome: SignInOutcome) {
        self.sign_ins.get_or_create(&OutcomeLabels { outcome: outcome.as_str() }).inc();
    }

    /// Counts a sign-up verification.
    pub fn sign_up(&self, outcome: SignUpOutcome) {
        self.sign_ups.get_or_create(&OutcomeLabels { outcome: outcome.as_str() }).inc();
    }

    /// Counts an account locked by a failed attempt.
    pub fn lockout(&self) {
        self.lockouts.inc();
    }

    /// The text exposition of every series, with the scrape-time values of `snapshot`.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        let g = &self.gauges;
        let set = |gauge: &Gauge, value: i64| {
            gauge.set(value);
        };
        let usize_value = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        set(&g.hash_pool_size, usize_value(snapshot.hashing.size));
        set(&g.hash_in_use, usize_value(snapshot.hashing.in_use));
        set(&g.hash_queued, usize_value(snapshot.hashing.queued));
        let s = &snapshot.store;
        set(&g.mail_queued, s.mail_queued);
        set(&g.mail_failing, s.mail_failing);
        set(&g.mail_parked, s.mail_parked);
        set(&g.webhook_messages_unrouted, s.webhook_messages_unrouted);
        set(&g.webhook_deliveries_pending, s.webhook_deliveries_pending);
        set(&g.webhook_deliveries_failing, s.webhook_deliveries_failing);
        set(&g.webhook_deliveries_failed, s.webhook_deliveries_failed);
        set(&g.db_connections, s.db_connections);
        set(&g.db_connections_idle, s.db_connections_idle);
        set(&g.db_connections_max, s.db_connections_max);
        set(&g.signing_key_age, snapshot.signing_key_age_seconds.max(0));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            // Writing into a String cannot fail; say so in the body rather than panic.
            let _ = writeln!(out, "# encoding failed");
        }
        out
    }
}

/// The method as a label; anything unusual is `other` (a client picks the method).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_interned_once_and_unknown_methods_are_one_label() {
        let m = Metrics::new();
        let a = m.route(Some("/v1/users/{user_id}"));
        let b = m.route(Some("/v1/users/{user_id}"));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(m.routes.read().unwrap().len(), 1);
        m.record_request(&axum::http::Method::from_bytes(b"BREW").unwrap(), None, 404, 0.002);
        let text = m.render(&Snapshot::default());
        assert!(
            text.contains(r#"usher_http_requests_total{method="other",route="unmatched",status="404"} 1"#),
            "{text}"
        );
    }
}
