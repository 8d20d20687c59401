//! Atomic publishing with two build folders beside the output (blue/green): `out` is a symbolic
//! link to one of `.<out>.build-a` and `.<out>.build-b`; a build updates the other one, which no
//! reader is sent to, and then replaces the link in one `rename`. Readers see the old site or the
//! new one, never a half-written one; a build that fails or is killed leaves the old site
//! serving. The folder left behind is kept for the next build, which only rewrites what changed
//! (see `pages`), so a one-app edit costs a few file writes instead of a whole new tree.

use std::path::{Path, PathBuf};

fn name(out: &Path) -> String {
    out.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into())
}

/// The two build folders of `out`.
pub fn slots(out: &Path) -> [PathBuf; 2] {
    let n = name(out);
    [
        out.with_file_name(format!(".{n}.build-a")),
        out.with_file_name(format!(".{n}.build-b")),
    ]
}

/// The folder `out` points at now, if any.
pub fn current(out: &Path) -> Option<PathBuf> {
    std::fs::read_link(out)
        .ok()
        .map(|l| out.with_file_name(l))
        .filter(|p| p.is_dir())
}

/// The folder to build into: the slot `out` does not point at.
pub fn next_slot(out: &Path) -> PathBuf {
    let [a, b] = slots(out);
    if current(out).as_deref() == Some(a.as_path()) {
        b
    } else {
        a
    }
}

/// The lock file of `out`'s builds.
pub fn lock_path(out: &Path) -> PathBuf {
    out.with_file_name(format!(".{}.lock", name(out)))
}

/// Holds the build lock of `out` until dropped: two builds of one site never write the same
/// folder at once (the second waits).
pub fn lock(out: &Path) -> std::io::Result<std::fs::File> {
    let path = lock_path(out);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    f.lock()?;
    Ok(f)
}

/// Points `out` at `built` atomically. Refuses to replace a real folder at `out`. A folder from
/// an older layout that `out` pointed at is removed once nothing points at it.
pub fn swap_in(out: &Path, built: &Path) -> std::io::Result<()> {
    let old = match std::fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => std::fs::read_link(out).ok(),
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} exists and is not a link Bazaar made; move it away (Bazaar publishes by replacing a link)",
                out.display()
            )));
        }
        Err(_) => None,
    };
    let target = built
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| built.to_path_buf());
    let link = out.with_file_name(format!(".{}.link-{}", name(out), std::process::id()));
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link)?;
    std::fs::rename(&link, out)?;
    if let Some(old) = old {
        let old = out.with_file_name(old);
        if old != built && !slots(out).contains(&old) {
            let _ = std::fs::remove_dir_all(old);
        }
    }
    Ok(())
}
