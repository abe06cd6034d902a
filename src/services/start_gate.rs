//! The order of container starts within one start level.
//!
//! A container's start is the engine's busiest moment: runc, the network
//! endpoint, the port proxy. On a laptop's few cores, starting every
//! service of a level at once makes each start wait for the others. The
//! service that takes longest to get ready decides when `up` is done, so
//! it should not wait: services whose probe waits on a server's own work
//! (`exec`, `log`, `healthcheck`, `postgres`: databases and brokers,
//! mostly) start first, side by side, and the rest start as soon as those
//! starts have returned, while the first ones initialise. Readiness is
//! still waited for all at once.

use tokio::sync::Semaphore;

use crate::manifest::model::{Probe, Service};

pub(super) struct StartGate {
    /// How many services lead.
    leads: u32,
    /// One permit per lead whose start is done (or failed, or not needed).
    started: Semaphore,
}

/// Held by a leading service until its container has started; dropping
/// it on any path lets the others go.
pub(super) struct Lead<'a>(&'a Semaphore);

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        self.0.add_permits(1);
    }
}

impl StartGate {
    pub fn new<'s>(level: impl IntoIterator<Item = &'s Service>) -> StartGate {
        let leads = level.into_iter().filter(|s| leads(s)).count();
        StartGate {
            leads: u32::try_from(leads).unwrap_or(u32::MAX),
            started: Semaphore::new(0),
        }
    }

    /// A lead's token; None for the others.
    pub fn lead(&self, s: &Service) -> Option<Lead<'_>> {
        // `then`, not `then_some`: a token built and dropped for a
        // follower would count as a lead's start.
        leads(s).then(|| Lead(&self.started))
    }

    /// Returns once every lead's start is done (at once for a lead, or
    /// when there is none).
    pub async fn turn(&self, s: &Service) {
        if leads(s) || self.leads == 0 {
            return;
        }
        // Taken and given back at once: each follower only needs to see
        // that all leads have started.
        let _all = self.started.acquire_many(self.leads).await;
    }
}

/// Whether the service's readiness waits on a server's own start-up work.
fn leads(s: &Service) -> bool {
    matches!(
        s.ready.as_ref().map(|r| &r.probe),
        Some(Probe::Exec(_) | Probe::Log(_) | Probe::Healthcheck | Probe::Postgres { .. })
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::model::Readiness;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn service(name: &str, probe: Option<Probe>) -> Service {
        Service {
            ready: probe.map(|probe| Readiness {
                probe,
                timeout: Duration::from_secs(60),
            }),
            ..Service::bare(name, "busybox")
        }
    }

    #[tokio::test]
    async fn the_web_server_starts_only_after_every_lead_and_a_failed_start_still_opens_the_gate() {
        let db = service("db", Some(Probe::Exec(vec!["true".into()])));
        let queue = service("queue", Some(Probe::Log("ready".into())));
        let web = service("web", Some(Probe::Tcp(80)));
        let gate = Arc::new(StartGate::new([&db, &queue, &web]));
        let order = Arc::new(Mutex::new(Vec::new()));
        let run = |s: Service, fail: bool| {
            let (gate, order) = (gate.clone(), order.clone());
            async move {
                let lead = gate.lead(&s);
                gate.turn(&s).await;
                // The start's own work, during which the others are polled.
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                order.lock().unwrap().push(s.name.clone());
                if fail {
                    // A start that fails drops its token like one that works.
                    return;
                }
                drop(lead);
            }
        };
        // The web server is polled first and still starts last.
        futures_util::future::join3(run(web, false), run(db, false), run(queue, true)).await;
        assert_eq!(*order.lock().unwrap(), ["db", "queue", "web"]);
    }

    #[tokio::test]
    async fn without_a_slow_probe_in_the_level_nobody_waits() {
        let a = service("a", None);
        let b = service(
            "b",
            Some(Probe::Http {
                path: "/".into(),
                port: 80,
            }),
        );
        let gate = StartGate::new([&a, &b]);
        assert!(gate.lead(&a).is_none());
        use futures_util::FutureExt;
        assert!(
            gate.turn(&b).now_or_never().is_some(),
            "no lead to wait for"
        );
    }
}
