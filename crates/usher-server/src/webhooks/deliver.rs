//! The delivery loop: routes new messages to their endpoints and sends each delivery, retrying
//! on Svix's schedule. Delivery is at least once: a crash between the receiver's answer and
//! [`crate::store::WebhookStore::record_webhook_attempt`] sends it again (same `svix-id`) after
//! the claim runs out.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{sync::Notify, task::JoinSet};

use super::sign;
use crate::{
    clock::Clock,
    config::WebhookSettings,
    ids,
    seal::Sealer,
    store::{AttemptOutcome, DeliveryRecord, DeliveryStatus, EndpointRecord, Store, WebhookAttemptRecord},
};

/// Messages routed and deliveries taken per store read.
const BATCH: i64 = 100;
/// An endpoint failing for this long is disabled.
const DISABLE_AFTER_MS: i64 = 5 * 24 * 3600 * 1000;
/// How often failing endpoints are looked for.
const DISABLE_CHECK: Duration = Duration::from_secs(60);
/// Longest error text kept per attempt.
const MAX_ERROR: usize = 500;

/// What the loop needs.
pub struct Deliverer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    sealer: Arc<Sealer>,
    settings: WebhookSettings,
    client: reqwest::Client,
}

impl Deliverer {
    /// A deliverer with its HTTP client: rustls, no redirects, the configured timeout, and a
    /// resolver that refuses private addresses unless `settings` allow them.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        sealer: Arc<Sealer>,
        settings: WebhookSettings,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .user_agent(concat!("usher-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver { allow_private: settings.allow_private_addresses }))
            .build()?;
        Ok(Self { store, clock, sealer, settings, client })
    }

    /// Delivers forever; wake it with [`Notify::notify_one`] after writing events. Cancel by
    /// aborting the task.
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>) {
        let tick = self.settings.poll_interval();
        let mut last_disable_check: Option<Instant> = None;
        loop {
            if last_disable_check.is_none_or(|t| t.elapsed() >= DISABLE_CHECK) {
                last_disable_check = Some(Instant::now());
                let now = self.clock.now_ms();
                match self.store.disable_failing_endpoints(now - DISABLE_AFTER_MS, now).await {
                    Ok(ids) if !ids.is_empty() => tracing::warn!(?ids, "disabled webhook endpoints failing for 5 days"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "checking failing webhook endpoints failed"),
                }
            }
            while self.clone().drain_once().await >= BATCH as usize {}
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(tick) => {}
            }
        }
    }

    /// Routes new messages, then sends one batch of due deliveries (one task per endpoint, in
    /// event order within it); returns how many deliveries were tried. Store errors are logged.
    pub async fn drain_once(self: Arc<Self>) -> usize {
        if let Err(e) = self.store.route_messages(self.clock.now_ms(), BATCH).await {
            tracing::warn!(error = %e, "routing webhook messages failed");
        }
        let due = match self.store.due_deliveries(self.clock.now_ms(), BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "reading webhook deliveries failed");
                return 0;
            }
        };
        let tried = due.len();
        let mut by_endpoint: HashMap<String, Vec<DeliveryRecord>> = HashMap::new();
        for d in due {
            by_endpoint.entry(d.endpoint_id.clone()).or_default().push(d);
        }
        let mut tasks = JoinSet::new();
        for (endpoint_id, deliveries) in by_endpoint {
            let this = self.clone();
            tasks.spawn(async move { this.deliver_to(&endpoint_id, deliveries).await });
        }
        while tasks.join_next().await.is_some() {}
        tried
    }

    async fn deliver_to(&self, endpoint_id: &str, deliveries: Vec<DeliveryRecord>) {
        let endpoint = match self.store.get_endpoint(endpoint_id).await {
            Ok(Some(e)) if e.enabled => e,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(endpoint_id, error = %e, "reading a webhook endpoint failed");
                return;
            }
        };
        for d in deliveries {
            let claim_until = self.clock.now_ms().saturating_add(self.claim_ms());
            match self.store.claim_delivery(&d, claim_until).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(endpoint_id, message_id = %d.message_id, error = %e, "claiming a delivery failed");
                    return;
                }
            }
            let delivered = self.deliver(&endpoint, &d).await;
            // A later event must not overtake one still being retried more than retries force.
            if !delivered {
                return;
            }
        }
    }

    /// A claim outlasts a send that times out, with room to record its outcome.
    fn claim_ms(&self) -> i64 {
        i64::try_from(self.settings.timeout.as_millis()).unwrap_or(i64::MAX / 2).saturating_add(30_000)
    }

    /// Sends one delivery and records the outcome; true if it was delivered.
    async fn deliver(&self, endpoint: &EndpointRecord, d: &DeliveryRecord) -> bool {
        let started = Instant::now();
        let result = self.send(endpoint, d).await;
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let now = self.clock.now_ms();
        let (succeeded, status_code, error) = match result {
            Ok(status) if (200..300).contains(&status) => (true, Some(i64::from(status)), None),
            Ok(status) => (false, Some(i64::from(status)), Some(format!("HTTP {status}"))),
            Err(error) => (false, None, Some(error)),
        };
        let attempts = d.attempts + 1;
        let (status, next_attempt_at) = if succeeded {
            (DeliveryStatus::Succeeded, now)
        } else {
            match self.settings.retry_schedule.get(usize::try_from(attempts).unwrap_or(usize::MAX)) {
                Some(delay) => {
                    (DeliveryStatus::Pending, now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)))
                }
                None => (DeliveryStatus::Failed, now),
            }
        };
        if !succeeded {
            tracing::info!(endpoint_id = %endpoint.id, message_id = %d.message_id, attempts, ?error, ?status, "webhook not delivered");
        }
        let outcome = AttemptOutcome {
            attempt: WebhookAttemptRecord {
                id: ids::new_id("whatt"),
                endpoint_id: endpoint.id.clone(),
                message_id: d.message_id.clone(),
                succeeded,
                status_code,
                latency_ms,
                error: error.map(|e| e.chars().take(MAX_ERROR).collect()),
                created_at: now,
            },
            status,
            next_attempt_at,
        };
        if let Err(e) = self.store.record_webhook_attempt(&outcome).await {
            // It will be sent again when the claim runs out: at least once.
            tracing::warn!(message_id = %d.message_id, error = %e, "recording a webhook attempt failed");
        }
        succeeded
    }

    /// POSTs the message; the answer's status, or why there was none.
    async fn send(&self, endpoint: &EndpointRecord, d: &DeliveryRecord) -> Result<u16, String> {
        let message = match self.store.get_message(&d.message_id).await {
            Ok(Some(m)) => m,
            Ok(None) => return Err("the message is gone".into()),
            Err(e) => return Err(format!("reading the message: {e}")),
        };
        let body = self.sealer.open(&message.payload).ok_or("the stored payload does not open")?;
        let url = check_url(&endpoint.url, self.settings.allow_private_addresses)?;
        let now = self.clock.now_ms();
        let keys = signing_keys(&self.sealer, endpoint, now);
        if keys.is_empty() {
            return Err("the endpoint has no usable secret".into());
        }
        let timestamp = now.div_euclid(1000);
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("svix-id", &message.id)
            .header("svix-timestamp", timestamp.to_string())
            .header("svix-signature", sign::header(&keys, &message.id, timestamp, &body))
            .body(body)
            .send()
            .await
            .map_err(describe)?;
        Ok(response.status().as_u16())
    }
}

/// The keys to sign with: the current secret, and the previous one during its rotation window.
pub fn signing_keys(sealer: &Sealer, endpoint: &EndpointRecord, now: i64) -> Vec<Vec<u8>> {
    let open = |s: &str| sealer.open_text(s).and_then(|s| sign::key(&s));
    let mut keys: Vec<Vec<u8>> = open(&endpoint.secret).into_iter().collect();
    if endpoint.previous_secret_until.is_some_and(|until| until > now) {
        keys.extend(endpoint.previous_secret.as_deref().and_then(open));
    }
    keys
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        format!(
            "could not connect: {}",
            std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string)
        )
    } else {
        e.to_string()
    }
}

/// Parses an endpoint URL: `http(s)` with a host, and unless `allow_private`, no literal
/// private address or `localhost` (names are checked again when resolved).
pub fn check_url(text: &str, allow_private: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|_| "not a URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https URLs are allowed".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in the URL are not allowed".into());
    }
    let refused = || Err("loopback, link-local and private addresses are not allowed".to_owned());
    match url.host() {
        None => return Err("the URL has no host".into()),
        Some(url::Host::Ipv4(ip)) if !allow_private && !is_public(IpAddr::V4(ip)) => return refused(),
        Some(url::Host::Ipv6(ip)) if !allow_private && !is_public(IpAddr::V6(ip)) => return refused(),
        Some(url::Host::Domain(name))
            if !allow_private && (name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost")) =>
        {
            return refused();
        }
        Some(_) => {}
    }
    Ok(url)
}

/// Whether an address is on the public internet (not loopback, private, link-local, CGNAT,
/// unspecified, multicast or documentation space).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Resolves names and drops addresses that are not public (unless allowed), so a name cannot
/// lead a delivery to the internal network — checked when connecting, not only when saved.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{} resolves to no allowed address", name.as_str()).into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:192.168.0.1]/",
            "http://localhost:8080/",
            "http://100.64.0.1/",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        assert!(check_url("https://hooks.example.com/x", false).is_ok());
        assert!(check_url("https://93.184.216.34/x", false).is_ok());
        assert!(check_url("ftp://example.com/", true).is_err());
        assert!(check_url("http://user:pw@example.com/", true).is_err());
    }
}
