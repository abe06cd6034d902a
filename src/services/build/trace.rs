//! BuildKit's progress, as the engine's `/build` endpoint streams it: each
//! `moby.buildkit.trace` line carries a base64 `StatusResponse` protobuf
//! (moby/buildkit `api/services/control/control.proto`). Only the fields a
//! progress line and a failure need are read: each vertex's digest, name,
//! started/completed/error, and the log bytes of each vertex.
//!
//! Hand-decoded: the protobuf wire format is five rules (varint, fixed64,
//! length-delimited, fixed32, and skipping the rest), and the crates that
//! generate these messages (bollard's `buildkit` feature) bring gRPC, tonic
//! and a code generator for four messages.

/// One trace message.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub vertexes: Vec<Vertex>,
    pub logs: Vec<VertexLog>,
}

/// A build step (`[2/4] COPY src/ ./src/`) or an internal one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Vertex {
    pub digest: String,
    pub name: String,
    pub cached: bool,
    pub started: bool,
    pub completed: bool,
    pub error: String,
}

/// Output of a step's process.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct VertexLog {
    pub vertex: String,
    pub msg: Vec<u8>,
}

/// Why a trace could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

/// Decodes the base64 text of one `aux`.
pub fn decode_aux(aux: &str) -> Result<Status, Malformed> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(aux)
        .map_err(|_| Malformed)?;
    decode_status(&raw)
}

fn decode_status(buf: &[u8]) -> Result<Status, Malformed> {
    let mut status = Status::default();
    for field in Fields(buf) {
        match field? {
            (1, Value::Bytes(b)) => status.vertexes.push(decode_vertex(b)?),
            (3, Value::Bytes(b)) => status.logs.push(decode_log(b)?),
            _ => {}
        }
    }
    Ok(status)
}

fn decode_vertex(buf: &[u8]) -> Result<Vertex, Malformed> {
    let mut v = Vertex::default();
    for field in Fields(buf) {
        match field? {
            (1, Value::Bytes(b)) => v.digest = text(b),
            (3, Value::Bytes(b)) => v.name = text(b),
            (4, Value::Varint(n)) => v.cached = n != 0,
            (5, Value::Bytes(_)) => v.started = true,
            (6, Value::Bytes(_)) => v.completed = true,
            (7, Value::Bytes(b)) => v.error = text(b),
            _ => {}
        }
    }
    Ok(v)
}

fn decode_log(buf: &[u8]) -> Result<VertexLog, Malformed> {
    let mut l = VertexLog::default();
    for field in Fields(buf) {
        match field? {
            (1, Value::Bytes(b)) => l.vertex = text(b),
            (4, Value::Bytes(b)) => l.msg = b.to_vec(),
            _ => {}
        }
    }
    Ok(l)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// The fields of one message, in order.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        Some(self.field())
    }
}

impl<'a> Fields<'a> {
    fn field(&mut self) -> Result<(u64, Value<'a>), Malformed> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Varint(self.varint()?),
            1 => self.take(8).map(|_| Value::Fixed)?,
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| Malformed)?;
                Value::Bytes(self.take(len)?)
            }
            5 => self.take(4).map(|_| Value::Fixed)?,
            // Groups (3, 4) are long deprecated and not in these messages.
            _ => return Err(Malformed),
        };
        Ok((key >> 3, value))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.0.len() < n {
            return Err(Malformed);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn varint(&mut self) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let [byte, rest @ ..] = self.0 else {
                return Err(Malformed);
            };
            self.0 = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real trace line from Docker 20.10 (`RUN` of a build that failed):
    /// its vertex, named, started, completed, with an error.
    #[test]
    fn a_real_trace_from_the_engine_decodes() {
        let aux = "CosBCkdzaGEyNTY6MWRmOWIwMzhiOTZkNGE1YjUxZmE0Mjk2MjM1MjM2NzNlMGQ3ODg5NTU2Y2JkMmE0ZmQ1NzljMDBlMTM3YzI3YxokW2ludGVybmFsXSBsb2FkIHJlbW90ZSBidWlsZCBjb250ZXh0KgwI9s292AYQs/zzjgMyDAj2zb3YBhDPg4GXAw==";
        let status = decode_aux(aux).unwrap();
        assert_eq!(status.vertexes.len(), 1);
        let v = &status.vertexes[0];
        assert_eq!(v.name, "[internal] load remote build context");
        assert!(v.digest.starts_with("sha256:1df9b038"));
        assert!(v.started && v.completed && !v.cached);
        assert!(v.error.is_empty());
    }

    fn field(n: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(n << 3 | 2) as u8, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn a_log_and_a_failed_vertex_decode() {
        let vertex = [
            field(1, b"sha256:aa"),
            field(3, b"[2/2] RUN false"),
            field(5, &[8, 1]),
            field(7, b"exit code: 1"),
        ]
        .concat();
        let log = [field(1, b"sha256:aa"), vec![3 << 3, 2], field(4, b"oops\n")].concat();
        let msg = [field(1, &vertex), field(3, &log)].concat();
        let status = decode_status(&msg).unwrap();
        assert_eq!(status.vertexes[0].error, "exit code: 1");
        assert!(status.vertexes[0].started && !status.vertexes[0].completed);
        assert_eq!(status.logs[0].vertex, "sha256:aa");
        assert_eq!(status.logs[0].msg, b"oops\n");
    }

    #[test]
    fn truncated_or_garbage_input_is_malformed_not_a_panic() {
        assert_eq!(decode_status(&[0x0a, 0x05, 1]), Err(Malformed));
        assert_eq!(decode_status(&[0xff; 11]), Err(Malformed));
        assert_eq!(decode_status(&[0x0b]), Err(Malformed));
        assert_eq!(decode_aux("not base64!"), Err(Malformed));
        assert_eq!(decode_status(&[]), Ok(Status::default()));
    }
}
