//! `common::Server`s for the render tests: a JSON document server and a
//! Consul KV server following Consul's documented HTTP API
//! (https://developer.hashicorp.com/consul/api-docs/kv): `GET /v1/kv/<key>`
//! with `?recurse=true`, entries `{"LockIndex","Key","Flags","Value","CreateIndex","ModifyIndex"}`
//! with base64 values, 404 when nothing matches, `X-Consul-Token` checked
//! against an ACL token (403 "Permission denied" otherwise).
#![allow(dead_code)]

use std::collections::BTreeMap;

use base64::Engine as _;

use crate::common::{Response, Server};

/// Serves one JSON document at any path; checks a bearer token if given.
pub fn json_server(doc: serde_json::Value, token: Option<&str>) -> Server {
    let token = token.map(str::to_string);
    let server = Server::start();
    server.respond_with(move |req| {
        if let Some(t) = &token {
            if req.header("authorization") != Some(format!("Bearer {t}").as_str()) {
                return Response::json(403, "{\"error\":\"forbidden\"}");
            }
        }
        Response::json(200, doc.to_string())
    });
    server
}

/// A Consul agent's KV endpoint over `kv` (key -> raw value).
pub fn consul_server(kv: BTreeMap<String, String>, acl_token: Option<&str>) -> Server {
    let token = acl_token.map(str::to_string);
    let server = Server::start();
    server.respond_with(move |req| {
        if let Some(t) = &token {
            if req.header("x-consul-token") != Some(t.as_str()) {
                return Response::json(403, "Permission denied");
            }
        }
        let Some(key) = req.path().strip_prefix("/v1/kv/") else {
            return Response::json(404, "");
        };
        let key = key.replace("%20", " ");
        let recurse = req
            .query()
            .split('&')
            .any(|q| q == "recurse" || q == "recurse=true");
        let entries: Vec<serde_json::Value> = kv
            .iter()
            .filter(|(k, _)| {
                if recurse {
                    k.starts_with(&key)
                } else {
                    **k == key
                }
            })
            .enumerate()
            .map(|(i, (k, v))| {
                serde_json::json!({
                    "LockIndex": 0,
                    "Key": k,
                    "Flags": 0,
                    "Value": if k.ends_with('/') { serde_json::Value::Null } else {
                        base64::engine::general_purpose::STANDARD.encode(v).into()
                    },
                    "CreateIndex": 100 + i,
                    "ModifyIndex": 200 + i,
                })
            })
            .collect();
        if entries.is_empty() {
            return Response::json(404, "");
        }
        Response::json(200, serde_json::Value::Array(entries).to_string())
    });
    server
}
