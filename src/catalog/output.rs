//! Build output the repository tracks (BZ0217): the published link (`public`), a build folder
//! (`.<out>.build-a`, `-b`) or Bazaar's private state (`.bazaar-serve/`, `.bazaar-state/`).
//! Committed, they would be checked out beside the output of the next build; Bazaar refuses to
//! trust them there, and `check` says so before they are merged. Only top-level names are
//! looked at (that is where `bazaar build` and `serve` write by default), from the revision's
//! tree or, for a working tree, from Git's index: what is tracked, not what lies around.

use super::snapshot::{Origin, Snapshot};
use crate::diagnostics::{Code, Finding, SourceFile};

/// Whether a top-level name is something `bazaar build` or `serve` writes.
fn is_output(name: &str) -> bool {
    name == "public"
        || name == ".bazaar-serve"
        || name == ".bazaar-state"
        || (name.starts_with('.') && (name.ends_with(".build-a") || name.ends_with(".build-b")))
}

/// The top-level names the snapshot's repository tracks (none outside Git).
fn tracked_tops(snap: &Snapshot) -> Vec<String> {
    let mut tops: Vec<String> = Vec::new();
    match &snap.origin {
        Origin::Rev { commit, .. } => {
            let Some(repo) = snap.git_dir().and_then(|d| gix::open(d).ok()) else {
                return tops;
            };
            let Ok(id) = gix::ObjectId::from_hex(commit.as_bytes()) else {
                return tops;
            };
            let Some(tree) = repo.find_commit(id).ok().and_then(|c| c.tree().ok()) else {
                return tops;
            };
            for e in tree.iter().flatten() {
                tops.push(e.filename().to_string());
            }
        }
        Origin::Dir(root) => {
            let Ok(repo) = gix::discover(root) else {
                return tops;
            };
            let Some(work) = repo.workdir().and_then(|w| std::fs::canonicalize(w).ok()) else {
                return tops;
            };
            let Ok(root) = std::fs::canonicalize(root) else {
                return tops;
            };
            let Ok(prefix) = root.strip_prefix(&work) else {
                return tops;
            };
            let prefix = prefix.to_string_lossy().replace('\\', "/");
            let Ok(index) = repo.index_or_empty() else {
                return tops;
            };
            for e in index.entries() {
                let path = e.path(&index).to_string();
                let rel = if prefix.is_empty() {
                    Some(path.as_str())
                } else {
                    path.strip_prefix(&format!("{prefix}/"))
                };
                if let Some(top) = rel.and_then(|r| r.split('/').next())
                    && tops.last().is_none_or(|t| t != top)
                {
                    tops.push(top.to_string());
                }
            }
        }
    }
    tops.sort();
    tops.dedup();
    tops
}

/// A finding for every tracked top-level name that is build output.
pub(super) fn committed(snap: &Snapshot) -> Vec<(Finding, Vec<String>)> {
    tracked_tops(snap)
        .into_iter()
        .filter(|n| is_output(n))
        .map(|name| {
            (
                Finding::new(
                    Code::COMMITTED_OUTPUT,
                    format!("{name} is build output and is tracked by Git"),
                )
                .help(format!(
                    "remove it from Git and ignore it: `git rm -r --cached {name}`, then add /{name} to .gitignore"
                ))
                .in_file(&SourceFile::new(name.as_str(), "")),
                vec![name],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names() {
        for yes in [
            "public",
            ".public.build-a",
            ".site.build-b",
            ".bazaar-serve",
            ".bazaar-state",
        ] {
            assert!(is_output(yes), "{yes}");
        }
        for no in ["catalog", "policies", "publicity", "public.build-a", "docs"] {
            assert!(!is_output(no), "{no}");
        }
    }
}
