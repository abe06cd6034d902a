//! Reading a devenv.toml that a command wrote, in tests of `init`.

/// `[services.NAME]` of a parsed devenv.toml.
pub fn svc<'a>(t: &'a toml::Table, name: &str) -> &'a toml::Table {
    t["services"][name]
        .as_table()
        .unwrap_or_else(|| panic!("no service {name}"))
}

/// A TOML array of strings.
pub fn strs(v: &toml::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}
