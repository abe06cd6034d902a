use super::*;
use crate::mocks::string_matcher::StringMatcher;
use crate::mocks::stub::ResponseDef;

fn stub(id: &str, url: UrlMatch, priority: i64, status: u16) -> Stub {
    let request = RequestPattern {
        url,
        ..Default::default()
    };
    Stub {
        id: id.into(),
        name: Some(id.into()),
        source: "test".into(),
        origin: Origin::File,
        priority,
        specificity: crate::mocks::sources::wiremock::specificity(&request),
        seq: 0,
        request,
        response: ResponseDef::plain(status),
        scenario: None,
        json: serde_json::json!({"id": id}),
    }
}

fn get(path: &str) -> Request {
    Request {
        method: "GET".into(),
        path: path.into(),
        ..Default::default()
    }
}

#[test]
fn priority_beats_specificity_which_beats_age() {
    let pattern = UrlMatch::PathPattern(regex::Regex::new("^(?:/a.*)$").unwrap());
    let e = Engine::new(
        vec![
            stub("exact", UrlMatch::Path("/a".into()), 5, 201),
            stub("pattern", pattern, 5, 202),
        ],
        None,
    );
    assert_eq!(e.handle(get("/a")).status, 201);
    assert_eq!(e.handle(get("/ab")).status, 202);
    let mut urgent = stub("urgent", UrlMatch::Any, 1, 203);
    urgent
        .request
        .headers
        .push((HeaderName::from_static("x-urgent"), StringMatcher::Present));
    e.add(urgent);
    assert_eq!(e.handle(get("/a")).status, 201);
    let mut r = get("/a");
    r.headers.insert("x-urgent", HeaderValue::from_static("1"));
    assert_eq!(e.handle(r).status, 203);
    // Equal priority and specificity: the newest wins.
    e.add(stub("newer", UrlMatch::Path("/a".into()), 5, 204));
    assert_eq!(e.handle(get("/a")).status, 204);
    e.reset_mappings();
    assert_eq!(e.handle(get("/a")).status, 201);
}

#[test]
fn the_journal_is_bounded() {
    let e = Engine::new(vec![stub("s", UrlMatch::Any, 5, 200)], None);
    for _ in 0..JOURNAL_LIMIT + 10 {
        e.handle(get("/x"));
    }
    let j = e.journal();
    assert_eq!(j.len(), JOURNAL_LIMIT);
    assert_eq!(j[0].id, (JOURNAL_LIMIT + 10) as u64);
}

#[test]
fn reload_replaces_file_stubs_and_keeps_admin_ones() {
    let e = Engine::new(vec![stub("f", UrlMatch::Path("/f".into()), 5, 200)], None);
    e.add(stub("a", UrlMatch::Path("/a".into()), 5, 201));
    e.replace_file_stubs(vec![stub("g", UrlMatch::Path("/g".into()), 5, 202)]);
    assert_eq!(e.handle(get("/f")).status, 404);
    assert_eq!(e.handle(get("/g")).status, 202);
    assert_eq!(e.handle(get("/a")).status, 201);
}
