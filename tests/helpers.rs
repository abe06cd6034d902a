//! The shared test helpers in tests/common do what the tests rely on: the
//! HTTP server's files, handler, faults and records, the client, waiting,
//! git and copy_dir.

mod common;

use std::time::{Duration, Instant};

use common::{
    copy_dir, git, http_get, http_request, try_http, wait_for, wait_until, wait_until_alive, Fault,
    Response, Server,
};

#[test]
fn files_are_served_whole_by_range_and_by_head() {
    let server = Server::start();
    server.file("/f", "0123456789");
    let (status, headers, body) = http_get(&server.url("/f"));
    assert_eq!((status, body.as_str()), (200, "0123456789"));
    assert_eq!(headers.get("accept-ranges"), Some("bytes"));

    let (status, headers, body) =
        http_request("GET", &server.url("/f"), &[("Range", "bytes=4-")], "");
    assert_eq!((status, body.as_str()), (206, "456789"));
    assert_eq!(headers.get("Content-Range"), Some("bytes 4-9/10"));
    let (status, _, body) = http_request("GET", &server.url("/f"), &[("Range", "bytes=2-4")], "");
    assert_eq!((status, body.as_str()), (206, "234"));

    let (status, headers, body) = http_request("HEAD", &server.url("/f"), &[], "");
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(headers.get("content-length"), Some("10"));
    assert_eq!(http_get(&server.url("/nothing")).0, 404);

    // Without ranges the whole file comes back, and no Accept-Ranges.
    server.ranges(false);
    let (status, headers, body) =
        http_request("GET", &server.url("/f"), &[("Range", "bytes=4-")], "");
    assert_eq!((status, body.as_str()), (200, "0123456789"));
    assert_eq!(headers.get("accept-ranges"), None);

    assert_eq!(server.gets("/f"), 4);
    assert_eq!(server.total_gets(), 5);
    assert_eq!(
        server.log(),
        [
            "GET /f",
            "GET /f",
            "GET /f",
            "HEAD /f",
            "GET /nothing",
            "GET /f"
        ]
    );
}

#[test]
fn a_handler_answers_and_every_request_is_recorded_with_its_status() {
    let server = Server::start();
    server.respond_with(|req| Response::json(201, format!("{{\"got\":{:?}}}", req.body)));
    server.answer_next([503]);
    let url = server.url("/in?x=1");
    let send = || http_request("POST", &url, &[("X-Trace", "t-1")], "hello");
    let (status, _, body) = send();
    assert_eq!((status, body.as_str()), (503, r#"{"got":"hello"}"#));
    let (status, headers, body) = send();
    assert_eq!((status, body.as_str()), (201, r#"{"got":"hello"}"#));
    assert_eq!(headers.get("content-type"), Some("application/json"));

    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    let first = &seen[0];
    assert_eq!(
        (first.method.as_str(), first.target.as_str()),
        ("POST", "/in?x=1")
    );
    assert_eq!((first.path(), first.query()), ("/in", "x=1"));
    assert_eq!(first.header("x-trace"), Some("t-1"));
    assert_eq!((first.body.as_str(), first.answered), ("hello", 503));
    let accepted = server.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].answered, 201);
}

#[test]
fn faults_fail_truncate_or_delay_an_answer() {
    let server = Server::start();
    for path in ["/fail", "/cut", "/status", "/slow"] {
        server.file(path, "0123456789");
    }
    server.fault(
        "/fail",
        Fault::FailFirst {
            gets: 2,
            status: 500,
        },
    );
    server.fault("/cut", Fault::Truncate { gets: 1, at: 4 });
    server.fault("/status", Fault::Status(503));
    server.fault("/slow", Fault::Delay(Duration::from_millis(300)));

    let statuses: Vec<u16> = (0..3).map(|_| http_get(&server.url("/fail")).0).collect();
    assert_eq!(statuses, [500, 500, 200]);
    // HEAD does not count as one of the first GETs.
    assert_eq!(http_request("HEAD", &server.url("/cut"), &[], "").0, 200);
    let (status, headers, body) = http_get(&server.url("/cut"));
    assert_eq!((status, body.as_str()), (200, "0123"));
    assert_eq!(headers.get("content-length"), Some("10"));
    assert_eq!(http_get(&server.url("/cut")).2, "0123456789");
    assert_eq!(http_request("HEAD", &server.url("/status"), &[], "").0, 503);
    let started = Instant::now();
    assert_eq!(http_get(&server.url("/slow")).2, "0123456789");
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn faults_drop_stall_or_never_answer() {
    let server = Server::start();
    server.file("/stall", "0123456789abcdefghijklmnopqrstuvwxyz");
    server.fault("/drop", Fault::Drop);
    server.fault("/stall", Fault::Stall);
    let dropped = try_http("GET", &server.url("/drop"), &[], "");
    assert!(
        matches!(&dropped, Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "{dropped:?}"
    );

    // A stalled or hanging answer ends when the server stops.
    std::thread::scope(|s| {
        let stalled = s.spawn(|| http_get(&server.url("/stall")));
        wait_until(Duration::from_secs(30), "the stalled request", || {
            server.requests().len() == 2
        });
        server.stop();
        let (status, headers, body) = stalled.join().unwrap();
        assert_eq!((status, body.as_str()), (200, "0123456789abcdef"));
        assert_eq!(headers.get("content-length"), Some("36"));
    });

    let silent = Server::start();
    silent.fault_everywhere(Fault::Hang);
    std::thread::scope(|s| {
        let hung = s.spawn(|| try_http("POST", &silent.url("/any"), &[], "x"));
        wait_until(Duration::from_secs(30), "the hanging request", || {
            silent.requests().len() == 1
        });
        silent.stop();
        let hung = hung.join().unwrap();
        assert!(
            matches!(&hung, Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
            "{hung:?}"
        );
    });
    assert_eq!(silent.requests()[0].answered, 0);
    assert!(silent.accepted().is_empty());
}

#[test]
fn a_stopped_server_has_closed_its_port_and_another_can_take_it() {
    let server = Server::start();
    let port = server.port;
    server.file("/", "up");
    assert_eq!(http_get(&server.base()).2, "up");
    drop(server);
    let refused = try_http("GET", &format!("http://127.0.0.1:{port}/"), &[], "");
    assert!(
        matches!(&refused, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
        "{refused:?}"
    );
    assert_eq!(http_get(&format!("http://127.0.0.1:{port}/")).0, 0);
    let again = Server::on_port(port);
    again.file("/", "again");
    assert_eq!(http_get(&again.base()).2, "again");
}

#[test]
fn waiting_returns_what_it_waited_for() {
    let mut polls = 0;
    let n = wait_for(Duration::from_secs(30), "the third poll", || {
        polls += 1;
        (polls == 3).then_some(polls)
    });
    assert_eq!(n, 3);
}

#[test]
#[should_panic(expected = "gave up after 50ms waiting for something that never happens")]
fn waiting_gives_up_at_the_deadline() {
    wait_until(
        Duration::from_millis(50),
        "something that never happens",
        || false,
    );
}

#[test]
#[should_panic(expected = "gave up waiting for a port: the process exited (exit status: 3)")]
fn waiting_on_a_process_gives_up_when_it_dies() {
    let mut child = std::process::Command::new("sh")
        .args(["-c", "exit 3"])
        .spawn()
        .unwrap();
    wait_until_alive(&mut child, Duration::from_secs(60), "a port", || false);
}

#[test]
fn copy_dir_copies_a_tree_and_git_commits_without_the_developers_config() {
    let from = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(from.path().join("a/b")).unwrap();
    std::fs::write(from.path().join("top.txt"), "top").unwrap();
    std::fs::write(from.path().join("a/b/deep.txt"), "deep").unwrap();
    let to = tempfile::tempdir().unwrap();
    let dest = to.path().join("copy");
    copy_dir(from.path(), &dest);
    assert_eq!(
        std::fs::read_to_string(dest.join("top.txt")).unwrap(),
        "top"
    );
    assert_eq!(
        std::fs::read_to_string(dest.join("a/b/deep.txt")).unwrap(),
        "deep"
    );

    git(&dest, &["init", "-q", "-b", "main"]);
    git(&dest, &["add", "."]);
    git(&dest, &["commit", "-q", "-m", "copied"]);
    assert_eq!(
        git(&dest, &["log", "--format=%an <%ae>"]).trim(),
        "Devenv Test <test@devenv.invalid>"
    );
    assert_eq!(git(&dest, &["status", "--porcelain"]), "");
}

#[test]
#[should_panic(expected = "git [\"no-such-subcommand\"]")]
fn a_failing_git_fails_the_test() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["no-such-subcommand"]);
}
