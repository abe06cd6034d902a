//! A body made from a schema when a response has no example, the way Prism
//! makes one in its static mode: a port of `@stoplight/json-schema-sampler`
//! (the library Prism 5 calls), so the bodies are the same bytes.
//!
//! The order of its choices: `$ref`, `example`, `allOf` (merged), the first
//! of `oneOf` / `anyOf`, `if`+`then`, `default`, `const`, the first `enum`,
//! the first of `examples`, then by `type` (the first of a list, else
//! inferred from the keywords). Strings by `format`, numbers from their
//! bounds, arrays of `minItems` (at least one), objects by `properties` in
//! JavaScript's key order plus `property1`/`property2` for
//! `additionalProperties`. A schema met again while inside itself gives
//! `{}`, `[]` or nothing, and so does one nested deeper than 15.

use serde_json::{Map, Value};

use super::openapi_order::js_entries;
use super::openapi_scalar::{number, string};

/// Prism gives up (500) past this many schema nodes.
pub const TICKS: usize = 2500;
const MAX_DEPTH: usize = 15;

/// The body for `schema`, `Ok(None)` when the sampler yields nothing
/// (JavaScript's `undefined`), `Err` when the schema is too big to sample.
pub fn sample(doc: &Value, schema: &Value) -> Result<Option<Value>, TooComplex> {
    // Prism samples its own copy of the response's schema: meeting the
    // same schema again through a `$ref` inside it is not yet circular.
    let top = schema.clone();
    let mut s = Sampler {
        doc,
        ticks: TICKS,
        open_refs: Vec::new(),
        seen: Vec::new(),
        nesting: 0,
    };
    s.traverse(&top, None, None).map(|r| r.value)
}

#[derive(Debug, PartialEq)]
pub struct TooComplex;

struct Sampler<'a> {
    doc: &'a Value,
    ticks: usize,
    /// `$ref`s being followed (a second visit is circular).
    open_refs: Vec<String>,
    /// Schemas on the way down, by address (as the sampler's stack).
    seen: Vec<*const Value>,
    /// How deep the walk is: a chain of thousands of `$ref`s or `oneOf`s
    /// would otherwise overflow the stack before the ticks run out.
    nesting: usize,
}

/// Deeper than this is too complex (Prism's own limit is its ticks).
const MAX_NESTING: usize = 200;

/// Where a schema sits: its property name and depth (JavaScript's context).
#[derive(Clone, Copy)]
struct Ctx<'p> {
    prop: Option<&'p str>,
    depth: usize,
}

struct Res {
    value: Option<Value>,
    ty: Option<String>,
}

fn circular(ty: Option<&str>) -> Res {
    Res {
        value: match ty {
            Some("object") => Some(Value::Object(Map::new())),
            Some("array") => Some(Value::Array(Vec::new())),
            _ => None,
        },
        ty: None,
    }
}

/// `{type: over, ...schema}`: the schema's own `type` wins.
fn type_of(schema: &Value, over: Option<&str>) -> Option<String> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_string),
        Some(_) => None,
        None => over.map(str::to_string),
    }
}

/// The sampler's `inferType`.
fn infer(schema: &Value, over: Option<&str>) -> Option<String> {
    if schema.get("type").is_some() || over.is_some() {
        return type_of(schema, over);
    }
    const KEYWORDS: &[(&str, &str)] = &[
        ("multipleOf", "number"),
        ("maximum", "number"),
        ("exclusiveMaximum", "number"),
        ("minimum", "number"),
        ("exclusiveMinimum", "number"),
        ("maxLength", "string"),
        ("minLength", "string"),
        ("pattern", "string"),
        ("items", "array"),
        ("maxItems", "array"),
        ("minItems", "array"),
        ("uniqueItems", "array"),
        ("additionalItems", "array"),
        ("maxProperties", "object"),
        ("minProperties", "object"),
        ("required", "object"),
        ("additionalProperties", "object"),
        ("properties", "object"),
        ("patternProperties", "object"),
        ("dependencies", "object"),
    ];
    KEYWORDS
        .iter()
        .find(|(k, _)| schema.get(*k).is_some())
        .map(|(_, t)| t.to_string())
}

impl<'a> Sampler<'a> {
    fn traverse(
        &mut self,
        schema: &'a Value,
        ctx: Option<Ctx<'_>>,
        over: Option<&str>,
    ) -> Result<Res, TooComplex> {
        self.ticks = self.ticks.saturating_sub(1);
        if self.ticks == 0 {
            return Err(TooComplex);
        }
        let ptr = schema as *const Value;
        if self.seen.contains(&ptr) {
            return Ok(circular(infer(schema, over).as_deref()));
        }
        if self.nesting >= MAX_NESTING {
            return Err(TooComplex);
        }
        self.seen.push(ptr);
        self.nesting += 1;
        let out = self.inner(schema, ctx, over);
        self.nesting -= 1;
        // As the sampler: only a schema reached with a context is popped.
        if ctx.is_some() {
            self.seen.pop();
        }
        out
    }

    fn inner(
        &mut self,
        schema: &'a Value,
        ctx: Option<Ctx<'_>>,
        over: Option<&str>,
    ) -> Result<Res, TooComplex> {
        if ctx.is_some_and(|c| c.depth > MAX_DEPTH) {
            return Ok(circular(infer(schema, over).as_deref()));
        }
        let Some(obj) = schema.as_object() else {
            return Ok(Res {
                value: None,
                ty: None,
            });
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let ptr = r.strip_prefix('#').unwrap_or(r).to_string();
            let Some(target) = self.doc.pointer(&ptr) else {
                return Ok(Res {
                    value: None,
                    ty: None,
                });
            };
            if self.open_refs.contains(&ptr) {
                return Ok(circular(infer(target, None).as_deref()));
            }
            self.open_refs.push(ptr);
            let res = self.traverse(target, ctx, None);
            self.open_refs.pop();
            return res;
        }
        if let Some(v) = obj.get("example") {
            return Ok(Res {
                value: Some(v.clone()),
                ty: type_of(schema, over),
            });
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            return self.all_of(schema, all, ctx, over);
        }
        for k in ["oneOf", "anyOf"] {
            if let Some(first) = obj.get(k).and_then(Value::as_array).and_then(|a| a.first()) {
                return self.traverse(first, ctx, None);
            }
        }
        if let (Some(i), Some(t)) = (obj.get("if"), obj.get("then")) {
            let merged = merge_deep(vec![i.clone(), t.clone()]);
            // A merged schema lives only here: sample it on its own.
            let mut inner = Sampler {
                doc: self.doc,
                ticks: self.ticks,
                open_refs: self.open_refs.clone(),
                seen: Vec::new(),
                nesting: self.nesting,
            };
            let res = inner.traverse(&merged, ctx, None);
            self.ticks = inner.ticks;
            return res;
        }
        let first = |k: &str| obj.get(k).and_then(Value::as_array).and_then(|a| a.first());
        let fixed = obj
            .get("default")
            .or_else(|| obj.get("const"))
            .or_else(|| first("enum"))
            .or_else(|| first("examples"));
        if let Some(v) = fixed {
            return Ok(Res {
                value: Some(v.clone()),
                ty: None,
            });
        }
        let ty = type_of(schema, over).or_else(|| infer(schema, over));
        let value = match ty.as_deref() {
            Some("object") => Some(self.object(schema, ctx)?),
            Some("array") => Some(self.array(schema, ctx)?),
            Some("string") => Some(Value::String(string(schema, ctx.and_then(|c| c.prop)))),
            Some("integer" | "number") => Some(number(schema)),
            Some("boolean") => Some(Value::Bool(true)),
            // The sampler starts from `null` and has no sampler for the rest.
            _ => Some(Value::Null),
        };
        Ok(Res { value, ty })
    }

    fn all_of(
        &mut self,
        schema: &'a Value,
        all: &'a [Value],
        ctx: Option<Ctx<'_>>,
        over: Option<&str>,
    ) -> Result<Res, TooComplex> {
        // `{...schema, allOf: undefined}`, sampled without a context.
        let mut into = schema.clone();
        if let Some(o) = into.as_object_mut() {
            o.remove("allOf");
        }
        let mut res = {
            let mut inner = Sampler {
                doc: self.doc,
                ticks: self.ticks,
                open_refs: self.open_refs.clone(),
                seen: Vec::new(),
                nesting: self.nesting,
            };
            let r = inner.traverse(&into, None, over);
            self.ticks = inner.ticks;
            r?
        };
        let mut subs = Vec::new();
        for sub in all {
            let r = self.traverse(sub, ctx, res.ty.clone().as_deref())?;
            // A part's type wins when it has one (a mismatch too, as in
            // the sampler, which only warns); else the type so far stays.
            if r.ty.is_some() {
                res.ty = r.ty;
            }
            if let Some(v) = r.value.filter(|v| !v.is_null()) {
                subs.push(v);
            }
        }
        if res.ty.as_deref() == Some("object") {
            let mut parts = vec![res
                .value
                .take()
                .filter(|v| !v.is_null())
                .unwrap_or_else(|| Value::Object(Map::new()))];
            parts.extend(subs.into_iter().filter(|v| v.is_object() || v.is_array()));
            res.value = Some(merge_deep(parts));
        } else if let Some(last) = subs.pop() {
            res.value = Some(last);
        }
        Ok(res)
    }

    fn object(&mut self, schema: &'a Value, ctx: Option<Ctx<'_>>) -> Result<Value, TooComplex> {
        let depth = ctx.map_or(1, |c| c.depth.max(1));
        let mut out = Map::new();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, p) in js_entries(props) {
                let c = Ctx {
                    prop: Some(k.as_str()),
                    depth: depth + 1,
                };
                if let Some(v) = self.traverse(p, Some(c), None)?.value {
                    out.insert(k.clone(), v);
                }
            }
        }
        if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            for name in ["property1", "property2"] {
                let c = Ctx {
                    prop: None,
                    depth: depth + 1,
                };
                if let Some(v) = self.traverse(extra, Some(c), None)?.value {
                    out.insert(name.into(), v);
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn array(&mut self, schema: &'a Value, ctx: Option<Ctx<'_>>) -> Result<Value, TooComplex> {
        let depth = ctx.map_or(1, |c| c.depth.max(1));
        let min = schema
            .get("minItems")
            .and_then(Value::as_u64)
            .filter(|n| *n > 0)
            .unwrap_or(1);
        let max = schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(u64::MAX);
        let items = schema.get("items").or_else(|| schema.get("contains"));
        let Some(items) = items else {
            return Ok(Value::Array(Vec::new()));
        };
        let mut len = min.min(max);
        if let Value::Array(tuple) = items {
            len = len.max(tuple.len() as u64);
        }
        let mut out = Vec::new();
        for i in 0..len {
            // Past a tuple's end the sampler samples `{}`: `null`.
            let item: Option<&'a Value> = match items {
                Value::Array(tuple) => tuple.get(i as usize),
                one => Some(one),
            };
            let c = Ctx {
                prop: None,
                depth: depth + 1,
            };
            let v = match item {
                Some(item) => self.traverse(item, Some(c), None)?.value,
                None => None,
            };
            out.push(v.unwrap_or(Value::Null));
        }
        Ok(Value::Array(out))
    }
}

/// The sampler's `mergeDeep`: later objects win, nested objects merge.
fn merge_deep(parts: Vec<Value>) -> Value {
    let mut out = Map::new();
    for p in parts {
        if let Value::Object(o) = p {
            for (k, v) in o {
                match (out.get_mut(&k), v) {
                    (Some(prev @ Value::Object(_)), v @ Value::Object(_)) => {
                        let old = std::mem::take(prev);
                        *prev = merge_deep(vec![old, v]);
                    }
                    (_, v) => {
                        out.insert(k, v);
                    }
                }
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::super::openapi_scalar::uuid;
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schema_that_multiplies_is_too_complex() {
        let doc = json!({"components": {"schemas": {
            "A": {"type": "array", "minItems": 1_000_000_000_000u64, "items": {"$ref": "#/components/schemas/B"}},
            "B": {"type": "array", "minItems": 1000, "items": {"type": "string"}}}}});
        assert_eq!(
            sample(&doc, &json!({"$ref": "#/components/schemas/A"})),
            Err(TooComplex)
        );
    }

    #[test]
    fn a_long_chain_of_refs_is_too_complex_not_a_stack_overflow() {
        let mut schemas = serde_json::Map::new();
        for i in 0..5000 {
            schemas.insert(
                format!("S{i}"),
                json!({"oneOf": [{"$ref": format!("#/components/schemas/S{}", i + 1)}]}),
            );
        }
        schemas.insert("S5000".into(), json!({"type": "string"}));
        let doc = json!({"components": {"schemas": schemas}});
        assert_eq!(
            sample(&doc, &json!({"$ref": "#/components/schemas/S0"})),
            Err(TooComplex)
        );
    }

    #[test]
    fn samples_as_prism_does() {
        let doc = json!({"components": {"schemas": {
            "Pet": {"allOf": [
                {"$ref": "#/components/schemas/New"},
                {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer", "format": "int64"}}}]},
            "New": {"type": "object", "properties": {"name": {"type": "string"}, "tag": {"type": "string"}}},
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}}}});
        let v = sample(
            &doc,
            &json!({"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}),
        );
        assert_eq!(
            v.unwrap().unwrap().to_string(),
            r#"[{"name":"string","tag":"string","id":-9007199254740991}]"#
        );
        let v = sample(&doc, &json!({"$ref": "#/components/schemas/Node"}))
            .unwrap()
            .unwrap();
        assert_eq!(v.to_string(), r#"{"next":{}}"#);
        let v = sample(
            &doc,
            &json!({"type": "object", "properties": {
            "when": {"type": "string", "format": "date-time"},
            "n": {"type": "number", "minimum": 1.5},
            "k": {"enum": ["b", "a"]},
            "t": {"type": ["null", "string"]},
            "m": {"type": "integer", "exclusiveMinimum": true}}}),
        );
        assert_eq!(
            v.unwrap().unwrap().to_string(),
            r#"{"when":"2019-08-24T14:15:22Z","n":1.5,"k":"b","t":null,"m":2}"#
        );
    }

    #[test]
    fn uuids_are_the_samplers_own() {
        // From node: require('@stoplight/json-schema-sampler').sample(
        //   {type:'object',properties:{id:{type:'string',format:'uuid'}}})
        assert_eq!(uuid("id"), UUID_FOR_ID);
    }

    const UUID_FOR_ID: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";

    #[test]
    fn other_uuids_and_passwords_too() {
        assert_eq!(uuid("ref"), "d0fad5d6-e996-4437-8fb9-5f40bbcfd7cc");
        assert_eq!(
            string(&json!({"format": "password", "minLength": 12}), None),
            "pa$$word_qwe"
        );
    }
}
