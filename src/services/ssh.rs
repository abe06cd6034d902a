//! Engines on another machine, `DOCKER_HOST=ssh://[user@]host[:port]`.
//!
//! One multiplexed connection per engine: the system `ssh` (so the user's
//! `~/.ssh/config`, agent and known_hosts apply, as for the docker CLI) runs
//! as a ControlMaster under `DEVENV_HOME/ssh/`, started detached so it
//! outlives the command, as the mocks do. Over it, a local unix socket is
//! forwarded to the remote engine's socket (found once by asking the
//! remote's own `docker` where its engine is: the same resolution its
//! `docker system dial-stdio` would use). bollard, `/_ping` and BuildKit
//! then speak to a plain unix socket: every API connection is a channel of
//! the one SSH connection, with no process started per connection, so a
//! command that finds the master alive costs no ssh process at all.
//!
//! The published-port and mock forwards ride the same master (see
//! `crate::forward`); this module only starts, finds and stops it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::socket::{self, Socket};

/// `ssh://[user@]host[:port]`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl Destination {
    pub fn parse(address: &str) -> Result<Destination, String> {
        let rest = address
            .strip_prefix("ssh://")
            .ok_or("not an ssh:// address")?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('?') {
            return Err("an ssh:// engine address takes no path (ssh://user@host:port)".into());
        }
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => (
                h.trim_matches(|c| c == '[' || c == ']'),
                Some(p.parse::<u16>().map_err(|_| format!("bad port `{p}`"))?),
            ),
            _ => (hostport, None),
        };
        let ok = |s: &str| {
            !s.is_empty()
                && !s.starts_with('-')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-:%".contains(c))
        };
        if !ok(host) || user.as_deref().is_some_and(|u| !ok(u)) {
            return Err(format!("`{address}` is not ssh://[user@]host[:port]"));
        }
        Ok(Destination {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// `ssh`'s destination arguments (`-l user -p port host`), last.
    fn args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(u) = &self.user {
            a.extend(["-l".to_string(), u.clone()]);
        }
        if let Some(p) = self.port {
            a.extend(["-p".to_string(), p.to_string()]);
        }
        a.extend(["--".to_string(), self.host.clone()]);
        a
    }
}

/// The master connection to one remote engine, and the local socket that
/// leads to that engine.
#[derive(Debug, Clone)]
pub struct Tunnel {
    pub destination: Destination,
    /// The ControlPath.
    pub control: PathBuf,
    /// The local end of the engine's socket.
    pub socket: PathBuf,
    /// The master's SOCKS forward here (`-D`): readiness probes reach a
    /// container's own address through it, from the remote side.
    pub socks: Option<std::net::SocketAddr>,
    pid_file: PathBuf,
    socks_file: PathBuf,
    api_file: PathBuf,
    log: PathBuf,
}

/// Files of one engine's master, named by a hash of its address (unix
/// socket paths must stay short).
pub fn tunnel_for(address: &str, dir: &Path) -> Result<Tunnel, String> {
    let destination = Destination::parse(address)?;
    let key = &crate::util::sha256_hex(address.as_bytes())[..12];
    Ok(Tunnel {
        destination,
        control: dir.join(format!("{key}.ctl")),
        socket: dir.join(format!("{key}.docker.sock")),
        socks: None,
        pid_file: dir.join(format!("{key}.pid")),
        socks_file: dir.join(format!("{key}.socks")),
        api_file: dir.join(format!("{key}.api")),
        log: dir.join(format!("{key}.log")),
    })
}

/// Options every ssh we start gets: never prompt, notice a dead peer.
const OPTIONS: &[&str] = &[
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "ServerAliveInterval=5",
    "-o",
    "ServerAliveCountMax=3",
];

impl Tunnel {
    /// The master's pid while it runs (a `ssh` holding our ControlPath).
    pub fn master_pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(&self.pid_file)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let ctl = self.control.to_string_lossy();
        let ours = cmdline
            .split(|b| *b == 0)
            .any(|arg| String::from_utf8_lossy(arg) == ctl);
        ours.then_some(pid)
    }

    /// `ssh -S CONTROL OPTIONS... ARGS... destination`, through the master.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ssh");
        c.arg("-S").arg(&self.control).args(OPTIONS).args(args);
        c.args(self.destination.args());
        c.stdin(Stdio::null());
        c
    }

    /// Runs a control command (`-O forward ...`); its stderr on failure.
    pub fn control(&self, args: &[&str]) -> Result<String, String> {
        let out = self
            .command(args)
            .output()
            .map_err(|e| format!("cannot run ssh: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// Stops the master (and with it every forward it carries).
    pub fn exit(&self) {
        if let Some(pid) = self.master_pid() {
            let _ = self.control(&["-O", "exit"]);
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline && !gone(pid) {
                std::thread::sleep(Duration::from_millis(20));
            }
            if !gone(pid) && self.master_pid() == Some(pid) {
                let _ = Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
        }
        for f in [
            &self.control,
            &self.socket,
            &self.pid_file,
            &self.socks_file,
            &self.api_file,
        ] {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// The engine's local socket: a live master is reused (no ssh process
/// started, no request made); a dead or missing one is started again.
pub async fn open(address: &str, dir: &Path) -> Result<Tunnel, String> {
    let mut t = tunnel_for(address, dir)?;
    // No request here: the engine's first one proves the connection (see
    // `Tunnel::api_version`).
    let alive = t.master_pid().is_some() && t.socket.exists();
    if !alive {
        let t2 = t.clone();
        tokio::task::spawn_blocking(move || start_once(&t2))
            .await
            .map_err(|e| e.to_string())??;
    }
    t.socks = std::fs::read_to_string(&t.socks_file)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    Ok(t)
}

impl Tunnel {
    /// The API version the engine answered `/_ping` with when this master
    /// was new: a command that finds the master alive skips the ping, and
    /// its first request is the only round trip before real work.
    pub fn api_version(&self) -> Option<(usize, usize)> {
        let text = std::fs::read_to_string(&self.api_file).ok()?;
        let (a, b) = text.trim().split_once('.')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    }

    /// Asks the engine (`/_ping`) and remembers the answer for this master.
    pub async fn ping(&self) -> Result<(usize, usize), String> {
        let v = socket::ping(&Socket::Unix(self.socket.clone())).await?;
        let _ = std::fs::write(&self.api_file, format!("{}.{}", v.0, v.1));
        Ok(v)
    }

    /// A connection to `target` as seen from the remote machine (a
    /// container's address there), through the master's SOCKS forward.
    /// OpenSSH answers the SOCKS request only once the remote side has
    /// connected, so `Some` means the target accepted.
    pub async fn connect(&self, target: std::net::SocketAddr) -> Option<tokio::net::TcpStream> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let proxy = self.socks?;
        let attempt = async {
            let mut s = tokio::net::TcpStream::connect(proxy).await.ok()?;
            s.write_all(&[5, 1, 0]).await.ok()?;
            let mut greet = [0u8; 2];
            s.read_exact(&mut greet).await.ok()?;
            if greet != [5, 0] {
                return None;
            }
            let mut req = vec![5, 1, 0];
            match target.ip() {
                std::net::IpAddr::V4(ip) => {
                    req.push(1);
                    req.extend(ip.octets());
                }
                std::net::IpAddr::V6(ip) => {
                    req.push(4);
                    req.extend(ip.octets());
                }
            }
            req.extend(target.port().to_be_bytes());
            s.write_all(&req).await.ok()?;
            let mut head = [0u8; 4];
            s.read_exact(&mut head).await.ok()?;
            if head[1] != 0 {
                return None;
            }
            let rest = match head[3] {
                1 => 4 + 2,
                4 => 16 + 2,
                _ => return None,
            };
            let mut skip = vec![0u8; rest];
            s.read_exact(&mut skip).await.ok()?;
            Some(s)
        };
        tokio::time::timeout(Duration::from_secs(2), attempt)
            .await
            .ok()
            .flatten()
    }
}

/// Starts the master unless another command (another clone's `up`) did
/// while this one waited for the engine's lock file.
fn start_once(t: &Tunnel) -> Result<(), String> {
    let dir = t.control.parent().ok_or("no ssh dir")?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(t.control.with_extension("lock"))
        .map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    if t.master_pid().is_some() && t.control(&["-O", "check"]).is_ok() && t.socket.exists() {
        return Ok(());
    }
    start(t)
}

/// Starts a master, finds the remote engine and forwards its socket.
fn start(t: &Tunnel) -> Result<(), String> {
    t.exit();
    if let Some(dir) = t.control.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    let log = std::fs::File::create(&t.log).map_err(|e| e.to_string())?;
    let mut c = t.command(&[
        "-M",
        "-N",
        "-o",
        "ControlPersist=no",
        "-o",
        "ExitOnForwardFailure=yes",
    ]);
    c.stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        c.process_group(0);
    }
    let mut child = c.spawn().map_err(|e| format!("cannot run ssh: {e}"))?;
    std::fs::write(&t.pid_file, child.id().to_string()).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&t.log).unwrap_or_default();
            let _ = std::fs::remove_file(&t.pid_file);
            return Err(format!(
                "ssh to {} ended ({status}): {}",
                t.destination.host,
                last_line(&text)
            ));
        }
        if t.control.exists() && t.control(&["-O", "check"]).is_ok() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!(
                "ssh to {} did not connect within 15 s",
                t.destination.host
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Not waited for: it runs on after this command, like a mock.
    std::mem::forget(child);
    let remote = remote_engine(t)?;
    let local = t.socket.to_string_lossy().to_string();
    let spec = match remote.strip_prefix("unix://") {
        Some(path) => format!("{local}:{path}"),
        None => {
            let hostport = remote.strip_prefix("tcp://").ok_or_else(|| {
                format!("the remote docker's engine is at `{remote}`, which devenv cannot forward")
            })?;
            let (h, p) = hostport
                .trim_end_matches('/')
                .rsplit_once(':')
                .ok_or_else(|| format!("unreadable remote engine address `{remote}`"))?;
            format!("{local}:{h}:{p}")
        }
    };
    // The probes' SOCKS forward rides along, on a port free here.
    let socks = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port here: {e}"))?;
    t.control(&["-O", "forward", "-L", &spec, "-D", &socks.to_string()])
        .map_err(|e| format!("forwarding the engine's socket ({spec}): {e}"))?;
    std::fs::write(&t.socks_file, socks.to_string()).map_err(|e| e.to_string())?;
    Ok(())
}

/// Where the remote `docker` finds its engine (its DOCKER_HOST or current
/// context: what its `docker system dial-stdio` would dial). A machine
/// without the docker CLI has its engine at the default socket.
fn remote_engine(t: &Tunnel) -> Result<String, String> {
    const DEFAULT: &str = "unix:///var/run/docker.sock";
    let mut c = t.command(&["-T"]);
    c.args([
        "docker",
        "context",
        "inspect",
        "--format",
        "'{{.Endpoints.docker.Host}}'",
    ]);
    let out = c.output().map_err(|e| format!("cannot run ssh: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match out.status.code() {
        Some(0) if text.starts_with("unix://") || text.starts_with("tcp://") => Ok(text),
        Some(127) => Ok(DEFAULT.to_string()),
        _ => Err(format!(
            "asking the remote docker where its engine is: {}",
            last_line(&String::from_utf8_lossy(&out.stderr))
        )),
    }
}

/// No such process, or only its zombie.
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_addresses_read_like_the_docker_cli_reads_them() {
        let d = Destination::parse("ssh://root@10.77.0.2").unwrap();
        assert_eq!(d.user.as_deref(), Some("root"));
        assert_eq!(d.host, "10.77.0.2");
        assert_eq!(d.port, None);
        let d = Destination::parse("ssh://build-box:2222").unwrap();
        assert_eq!(
            (d.user.as_deref(), d.host.as_str(), d.port),
            (None, "build-box", Some(2222))
        );
        assert_eq!(d.args_for_test(), ["-p", "2222", "--", "build-box"]);
    }

    #[test]
    fn ssh_addresses_that_could_be_options_or_paths_are_refused() {
        for bad in [
            "ssh://-oProxyCommand=x",
            "ssh://me@host/var/run/docker.sock",
            "ssh://",
            "ssh://a@b:port",
            "ssh://a b@host",
        ] {
            assert!(Destination::parse(bad).is_err(), "{bad}");
        }
    }

    impl Destination {
        fn args_for_test(&self) -> Vec<String> {
            self.args()
        }
    }
}
