use super::*;
use crate::mocks::stub::ResponseDef;

fn interaction(state: Option<&str>, status: u16, seq: u64) -> Stub {
    Stub {
        id: format!("{status}"),
        name: None,
        source: "pact".into(),
        origin: Origin::File,
        priority: 5,
        specificity: 9,
        seq,
        request: RequestPattern {
            url: UrlMatch::Path("/p".into()),
            provider_state: state.map(str::to_string),
            ..Default::default()
        },
        response: ResponseDef::plain(status),
        scenario: None,
        json: serde_json::Value::Null,
    }
}

fn get(state: Option<&str>) -> Request {
    let mut r = Request {
        method: "GET".into(),
        path: "/p".into(),
        ..Default::default()
    };
    if let Some(s) = state {
        r.headers
            .insert(PROVIDER_STATE_HEADER, HeaderValue::from_str(s).unwrap());
    }
    r
}

#[test]
fn provider_states_pick_interactions() {
    let stubs = vec![
        interaction(Some("exists"), 200, 0),
        interaction(Some("gone"), 404, 1),
        interaction(None, 203, 2),
    ];
    let e = Engine::new(stubs, None);
    assert_eq!(
        e.handle(get(None)).status,
        203,
        "no state: the stateless one"
    );
    assert_eq!(e.handle(get(Some("gone"))).status, 404);
    assert_eq!(e.handle(get(Some("exists"))).status, 200);
    assert_eq!(
        e.handle(get(Some("other"))).status,
        203,
        "unknown state: stateless"
    );
    let e = Engine::new(
        vec![
            interaction(Some("exists"), 200, 0),
            interaction(Some("gone"), 404, 1),
        ],
        Some("gone".into()),
    );
    assert_eq!(e.handle(get(None)).status, 404, "the mock's default state");
    assert_eq!(e.handle(get(Some("exists"))).status, 200, "the header wins");
}
