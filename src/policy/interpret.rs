//! Turning what the policies returned into a verdict: risk, roles, and findings located at the
//! manifest field a rule names, with deadlines for warnings; anything malformed is a policy error.

use regorus::Value;

use super::{AppVerdict, PolicySet, RULES, Risk, locate_error, policy_finding};
use crate::diagnostics::{Code, Finding, Severity, SourceFile, lookup};

impl PolicySet {
    /// Turns gathered decisions (fresh or cached) into a verdict with located findings.
    pub fn interpret(
        &self,
        raw: Result<Value, String>,
        manifest: Option<(&SourceFile, &crate::manifest::Spans)>,
        app_id: &str,
        deadline: chrono::NaiveDate,
        grace: chrono::Duration,
    ) -> AppVerdict {
        let mut verdict = AppVerdict::default();
        let sources = &self.sources;
        let fail = |v: &mut AppVerdict, msg: String| {
            let (at, msg) = locate_error(&msg, sources);
            v.findings
                .push(policy_finding(Code::POLICY_ERROR, msg, at, sources).for_app(app_id));
            // a policy that fails can never let an app through
            v.risk = Risk::High;
        };
        let result = match raw {
            Ok(v) => v,
            Err(e) => {
                let rule = RULES
                    .iter()
                    .find(|r| e.contains(&format!("data.bazaar.{r}")))
                    .copied()
                    .unwrap_or("deny/warn/risk/required_roles");
                fail(
                    &mut verdict,
                    format!("policy rule `{rule}` failed for {app_id}: {e}"),
                );
                return verdict;
            }
        };
        let part = |name: &str| {
            result
                .as_object()
                .ok()
                .and_then(|o| o.get(&Value::from(name)).cloned())
                .unwrap_or(Value::Null)
        };
        for (rule, severity) in [("deny", Severity::Error), ("warn", Severity::Warning)] {
            match part(rule) {
                Value::Null | Value::Undefined => {}
                v if count(&v) > self.limits.findings_per_app => {
                    // a runaway rule: its findings are not kept (millions of them took
                    // gigabytes), the app is blocked and the rule named
                    verdict.findings.push(
                        Finding::new(
                            Code::POLICY_LIMIT,
                            format!(
                                "policy rule `{rule}` produced {} findings for {app_id}; at most {} are allowed per app",
                                count(&v),
                                self.limits.findings_per_app
                            ),
                        )
                        .help("make the rule emit one finding per problem; `bazaar policy test` runs the policies locally")
                        .for_app(app_id),
                    );
                    verdict.risk = Risk::High;
                }
                v => match findings_of(rule, &v, severity, manifest, app_id, (deadline, grace)) {
                    Ok(fs) => verdict.findings.extend(fs),
                    Err(msg) => fail(&mut verdict, msg),
                },
            }
        }
        match part("risk") {
            Value::Null | Value::Undefined => {}
            v => match v.as_string().ok().map(|s| s.to_string()).as_deref() {
                Some("low") => verdict.risk = verdict.risk.max(Risk::Low),
                Some("medium") => verdict.risk = verdict.risk.max(Risk::Medium),
                Some("high") => verdict.risk = Risk::High,
                _ => fail(
                    &mut verdict,
                    format!(
                        "policy rule `risk` returned {} for {app_id}; it must be \"low\", \"medium\" or \"high\"",
                        short(&v)
                    ),
                ),
            },
        }
        {
            match part("required_roles") {
                Value::Null | Value::Undefined => {}
                v => {
                    let items: Option<Vec<Value>> = v
                        .as_set()
                        .ok()
                        .map(|s| s.iter().cloned().collect())
                        .or_else(|| v.as_array().ok().map(|a| a.to_vec()));
                    match items {
                        Some(items) => {
                            for item in items {
                                match item.as_string() {
                                    Ok(role) if self.known_roles.contains(role.as_ref()) => {
                                        verdict.required_roles.insert(role.to_string());
                                    }
                                    Ok(role) => {
                                        let known: Vec<&str> =
                                            self.known_roles.iter().map(String::as_str).collect();
                                        verdict.findings.push(
                                            Finding::new(Code::UNKNOWN_ROLE, format!("policies require role {role:?} for {app_id}, which {} does not define", crate::review::ROSTER_PATH))
                                                .help(format!("known roles: {}; add the role to the roster or correct the policy", known.join(", ")))
                                                .for_app(app_id),
                                        );
                                    }
                                    Err(_) => fail(
                                        &mut verdict,
                                        format!(
                                            "policy rule `required_roles` holds {} for {app_id}; it must hold role names",
                                            short(&item)
                                        ),
                                    ),
                                }
                            }
                        }
                        None => fail(
                            &mut verdict,
                            format!(
                                "policy rule `required_roles` returned {} for {app_id}; it must be a set of role names",
                                short(&v)
                            ),
                        ),
                    }
                }
            }
        }
        verdict
    }
}

/// How many elements a set or array holds (0 for anything else).
fn count(v: &Value) -> usize {
    match (v.as_set(), v.as_array()) {
        (Ok(s), _) => s.len(),
        (_, Ok(a)) => a.len(),
        _ => 0,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_json_str().unwrap_or_else(|_| format!("{v:?}"));
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// Turns a `deny`/`warn` value into findings. A warning's deadline is the element's own
/// `deadline`, or `since` plus the grace period, or the default (last review plus the grace).
fn findings_of(
    rule: &str,
    v: &Value,
    severity: Severity,
    manifest: Option<(&SourceFile, &crate::manifest::Spans)>,
    app_id: &str,
    (deadline, grace): (chrono::NaiveDate, chrono::Duration),
) -> Result<Vec<Finding>, String> {
    let items: Vec<Value> = match (v.as_set(), v.as_array()) {
        (Ok(s), _) => s.iter().cloned().collect(),
        (_, Ok(a)) => a.to_vec(),
        _ => {
            return Err(format!(
                "policy rule `{rule}` returned {} for {app_id}; it must be a set of messages or {{msg, field, code}} objects",
                short(v)
            ));
        }
    };
    let mut out = Vec::new();
    for item in items {
        let (msg, field, code, own_deadline) = if let Ok(s) = item.as_string() {
            (s.to_string(), None, None, None)
        } else if let Ok(obj) = item.as_object() {
            let get = |k: &str| {
                obj.get(&Value::from(k))
                    .and_then(|v| v.as_string().ok())
                    .map(|s| s.to_string())
            };
            let Some(msg) = get("msg") else {
                return Err(format!(
                    "policy rule `{rule}` produced {} for {app_id}, which has no string \"msg\"",
                    short(&item)
                ));
            };
            let deadline = get("deadline").or_else(|| get("since").map(|s| format!("since:{s}")));
            (msg, get("field"), get("code"), deadline)
        } else {
            return Err(format!(
                "policy rule `{rule}` produced {} for {app_id}; each element must be a message or an object with \"msg\"",
                short(&item)
            ));
        };
        let default_code = if severity == Severity::Error {
            Code::POLICY_DENY
        } else {
            Code::POLICY_WARN
        };
        let code = match code.as_deref().map(lookup) {
            None => default_code,
            Some(Some(info)) if info.code.starts_with("BZ03") => Code::from_table(info),
            Some(_) => {
                return Err(format!(
                    "policy rule `{rule}` used code {:?} for {app_id}; use a BZ03xx code from `bazaar explain` or none",
                    code.unwrap_or_default()
                ));
            }
        };
        // a message is one line of text for a person, not a payload
        let msg = if msg.chars().count() > 1000 {
            format!(
                "{}… (cut at 1000 characters)",
                msg.chars().take(1000).collect::<String>()
            )
        } else {
            msg
        };
        let mut f = Finding::new(code, msg).severity(severity).for_app(app_id);
        if severity == Severity::Warning {
            let date = |d: &str| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
            let due = match own_deadline.as_deref() {
                Some(d) if d.starts_with("since:") => date(&d[6..]).map(|s| s + grace),
                Some(d) => date(d),
                None => None,
            }
            .unwrap_or(deadline);
            f.deadline = Some(due);
            f.help = Some(format!(
                "fix by {due}; after that the app is flagged maintenance-required"
            ));
        }
        if let Some((file, spans)) = manifest {
            f = match field.as_deref().and_then(|p| spans.get(p)) {
                Some(span) => f.at(file, span),
                None => f.in_file(file),
            };
        }
        out.push(f);
    }
    Ok(out)
}
