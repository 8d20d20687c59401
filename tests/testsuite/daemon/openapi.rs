//! GitHub's OpenAPI description (npm `@octokit/openapi`, pinned in tests/daemon/package-lock.json)
//! as a validator: every request the daemon sends and every answer the stand-in gives is checked
//! against the operation's schemas, so what GitHub would refuse fails the test.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

const BASE: &str = "https://openapi.test/github.json";

/// The installed npm packages of tests/daemon.
pub fn node_modules() -> PathBuf {
    let dir = crate::support::repo_root().join("tests/daemon/node_modules");
    assert!(
        dir.join("@octokit/openapi/generated/api.github.com.json")
            .is_file()
            && dir
                .join("@octokit/webhooks-examples/api.github.com/index.json")
                .is_file(),
        "FAIL: the daemon's tests need GitHub's OpenAPI description and webhook examples from npm \
         ({}): run .ci/run (it runs `npm ci --prefix tests/daemon`)",
        dir.display()
    );
    dir
}

/// One operation of the description.
pub struct Operation {
    pub method: String,
    pub template: String,
    segments: Vec<Option<String>>,
    op: Value,
}

pub struct Spec {
    ops: Vec<Operation>,
    doc: &'static Value,
    registry: &'static jsonschema::Registry<'static>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// OpenAPI 3.0's `nullable` as JSON Schema, and `#/…` references made absolute.
fn convert(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for child in m.values_mut() {
                convert(child);
            }
            if m.get("nullable") == Some(&Value::Bool(true)) {
                m.remove("nullable");
                match m.get("type").cloned() {
                    Some(Value::String(t)) => {
                        m.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(e)) = m.get_mut("enum") {
                            e.push(Value::Null);
                        }
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(m));
                        m.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && r.starts_with("#/")
            {
                *r = format!("{BASE}{r}");
            }
        }
        Value::Array(a) => a.iter_mut().for_each(convert),
        _ => {}
    }
}

pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = node_modules().join("@octokit/openapi/generated/api.github.com.json");
        let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let raw_paths = doc["paths"].clone();
        let mut components =
            json!({ "components": { "schemas": doc["components"]["schemas"].take() } });
        convert(&mut components);
        let components: &'static Value = Box::leak(Box::new(components));
        let registry = jsonschema::Registry::new()
            .add(
                BASE,
                jsonschema::Draft::Draft4.create_resource_ref(components),
            )
            .unwrap()
            .prepare()
            .unwrap();
        let registry: &'static jsonschema::Registry<'static> = Box::leak(Box::new(registry));
        let mut ops = Vec::new();
        for (template, item) in raw_paths.as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if !["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                    continue;
                }
                ops.push(Operation {
                    method: method.to_uppercase(),
                    template: template.clone(),
                    segments: template
                        .trim_start_matches('/')
                        .split('/')
                        .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
                        .collect(),
                    op: op.clone(),
                });
            }
        }
        let doc: &'static Value = Box::leak(Box::new(doc));
        Spec {
            ops,
            doc,
            registry,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

impl Spec {
    /// The operation a request is for (the most literal match wins).
    pub fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.ops
            .iter()
            .filter(|o| o.method == method && o.segments.len() == segs.len())
            .filter(|o| {
                o.segments
                    .iter()
                    .zip(&segs)
                    .all(|(t, s)| t.as_deref().is_none_or(|lit| lit == *s) && !s.is_empty())
            })
            .max_by_key(|o| o.segments.iter().filter(|s| s.is_some()).count())
    }

    fn deref<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v["$ref"].as_str() {
            Some(r) => {
                let pointer = r.trim_start_matches('#');
                self.deref(
                    self.doc
                        .pointer(pointer)
                        .expect("a $ref of the description"),
                )
            }
            None => v,
        }
    }

    fn validate(&self, key: &str, schema: &Value, instance: &Value) -> Result<(), String> {
        let validator = {
            let mut cache = self.validators.lock().unwrap();
            match cache.get(key) {
                Some(v) => v.clone(),
                None => {
                    let mut schema = schema.clone();
                    convert(&mut schema);
                    let v = Arc::new(
                        jsonschema::options()
                            .with_draft(jsonschema::Draft::Draft4)
                            .with_registry(self.registry)
                            .should_validate_formats(true)
                            .build(&schema)
                            .map_err(|e| format!("{key}: the schema does not compile: {e}"))?,
                    );
                    cache.insert(key.to_string(), v.clone());
                    v
                }
            }
        };
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{key}: {}", errors.join("; ")))
        }
    }

    /// Checks a request's JSON body against the operation's requestBody.
    pub fn check_request(&self, op: &Operation, body: Option<&Value>) -> Result<(), String> {
        let key = format!("{} {} request", op.method, op.template);
        let rb = &op.op["requestBody"];
        if rb.is_null() {
            return match body {
                None => Ok(()),
                Some(_) => Err(format!("{key}: the operation takes no body")),
            };
        }
        let rb = self.deref(rb);
        let Some(body) = body else {
            return if rb["required"] == json!(true) {
                Err(format!("{key}: a body is required"))
            } else {
                Ok(())
            };
        };
        let schema = &rb["content"]["application/json"]["schema"];
        if schema.is_null() {
            return Err(format!("{key}: the operation takes no JSON body"));
        }
        self.validate(&key, schema, body)
    }

    /// Checks a request's query parameters against the operation's: each one documented, of
    /// its type (integers, booleans, enums), the required ones present.
    pub fn check_query(&self, op: &Operation, query: &str) -> Result<(), String> {
        let key = format!("{} {} query", op.method, op.template);
        let params: Vec<&Value> = op.op["parameters"]
            .as_array()
            .map(|a| a.iter().map(|p| self.deref(p)).collect())
            .unwrap_or_default();
        let documented = |name: &str| {
            params
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == name)
                .copied()
        };
        let given: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        for (name, value) in &given {
            let Some(p) = documented(name) else {
                return Err(format!(
                    "{key}: `{name}` is not a documented query parameter"
                ));
            };
            let schema = self.deref(&p["schema"]);
            let typed = match schema["type"].as_str() {
                Some("integer") => value
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| format!("{key}: `{name}={value}` is not an integer"))?,
                Some("boolean") => match value.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return Err(format!("{key}: `{name}={value}` is not a boolean")),
                },
                _ => Value::String(value.clone()),
            };
            self.validate(&format!("{key} {name}"), schema, &typed)?;
        }
        for p in &params {
            if p["in"] == "query"
                && p["required"] == json!(true)
                && !given
                    .iter()
                    .any(|(n, _)| Some(n.as_str()) == p["name"].as_str())
            {
                return Err(format!("{key}: `{}` is required", p["name"]));
            }
        }
        Ok(())
    }

    /// Checks an answer's status and body against the operation's responses.
    pub fn check_response(&self, op: &Operation, status: u16, body: &Value) -> Result<(), String> {
        let key = format!("{} {} {status}", op.method, op.template);
        let Some(resp) = op.op["responses"].get(status.to_string()) else {
            return Err(format!("{key}: the status is not documented"));
        };
        let resp = self.deref(resp);
        match resp["content"]["application/json"]["schema"].as_object() {
            None if body.is_null() => Ok(()),
            None => Err(format!("{key}: the answer has no documented body")),
            Some(_) => self.validate(&key, &resp["content"]["application/json"]["schema"], body),
        }
    }

    /// The documented example answer of an operation (the stand-in starts from it).
    pub fn example(&self, op: &Operation, status: u16) -> Value {
        let resp = self.deref(&op.op["responses"][status.to_string()]);
        let examples = &resp["content"]["application/json"]["examples"];
        let first = examples
            .as_object()
            .and_then(|m| m.values().next())
            .unwrap_or_else(|| panic!("{} {} {status} has no example", op.method, op.template));
        self.deref(first)["value"].clone()
    }
}

#[test]
fn query_parameters_are_checked_too() {
    let s = spec();
    let op = s.find("GET", "/repos/o/r/issues/1/comments").unwrap();
    assert!(s.check_query(op, "per_page=100&page=2").is_ok());
    assert!(s.check_query(op, "per_page=many").is_err(), "an integer");
    assert!(s.check_query(op, "perpage=100").is_err(), "undocumented");
    let op = s.find("GET", "/repos/o/r/pulls").unwrap();
    assert!(s.check_query(op, "state=open").is_ok());
    assert!(s.check_query(op, "state=opened").is_err(), "an enum");
}

#[test]
fn the_validator_refuses_what_github_would() {
    let s = spec();
    let op = s.find("POST", "/repos/o/r/check-runs").unwrap();
    assert_eq!(op.template, "/repos/{owner}/{repo}/check-runs");
    assert!(
        s.check_request(op, Some(&json!({"name": "x", "head_sha": "abc"})))
            .is_ok()
    );
    assert!(
        s.check_request(op, Some(&json!({"head_sha": "abc"})))
            .is_err(),
        "name is required"
    );
    assert!(
        s.check_request(
            op,
            Some(&json!({"name": "x", "head_sha": "a", "status": "running"}))
        )
        .is_err(),
        "status is an enum"
    );
    let bad_level = json!({"name": "x", "head_sha": "a", "output": {"title": "t", "summary": "s",
        "annotations": [{"path": "p", "start_line": 1, "end_line": 1, "annotation_level": "error", "message": "m"}]}});
    assert!(
        s.check_request(op, Some(&bad_level)).is_err(),
        "annotation_level is notice/warning/failure"
    );
    let example = s.example(op, 201);
    assert!(s.check_response(op, 201, &example).is_ok());
    assert!(s.check_response(op, 201, &json!({"id": "x"})).is_err());
    let pull = s.find("GET", "/repos/o/r/pulls/7").unwrap();
    let mut p = s.example(pull, 200);
    // GitHub's own example lacks a team's `type`, which the schema requires: caught.
    assert!(
        s.check_response(pull, 200, &p)
            .unwrap_err()
            .contains("requested_teams/0")
    );
    p["requested_teams"] = json!([]);
    assert!(s.check_response(pull, 200, &p).is_ok());
    p["merged_at"] = Value::Null;
    assert!(
        s.check_response(pull, 200, &p).is_ok(),
        "nullable fields take null"
    );
    let c = s.find("PATCH", "/repos/o/r/issues/comments/5").unwrap();
    assert_eq!(
        c.template,
        "/repos/{owner}/{repo}/issues/comments/{comment_id}"
    );
    assert!(s.find("POST", "/repos/o/r/not-an-endpoint").is_none());
}
