//! Checks over the whole catalog: layout and path rules, and facts that relate several files
//! (unique ids and endpoints, teams, replacements, collections, referenced files).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Catalog, MAX_README_BYTES, team_of};
use crate::diagnostics::{Code, Finding, SourceFile};
use crate::manifest::{Status, is_slug};
use crate::source::{Kind, Snapshot, SnapshotError};

/// The manifests the layout check found, and its findings.
pub(super) struct Layout {
    pub teams: Vec<String>,
    pub apps: Vec<String>,
    pub collections: Vec<String>,
    pub findings: Vec<(Finding, Vec<String>)>,
}

pub(super) fn at_path(code: Code, path: &str, msg: String, help: &str) -> (Finding, Vec<String>) {
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
    // a catalog without apps yet (a new organisation's) is a catalog: bazaar.toml makes it one
    out.findings.extend(super::output::committed(snap));
    let mut by_lower: HashMap<String, Vec<&str>> = HashMap::new();
    let mut team_dirs: BTreeMap<&str, bool> = BTreeMap::new();
    for (path, entry) in &snap.entries {
        by_lower.entry(path.to_lowercase()).or_default().push(path);
        let refused = match entry.kind {
            Kind::Symlink => Some((
                Code::SYMLINK,
                "a symbolic link",
                "replace the link with the file itself, or remove it",
            )),
            Kind::Submodule => Some((
                Code::SUBMODULE,
                "a Git submodule or nested repository",
                "remove it (`git rm PATH`) and commit the files themselves",
            )),
            Kind::Special => Some((
                Code::SPECIAL_FILE,
                "a named pipe, socket or device",
                "remove it; the catalog holds only regular files",
            )),
            Kind::File => None,
        };
        if let Some((code, what, help)) = refused {
            out.findings
                .push(at_path(code, path, format!("{path} is {what}"), help));
            continue;
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

/// Stands for "the app with this id" among the files a finding involves, so that a change which
/// removes or renames the app is seen to involve the finding.
pub fn id_token(id: &str) -> String {
    format!("id:{id}")
}

/// A finding across files, before its location is known.
struct Pending {
    code: Code,
    /// The file it points into.
    file: String,
    /// The app folder or collection whose spans locate `field`.
    spans: SpanOwner,
    field: String,
    message: String,
    help: String,
    involved: Vec<String>,
}

enum SpanOwner {
    App(String),
    Collection(String),
    None,
}

/// Checks across manifests, on the facts of every app. Each finding lists every file it
/// involves; apps known only by their facts are read when a finding must point into them.
/// Settings `bazaar init` left as placeholders (under the reserved `.invalid` domain, or
/// `OWNER/REPO`), each a warning at its line until it is filled.
pub(super) fn placeholders(cat: &Catalog) -> Vec<Finding> {
    let Some(src) = cat.sources.get("bazaar.toml") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut offset = 0;
    for line in src.text.split_inclusive('\n') {
        let value = line.split_once('=').map(|(_, v)| v).unwrap_or_default();
        if !line.trim_start().starts_with('#')
            && crate::scaffold::org::PLACEHOLDERS
                .iter()
                .any(|p| value.contains(p))
        {
            let start = offset + line.len() - line.trim_start().len();
            out.push(
                Finding::new(
                    Code::PLACEHOLDER,
                    format!(
                        "bazaar.toml still holds a placeholder: {}",
                        line.trim()
                    ),
                )
                .help("set it to your organisation's value (the site's address, the forge repository, the apps domain, the signing email)")
                .at(src, start..offset + line.trim_end().len()),
            );
        }
        offset += line.len();
    }
    out
}

pub(super) fn cross(
    cat: &mut Catalog,
    snap: &Snapshot,
    scope: Option<&std::collections::BTreeSet<String>>,
) -> Result<(), SnapshotError> {
    let mut out: Vec<Pending> = Vec::new();
    let team_files: BTreeSet<&str> = snap
        .entries
        .keys()
        .filter(|p| p.ends_with("/team.toml"))
        .map(|p| team_of(p))
        .collect();
    for dir in &cat.app_dirs {
        let team = team_of(dir);
        if !team_files.contains(team) {
            out.push(Pending {
                code: Code::UNKNOWN_TEAM,
                file: format!("{dir}/app.toml"),
                spans: SpanOwner::None,
                field: String::new(),
                message: format!("team {team:?} has no catalog/{team}/team.toml"),
                help: format!("add catalog/{team}/team.toml (see `bazaar schema team`) or move the app under an existing team"),
                involved: vec![format!("{dir}/app.toml"), format!("catalog/{team}/team.toml")],
            });
        }
    }
    // per-app facts that only a full read shows
    for e in &cat.apps {
        let team = team_of(&e.dir);
        if e.app.team != team {
            out.push(Pending {
                code: Code::TEAM_MISMATCH,
                file: e.manifest_path(),
                spans: SpanOwner::App(e.dir.clone()),
                field: "team".into(),
                message: format!(
                    "team = {:?} but the app lives in catalog/{team}/",
                    e.app.team
                ),
                help: format!(
                    "set team = \"{team}\" or move the folder to catalog/{}/",
                    e.app.team
                ),
                involved: vec![e.manifest_path()],
            });
        }
    }
    let mut ids: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut endpoints: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut broken: BTreeSet<&str> = BTreeSet::new();
    for (dir, f) in &cat.facts {
        match (&f.id, f.valid) {
            (Some(id), true) => ids.entry(id).or_default().push(dir),
            (Some(id), false) => {
                broken.insert(id);
            }
            _ => {}
        }
        if let (Some(ep), true) = (&f.endpoint, f.valid) {
            endpoints.entry(ep).or_default().push(dir);
        }
    }
    let manifest = |d: &str| format!("{d}/app.toml");
    for (dir, f) in cat.facts.iter().filter(|(_, f)| f.valid) {
        let path = manifest(dir);
        let id = f.id.as_deref().unwrap_or_default();
        for (what, field, map, key) in [
            ("id", "id", &ids, Some(id)),
            ("endpoint", "endpoint", &endpoints, f.endpoint.as_deref()),
        ] {
            let Some(key) = key else { continue };
            let dupes = &map[key];
            if dupes.len() > 1 {
                let others: Vec<String> = dupes
                    .iter()
                    .filter(|d| **d != dir)
                    .map(|d| manifest(d))
                    .collect();
                let mut involved = vec![path.clone()];
                involved.extend(others.iter().cloned());
                out.push(Pending {
                    code: if what == "id" {
                        Code::DUPLICATE_ID
                    } else {
                        Code::DUPLICATE_ENDPOINT
                    },
                    file: path.clone(),
                    spans: SpanOwner::App(dir.clone()),
                    field: field.into(),
                    message: format!("{what} {key:?} is also declared by {}", others.join(", ")),
                    help: if what == "id" {
                        "give this app its own id".into()
                    } else {
                        "give each app its own host: app.team.env.<apps domain>".into()
                    },
                    involved,
                });
            }
        }
        if let Some(rep) = &f.replacement {
            let target = ids
                .get(rep.as_str())
                .and_then(|ds| ds.first())
                .map(|d| (*d, &cat.facts[*d]));
            let problem = match target {
                None if broken.contains(rep.as_str()) => None,
                None => Some((
                    Code::MISSING_REPLACEMENT,
                    format!("replacement {rep:?} is not in the catalog"),
                    vec![path.clone(), id_token(rep)],
                )),
                Some((d, _)) if d == dir => Some((
                    Code::RETIRED_REPLACEMENT,
                    format!("replacement {rep:?} is the app itself"),
                    vec![path.clone()],
                )),
                Some((d, t)) => match t.status {
                    Some(st @ (Status::Retired | Status::Deprecated)) => Some((
                        Code::RETIRED_REPLACEMENT,
                        format!("replacement {rep:?} is {st}"),
                        vec![path.clone(), manifest(d)],
                    )),
                    _ => None,
                },
            };
            if let Some((code, message, involved)) = problem {
                out.push(Pending {
                    code,
                    file: path.clone(),
                    spans: SpanOwner::App(dir.clone()),
                    field: "lifecycle.replacement".into(),
                    message,
                    help: "point lifecycle.replacement at an existing, active app".into(),
                    involved,
                });
            }
        }
        if let Some(sbom) = &f.sbom {
            let file = format!("{dir}/{sbom}");
            if !snap.is_file(&file) {
                out.push(Pending {
                    code: Code::MISSING_FILE,
                    file: path.clone(),
                    spans: SpanOwner::App(dir.clone()),
                    field: "security.sbom".into(),
                    message: format!("security.sbom names {file}, which is not in the app folder"),
                    help: "add the SBOM file next to app.toml or correct the path".into(),
                    involved: vec![path.clone(), file],
                });
            }
        }
    }
    for (stem, coll) in &cat.collections {
        let path = format!("catalog/collections/{stem}.toml");
        for (i, id) in coll.apps.iter().enumerate() {
            let target = ids.get(id.as_str()).and_then(|ds| ds.first());
            let (code, message, involved) = match target {
                None if broken.contains(id.as_str()) => continue,
                None => (
                    Code::UNKNOWN_APP_REF,
                    format!("collection lists {id:?}, which is not in the catalog"),
                    vec![path.clone(), id_token(id)],
                ),
                Some(d) if cat.facts[*d].status == Some(Status::Retired) => (
                    Code::RETIRED_REPLACEMENT,
                    format!("collection lists {id:?}, which is retired"),
                    vec![path.clone(), manifest(d)],
                ),
                Some(_) => continue,
            };
            out.push(Pending {
                code,
                file: path.clone(),
                spans: SpanOwner::Collection(stem.clone()),
                field: format!("apps[{i}]"),
                message,
                help: "correct the id or remove it from the list".into(),
                involved,
            });
        }
    }
    // READMEs that link to another app's page on the site must name an app that exists
    let base_url = cat.config.as_ref().map(|c| c.site.base_url.to_string());
    let readmes: Vec<String> = cat
        .app_dirs
        .iter()
        .filter(|d| scope.is_none_or(|s| s.contains(*d)))
        .map(|d| format!("{d}/README.md"))
        .filter(|p| snap.is_file(p))
        .filter(|p| {
            snap.size(p)
                .ok()
                .flatten()
                .is_some_and(|n| n <= MAX_README_BYTES as u64)
        })
        .collect();
    let paths: Vec<&str> = readmes.iter().map(String::as_str).collect();
    // README findings: links to missing apps, text longer than the site shows (each README on
    // its own, in parallel: on a full check they are ten thousand)
    use rayon::prelude::*;
    let read = snap.read_many(&paths, MAX_README_BYTES);
    let dead_links: Vec<(Finding, Vec<String>)> = paths
        .par_iter()
        .zip(read.into_par_iter())
        .flat_map_iter(|(path, bytes)| {
            let mut out: Vec<(Finding, Vec<String>)> = Vec::new();
            let Ok(Ok(bytes)) = bytes else { return out };
            super::readme_links::findings(
                path,
                &bytes,
                &ids,
                &broken,
                base_url.as_deref(),
                &mut out,
            );
            out
        })
        .collect();
    cat.findings.extend(dead_links);
    // README size, read from the listing's sizes only, for the apps checked in full
    for dir in cat
        .app_dirs
        .iter()
        .filter(|d| scope.is_none_or(|s| s.contains(*d)))
    {
        let readme = format!("{dir}/README.md");
        if let Some(size) = snap
            .is_file(&readme)
            .then(|| snap.size(&readme))
            .transpose()?
            .flatten()
            && size > MAX_README_BYTES as u64
        {
            cat.findings.push((
                crate::manifest::too_large(&readme, size, MAX_README_BYTES),
                vec![readme],
            ));
        }
    }

    // In a scoped load, read the apps that findings about this change point into.
    if let Some(scope) = scope {
        let changed_files: BTreeSet<String> = scope.iter().map(|d| manifest(d)).collect();
        let needed: Vec<String> = out
            .iter()
            .filter(|p| {
                p.involved
                    .iter()
                    .any(|f| changed_files.contains(f) || !f.ends_with("/app.toml"))
            })
            .filter_map(|p| match &p.spans {
                SpanOwner::App(d) if cat.app_in(d).is_none() => Some(d.clone()),
                _ => None,
            })
            .collect();
        cat.parse_more(snap, &needed)?;
    }
    for p in out {
        let spans = match &p.spans {
            SpanOwner::App(d) => cat.app_in(d).map(|e| &e.app.spans),
            SpanOwner::Collection(c) => cat.collections.get(c).map(|c| &c.spans),
            SpanOwner::None => None,
        };
        let mut f = Finding::new(p.code, p.message).help(p.help);
        f = match (
            cat.sources.get(&p.file),
            spans.and_then(|s| s.get(&p.field)),
        ) {
            (Some(src), Some(span)) => f.at(src, span),
            (Some(src), None) => f.in_file(src),
            (None, _) => f.in_file(&SourceFile::new(p.file.as_str(), "")),
        };
        if let SpanOwner::App(d) = &p.spans
            && let Some(id) = cat.facts.get(d).and_then(|f| f.id.clone())
        {
            f = f.for_app(id);
        }
        cat.findings.push((f, p.involved));
    }
    Ok(())
}
