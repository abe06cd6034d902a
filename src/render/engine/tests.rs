use super::*;
use serde_json::json;

fn cx(values: Value, secrets: &[(&str, &str)]) -> Context {
    Context::new(ContextInput {
        values: values.as_object().unwrap(),
        project: json!({"name": "shop"}),
        environment: "local",
        services: json!({"db": {"host": "127.0.0.1", "port": 5432}}),
        mocks: json!({}),
        secrets: secrets
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
}

fn src(text: &str) -> Source {
    Source {
        name: "templates/app.env.j2".into(),
        path: PathBuf::from("/repo/templates/app.env.j2"),
        text: text.into(),
    }
}

fn run(text: &str, c: &Context) -> Result<Output, Box<Diagnostic>> {
    let mut env = environment(Path::new("/repo"));
    add(&mut env, &src(text)).map_err(|mut d| Box::new(d.0.remove(0)))?;
    render(&env, &src(text), c, &Redactor::new()).map_err(|mut d| Box::new(d.0.remove(0)))
}

#[test]
fn values_services_and_names_are_in_the_context() {
    let c = cx(json!({"level": "info", "db": {"pool": 3}}), &[]);
    let out = run(
        "{{ project.name }} {{ environment }} {{ level }} {{ values.db.pool }} {{ services.db.port }}\n",
        &c,
    )
    .unwrap();
    assert_eq!(out.text, "shop local info 3 5432\n");
    assert!(!out.used_secret);
}

#[test]
fn an_undefined_variable_names_itself_and_the_close_match() {
    let c = cx(json!({"database": {"host": "h"}}), &[]);
    let d = run("a\nhost={{ database.hots }}\n", &c).unwrap_err();
    assert_eq!(d.line, 2);
    assert!(d.message.contains("`database.hots`"), "{}", d.message);
    assert!(
        d.message.contains("`database` has no `hots`"),
        "{}",
        d.message
    );
    assert!(
        d.hint.as_deref().unwrap().contains("`database.host`"),
        "{:?}",
        d.hint
    );

    let d = run("{{ databse.host }}", &c).unwrap_err();
    assert_eq!(d.message, "undefined variable `databse.host`");
    assert!(d
        .hint
        .as_deref()
        .unwrap()
        .contains("did you mean `database`"));

    let d = run("{{ services.dbb.port }}", &c).unwrap_err();
    assert!(
        d.message.contains("`services` has no `dbb`"),
        "{}",
        d.message
    );
    assert!(
        d.hint.as_deref().unwrap().contains("devenv up"),
        "{:?}",
        d.hint
    );

    let d = run("{{ x | upper }}", &c).unwrap_err();
    assert_eq!(d.message, "undefined variable `x`");
}

#[test]
fn reading_a_secret_is_recorded_and_a_missing_one_is_named() {
    let c = cx(json!({}), &[("KEY", "sk_live_1")]);
    let out = run("{{ secrets.KEY }}", &c).unwrap();
    assert_eq!(out.text, "sk_live_1");
    assert!(out.used_secret);
    let out = run("{{ secrets.NOPE | default('none') }}", &c).unwrap();
    assert_eq!(out.text, "none");
    let d = run("{{ secrets.KYE }}", &c).unwrap_err();
    assert!(
        d.message.contains("`secrets` has no `KYE`"),
        "{}",
        d.message
    );
    assert!(!format!("{d:?}").contains("sk_live_1"));
}

#[test]
fn an_error_quoting_a_secret_is_redacted() {
    let c = cx(json!({}), &[("KEY", "not-a-number")]);
    let r = Redactor::new();
    r.add("not-a-number");
    let mut env = environment(Path::new("/repo"));
    add(&mut env, &src("{% include secrets.KEY %}")).unwrap();
    // minijinja quotes the name of a template it cannot include.
    let d = render(&env, &src("{% include secrets.KEY %}"), &c, &r).unwrap_err();
    let text = format!("{d:?}");
    assert!(text.contains(MASK), "{text}");
    assert!(!text.contains("not-a-number"), "{text}");
}

#[test]
fn syntax_errors_point_at_the_line() {
    let env = environment(Path::new("/repo"));
    let d = parse(&env, &src("ok\n{{ a }\n")).unwrap_err().0.remove(0);
    assert_eq!((d.line, d.column), (2, 6));
    assert!(d.message.starts_with("template syntax error"));
}

#[test]
fn secret_use_is_found_without_rendering() {
    let uses = |text: &str| {
        let mut env = environment(Path::new("/repo"));
        add(&mut env, &src(text)).unwrap();
        secret_use(&env, &src(text))
    };
    assert!(matches!(uses("{{ a }}"), SecretUse::None));
    match uses("{{ secrets.A }}{{ secrets.B | b64encode }}") {
        SecretUse::Names(n) => assert_eq!(n.into_iter().collect::<Vec<_>>(), ["A", "B"]),
        _ => panic!(),
    }
    assert!(matches!(uses("{{ secrets['A'] }}"), SecretUse::All));
    assert!(matches!(uses("{% include 'x' %}"), SecretUse::All));
}

#[test]
fn paths_are_widened_from_a_span() {
    let t = "{{ services['db'].prt }}";
    assert_eq!(expand_path(t, 11, 21), ["services", "db", "prt"]);
}
