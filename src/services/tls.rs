//! TLS to an engine on `tcp://`, as the docker CLI speaks it: the CA in
//! `ca.pem` verifies the engine (unless verification is off), and the
//! client proves itself with `cert.pem` and `key.pem`.
//!
//! Built on rustls with the ring provider, which the program already links
//! for its downloads; bollard's own `ssl` feature is not used, because it
//! always verifies, cannot go without a client certificate, and reports a
//! missing file without saying which setting named it. Here every request
//! bollard makes goes through [`transport`], and the requests `socket.rs`
//! makes itself (`/_ping`, BuildKit) through [`connect`]: one TLS setup.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// What TLS to speak, and with which files, before any is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsMaterial {
    /// Verify the engine's certificate against `ca` (`DOCKER_TLS_VERIFY`,
    /// a context without `SkipTLSVerify`).
    pub verify: bool,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Who named these files, for errors: `$DOCKER_CERT_PATH`, `context "x"`.
    pub named_by: String,
}

impl TlsMaterial {
    /// The docker CLI's files in one directory: `ca.pem`, `cert.pem`,
    /// `key.pem`. A client certificate or key that is not there is left
    /// out (the engine may not ask for one); a CA is needed only to verify.
    pub fn in_dir(dir: &Path, verify: bool, named_by: impl Into<String>) -> TlsMaterial {
        let present = |name: &str| Some(dir.join(name)).filter(|p| p.exists());
        TlsMaterial {
            verify,
            ca: if verify {
                Some(dir.join("ca.pem"))
            } else {
                present("ca.pem")
            },
            cert: present("cert.pem"),
            key: present("key.pem"),
            named_by: named_by.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} {} (from {named_by}): {why}", .path.display())]
    Unreadable {
        what: &'static str,
        path: PathBuf,
        named_by: String,
        why: String,
    },
    #[error("the TLS client certificate and key must come together; only {} is there (from {named_by})", .present.display())]
    HalfPair { present: PathBuf, named_by: String },
    #[error("the TLS client certificate {} does not go with its key: {why}", .cert.display())]
    Mismatch { cert: PathBuf, why: String },
    #[error("`{address}` has no host to verify the engine's certificate against")]
    NoHost { address: String },
}

impl TlsError {
    pub fn hint(&self) -> &'static str {
        "point DOCKER_CERT_PATH at the directory with ca.pem, cert.pem and key.pem (default ~/.docker), or fix the context's TLS files (`docker context inspect`)"
    }
}

/// A TLS engine's address with its client configuration, ready to dial.
#[derive(Clone)]
pub struct TlsTarget {
    /// `host:port`.
    pub host: String,
    pub config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    pub verify: bool,
}

impl fmt::Debug for TlsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTarget")
            .field("host", &self.host)
            .field("verify", &self.verify)
            .finish()
    }
}

impl PartialEq for TlsTarget {
    fn eq(&self, other: &Self) -> bool {
        self.host == other.host && self.verify == other.verify
    }
}
impl Eq for TlsTarget {}

/// `host:port` of a `tcp://` or `https://` address; port 2376 (docker's
/// TLS port) when none is given.
pub fn host_port(address: &str) -> Option<String> {
    let rest = address
        .strip_prefix("tcp://")
        .or_else(|| address.strip_prefix("https://"))?;
    let host = rest.split('/').next().unwrap_or(rest);
    if host.is_empty() {
        return None;
    }
    let has_port = match host.rsplit_once(':') {
        Some((h, p)) => !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':'),
        None => false,
    } && !(host.starts_with('[') && host.ends_with(']'));
    Some(if has_port {
        host.to_string()
    } else {
        format!("{host}:2376")
    })
}

/// Reads the files and builds the client configuration for `address`.
pub fn target(address: &str, m: &TlsMaterial) -> Result<TlsTarget, TlsError> {
    let host = host_port(address).ok_or_else(|| TlsError::NoHost {
        address: address.to_string(),
    })?;
    let name = host
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(&host)
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let server_name = ServerName::try_from(name).map_err(|_| TlsError::NoHost {
        address: address.to_string(),
    })?;
    Ok(TlsTarget {
        host,
        config: Arc::new(client_config(m)?),
        server_name,
        verify: m.verify,
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn unreadable(
    what: &'static str,
    path: &Path,
    m: &TlsMaterial,
    why: impl fmt::Display,
) -> TlsError {
    TlsError::Unreadable {
        what,
        path: path.to_path_buf(),
        named_by: m.named_by.clone(),
        why: why.to_string(),
    }
}

fn read(what: &'static str, path: &Path, m: &TlsMaterial) -> Result<Vec<u8>, TlsError> {
    crate::fsread::read_limited_bytes(path).map_err(|e| unreadable(what, path, m, e))
}

fn certs(
    what: &'static str,
    path: &Path,
    m: &TlsMaterial,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(what, path, m)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(what, path, m, e))?;
    if certs.is_empty() {
        return Err(unreadable(what, path, m, "no PEM certificate in it"));
    }
    Ok(certs)
}

fn client_config(m: &TlsMaterial) -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions");
    let builder = if m.verify {
        let mut roots = RootCertStore::empty();
        if let Some(ca) = &m.ca {
            for cert in certs("CA certificate", ca, m)? {
                roots
                    .add(cert)
                    .map_err(|e| unreadable("CA certificate", ca, m, e))?;
            }
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
    };
    match (&m.cert, &m.key) {
        (Some(cert), Some(key)) => {
            let chain = certs("client certificate", cert, m)?;
            let bytes = read("client key", key, m)?;
            let private = PrivateKeyDer::from_pem_slice(&bytes)
                .map_err(|e| unreadable("client key", key, m, e))?;
            builder
                .with_client_auth_cert(chain, private)
                .map_err(|e| TlsError::Mismatch {
                    cert: cert.clone(),
                    why: e.to_string(),
                })
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(p), None) | (None, Some(p)) => Err(TlsError::HalfPair {
            present: p.clone(),
            named_by: m.named_by.clone(),
        }),
    }
}

/// `DOCKER_TLS` without `DOCKER_TLS_VERIFY`, or a context's
/// `SkipTLSVerify`: encrypted, but any certificate is accepted.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One TLS connection to the engine.
pub async fn connect(t: &TlsTarget) -> Result<TlsStream<TcpStream>, String> {
    let tcp = TcpStream::connect(&t.host)
        .await
        .map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    tokio_rustls::TlsConnector::from(t.config.clone())
        .connect(t.server_name.clone(), tcp)
        .await
        .map_err(|e| format!("TLS handshake with {} failed: {e}", t.host))
}

/// A bollard client whose every request goes over its own TLS connection
/// to `t` (bollard's own transports do not pool either).
pub fn docker(
    t: &TlsTarget,
    timeout_secs: u64,
    version: &bollard::ClientVersion,
) -> Result<bollard::Docker, String> {
    let target = t.clone();
    let transport = move |request: bollard::BollardRequest| {
        let target = target.clone();
        async move {
            let (mut parts, body) = request.into_parts();
            // Origin-form on the wire, the host in its header.
            let path = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            parts.uri = path.parse().map_err(|e: hyper::http::uri::InvalidUri| {
                bollard::errors::Error::IOError {
                    err: std::io::Error::other(e.to_string()),
                }
            })?;
            if let Ok(v) = hyper::header::HeaderValue::from_str(&target.host) {
                parts.headers.insert(hyper::header::HOST, v);
            }
            let io_err = |e: String| bollard::errors::Error::IOError {
                err: std::io::Error::other(e),
            };
            let stream = connect(&target).await.map_err(io_err)?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .map_err(|e| io_err(e.to_string()))?;
            tokio::spawn(connection.with_upgrades());
            sender
                .send_request(hyper::Request::from_parts(parts, body))
                .await
                .map_err(|e| io_err(e.to_string()))
        }
    };
    bollard::Docker::connect_with_custom_transport(
        transport,
        Some(format!("https://{}", t.host)),
        timeout_secs,
        version,
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_without_a_port_take_dockers_tls_port() {
        assert_eq!(host_port("tcp://box").as_deref(), Some("box:2376"));
        assert_eq!(host_port("tcp://box:2400").as_deref(), Some("box:2400"));
        assert_eq!(
            host_port("tcp://10.0.0.1:2376/").as_deref(),
            Some("10.0.0.1:2376")
        );
        assert_eq!(host_port("https://[::1]:9").as_deref(), Some("[::1]:9"));
        assert_eq!(host_port("tcp://"), None);
        assert_eq!(host_port("unix:///x"), None);
    }

    #[test]
    fn without_verification_only_present_files_are_used() {
        let dir = tempfile::tempdir().unwrap();
        let m = TlsMaterial::in_dir(dir.path(), false, "$DOCKER_CERT_PATH");
        assert_eq!(
            (m.ca.clone(), m.cert.clone(), m.key.clone()),
            (None, None, None)
        );
        assert!(client_config(&m).is_ok(), "TLS without files is allowed");
        let m = TlsMaterial::in_dir(dir.path(), true, "$DOCKER_CERT_PATH");
        assert_eq!(m.ca, Some(dir.path().join("ca.pem")));
        let err = client_config(&m).unwrap_err().to_string();
        assert!(
            err.contains("ca.pem") && err.contains("$DOCKER_CERT_PATH"),
            "{err}"
        );
    }

    #[test]
    fn a_certificate_without_its_key_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), "x").unwrap();
        let m = TlsMaterial::in_dir(dir.path(), false, "context \"x\"");
        let err = client_config(&m).unwrap_err().to_string();
        assert!(
            err.contains("cert.pem") && err.contains("context \"x\""),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_no_pem_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), "not a certificate").unwrap();
        let m = TlsMaterial::in_dir(dir.path(), true, "$DOCKER_CERT_PATH");
        let err = client_config(&m).unwrap_err().to_string();
        assert!(
            err.contains("CA certificate") && err.contains("ca.pem"),
            "{err}"
        );
    }
}
