use super::*;
use crate::mocks::stub::ResponseDef;

/// A Pact interaction; earlier ones come first in match order, as the
/// Pact source gives them a higher specificity.
fn interaction(state: Option<&str>, status: u16, seq: u64) -> Stub {
    Stub {
        id: format!("{status}"),
        name: None,
        source: "pact".into(),
        origin: Origin::File,
        priority: 5,
        specificity: 100 - seq as u32,
        seq,
        request: RequestPattern {
            url: UrlMatch::Path("/p".into()),
            provider_states: Some(state.map(str::to_string).into_iter().collect()),
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

/// As pact-stub-server 0.7 with `--provider-state-header-name`: no state
/// picked, the first declared interaction that fits; a state picked, only
/// interactions declaring it (a state nothing declares answers nothing).
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
        200,
        "no state: the first declared"
    );
    assert_eq!(e.handle(get(Some("gone"))).status, 404);
    assert_eq!(e.handle(get(Some("exists"))).status, 200);
    let unknown = e.handle(get(Some("other")));
    assert_eq!(unknown.status, 404, "a state nothing declares: no answer");
    assert!(
        String::from_utf8_lossy(&unknown.body).contains("provider state is \"other\""),
        "{:?}",
        unknown.body
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
