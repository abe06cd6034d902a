//! Compose's merge rules, for override files, `extends` and documents:
//! mappings merge key by key, lists append (then `canon::dedup` keeps one
//! port, volume target or env file), scalars are replaced, and a few keys
//! are special: `command`, `entrypoint` and `healthcheck.test` are
//! replaced whole, `environment` merges by variable, `x-*` keys are
//! replaced. `!reset` drops what is below, `!override` replaces it.

use super::yaml::{Entry, Node, Tag, V};

/// `over` merged onto `base`; `path` is where they are (`services.web`).
pub(super) fn merge(base: Node, over: Node, path: &[&str]) -> Node {
    if over.tag == Tag::Override || replaced(path) {
        return over;
    }
    match (base.v, over.v) {
        (V::Map(b), V::Map(o)) => Node {
            v: V::Map(merge_entries(b, o, path)),
            at: over.at,
            tag: Tag::None,
            written: None,
        },
        (V::Seq(mut b), V::Seq(o)) => {
            b.extend(o);
            Node {
                v: V::Seq(b),
                at: over.at,
                tag: Tag::None,
                written: None,
            }
        }
        (_, v) => Node {
            v,
            at: over.at,
            tag: over.tag,
            written: over.written,
        },
    }
}

fn merge_entries(mut base: Vec<Entry>, over: Vec<Entry>, path: &[&str]) -> Vec<Entry> {
    for e in over {
        let i = base.iter().position(|b| b.key == e.key);
        if e.value.tag == Tag::Reset {
            if let Some(i) = i {
                base.remove(i);
            }
            continue;
        }
        match i {
            Some(i) if !e.key.starts_with("x-") => {
                let old = base.remove(i);
                let mut p = path.to_vec();
                p.push(&e.key);
                let value = merge(old.value, e.value, &p);
                base.insert(
                    i,
                    Entry {
                        key: e.key,
                        at: e.at,
                        value,
                    },
                );
            }
            Some(i) => base[i] = e,
            None => base.push(e),
        }
    }
    base
}

/// Keys whose value an override replaces rather than merges.
fn replaced(path: &[&str]) -> bool {
    matches!(
        path,
        ["services", _, "command" | "entrypoint"] | ["services", _, "healthcheck", "test"]
    )
}

/// Drops every `!reset` value (a file's own resets mean "nothing here").
pub(super) fn strip_resets(n: &mut Node) {
    match &mut n.v {
        V::Map(entries) => {
            entries.retain(|e| e.value.tag != Tag::Reset);
            entries.iter_mut().for_each(|e| strip_resets(&mut e.value));
        }
        V::Seq(items) => {
            items.retain(|i| i.tag != Tag::Reset);
            items.iter_mut().for_each(strip_resets);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::{canon, yaml};
    use super::*;

    fn svc(text: &str) -> Node {
        let mut n = yaml::parse(text, 0).unwrap().remove(0);
        canon::service(&mut n);
        n
    }

    #[test]
    fn an_override_file_merges_as_compose_does() {
        let base = svc("image: a\ncommand: [a, b]\nenvironment: [A=1, B=2]\nports: ['80:80', '81:81']\nvolumes: ['./x:/x', 'data:/data']\nhealthcheck: {test: [CMD, a], interval: 5s}\nx-team: {a: 1}\n");
        let over = svc("command: over\nenvironment: {B: 3, C: 4}\nports: ['80:80', '82:82']\nvolumes: ['./y:/x']\nhealthcheck: {test: [CMD, b], timeout: 2s}\nx-team: {b: 2}\ncap_add: !reset []\n");
        let mut m = merge(base, over, &["services", "a"]);
        canon::dedup(&mut m);
        assert_eq!(m.get("command").unwrap().as_str(), Some("over"));
        let env: Vec<(String, String)> = m
            .get("environment")
            .unwrap()
            .entries()
            .unwrap()
            .iter()
            .map(|e| (e.key.clone(), e.value.text().unwrap()))
            .collect();
        assert_eq!(
            env,
            [
                ("A".into(), "1".into()),
                ("B".into(), "3".into()),
                ("C".into(), "4".into())
            ]
        );
        assert_eq!(m.get("ports").unwrap().items().unwrap().len(), 3);
        let vols: Vec<String> = m
            .get("volumes")
            .unwrap()
            .items()
            .unwrap()
            .iter()
            .filter_map(Node::text)
            .collect();
        assert_eq!(vols, ["./y:/x", "data:/data"]);
        let hc = m.get("healthcheck").unwrap();
        assert_eq!(hc.get("test").unwrap().items().unwrap().len(), 2);
        assert_eq!(hc.get("interval").unwrap().as_str(), Some("5s"));
        assert_eq!(hc.get("timeout").unwrap().as_str(), Some("2s"));
        assert!(m.get("x-team").unwrap().get("a").is_none());
        assert!(m.get("cap_add").is_none());
    }

    #[test]
    fn reset_and_override_tags() {
        let base = svc("ports: ['80:80']\nvolumes: ['./a:/a']\n");
        let over = svc("ports: !reset []\nvolumes: !override ['./b:/b']\n");
        let m = merge(base, over, &["services", "a"]);
        assert!(m.get("ports").is_none());
        assert_eq!(m.get("volumes").unwrap().items().unwrap().len(), 1);
    }
}
