//! Whether this command runs under CI, and which pipeline it belongs to.
//!
//! A CI job is not a new hire: its `up` is recorded as a run of kind `ci`,
//! without an identity and without touching the onboarding timeline, and it
//! carries the provider, the pipeline or job id and the commit, from each
//! provider's standard variables. Detected here, from the captured
//! environment, like every other setting; `up --ci` forces it.

use serde::{Deserialize, Serialize};

use super::ProcessEnv;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CiProvider {
    GithubActions,
    GitlabCi,
    Jenkins,
    Buildkite,
    Circleci,
    /// `CI=true` without a provider we know, or `up --ci` outside CI.
    #[serde(other)]
    Other,
}

impl CiProvider {
    pub fn as_str(self) -> &'static str {
        match self {
            CiProvider::GithubActions => "github-actions",
            CiProvider::GitlabCi => "gitlab-ci",
            CiProvider::Jenkins => "jenkins",
            CiProvider::Buildkite => "buildkite",
            CiProvider::Circleci => "circleci",
            CiProvider::Other => "other",
        }
    }
}

/// The CI job a run belongs to. Every field but the provider is optional:
/// a bare `CI=true` names nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiRun {
    pub provider: CiProvider,
    /// The pipeline (workflow, build) the job is part of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// The job inside the pipeline, where the provider has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The commit under test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl CiRun {
    fn other() -> CiRun {
        CiRun {
            provider: CiProvider::Other,
            pipeline: None,
            job: None,
            commit: None,
        }
    }

    /// In words, for `devenv config`: `github-actions pipeline 42 commit 0a1b2c3`.
    pub fn describe(&self) -> String {
        let mut s = self.provider.as_str().to_string();
        for (what, v) in [("pipeline", &self.pipeline), ("job", &self.job)] {
            if let Some(v) = v {
                s.push_str(&format!(" {what} {v}"));
            }
        }
        if let Some(c) = &self.commit {
            s.push_str(&format!(" commit {}", &c[..c.len().min(12)]));
        }
        s
    }
}

/// These go to the platform: bounded, and only the characters ids have,
/// so a variable cannot smuggle a path or a message out.
const MAX_ID: usize = 128;

fn id(env: &ProcessEnv, var: &str) -> Option<String> {
    let v = env.var(var)?.trim();
    let ok = !v.is_empty()
        && v.len() <= MAX_ID
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then(|| v.to_string())
}

fn commit(env: &ProcessEnv, var: &str) -> Option<String> {
    let v = env.var(var)?.trim();
    let ok = (7..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| v.to_ascii_lowercase())
}

/// What each provider sets: (the variable that says "this is us",
/// pipeline, job, commit).
struct Provider {
    provider: CiProvider,
    marker: &'static str,
    pipeline: &'static str,
    job: Option<&'static str>,
    commit: &'static str,
}

const PROVIDERS: [Provider; 5] = [
    Provider {
        provider: CiProvider::GithubActions,
        marker: "GITHUB_ACTIONS",
        pipeline: "GITHUB_RUN_ID",
        // The job's name in the workflow: a matrix's jobs share a run id.
        job: Some("GITHUB_JOB"),
        commit: "GITHUB_SHA",
    },
    Provider {
        provider: CiProvider::GitlabCi,
        marker: "GITLAB_CI",
        pipeline: "CI_PIPELINE_ID",
        job: Some("CI_JOB_ID"),
        commit: "CI_COMMIT_SHA",
    },
    Provider {
        provider: CiProvider::Jenkins,
        marker: "JENKINS_URL",
        // jenkins-${JOB_NAME}-${BUILD_NUMBER}: unique per build.
        pipeline: "BUILD_TAG",
        job: None,
        commit: "GIT_COMMIT",
    },
    Provider {
        provider: CiProvider::Buildkite,
        marker: "BUILDKITE",
        pipeline: "BUILDKITE_BUILD_ID",
        job: Some("BUILDKITE_JOB_ID"),
        commit: "BUILDKITE_COMMIT",
    },
    Provider {
        provider: CiProvider::Circleci,
        marker: "CIRCLECI",
        pipeline: "CIRCLE_WORKFLOW_ID",
        job: Some("CIRCLE_BUILD_NUM"),
        commit: "CIRCLE_SHA1",
    },
];

/// Every variable detection reads, for tests that must not inherit them.
pub const VARIABLES: &[&str] = &[
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_RUN_ID",
    "GITHUB_JOB",
    "GITHUB_SHA",
    "GITLAB_CI",
    "CI_PIPELINE_ID",
    "CI_JOB_ID",
    "CI_COMMIT_SHA",
    "JENKINS_URL",
    "BUILD_ID",
    "BUILD_TAG",
    "GIT_COMMIT",
    "BUILDKITE",
    "BUILDKITE_BUILD_ID",
    "BUILDKITE_JOB_ID",
    "BUILDKITE_COMMIT",
    "CIRCLECI",
    "CIRCLE_WORKFLOW_ID",
    "CIRCLE_BUILD_NUM",
    "CIRCLE_SHA1",
];

/// The CI job this process runs in, and the variable that said so.
pub fn detect(env: &ProcessEnv) -> Option<(CiRun, &'static str)> {
    for p in &PROVIDERS {
        // JENKINS_URL is a URL, the others are `true`.
        let on = if p.provider == CiProvider::Jenkins {
            env.var(p.marker).is_some()
        } else {
            env.flag(p.marker)
        };
        if on {
            let run = CiRun {
                provider: p.provider,
                pipeline: id(env, p.pipeline),
                job: p.job.and_then(|j| id(env, j)),
                commit: commit(env, p.commit),
            };
            return Some((run, p.marker));
        }
    }
    // Jenkins agents that do not export JENKINS_URL still tag the build.
    if env.var("BUILD_ID").is_some()
        && id(env, "BUILD_TAG").is_some_and(|t| t.starts_with("jenkins-"))
    {
        let run = CiRun {
            provider: CiProvider::Jenkins,
            pipeline: id(env, "BUILD_TAG"),
            job: None,
            commit: commit(env, "GIT_COMMIT"),
        };
        return Some((run, "BUILD_ID"));
    }
    env.flag("CI").then(|| (CiRun::other(), "CI"))
}

/// `up --ci`: what the environment says, or a CI run of no known provider.
pub fn forced(env: &ProcessEnv) -> CiRun {
    detect(env).map(|(run, _)| run).unwrap_or_else(CiRun::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ProcessEnv {
        ProcessEnv::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn each_provider_names_its_pipeline_job_and_commit() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let cases = [
            (
                vec![
                    ("GITHUB_ACTIONS", "true"),
                    ("GITHUB_RUN_ID", "991"),
                    ("GITHUB_JOB", "test"),
                    ("GITHUB_SHA", sha),
                ],
                CiProvider::GithubActions,
                Some("991"),
                Some("test"),
            ),
            (
                vec![
                    ("GITLAB_CI", "true"),
                    ("CI_PIPELINE_ID", "12"),
                    ("CI_JOB_ID", "345"),
                    ("CI_COMMIT_SHA", sha),
                ],
                CiProvider::GitlabCi,
                Some("12"),
                Some("345"),
            ),
            (
                vec![
                    ("JENKINS_URL", "https://ci.corp/"),
                    ("BUILD_TAG", "jenkins-shop-7"),
                    ("GIT_COMMIT", sha),
                ],
                CiProvider::Jenkins,
                Some("jenkins-shop-7"),
                None,
            ),
            (
                vec![
                    ("BUILDKITE", "true"),
                    ("BUILDKITE_BUILD_ID", "b-1"),
                    ("BUILDKITE_JOB_ID", "j-2"),
                    ("BUILDKITE_COMMIT", sha),
                ],
                CiProvider::Buildkite,
                Some("b-1"),
                Some("j-2"),
            ),
            (
                vec![
                    ("CIRCLECI", "true"),
                    ("CIRCLE_WORKFLOW_ID", "w-9"),
                    ("CIRCLE_BUILD_NUM", "88"),
                    ("CIRCLE_SHA1", sha),
                ],
                CiProvider::Circleci,
                Some("w-9"),
                Some("88"),
            ),
        ];
        for (mut vars, provider, pipeline, job) in cases {
            // Every provider also sets CI=true; the provider wins.
            vars.push(("CI", "true"));
            let (run, _) = detect(&env(&vars)).unwrap();
            assert_eq!(run.provider, provider);
            assert_eq!(run.pipeline.as_deref(), pipeline, "{provider:?}");
            assert_eq!(run.job.as_deref(), job, "{provider:?}");
            assert_eq!(run.commit.as_deref(), Some(sha));
        }
    }

    #[test]
    fn a_laptop_is_not_ci_and_ci_false_means_no() {
        assert_eq!(detect(&env(&[])), None);
        assert_eq!(detect(&env(&[("CI", "false")])), None);
        assert_eq!(detect(&env(&[("BUILD_ID", "20260301")])), None);
        let (run, var) = detect(&env(&[("CI", "1")])).unwrap();
        assert_eq!((run.provider, var), (CiProvider::Other, "CI"));
    }

    #[test]
    fn ids_that_are_not_ids_are_not_sent() {
        let (run, _) = detect(&env(&[
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_ID", "/home/ann/secret"),
            ("CI_COMMIT_SHA", "not a sha"),
        ]))
        .unwrap();
        assert_eq!(run.pipeline, None);
        assert_eq!(run.commit, None);
    }
}
