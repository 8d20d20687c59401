//! Atomic publishing: every build goes into a fresh folder beside the output, and the output
//! path is a symbolic link that is replaced in one `rename`. Readers see the old site or the new
//! one, never a half-written one; a build that fails or is killed leaves the old site serving.

use std::path::{Path, PathBuf};

/// A fresh folder for a build of `out` (`<out>.build-<nanos>-<pid>`).
pub fn fresh_dir(out: &Path) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    out.with_file_name(format!(".{name}.build-{nanos}-{}", std::process::id()))
}

/// Points `out` at `built` atomically, then removes the folder it pointed at before (and any
/// leftovers of killed builds). Refuses to replace a real folder at `out`.
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
    let link = out.with_file_name(format!(
        ".{}.link-{}",
        out.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &link)?;
    std::fs::rename(&link, out)?;
    if let Some(old) = old {
        let old = out.with_file_name(old);
        if old != built {
            let _ = std::fs::remove_dir_all(old);
        }
    }
    // leftovers of builds that were killed before their swap, once stale
    if let (Some(dir), Some(name)) = (out.parent(), out.file_name()) {
        let prefix = format!(".{}.build-", name.to_string_lossy());
        let keep = built.file_name().map(|n| n.to_os_string());
        for e in std::fs::read_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .into_iter()
        .flatten()
        .flatten()
        {
            let n = e.file_name();
            // an hour old: a concurrent build's folder is left alone
            let stale = e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|d| d.as_secs() > 3600));
            if stale && n.to_string_lossy().starts_with(&prefix) && Some(&n) != keep.as_ref() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}
