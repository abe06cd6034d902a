//! HTTP for tools: small documents (checksum files), sizes, and archive
//! downloads with retries, backoff, idle timeouts and resume.
//!
//! reqwest honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the environment
//! by itself, so proxies need nothing here.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{CONTENT_LENGTH, RANGE};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::progress::Task;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error("{0}")]
    Io(String),
}

impl FetchError {
    /// 5xx, 408, 429, connection errors, timeouts and truncation are worth
    /// another try; 4xx is an answer.
    fn retryable(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            FetchError::Network { .. } => true,
            FetchError::Io(_) => false,
        }
    }
}

/// `file://` URLs (allowed in devenv.toml for artifacts on a shared drive).
fn local(url: &str) -> Option<&Path> {
    url.strip_prefix("file://").map(Path::new)
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    attempts: u32,
}

/// What a finished download gives back.
pub struct Downloaded {
    pub sha256: String,
    pub bytes: u64,
}

impl Http {
    pub fn new(timeout: Duration, attempts: u32) -> anyhow::Result<Http> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .user_agent(concat!("devenv/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Http {
            client,
            timeout,
            attempts: attempts.max(1),
        })
    }

    fn backoff(attempt: u32) -> Duration {
        Duration::from_millis(200 * 2u64.pow(attempt.min(5)))
    }

    fn net(url: &str, e: impl std::fmt::Display) -> FetchError {
        FetchError::Network {
            url: url.to_string(),
            message: e.to_string(),
        }
    }

    /// reqwest's own message hides the cause ("error sending request");
    /// the cause (connection refused, dns, tls) is what the user needs.
    fn req(url: &str, e: reqwest::Error) -> FetchError {
        let mut msg = String::new();
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
        while let Some(s) = src {
            msg = s.to_string();
            src = s.source();
        }
        if msg.is_empty() {
            msg = e.to_string();
        }
        let msg = msg.replace(&format!(" for url ({url})"), "");
        Self::net(url, msg)
    }

    /// GET a small text document, with retries.
    pub async fn text(&self, url: &str) -> Result<String, FetchError> {
        if let Some(p) = local(url) {
            return std::fs::read_to_string(p).map_err(|e| Self::net(url, e));
        }
        let mut last = None;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(Self::backoff(attempt)).await;
            }
            let r = async {
                let resp = tokio::time::timeout(self.timeout, self.client.get(url).send())
                    .await
                    .map_err(|_| Self::net(url, "timed out"))?
                    .map_err(|e| Self::req(url, e))?;
                if !resp.status().is_success() {
                    return Err(FetchError::Status {
                        url: url.to_string(),
                        status: resp.status().as_u16(),
                    });
                }
                tokio::time::timeout(self.timeout, resp.text())
                    .await
                    .map_err(|_| Self::net(url, "timed out"))?
                    .map_err(|e| Self::req(url, e))
            }
            .await;
            match r {
                Ok(t) => return Ok(t),
                Err(e) if e.retryable() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    /// The size of a download from a HEAD request, when the server says.
    pub async fn size(&self, url: &str) -> Result<Option<u64>, FetchError> {
        if let Some(p) = local(url) {
            return Ok(Some(
                std::fs::metadata(p).map_err(|e| Self::net(url, e))?.len(),
            ));
        }
        let mut last = None;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(Self::backoff(attempt)).await;
            }
            let r = tokio::time::timeout(self.timeout, self.client.head(url).send()).await;
            let e = match r {
                Err(_) => Self::net(url, "timed out"),
                Ok(Err(e)) => Self::req(url, e),
                Ok(Ok(resp)) if resp.status().is_success() => {
                    return Ok(resp
                        .headers()
                        .get(CONTENT_LENGTH)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok()));
                }
                Ok(Ok(resp)) => FetchError::Status {
                    url: url.to_string(),
                    status: resp.status().as_u16(),
                },
            };
            if !e.retryable() {
                return Err(e);
            }
            last = Some(e);
        }
        Err(last.expect("at least one attempt"))
    }

    /// Downloads `url` into `part` (created or resumed), hashing as it goes.
    /// A truncated body is resumed with a Range request when the server
    /// supports it, else restarted. The caller checks the sum and moves
    /// `part` into place.
    pub async fn download(
        &self,
        url: &str,
        part: &Path,
        task: &dyn Task,
    ) -> Result<Downloaded, FetchError> {
        let io = |e: std::io::Error| FetchError::Io(format!("{}: {e}", part.display()));
        if let Some(p) = local(url) {
            let bytes = std::fs::read(p).map_err(|e| Self::net(url, e))?;
            std::fs::write(part, &bytes).map_err(io)?;
            task.advance(bytes.len() as u64);
            return Ok(Downloaded {
                sha256: crate::util::sha256_hex(&bytes),
                bytes: bytes.len() as u64,
            });
        }
        let mut file = std::fs::File::create(part).map_err(io)?;
        let mut hasher = Sha256::new();
        let mut have: u64 = 0;
        let mut last = None;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(Self::backoff(attempt)).await;
            }
            match self
                .attempt(url, &mut file, &mut hasher, &mut have, task)
                .await
            {
                Ok(()) => {
                    // No fsync: a torn cache file fails its sum next time
                    // and is downloaded again.
                    return Ok(Downloaded {
                        sha256: hex::encode(hasher.finalize()),
                        bytes: have,
                    });
                }
                Err(e) if e.retryable() => {
                    task.set_message(&format!("retrying: {e}"));
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.expect("at least one attempt"))
    }

    async fn attempt(
        &self,
        url: &str,
        file: &mut std::fs::File,
        hasher: &mut Sha256,
        have: &mut u64,
        task: &dyn Task,
    ) -> Result<(), FetchError> {
        let io = |e: std::io::Error| FetchError::Io(e.to_string());
        let mut req = self.client.get(url);
        if *have > 0 {
            req = req.header(RANGE, format!("bytes={have}-"));
        }
        let resp = tokio::time::timeout(self.timeout, req.send())
            .await
            .map_err(|_| Self::net(url, "no answer (timed out)"))?
            .map_err(|e| Self::req(url, e))?;
        let status = resp.status();
        if status == StatusCode::PARTIAL_CONTENT && *have > 0 {
            // resuming: keep what we have
        } else if status.is_success() {
            if *have > 0 {
                // The server ignored the Range: start over.
                file.set_len(0).map_err(io)?;
                std::io::Seek::rewind(file).map_err(io)?;
                *hasher = Sha256::new();
                task.advance(0);
                *have = 0;
            }
        } else {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let expected_end = resp.content_length().map(|len| *have + len);
        if let Some(total) = expected_end {
            task.set_total(total);
        }
        let mut stream = resp.bytes_stream();
        loop {
            let next = tokio::time::timeout(self.timeout, stream.next())
                .await
                .map_err(|_| Self::net(url, "stalled: no data (timed out)"))?;
            match next {
                None => break,
                Some(Err(e)) => return Err(Self::net(url, format!("connection broke: {e}"))),
                Some(Ok(chunk)) => {
                    file.write_all(&chunk).map_err(io)?;
                    hasher.update(&chunk);
                    *have += chunk.len() as u64;
                    task.advance(chunk.len() as u64);
                }
            }
        }
        match expected_end {
            Some(end) if *have < end => Err(Self::net(
                url,
                format!("truncated: got {have} of {end} bytes"),
            )),
            _ => Ok(()),
        }
    }
}
