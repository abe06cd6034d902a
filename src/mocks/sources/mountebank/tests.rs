use std::path::Path;

use bytes::Bytes;

use super::*;
use crate::mocks::request::Request;

fn imposter(src: &str) -> Imposter {
    load_text(Path::new("imposter.json"), src, None).unwrap_or_else(|d| panic!("{:?}", d.0))
}

fn req(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Request {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (url.to_string(), None),
    };
    let mut r = Request {
        method: method.into(),
        path,
        query,
        body: Bytes::from(body.to_string()),
        ..Default::default()
    };
    for (k, v) in headers {
        r.headers.append(
            hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    r
}

fn answer(i: &Imposter, r: Request) -> (u16, String) {
    let reply = i.handle(&r);
    (
        reply.status,
        String::from_utf8_lossy(&reply.body).into_owned(),
    )
}

fn one_stub(predicate: &str) -> Imposter {
    imposter(&format!(
        r#"{{"protocol": "http", "stubs": [{{"predicates": [{predicate}], "responses": [{{"is": {{"body": "hit"}}}}]}}]}}"#
    ))
}

fn hits(i: &Imposter, r: Request) -> bool {
    answer(i, r).1 == "hit"
}

#[test]
fn equals_ignores_case_and_reaches_into_json_bodies() {
    let i = one_stub(
        r#"{"equals": {"method": "post", "body": {"Name": "FRANK"}, "query": {"q": "A"}}}"#,
    );
    assert!(hits(
        &i,
        req("POST", "/?q=a", &[], r#"{"name": "frank", "x": 1}"#)
    ));
    assert!(!hits(&i, req("POST", "/?q=b", &[], r#"{"name": "frank"}"#)));
    let cs = one_stub(r#"{"equals": {"body": {"Name": "Frank"}}, "caseSensitive": true}"#);
    assert!(!hits(&cs, req("POST", "/", &[], r#"{"name": "Frank"}"#)));
    assert!(hits(&cs, req("POST", "/", &[], r#"{"Name": "Frank"}"#)));
}

#[test]
fn deep_equals_wants_every_field_and_no_more() {
    let i = one_stub(r#"{"deepEquals": {"query": {"a": "1"}}}"#);
    assert!(hits(&i, req("GET", "/?a=1", &[], "")));
    assert!(!hits(&i, req("GET", "/?a=1&b=2", &[], "")));
    let multi = one_stub(r#"{"deepEquals": {"query": {"a": ["2", "1"]}}}"#);
    assert!(hits(&multi, req("GET", "/?a=1&a=2", &[], "")));
}

#[test]
fn string_operators_exists_and_logic() {
    let i = one_stub(
        r#"{"and": [{"startsWith": {"path": "/v1"}}, {"endsWith": {"path": "ITEMS"}}, {"contains": {"headers": {"x-id": "bc"}}}]}"#,
    );
    assert!(hits(&i, req("GET", "/v1/items", &[("x-id", "abcd")], "")));
    assert!(!hits(&i, req("GET", "/v2/items", &[("x-id", "abcd")], "")));
    let e = one_stub(
        r#"{"or": [{"exists": {"query": {"page": true}}}, {"not": {"exists": {"headers": {"Authorization": true}}}}]}"#,
    );
    assert!(hits(
        &e,
        req("GET", "/?page=2", &[("authorization", "x")], "")
    ));
    assert!(!hits(&e, req("GET", "/", &[("authorization", "x")], "")));
    assert!(hits(&e, req("GET", "/", &[], "")));
    let m = one_stub(r#"{"matches": {"path": "^/orders/\\d+$"}}"#);
    assert!(hits(&m, req("GET", "/ORDERS/12", &[], "")));
    let x = one_stub(r#"{"equals": {"path": "/a"}, "except": "\\d+$"}"#);
    assert!(hits(&x, req("GET", "/a123", &[], "")));
}

#[test]
fn selectors_pick_from_the_body() {
    let j = one_stub(
        r#"{"equals": {"body": "teacher"}, "jsonpath": {"selector": "$.identities[(@.length-1)].career"}}"#,
    );
    assert!(hits(
        &j,
        req(
            "PUT",
            "/",
            &[],
            r#"{"identities": [{"career": "Doctor"}, {"career": "Teacher"}]}"#
        )
    ));
    let x =
        one_stub(r#"{"equals": {"body": "b"}, "xpath": {"selector": "//book[@id='2']/title"}}"#);
    assert!(hits(
        &x,
        req(
            "POST",
            "/",
            &[],
            r#"<books><book id="1"><title>A</title></book><book id="2"><title>B</title></book></books>"#
        )
    ));
}

#[test]
fn responses_cycle_repeat_and_fall_back_to_the_default() {
    let i = imposter(
        r#"{"protocol": "http", "defaultResponse": {"statusCode": 404, "body": "nope"},
            "stubs": [{"predicates": [{"equals": {"path": "/n"}}],
                       "responses": [{"is": {"body": "one"}, "repeat": 2}, {"is": {"statusCode": 201}}]}]}"#,
    );
    let seen: Vec<(u16, String)> = (0..4)
        .map(|_| answer(&i, req("GET", "/n", &[], "")))
        .collect();
    assert_eq!(
        seen,
        vec![
            // A response without a status takes the default response's.
            (404, "one".into()),
            (404, "one".into()),
            (201, "nope".into()),
            (404, "one".into())
        ]
    );
    assert_eq!(
        answer(&i, req("GET", "/other", &[], "")),
        (404, "nope".into())
    );
}

#[test]
fn copy_and_wait_behaviours() {
    let i = imposter(
        r#"{"protocol": "http", "stubs": [{"responses": [{"is": {"body": "id=${ID}"},
            "behaviors": [{"wait": 5}, {"copy": {"from": "path", "into": "${ID}", "using": {"method": "regex", "selector": "\\d+"}}}]}]}]}"#,
    );
    let r = i.handle(&req("GET", "/orders/42", &[], ""));
    assert_eq!(&r.body[..], b"id=42");
    assert_eq!(r.delay, Some(std::time::Duration::from_millis(5)));
}

fn refused(src: &str) -> String {
    match load_text(Path::new("imposter.json"), src, None) {
        Ok(_) => panic!("accepted: {src}"),
        Err(d) => {
            d.0.iter()
                .map(|x| x.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

#[test]
fn code_proxies_and_other_protocols_are_refused() {
    assert!(refused(r#"{"protocol": "tcp", "stubs": []}"#).contains("protocol tcp"));
    assert!(refused(r#"{"protocol": "http", "stubs": [{"predicates": [{"inject": "function () { return true; }"}], "responses": [{"is": {}}]}]}"#).contains("inject"));
    assert!(refused(
        r#"{"protocol": "http", "stubs": [{"responses": [{"proxy": {"to": "http://x"}}]}]}"#
    )
    .contains("proxy"));
    assert!(refused(r#"{"protocol": "http", "stubs": [{"responses": [{"is": {}, "behaviors": [{"decorate": "function () {}"}]}]}]}"#).contains("decorate"));
    assert!(refused(r#"{"protocol": "http", "stubs": [{"responses": [{"is": {}, "behaviors": [{"shellTransform": "x"}]}]}]}"#).contains("shellTransform"));
    assert!(refused(r#"{"protocol": "http", "stubs": [{"responses": [{"is": {}, "behaviors": [{"wait": "function () { return 1; }"}]}]}]}"#).contains("wait"));
    assert!(refused(r#"{"protocol": "http", "stubs": [{"predicates": [{"equals": {"body": "x"}, "xpath": {"selector": "//a | //b"}}], "responses": [{"is": {}}]}]}"#).contains("XPath"));
    assert!(refused(
        r#"{"imposters": [{"protocol": "http", "port": 1}, {"protocol": "http", "port": 2}]}"#
    )
    .contains("2 http imposters"));
}

#[test]
fn the_imposter_on_the_mocks_port_is_chosen() {
    let src = r#"{"imposters": [{"protocol": "http", "port": 1, "stubs": [{"responses": [{"is": {"body": "one"}}]}]},
                                {"protocol": "http", "port": 2, "stubs": [{"responses": [{"is": {"body": "two"}}]}]}]}"#;
    let i = load_text(Path::new("x.json"), src, Some(2)).unwrap();
    assert_eq!(answer(&i, req("GET", "/", &[], "")).1, "two");
}
