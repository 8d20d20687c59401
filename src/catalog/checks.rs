//! Checks over the whole catalog: layout and path rules, and facts that relate several files
//! (unique ids and endpoints, teams, replacements, collections, referenced files).

use std::collections::{BTreeMap, HashMap};

use super::snapshot::{Kind, Snapshot};
use super::{Catalog, MAX_README_BYTES, team_of};
use crate::diagnostics::{Code, Finding, SourceFile};
use crate::manifest::{Status, is_slug};

/// The manifests the layout check found, and its findings.
pub(super) struct Layout {
    pub teams: Vec<String>,
    pub apps: Vec<String>,
    pub collections: Vec<String>,
    pub findings: Vec<(Finding, Vec<String>)>,
}

fn at_path(code: Code, path: &str, msg: String, help: &str) -> (Finding, Vec<String>) {
    (
        Finding::new(code, msg)
            .help(help)
            .in_file(&SourceFile::new(path, "")),
        vec![path.to_string()],
    )
}

/// Walks the listing: refuses links and submodules, checks names and where files sit.
pub(super) fn layout(snap: &Snapshot) -> Layout {
    let mut out = Layout {
        teams: vec![],
        apps: vec![],
        collections: vec![],
        findings: vec![],
    };
    if !snap.entries.keys().any(|p| p.starts_with("catalog/")) {
        out.findings.push(at_path(
            Code::NOT_A_CATALOG,
            "catalog",
            "there is no catalog/ folder with apps".into(),
            "run Bazaar at the catalog repository's root (or pass --root); `bazaar init DIR` creates one",
        ));
    }
    let mut by_lower: HashMap<String, Vec<&str>> = HashMap::new();
    let mut team_dirs: BTreeMap<&str, bool> = BTreeMap::new();
    for (path, entry) in &snap.entries {
        by_lower.entry(path.to_lowercase()).or_default().push(path);
        match entry.kind {
            Kind::Symlink => {
                out.findings.push(at_path(
                    Code::SYMLINK,
                    path,
                    format!("{path} is a symbolic link"),
                    "replace the link with the file itself, or remove it",
                ));
                continue;
            }
            Kind::Submodule => {
                out.findings.push(at_path(
                    Code::SUBMODULE,
                    path,
                    format!("{path} is a Git submodule or nested repository"),
                    "remove it (`git rm PATH`) and commit the files themselves",
                ));
                continue;
            }
            Kind::Special => {
                out.findings.push(at_path(
                    Code::SPECIAL_FILE,
                    path,
                    format!("{path} is a named pipe, socket or device"),
                    "remove it; the catalog holds only regular files",
                ));
                continue;
            }
            Kind::File => {}
        }
        let parts: Vec<&str> = path.split('/').collect();
        if parts[0] != "catalog" {
            continue;
        }
        match parts.as_slice() {
            ["catalog", "collections", file] => match file.strip_suffix(".toml") {
                Some(stem) if is_slug(stem) => out.collections.push(path.clone()),
                Some(_) => out.findings.push(at_path(
                    Code::BAD_PATH_NAME,
                    path,
                    format!("collection file name {file:?} is not a lowercase slug"),
                    "rename it, e.g. onboarding-picks.toml",
                )),
                None => out.findings.push(at_path(
                    Code::LAYOUT,
                    path,
                    format!("{path} is not a collection (.toml) file"),
                    "catalog/collections/ holds only *.toml collections",
                )),
            },
            ["catalog", "collections", ..] => out.findings.push(at_path(
                Code::LAYOUT,
                path,
                format!("{path} is nested inside catalog/collections/"),
                "collections are flat: catalog/collections/NAME.toml",
            )),
            ["catalog", _file] => out.findings.push(at_path(
                Code::LAYOUT,
                path,
                format!("{path} sits directly in catalog/"),
                "put apps in catalog/<team>/<app>/ and teams' files in catalog/<team>/",
            )),
            ["catalog", team, rest @ ..] => {
                let team_ok = is_slug(team);
                if !team_dirs.contains_key(team) {
                    team_dirs.insert(team, team_ok);
                    if !team_ok {
                        out.findings.push(at_path(
                            Code::BAD_PATH_NAME,
                            &format!("catalog/{team}"),
                            format!("team folder {team:?} is not a lowercase slug"),
                            "rename the folder with `git mv`, e.g. to its lowercase form",
                        ));
                    }
                }
                match rest {
                    ["team.toml"] => out.teams.push(path.clone()),
                    ["README.md"] => {}
                    [_file] => out.findings.push(at_path(
                        Code::LAYOUT,
                        path,
                        format!("{path} is not a team file"),
                        "a team folder holds team.toml, README.md and one folder per app",
                    )),
                    [app, "app.toml"] => {
                        if is_slug(app) {
                            out.apps.push(path.clone());
                        } else {
                            out.findings.push(at_path(
                                Code::BAD_PATH_NAME,
                                path,
                                format!("app folder {app:?} is not a lowercase slug"),
                                "rename the folder with `git mv`",
                            ));
                        }
                    }
                    [app, ..] => {
                        let manifest = format!("catalog/{team}/{app}/app.toml");
                        if !snap.entries.contains_key(&manifest) {
                            out.findings.push(at_path(
                                Code::LAYOUT,
                                path,
                                format!("{path} is in an app folder without app.toml"),
                                "add app.toml (`bazaar new`) or move the file",
                            ));
                        }
                    }
                    [] => {}
                }
            }
            _ => {}
        }
    }
    for paths in by_lower.values().filter(|v| v.len() > 1) {
        let involved: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
        let f = Finding::new(
            Code::CASE_COLLISION,
            format!("{} differ only in case", paths.join(" and ")),
        )
        .help("rename or remove one of them")
        .in_file(&SourceFile::new(paths[0], ""));
        out.findings.push((f, involved));
    }
    // dedupe "app folder without app.toml" to one finding per folder
    out.findings.dedup_by(|a, b| {
        a.0.code == Code::LAYOUT
            && b.0.code == Code::LAYOUT
            && a.0.message.split(" is in ").nth(1) == b.0.message.split(" is in ").nth(1)
            && a.0.message.contains("without app.toml")
            && parent(&a.1[0]) == parent(&b.1[0])
    });
    out
}

fn parent(p: &str) -> &str {
    p.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn span_finding(
    cat: &Catalog,
    path: &str,
    field: &str,
    spans: &crate::manifest::Spans,
    code: Code,
    msg: String,
) -> Finding {
    let f = Finding::new(code, msg);
    match (cat.sources.get(path), spans.get(field)) {
        (Some(src), Some(span)) => f.at(src, span),
        (Some(src), None) => f.in_file(src),
        _ => f,
    }
}

/// Checks across manifests. Each finding lists every file it involves.
pub(super) fn cross(cat: &mut Catalog, snap: &Snapshot) {
    let mut out: Vec<(Finding, Vec<String>)> = Vec::new();
    // apps in folders of teams without a valid team.toml
    let team_files: std::collections::BTreeSet<&str> = snap
        .entries
        .keys()
        .filter(|p| p.ends_with("/team.toml"))
        .map(|p| team_of(p))
        .collect();
    for dir in &cat.app_dirs {
        let team = team_of(dir);
        if !team_files.contains(team) {
            let path = format!("{dir}/app.toml");
            let f = Finding::new(Code::UNKNOWN_TEAM, format!("team {team:?} has no catalog/{team}/team.toml"))
                .help(format!("add catalog/{team}/team.toml (see `bazaar schema team`) or move the app under an existing team"));
            let f = match cat.sources.get(&path) {
                Some(src) => f.in_file(src),
                None => f,
            };
            out.push((f, vec![path, format!("catalog/{team}/team.toml")]));
        }
    }
    let mut ids: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut endpoints: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in cat.apps.iter().enumerate() {
        ids.entry(e.app.id.as_str()).or_default().push(i);
        if let Some(url) = &e.app.endpoint {
            let mut key = url.clone();
            key.set_fragment(None);
            let norm = key.as_str().trim_end_matches('/').to_lowercase();
            endpoints.entry(norm).or_default().push(i);
        }
    }
    for (i, e) in cat.apps.iter().enumerate() {
        let path = e.manifest_path();
        let app = &e.app;
        let team = team_of(&e.dir);
        if app.team != team {
            let f = span_finding(
                cat,
                &path,
                "team",
                &app.spans,
                Code::TEAM_MISMATCH,
                format!("team = {:?} but the app lives in catalog/{team}/", app.team),
            )
            .help(format!(
                "set team = \"{team}\" or move the folder to catalog/{}/",
                app.team
            ));
            out.push((f, vec![path.clone()]));
        }
        let dupes = &ids[app.id.as_str()];
        if dupes.len() > 1 {
            let others: Vec<String> = dupes
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| cat.apps[j].manifest_path())
                .collect();
            let f = span_finding(
                cat,
                &path,
                "id",
                &app.spans,
                Code::DUPLICATE_ID,
                format!("id {:?} is also declared by {}", app.id, others.join(", ")),
            )
            .help("give this app its own id");
            let mut inv = vec![path.clone()];
            inv.extend(others);
            out.push((f, inv));
        }
        if let Some(url) = &app.endpoint {
            let mut key = url.clone();
            key.set_fragment(None);
            let dupes = &endpoints[&key.as_str().trim_end_matches('/').to_lowercase()];
            if dupes.len() > 1 {
                let others: Vec<String> = dupes
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| cat.apps[j].manifest_path())
                    .collect();
                let f = span_finding(
                    cat,
                    &path,
                    "endpoint",
                    &app.spans,
                    Code::DUPLICATE_ENDPOINT,
                    format!("endpoint {url} is also used by {}", others.join(", ")),
                )
                .help("give each app its own host: app.team.env.<apps domain>");
                let mut inv = vec![path.clone()];
                inv.extend(others);
                out.push((f, inv));
            }
        }
        if let Some(rep) = &app.lifecycle.replacement {
            match ids.get(rep.as_str()) {
                None if cat.broken_ids.contains(rep) => {}
                None => {
                    let f = span_finding(
                        cat,
                        &path,
                        "lifecycle.replacement",
                        &app.spans,
                        Code::MISSING_REPLACEMENT,
                        format!("replacement {rep:?} is not in the catalog"),
                    )
                    .help("set lifecycle.replacement to the id of an existing, active app");
                    out.push((f, vec![path.clone()]));
                }
                Some(js) => {
                    let r = &cat.apps[js[0]];
                    if matches!(r.app.lifecycle.status, Status::Retired | Status::Deprecated)
                        || r.app.id == app.id
                    {
                        let f = span_finding(
                            cat,
                            &path,
                            "lifecycle.replacement",
                            &app.spans,
                            Code::RETIRED_REPLACEMENT,
                            format!(
                                "replacement {rep:?} is {}",
                                if r.app.id == app.id {
                                    "the app itself".to_string()
                                } else {
                                    r.app.lifecycle.status.to_string()
                                }
                            ),
                        )
                        .help("point lifecycle.replacement at an active app");
                        out.push((f, vec![path.clone(), r.manifest_path()]));
                    }
                }
            }
        }
        if let Some(sbom) = app.security.as_ref().and_then(|s| s.sbom_path()) {
            let file = format!("{}/{sbom}", e.dir);
            if !snap.is_file(&file) {
                let f = span_finding(
                    cat,
                    &path,
                    "security.sbom",
                    &app.spans,
                    Code::MISSING_FILE,
                    format!("security.sbom names {file}, which is not in the app folder"),
                )
                .help("add the SBOM file next to app.toml or correct the path");
                out.push((f, vec![path.clone(), file]));
            }
        }
    }
    // README size (read only its size)
    let readmes: Vec<String> = cat
        .app_dirs
        .iter()
        .map(|d| format!("{d}/README.md"))
        .filter(|p| snap.is_file(p))
        .collect();
    let refs: Vec<&str> = readmes.iter().map(String::as_str).collect();
    for (p, r) in refs.iter().zip(snap.read_many(&refs, MAX_README_BYTES)) {
        if let Ok(Err(size)) = r {
            out.push((
                crate::manifest::too_large(p, size, MAX_README_BYTES),
                vec![p.to_string()],
            ));
        }
    }
    for (stem, coll) in &cat.collections {
        let path = format!("catalog/collections/{stem}.toml");
        for (i, id) in coll.apps.iter().enumerate() {
            match ids.get(id.as_str()) {
                None if cat.broken_ids.contains(id) => {}
                None => {
                    let f = span_finding(
                        cat,
                        &path,
                        &format!("apps[{i}]"),
                        &coll.spans,
                        Code::UNKNOWN_APP_REF,
                        format!("collection lists {id:?}, which is not in the catalog"),
                    )
                    .help("correct the id or remove it from the list");
                    // involves every app folder that could have declared the id
                    out.push((f, vec![path.clone()]));
                }
                Some(js) => {
                    let r = &cat.apps[js[0]];
                    if r.app.lifecycle.status == Status::Retired {
                        let f = span_finding(
                            cat,
                            &path,
                            &format!("apps[{i}]"),
                            &coll.spans,
                            Code::RETIRED_REPLACEMENT,
                            format!("collection lists {id:?}, which is retired"),
                        )
                        .help("remove retired apps from collections");
                        out.push((f, vec![path.clone(), r.manifest_path()]));
                    }
                }
            }
        }
    }
    cat.findings.extend(out);
}
