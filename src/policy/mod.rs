//! Policy as code: `policies/*.rego` evaluated in process with regorus. For each app the
//! policies decide `deny` findings (block), `warn` findings (pass, with a deadline), the `risk`
//! class and the `required_roles`. Policies are data in the catalog repository and, for a
//! submission, always come from its base revision.

mod cache;
mod evaluate;
mod input;
mod interpret;
mod tests;
pub mod worker;

pub use evaluate::{
    evaluate_apps, evaluate_apps_isolated, evaluate_apps_until, sbom_input, warnings_then,
};

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use regorus::{Engine, Value};
use serde::Serialize;

use crate::catalog::{Catalog, Snapshot, SnapshotError};
use crate::context::{Context, Limits};
use crate::diagnostics::{Code, Finding, SourceFile};

pub use input::{InputContext, app_input, catalog_data};
pub use tests::{TestOutcome, run_tests};

/// Where policies live.
pub const POLICY_DIR: &str = "policies/";
/// Largest policy or data file read.
const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// The risk class of an app or submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Read-only, public or internal data: auto-approved once checks pass.
    #[default]
    Low,
    /// Write scopes, third parties, confidential data: security and product owner.
    Medium,
    /// PII/PHI or data leaving the company: adds legal and compliance.
    High,
}

impl Risk {
    /// The word.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// What the policies decided about one app.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AppVerdict {
    /// The risk class.
    pub risk: Risk,
    /// Roles that must approve.
    pub required_roles: BTreeSet<String>,
    /// deny (error) and warn (warning) findings, and policy errors.
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// Loaded, compiled policies of one revision.
#[derive(Clone)]
pub struct PolicySet {
    engine: Engine,
    /// Which of the decision rules the policies define.
    rules: BTreeSet<&'static str>,
    /// Problems loading the policies: when non-empty, nothing can pass.
    pub errors: Vec<Finding>,
    /// Sources of the policy files, for snippets.
    pub sources: BTreeMap<String, SourceFile>,
    /// Roles the roster defines (required roles must be among them).
    pub known_roles: BTreeSet<String>,
    /// True once the engine has analysed the policies (cleared when data changes).
    prepared: bool,
    /// The decisions compiled to regorus' bytecode VM, when the run opted into it; `None`
    /// evaluates with the strict interpreter.
    program: Option<std::sync::Arc<regorus::rvm::program::Program>>,
    /// The engine the run asked for (part of every cached decision's key).
    engine_kind: crate::context::Engine,
    /// Bounds on evaluation.
    limits: Limits,
}

const RULES: [&str; 4] = ["deny", "warn", "risk", "required_roles"];

/// The rule whose findings are warnings.
pub const WARN_RULE: &str = "data.bazaar.warn";

/// Bazaar's own module that gathers the four decisions into one value.
const RESULT_PACKAGE: &str = "data.bazaar_result";

fn result_module(rules: &BTreeSet<&'static str>) -> String {
    let mut m = String::from("package bazaar_result\n\n");
    let mut fields = Vec::new();
    for r in RULES {
        m.push_str(&format!("default {r} := null\n"));
        if rules.contains(r) {
            m.push_str(&format!("{r} := data.bazaar.{r}\n"));
        }
        fields.push(format!("\"{r}\": {r}"));
    }
    m.push_str(&format!("\nresult := {{{}}}\n", fields.join(", ")));
    m
}

/// Splits a regorus error message into a location (from its `--> path:line:col` line, or a
/// leading `path:line:col:`) and the message text without the source snippet.
pub(crate) fn locate_error(
    msg: &str,
    sources: &BTreeMap<String, SourceFile>,
) -> (Option<(String, usize, usize)>, String) {
    let mut at = None;
    for line in msg.lines() {
        let l = line.trim().trim_start_matches("-->").trim();
        let mut parts = l.rsplitn(3, ':');
        if let (Some(c), Some(n), Some(path)) = (parts.next(), parts.next(), parts.next()) {
            let path = path.trim();
            if let (Ok(n), Ok(c)) = (
                n.trim().parse::<usize>(),
                c.split_whitespace().next().unwrap_or("").parse::<usize>(),
            ) && sources.contains_key(path)
            {
                at = Some((path.to_string(), n, c));
                break;
            }
        }
    }
    let text: Vec<&str> = msg
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("-->")
                && !l.starts_with('|')
                && !l
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() && l.contains(" |"))
        })
        .collect();
    let text = text.join(" ").replace("error: ", "");
    (at, text)
}

/// A finding at a line and column of a policy file.
pub(crate) fn policy_finding(
    code: Code,
    msg: String,
    at: Option<(String, usize, usize)>,
    sources: &BTreeMap<String, SourceFile>,
) -> Finding {
    let mut f = Finding::new(code, msg)
        .help("fix the policy at this position; `bazaar policy test` runs the policies' tests");
    if let Some((path, line, col)) = at
        && let Some(src) = sources.get(&path)
    {
        let start = offset_of(&src.text, line, col);
        let end = src.text[start..]
            .find('\n')
            .map_or(src.text.len(), |e| start + e);
        f = f.at(src, start..end.max(start));
    }
    f
}

/// The byte offset of a 1-based line and column (in characters, as the engine counts them),
/// clamped to the text and always on a character boundary: an engine's column may count a tab
/// as several columns or bytes as characters, and must never make a slice panic.
pub(crate) fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..];
    let line_text = &line_text[..line_text.find('\n').unwrap_or(line_text.len())];
    start
        + line_text
            .char_indices()
            .nth(col.saturating_sub(1))
            .map_or(line_text.len(), |(i, _)| i)
}

impl PolicySet {
    /// Compiles the policies of a snapshot (`policies/*.rego`, without tests unless
    /// `with_tests`), their data (`policies/*.json`, `policies/*.toml` as `data.<stem>`) and the
    /// roster's role names. Problems are kept in `errors`, never panics.
    pub fn load(
        snap: &Snapshot,
        with_tests: bool,
        ctx: &Context,
    ) -> Result<PolicySet, SnapshotError> {
        let mut engine = Engine::new();
        engine.set_rego_v0(false);
        engine.set_strict_builtin_errors(true);
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: ctx.limits.policy_eval,
            check_interval: NonZeroU32::new(64).expect("non-zero"),
        });
        let mut set = PolicySet {
            engine,
            rules: BTreeSet::new(),
            errors: Vec::new(),
            sources: BTreeMap::new(),
            known_roles: BTreeSet::new(),
            prepared: false,
            program: None,
            engine_kind: ctx.engine,
            limits: ctx.limits,
        };
        let files: Vec<&String> = snap
            .entries
            .keys()
            .filter(|p| p.starts_with(POLICY_DIR) && !p[POLICY_DIR.len()..].contains('/'))
            .collect();
        for path in files {
            let is_rego = path.ends_with(".rego");
            let is_test = path.ends_with("_test.rego");
            let is_data = path.ends_with(".json")
                || (path.ends_with(".toml") && path != crate::review::ROSTER_PATH);
            if !(is_rego && (with_tests || !is_test))
                && !is_data
                && path != crate::review::ROSTER_PATH
            {
                continue;
            }
            if !snap.is_file(path) {
                continue; // links and the like are reported by the catalog's layout check
            }
            let bytes = match snap.read(path, MAX_POLICY_BYTES)? {
                Ok(b) => b,
                Err(size) => {
                    set.errors
                        .push(crate::manifest::too_large(path, size, MAX_POLICY_BYTES));
                    continue;
                }
            };
            let file = match crate::manifest::decode(path, &bytes, MAX_POLICY_BYTES) {
                Ok(f) => f,
                Err(f) => {
                    set.errors.push(*f);
                    continue;
                }
            };
            set.sources.insert(path.clone(), file.clone());
            if path == crate::review::ROSTER_PATH {
                match crate::review::Roster::parse(&file) {
                    Ok(r) => set.known_roles = r.role_names(),
                    Err(fs) => set.errors.extend(fs),
                }
            } else if is_rego {
                if let Err(e) = set.engine.add_policy(path.clone(), file.text.to_string()) {
                    let (at, msg) = locate_error(&e.to_string(), &set.sources);
                    set.errors.push(policy_finding(
                        Code::POLICY_ERROR,
                        format!("policy {path} does not compile: {msg}"),
                        at,
                        &set.sources,
                    ));
                    continue;
                }
                for rule in RULES {
                    if file.text.lines().any(|l| {
                        l.starts_with(rule) && l[rule.len()..].starts_with([' ', ':', '=', '['])
                    }) {
                        set.rules.insert(rule);
                    }
                }
            } else {
                let stem = path[POLICY_DIR.len()..]
                    .rsplit_once('.')
                    .map_or("", |(s, _)| s)
                    .to_string();
                if stem == "catalog" {
                    set.errors.push(
                        Finding::new(
                            Code::POLICY_ERROR,
                            format!("{path}: data.catalog is reserved for Bazaar's catalog facts"),
                        )
                        .help("rename the data file")
                        .in_file(&file),
                    );
                    continue;
                }
                let value: Result<serde_json::Value, String> = if path.ends_with(".json") {
                    serde_json::from_str(&file.text).map_err(|e| e.to_string())
                } else {
                    toml::from_str::<toml::Table>(&file.text)
                        .map_err(|e| e.to_string())
                        .and_then(|t| serde_json::to_value(t).map_err(|e| e.to_string()))
                };
                match value {
                    Ok(v) => {
                        let mut obj = serde_json::Map::new();
                        obj.insert(stem, v);
                        if let Err(e) = set
                            .engine
                            .add_data(Value::from(serde_json::Value::Object(obj)))
                        {
                            set.errors.push(
                                Finding::new(Code::POLICY_ERROR, format!("{path}: {e}"))
                                    .in_file(&file),
                            );
                        }
                    }
                    Err(e) => set.errors.push(
                        Finding::new(Code::POLICY_ERROR, format!("{path} is not valid data: {e}"))
                            .in_file(&file),
                    ),
                }
            }
        }
        if let Err(e) = set
            .engine
            .add_policy("bazaar:result.rego".into(), result_module(&set.rules))
        {
            set.errors.push(Finding::new(
                Code::POLICY_ERROR,
                format!("cannot gather the policies' decisions: {e}"),
            ));
        }
        // The VM (the default engine) is about six times faster per evaluation; strict since
        // the patch in vendor/regorus (a builtin's run-time error ends the evaluation instead of
        // making the rule body undefined), and any failure is re-run on the interpreter for its
        // message. `BAZAAR_POLICY_ENGINE=interpreter` opts out.
        // Compilation failures only cost speed: the interpreter evaluates instead.
        if !with_tests {
            set.program = set.compile_rule(&format!("{RESULT_PACKAGE}.result"));
        }
        if set.known_roles.is_empty()
            && set
                .errors
                .iter()
                .all(|f| f.file() != Some(crate::review::ROSTER_PATH))
        {
            set.errors.push(
                Finding::new(
                    Code::ROSTER,
                    format!("{} is missing", crate::review::ROSTER_PATH),
                )
                .help("add the roster: [roles] security = [\"login\"], admin = [\"login\"], …")
                .in_file(&SourceFile::new(crate::review::ROSTER_PATH, "")),
            );
        }
        Ok(set)
    }

    /// Adds the catalog-wide facts (`data.catalog`) the rules may read.
    pub fn set_catalog(&mut self, catalog: &Catalog) {
        self.prepared = false;
        if let Err(e) = self.engine.add_data(Value::from(catalog_data(catalog))) {
            self.errors.push(Finding::new(
                Code::POLICY_ERROR,
                format!("cannot add catalog facts: {e}"),
            ));
        }
    }

    /// A fingerprint of everything besides the input that decides an evaluation: the policy and
    /// data files, the roster, Bazaar's version, and the catalog facts when a policy reads them.
    pub fn fingerprint(&self, catalog: &Catalog) -> u128 {
        let mut parts: Vec<&str> = vec![env!("CARGO_PKG_VERSION"), self.engine_kind.as_str()];
        for (path, src) in &self.sources {
            parts.push(path);
            parts.push(&src.text);
        }
        let facts;
        if self
            .sources
            .values()
            .any(|s| s.text.contains("data.catalog"))
        {
            facts = catalog_data(catalog).to_string();
            parts.push(&facts);
        }
        cache::hash128(&parts)
    }

    /// Adds data (a JSON object merged into `data`), as the worker receives the catalog facts.
    pub fn set_data(&mut self, data: serde_json::Value) {
        self.prepared = false;
        if let Err(e) = self.engine.add_data(Value::from(data)) {
            self.errors.push(Finding::new(
                Code::POLICY_ERROR,
                format!("cannot add data: {e}"),
            ));
        }
    }

    /// Analyzes the policies once (regorus prepares an engine on its first evaluation), so that
    /// clones made for many evaluations start prepared.
    pub fn prepare(&mut self) {
        if self.is_ok() && !self.prepared {
            self.prepared = true;
            self.engine.set_input(Value::new_object());
            let _ = self.engine.eval_rule(format!("{RESULT_PACKAGE}.result"));
        }
    }

    /// True when a policy reads `data.catalog` (only then is it added, and part of the cache key).
    pub fn reads_catalog(&self) -> bool {
        self.sources
            .values()
            .any(|s| s.text.contains("data.catalog"))
    }

    /// True when the policies loaded without errors.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Evaluates the decision rules for one app input. `manifest` locates findings that name a
    /// field; `deadline` is the default deadline for warnings.
    pub fn evaluate(
        &mut self,
        input: serde_json::Value,
        manifest: Option<(&SourceFile, &crate::manifest::Spans)>,
        app_id: &str,
        deadline: chrono::NaiveDate,
    ) -> AppVerdict {
        let raw = self.eval_raw(input);
        self.interpret(raw, manifest, app_id, deadline, chrono::Duration::days(30))
    }

    /// A bytecode VM for this thread, when the policies compiled to one.
    pub fn vm(&self) -> Option<regorus::rvm::vm::RegoVM> {
        self.vm_for(self.program.clone()?)
    }

    /// Compiles another rule of the policies (e.g. `data.bazaar.sweep.actions`) for the VM, when
    /// the run uses the VM (as for the decisions); `None` evaluates it with the interpreter.
    pub fn compile_rule(
        &mut self,
        rule: &str,
    ) -> Option<std::sync::Arc<regorus::rvm::program::Program>> {
        if self.engine_kind != crate::context::Engine::Vm || !self.is_ok() {
            return None;
        }
        let entry: std::sync::Arc<str> = rule.into();
        let compiled = self.engine.compile_with_entrypoint(&entry).ok()?;
        regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, &[&entry]).ok()
    }

    /// A VM that runs `program` on this set's data, strict and under the same time limit.
    pub fn vm_for(
        &self,
        program: std::sync::Arc<regorus::rvm::program::Program>,
    ) -> Option<regorus::rvm::vm::RegoVM> {
        let mut vm = regorus::rvm::vm::RegoVM::new();
        vm.load_program(program);
        vm.set_data(self.engine.get_data()).ok()?;
        vm.set_strict_builtin_errors(true);
        // the time limit, not an instruction count, decides when a policy runs away
        vm.set_max_instructions(usize::MAX);
        vm.set_execution_timer_config(Some(regorus::utils::limits::ExecutionTimerConfig {
            limit: self.limits.policy_eval,
            check_interval: NonZeroU32::new(1024).expect("non-zero"),
        }));
        Some(vm)
    }

    /// Runs the policies on one input with the VM when there is one. When the VM fails, the
    /// interpreter runs the same input again: its errors name the policy file and line.
    pub fn eval_fast(
        &mut self,
        vm: Option<&mut regorus::rvm::vm::RegoVM>,
        input: &serde_json::Value,
    ) -> Result<Value, String> {
        self.eval_rule_value(vm, &format!("{RESULT_PACKAGE}.result"), to_value(input)?)
    }

    /// Evaluates another rule of the policies (e.g. `data.bazaar.sweep.actions`) on one input:
    /// its elements as JSON (a set or array; undefined is empty), or the engine's error.
    pub fn eval_rule_items(
        &mut self,
        vm: Option<&mut regorus::rvm::vm::RegoVM>,
        rule: &str,
        input: Value,
    ) -> Result<Vec<serde_json::Value>, String> {
        let v = self.eval_rule_value(vm, rule, input)?;
        if v == Value::Undefined || v == Value::Null {
            return Ok(Vec::new());
        }
        let json: serde_json::Value =
            serde_json::from_str(&v.to_json_str().map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        match json {
            serde_json::Value::Array(items) => Ok(items),
            other => Err(format!("{rule} must be a set of objects, found {other}")),
        }
    }

    /// One rule's value on one input, as the engine gives it. `vm` (from [`Self::compile_rule`]
    /// and [`Self::vm_for`]) runs it when given; when the VM fails, the interpreter runs the same
    /// input again, so an error names the policy file and line.
    pub fn eval_rule_value(
        &mut self,
        vm: Option<&mut regorus::rvm::vm::RegoVM>,
        rule: &str,
        input: Value,
    ) -> Result<Value, String> {
        let from_vm = vm.and_then(|vm| {
            vm.set_input(input.clone());
            vm.execute().ok()
        });
        match from_vm {
            Some(v) => Ok(v),
            None => {
                self.engine.set_input(input);
                self.engine
                    .eval_rule(rule.to_string())
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// `data.bazaar.warn` alone on one input, shaped as the gathered decisions (`{"warn": …}`)
    /// for [`Self::interpret`]; no warnings when the policies define no `warn`.
    pub fn eval_warn(
        &mut self,
        vm: Option<&mut regorus::rvm::vm::RegoVM>,
        input: Value,
    ) -> Result<Value, String> {
        let warn = if self.rules.contains("warn") {
            self.eval_rule_value(vm, WARN_RULE, input)?
        } else {
            Value::Null
        };
        let mut result = Value::new_object();
        result
            .as_object_mut()
            .map_err(|e| e.to_string())?
            .insert(Value::from("warn"), warn);
        Ok(result)
    }

    /// Runs the policies on one input: the gathered decisions, or the engine's error.
    pub fn eval_raw(&mut self, input: serde_json::Value) -> Result<Value, String> {
        self.engine.set_input(Value::from(input));
        // One evaluation of Bazaar's own module gives all four decisions, so rules they share
        // (risk feeds required_roles) are evaluated once per app.
        self.engine
            .eval_rule(format!("{RESULT_PACKAGE}.result"))
            .map_err(|e| e.to_string())
    }
}

/// A JSON document as the engine's value, converted in place (no copy of the JSON first).
pub(crate) fn to_value(json: &serde_json::Value) -> Result<Value, String> {
    use serde::Deserialize;
    Value::deserialize(json).map_err(|e| format!("the input cannot be given to the policies: {e}"))
}
