//! `devenv logs [NAME…] [--follow] [--tail N] [--since WHEN]`: one log as
//! it is, or several (all, when none is named) interleaved by time, each
//! line prefixed with its name, like `docker compose logs`.

use chrono::{DateTime, Utc};

use crate::cli::args::LogsArgs;
use crate::cli::App;
use crate::error::Error;
use crate::session::{self, AllLogsRequest, Live, LogsRequest};
use crate::settings::Flags;

pub fn run(app: &mut App, args: LogsArgs) -> Result<i32, Error> {
    let manifest = app.manifest()?;
    let settings = app.settings(Some(&manifest), &Flags::default())?;
    let s = app.session(&manifest, &settings);
    let since = args.since.as_deref().map(since).transpose()?;
    let printer = &app.printer;
    if let ([name], None) = (args.names.as_slice(), since) {
        let req = LogsRequest {
            name,
            follow: args.follow,
            tail: args.tail,
        };
        session::logs(&s, &Live::new(), &req, &mut |line| printer.data(line))?;
        return Ok(0);
    }
    let names: Vec<&str> = if args.names.is_empty() {
        manifest.names().collect()
    } else {
        args.names.iter().map(String::as_str).collect()
    };
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    let prefixed = names.len() > 1;
    let req = AllLogsRequest {
        names: &args.names,
        follow: args.follow,
        tail: args.tail,
        since,
    };
    session::logs_all(&s, &Live::new(), &req, &mut |name, line| {
        if prefixed {
            let i = names.iter().position(|n| *n == name).unwrap_or(0);
            printer.data(&format!("{}{line}", printer.log_prefix(name, width, i)));
        } else {
            printer.data(line);
        }
    })?;
    Ok(0)
}

/// `10m` ago, or an RFC 3339 time.
fn since(text: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    crate::manifest::schema::parse_duration(text)
        .ok()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| Utc::now() - d)
        .ok_or_else(|| {
            Error::usage(
                format!("--since `{text}` is neither a duration nor a time"),
                Some(
                    "write it like --since 10m, --since 2h or --since 2026-12-01T09:00:00Z".into(),
                ),
            )
        })
}
