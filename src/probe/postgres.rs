//! `pg_isready` without a process: PostgreSQL's startup exchange, judged
//! the way libpq's `PQping` judges it.
//!
//! An exec of `pg_isready` costs the engine a process in the container
//! (about 50 ms of runc on 2 cores, taken from the database's own
//! initialisation while it polls). This sends the same StartupMessage over
//! a TCP connection and reads the first answer:
//! - an authentication request (`R`): the server accepts connections;
//! - an error (`E`) whose SQLSTATE is `57P03` (cannot_connect_now: starting
//!   up, shutting down, in recovery): not ready;
//! - any other error (no such role or database, a refused password, too
//!   many connections): the server is up, and `PQping` says so too;
//! - anything else, a close or silence: no answer, not ready.
//!
//! The connection is closed right after that first message, as `pg_isready`
//! does; the server treats an EOF before the password as a normal ping and
//! logs nothing.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version of the StartupMessage: 3.0.
const PROTOCOL_3_0: i32 = 196_608;
/// An error message carries a few short fields; anything longer is not a
/// PostgreSQL server talking.
const MAX_MESSAGE: usize = 16 * 1024;
/// The whole exchange, so a peer that accepts and stays silent (a proxy
/// whose backend is not listening yet, anything else) ends the attempt.
const EXCHANGE: Duration = Duration::from_secs(2);
const CANNOT_CONNECT_NOW: &[u8] = b"57P03";

/// What the server's first answer said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ping {
    /// `PQPING_OK`: `pg_isready` exits 0.
    Ready,
    /// `PQPING_REJECT`: the server answered that it cannot take
    /// connections now.
    Rejected,
    /// `PQPING_NO_RESPONSE`: no answer a PostgreSQL server would give.
    NoResponse,
}

/// Who the StartupMessage says is connecting: what `pg_isready -U -d` send.
#[derive(Debug, Clone, Copy)]
pub struct Login<'a> {
    pub user: &'a str,
    pub database: &'a str,
}

/// One ping over a connection already made.
pub async fn ping<S>(stream: S, login: Login<'_>) -> Ping
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ping_within(stream, login, EXCHANGE).await
}

async fn ping_within<S>(mut stream: S, login: Login<'_>, wait: Duration) -> Ping
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let exchange = async {
        stream.write_all(&startup_message(login)).await.ok()?;
        let mut head = [0u8; 5];
        stream.read_exact(&mut head).await.ok()?;
        let kind = head[0];
        let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]);
        // The length counts itself.
        let body_len = usize::try_from(len).ok()?.checked_sub(4)?;
        match kind {
            b'R' => Some(Ping::Ready),
            b'E' if body_len <= MAX_MESSAGE => {
                let mut body = vec![0u8; body_len];
                stream.read_exact(&mut body).await.ok()?;
                Some(judge_error(&body))
            }
            _ => None,
        }
    };
    tokio::time::timeout(wait, exchange)
        .await
        .ok()
        .flatten()
        .unwrap_or(Ping::NoResponse)
}

/// StartupMessage: length, protocol 3.0, then `user`, `database` and
/// `application_name` as NUL-terminated pairs, ended by one more NUL.
fn startup_message(login: Login<'_>) -> Vec<u8> {
    let mut body = PROTOCOL_3_0.to_be_bytes().to_vec();
    // A NUL inside a value would end it early and shift every later field.
    let clean = |s: &str| s.replace('\0', "");
    let database = if login.database.is_empty() {
        login.user
    } else {
        login.database
    };
    for (key, value) in [
        ("user", login.user),
        ("database", database),
        ("application_name", "devenv"),
    ] {
        body.extend_from_slice(key.as_bytes());
        body.push(0);
        body.extend_from_slice(clean(value).as_bytes());
        body.push(0);
    }
    body.push(0);
    let len = i32::try_from(body.len() + 4).unwrap_or(i32::MAX);
    let mut message = len.to_be_bytes().to_vec();
    message.extend_from_slice(&body);
    message
}

/// An ErrorResponse body: fields of a type byte and a NUL-terminated
/// string, ended by a 0 byte. `C` is the SQLSTATE.
fn judge_error(body: &[u8]) -> Ping {
    let mut rest = body;
    while let Some((&field, after)) = rest.split_first() {
        if field == 0 {
            break;
        }
        let Some(end) = after.iter().position(|b| *b == 0) else {
            break;
        };
        let value = &after[..end];
        if field == b'C' {
            return match value {
                CANNOT_CONNECT_NOW => Ping::Rejected,
                // libpq counts only a five-character code as an answer.
                v if v.len() == 5 => Ping::Ready,
                _ => Ping::NoResponse,
            };
        }
        rest = &after[end + 1..];
    }
    Ping::NoResponse
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    const LOGIN: Login = Login {
        user: "devenv",
        database: "app",
    };

    fn error(code: &str) -> Vec<u8> {
        let mut body = Vec::new();
        for (f, v) in [(b'S', "FATAL"), (b'C', code), (b'M', "some message")] {
            body.push(f);
            body.extend_from_slice(v.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut m = vec![b'E'];
        m.extend_from_slice(&i32::try_from(body.len() + 4).unwrap().to_be_bytes());
        m.extend_from_slice(&body);
        m
    }

    /// A server that answers `reply` to whatever comes first, and hands
    /// back what it read.
    async fn against(reply: Vec<u8>) -> (Ping, Vec<u8>) {
        let (client, mut server) = duplex(64 * 1024);
        let serve = tokio::spawn(async move {
            let mut got = vec![0u8; 4];
            server.read_exact(&mut got).await.unwrap();
            let len = i32::from_be_bytes([got[0], got[1], got[2], got[3]]) as usize;
            got.resize(len, 0);
            server.read_exact(&mut got[4..]).await.unwrap();
            server.write_all(&reply).await.unwrap();
            got
        });
        let result = ping(client, LOGIN).await;
        (result, serve.await.unwrap())
    }

    #[tokio::test]
    async fn an_authentication_request_means_ready() {
        // AuthenticationSASL, as PostgreSQL 14+ sends for scram-sha-256.
        let mut sasl = vec![b'R', 0, 0, 0, 23, 0, 0, 0, 10];
        sasl.extend_from_slice(b"SCRAM-SHA-256\0\0");
        assert_eq!(against(sasl).await.0, Ping::Ready);
    }

    #[tokio::test]
    async fn starting_up_is_rejected_and_other_errors_mean_the_server_is_up() {
        assert_eq!(against(error("57P03")).await.0, Ping::Rejected);
        // Role or database missing, bad password, too many connections:
        // pg_isready exits 0 for all of them.
        for code in ["28000", "3D000", "28P01", "53300"] {
            assert_eq!(against(error(code)).await.0, Ping::Ready, "{code}");
        }
        assert_eq!(against(error("57P")).await.0, Ping::NoResponse);
    }

    #[tokio::test]
    async fn the_startup_message_names_the_user_and_database_like_pg_isready() {
        let (_, sent) = against(error("57P03")).await;
        assert_eq!(&sent[4..8], &PROTOCOL_3_0.to_be_bytes());
        let pairs = String::from_utf8(sent[8..].to_vec()).unwrap();
        assert_eq!(
            pairs,
            "user\0devenv\0database\0app\0application_name\0devenv\0\0"
        );
    }

    #[tokio::test]
    async fn garbage_a_close_or_silence_is_no_response() {
        assert_eq!(
            against(b"HTTP/1.1 400 Bad".to_vec()).await.0,
            Ping::NoResponse
        );
        // An error that says it is 2 GiB long is not read.
        assert_eq!(
            against(vec![b'E', 0x7f, 0xff, 0xff, 0xff]).await.0,
            Ping::NoResponse
        );
        assert_eq!(against(vec![b'E', 0, 0, 0, 2]).await.0, Ping::NoResponse);
        assert_eq!(against(Vec::new()).await.0, Ping::NoResponse);
        // Accepts and says nothing: the exchange's own timeout ends it.
        let (client, _server) = duplex(1024);
        let short = Duration::from_millis(20);
        assert_eq!(ping_within(client, LOGIN, short).await, Ping::NoResponse);
    }
}
