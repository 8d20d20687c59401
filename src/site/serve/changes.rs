//! Which file-system events rebuild the preview: catalog, policy, template and settings files,
//! not editors' temporary files or Bazaar's own output.

use super::*;

/// Watches the root (not recursively: `bazaar.toml` and the top-level folders coming and going)
/// and each folder the catalog is read from, recursively. The rest of the root (`.git/`,
/// `target/`, the output) is never watched.
pub(super) fn watch_catalog(
    watcher: &mut notify::RecommendedWatcher,
    root: &Path,
) -> Result<(), ServeError> {
    let mut first_error = None;
    let mut try_watch = |path: &Path, mode| {
        if let Err(cause) = watcher.watch(path, mode) {
            first_error.get_or_insert(ServeError::Watch {
                path: path.to_path_buf(),
                cause,
            });
        }
    };
    try_watch(root, notify::RecursiveMode::NonRecursive);
    for top in TRACKED_ROOTS {
        let dir = root.join(top);
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            try_watch(&dir, notify::RecursiveMode::Recursive);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Whether a file-system event calls for a rebuild: `None` when not, `Some(true)` when it
/// touches a top-level entry (the watches must be renewed), `Some(false)` otherwise.
pub(super) fn classify(root: &Path, event: notify::Result<notify::Event>) -> Option<bool> {
    use notify::EventKind;
    use notify::event::{MetadataKind, ModifyKind};
    let event = match event {
        // the watcher lost track (e.g. its queue overflowed): rebuild to be safe
        Err(_) => return Some(true),
        Ok(e) => e,
    };
    match event.kind {
        // reading files (the build itself does) changes nothing
        EventKind::Access(_)
        | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => {
            return None;
        }
        _ => {}
    }
    let mut relevant = None;
    for path in &event.paths {
        if let Some(top) = relevant_path(root, path) {
            relevant = Some(relevant.unwrap_or(false) || top);
        }
    }
    relevant
}

/// `Some(top_folder)` when a change to `path` can change the site: it lies in what the catalog
/// is read from and is not hidden (`.git/`, editor locks) or an editor's temporary file.
/// `top_folder` says the path is one of the top-level folders itself (created, removed, renamed).
pub(super) fn relevant_path(root: &Path, path: &Path) -> Option<bool> {
    let rel = path.strip_prefix(root).ok()?;
    let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
    let first = parts.next()?;
    if !TRACKED_ROOTS.contains(&first.as_ref()) {
        return None;
    }
    let mut depth = 1;
    for part in parts {
        if part == "target" {
            return None;
        }
        depth += 1;
    }
    let name = rel.file_name()?.to_string_lossy();
    if rel
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        || editor_temp(&name)
    {
        return None;
    }
    Some(depth == 1 && first != "bazaar.toml")
}

/// Temporary files editors write while saving (vim's swap files and `4913` probe, Emacs' lock
/// and autosave files, backups ending in `~`).
pub(super) fn editor_temp(name: &str) -> bool {
    name == "4913"
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.starts_with('#') && name.ends_with('#'))
        || [".swp", ".swo", ".swx", ".tmp"]
            .iter()
            .any(|ext| name.ends_with(ext))
}
