//! WireMock webhooks (`postServeActions` / `serveEventListeners` named
//! `webhook`): after a stub answers, an HTTP request to another server,
//! its method, URL, header values and body templated with the request that
//! triggered it (`{{originalRequest.*}}`), sent after a fixed or random delay.
//!
//! The engine renders them with the request (`render`); the server sends
//! them in the background (`send`), so the answer never waits for them.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use bytes::Bytes;

use super::request::View;
use super::template::Template;

#[derive(Debug)]
pub struct Webhook {
    pub method: Template,
    pub url: Template,
    pub headers: Vec<(String, Template)>,
    pub body: WebhookBody,
    pub delay: Delay,
}

#[derive(Debug)]
pub enum WebhookBody {
    None,
    Text(Template),
    Bytes(Bytes),
}

/// WireMock's delay distributions, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    None,
    Fixed(u64),
    Uniform { lower: u64, upper: u64 },
    LogNormal { median: f64, sigma: f64 },
}

/// A webhook ready to go: everything templated, the delay drawn.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub delay: Duration,
}

impl Webhook {
    pub fn render(&self, v: &View<'_>) -> Outgoing {
        Outgoing {
            method: self.method.render(v, None).trim().to_ascii_uppercase(),
            url: self.url.render(v, None).trim().to_string(),
            headers: self
                .headers
                .iter()
                .map(|(n, t)| (n.clone(), t.render(v, None)))
                .collect(),
            body: match &self.body {
                WebhookBody::None => Bytes::new(),
                WebhookBody::Text(t) => Bytes::from(t.render(v, None)),
                WebhookBody::Bytes(b) => b.clone(),
            },
            delay: Duration::from_millis(self.delay.draw(random_unit())),
        }
    }
}

impl Delay {
    /// The delay in milliseconds for a uniform random `u` in [0, 1).
    pub fn draw(&self, u: f64) -> u64 {
        match *self {
            Delay::None => 0,
            Delay::Fixed(ms) => ms,
            Delay::Uniform { lower, upper } => lower + ((upper - lower) as f64 * u) as u64,
            Delay::LogNormal { median, sigma } => {
                // Box-Muller from two uniforms (the second drawn here).
                let u2 = random_unit();
                let z = (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let ms = median * (sigma * z).exp();
                ms.clamp(0.0, crate::manifest::schema::MAX_DELAY_MS as f64) as u64
            }
        }
    }
}

/// A uniform number in [0, 1): std's randomly keyed hasher over the clock.
fn random_unit() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Sends one webhook after its delay; the line for the request log.
pub async fn send(client: &reqwest::Client, w: Outgoing) -> String {
    if !w.delay.is_zero() {
        tokio::time::sleep(w.delay).await;
    }
    let shown = super::matching::redact_url(&w.url).into_owned();
    let method = match reqwest::Method::from_bytes(w.method.as_bytes()) {
        Ok(m) => m,
        Err(_) => return format!("webhook {} {shown}: not an HTTP method", w.method),
    };
    let mut req = client.request(method, &w.url);
    for (n, v) in &w.headers {
        req = req.header(n, v);
    }
    if !w.body.is_empty() {
        req = req.body(w.body);
    }
    match req.send().await {
        Ok(r) => format!("webhook {} {shown} -> {}", w.method, r.status().as_u16()),
        Err(e) => format!("webhook {} {shown} failed: {e}", w.method),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_in_their_bounds() {
        assert_eq!(Delay::Fixed(1000).draw(0.7), 1000);
        let u = Delay::Uniform {
            lower: 100,
            upper: 200,
        };
        assert_eq!(u.draw(0.0), 100);
        assert!((100..200).contains(&u.draw(0.999)));
        let unit = random_unit();
        assert!((0.0..1.0).contains(&unit), "{unit}");
        let ln = Delay::LogNormal {
            median: 50.0,
            sigma: 0.1,
        };
        assert!(ln.draw(0.5) < 500);
    }
}
