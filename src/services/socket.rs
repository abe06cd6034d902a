//! The engine's own socket, spoken to directly with hyper for the two
//! requests bollard cannot make well: `/_ping`, whose `Api-Version` header
//! is the cheapest way to learn what the engine speaks (bollard negotiates
//! through `/version`, which makes the daemon run `runc --version` and
//! costs milliseconds on every command), and a BuildKit build (see
//! `build::buildkit`).

use std::path::PathBuf;

use bytes::Bytes;

/// Where the engine listens, when this module can speak to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Socket {
    Unix(PathBuf),
    Tcp(String),
    /// `tcp://` with TLS (`tls.rs`); made by `engine::connect`, never by `of`.
    Tls(super::tls::TlsTarget),
}

impl Socket {
    /// unix:// and plain tcp:// engines; None for others (bollard alone
    /// speaks to them).
    pub fn of(address: &str) -> Option<Socket> {
        if let Some(path) = address.strip_prefix("unix://") {
            return Some(Socket::Unix(PathBuf::from(path)));
        }
        let rest = address
            .strip_prefix("tcp://")
            .or_else(|| address.strip_prefix("http://"))?;
        let host = rest.split('/').next().unwrap_or(rest);
        Some(Socket::Tcp(host.to_string()))
    }
}

/// Sends one request on a connection of its own.
pub async fn send<B>(
    socket: &Socket,
    request: hyper::Request<B>,
) -> Result<hyper::Response<hyper::body::Incoming>, String>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match socket {
        Socket::Unix(path) => {
            let stream = tokio::net::UnixStream::connect(path)
                .await
                .map_err(|e| e.to_string())?;
            exchange(stream, request).await
        }
        Socket::Tcp(host) => {
            let stream = tokio::net::TcpStream::connect(host)
                .await
                .map_err(|e| e.to_string())?;
            exchange(stream, request).await
        }
        Socket::Tls(target) => {
            let stream = super::tls::connect(target).await?;
            exchange(stream, request).await
        }
    }
}

async fn exchange<S, B>(
    stream: S,
    request: hyper::Request<B>,
) -> Result<hyper::Response<hyper::body::Incoming>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    // The connection runs beside the request; dropping the response
    // (Ctrl-C during a build) closes it, and the engine cancels.
    tokio::spawn(connection);
    sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())
}

/// The API version the engine answers `/_ping` with (`1.41`), or why not.
pub async fn ping(socket: &Socket) -> Result<(usize, usize), String> {
    let request = hyper::Request::get("/_ping")
        .header(hyper::header::HOST, "docker")
        .body(http_body_util::Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = send(socket, request).await?;
    if response.status() == hyper::StatusCode::BAD_REQUEST && matches!(socket, Socket::Tcp(_)) {
        // What dockerd says to plain HTTP on its TLS port.
        return Err(format!(
            "the engine answered {}: it may speak TLS; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH",
            response.status()
        ));
    }
    if !response.status().is_success() {
        return Err(format!("the engine answered {}", response.status()));
    }
    let version = response
        .headers()
        .get("api-version")
        .and_then(|v| v.to_str().ok())
        .ok_or("the engine's answer has no Api-Version")?;
    parse_version(version).ok_or_else(|| format!("unreadable Api-Version `{version}`"))
}

fn parse_version(v: &str) -> Option<(usize, usize)> {
    let (major, minor) = v.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_on_a_socket_or_plain_tcp_build_here_others_the_classic_way() {
        assert_eq!(
            Socket::of("unix:///var/run/docker.sock"),
            Some(Socket::Unix("/var/run/docker.sock".into()))
        );
        assert_eq!(
            Socket::of("tcp://10.0.0.1:2375"),
            Some(Socket::Tcp("10.0.0.1:2375".into()))
        );
        assert_eq!(Socket::of("ssh://me@box"), None);
        assert_eq!(Socket::of("npipe:////./pipe/docker_engine"), None);
    }

    #[test]
    fn api_versions_read_as_numbers() {
        assert_eq!(parse_version("1.41"), Some((1, 41)));
        assert_eq!(parse_version(" 1.9 "), Some((1, 9)));
        assert_eq!(parse_version("1"), None);
        assert_eq!(parse_version("v1.x"), None);
    }
}
