//! Archives built in the tool tests, each holding shell-script "tools",
//! and their checksums. The tests serve them with `common::Server`.
#![allow(dead_code)]

use std::io::Write;

pub fn script(name: &str, version: &str) -> Vec<u8> {
    format!("#!/bin/sh\necho \"{name} {version} $*\"\n").into_bytes()
}

/// (path, body, mode) entries -> tar bytes.
pub fn tar(entries: &[(&str, Vec<u8>, u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, body, mode) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(*mode);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, &body[..]).unwrap();
    }
    b.into_inner().unwrap()
}

/// A tar with a raw entry name (bypassing the builder's own `..` checks).
pub fn tar_raw(name: &str, body: &[u8], link: Option<&str>) -> Vec<u8> {
    let mut h = tar::Header::new_old();
    {
        let raw = h.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(l) = link {
            raw.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
    }
    h.set_size(if link.is_some() { 0 } else { body.len() as u64 });
    h.set_mode(0o755);
    h.set_entry_type(if link.is_some() {
        tar::EntryType::Symlink
    } else {
        tar::EntryType::Regular
    });
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    if link.is_none() {
        out.extend_from_slice(body);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lzma_rs::xz_compress(&mut std::io::Cursor::new(bytes), &mut out).unwrap();
    out
}

pub fn zip(entries: &[(&str, Vec<u8>, u32)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, body, mode) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(*mode);
        w.start_file(*path, opts).unwrap();
        w.write_all(body).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
