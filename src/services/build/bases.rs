//! Base images through the registry mirror.
//!
//! `registry_mirror` sends every Docker Hub pull of `up` to the mirror,
//! but the builder pulls a Dockerfile's `FROM` images itself, from Docker
//! Hub: where only the mirror is reachable, every build failed. So before
//! a build, each Docker Hub base image that the engine lacks is pulled
//! through the mirror and tagged with the name the Dockerfile uses, which
//! both builders then find locally. The Dockerfile is left as written, so
//! the image holds what compose's would (`COPY .` includes it).

use super::{BuildError, EnsureRequest, Prepared};
use crate::manifest::model::PullPolicy;
use crate::services::images::{self, ImageRef};

/// The external images a Dockerfile's `FROM` lines name, in order:
/// not `scratch`, not an earlier stage, and nothing built from an `ARG`
/// (`$`), which only the build knows.
pub fn from_images(dockerfile: &str) -> Vec<String> {
    let mut stages: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    // Continuation lines joined, as the parser reads them.
    let joined = dockerfile.replace("\\\r\n", " ").replace("\\\n", " ");
    for line in joined.lines() {
        let mut words = line.split_whitespace();
        if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("from")) {
            continue;
        }
        let mut words = words.skip_while(|w| w.starts_with("--"));
        let Some(image) = words.next() else { continue };
        // Only stages declared above can be named.
        let lower = image.to_ascii_lowercase();
        let external = lower != "scratch" && !image.contains('$') && !stages.contains(&lower);
        if external && !out.iter().any(|o| o == image) {
            out.push(image.to_string());
        }
        if let (Some(as_), Some(name)) = (words.next(), words.next()) {
            if as_.eq_ignore_ascii_case("as") {
                stages.push(name.to_ascii_lowercase());
            }
        }
    }
    out
}

/// Makes each Docker Hub base image of `p` present under its own name,
/// pulled through the mirror when the engine lacks it.
pub async fn through_mirror(
    req: &EnsureRequest<'_>,
    mirror: &str,
    p: &Prepared,
) -> Result<(), BuildError> {
    let path = std::path::Path::new(&p.dockerfile);
    let Ok(text) = crate::confine::read_to_string(&p.context.root, path) else {
        // Unreadable here: the build says so with the builder's words.
        return Ok(());
    };
    let always = req.policy.pull == PullPolicy::Always && !req.policy.offline;
    for base in from_images(&text) {
        let wanted = ImageRef::parse(&base);
        let mirrored = wanted.clone().with_mirror(Some(mirror));
        if mirrored == wanted {
            continue;
        }
        let name = wanted.to_string();
        if !always && req.engine.docker.inspect_image(&name).await.is_ok() {
            continue;
        }
        images::ensure(req.engine, &mirrored, req.policy, req.reporter)
            .await
            .map_err(|source| BuildError::Base {
                service: p.service.clone(),
                base: base.clone(),
                source,
            })?;
        super::run::tag(req.engine, &mirrored.to_string(), &name).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_bases_only_and_each_once() {
        let file = "\
# syntax=docker/dockerfile:1
ARG BASE=alpine:3.20
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
RUN go build
from build AS test
FROM ${BASE}
FROM scratch
FROM \\
  golang:1.22
FROM registry.example.com/team/base:1 as final
COPY --from=build /app /app
";
        assert_eq!(
            from_images(file),
            ["golang:1.22", "registry.example.com/team/base:1"]
        );
    }

    #[test]
    fn a_stage_named_like_an_image_is_the_stage_after_it_is_declared() {
        assert_eq!(
            from_images("FROM node:20 AS node\nFROM node\n"),
            ["node:20"]
        );
    }
}
