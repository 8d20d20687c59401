//! `bazaar policy test`: every `test_` rule of `policies/*.rego`, as `opa test` runs them.

use serde::Serialize;

use super::{PolicySet, locate_error};
use crate::catalog::{Snapshot, SnapshotError};

/// The result of one test rule.
#[derive(Debug, Clone, Serialize)]
pub struct TestOutcome {
    /// The policy file.
    pub file: String,
    /// Line of the rule.
    pub line: usize,
    /// `data.<package>.<rule>`.
    pub rule: String,
    /// True when the rule evaluated to `true`.
    pub passed: bool,
    /// Why it failed: false/undefined, or the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn package_of(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("package "))
        .map(|p| p.trim().to_string())
}

/// Runs every test rule. Policies that do not load are returned as errors in `PolicySet::errors`
/// (the caller reports them); tests run on what loaded.
pub fn run_tests(
    snap: &Snapshot,
    ctx: &crate::context::Context,
) -> Result<(PolicySet, Vec<TestOutcome>), SnapshotError> {
    let mut set = PolicySet::load(snap, true, ctx)?;
    let mut out = Vec::new();
    let files: Vec<(String, String)> = set
        .sources
        .iter()
        .filter(|(p, _)| p.ends_with(".rego"))
        .map(|(p, s)| (p.clone(), s.text.to_string()))
        .collect();
    for (path, text) in files {
        let Some(pkg) = package_of(&text) else {
            continue;
        };
        let mut seen = std::collections::BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            if !line.starts_with("test_") {
                continue;
            }
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !seen.insert(name.clone()) {
                continue;
            }
            let rule = format!("data.{pkg}.{name}");
            let (passed, error) = match set.engine.eval_rule(rule.clone()) {
                Ok(v) if v == regorus::Value::from(true) => (true, None),
                Ok(regorus::Value::Undefined) => (
                    false,
                    Some("undefined (a condition in the test did not hold)".to_string()),
                ),
                Ok(v) => (false, Some(format!("evaluated to {v}"))),
                Err(e) => (false, Some(locate_error(&e.to_string(), &set.sources).1)),
            };
            out.push(TestOutcome {
                file: path.clone(),
                line: i + 1,
                rule,
                passed,
                error,
            });
        }
    }
    Ok((set, out))
}
