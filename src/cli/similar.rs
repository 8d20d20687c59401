//! `bazaar similar <id|path>`: the apps most like one app, with the evidence.

use std::path::Path;

use bazaar::catalog::Catalog;

/// Prints the listing; exit code 2 (an error) when there is no such app.
pub fn run(root: &Path, rev: Option<&str>, target: &str, json: bool) -> anyhow::Result<String> {
    let snap = bazaar::check::snapshot(root, rev)?;
    let catalog = Catalog::load(&snap)?;
    // a path given from the shell may be absolute or start with the root
    let rel = Path::new(target)
        .strip_prefix(root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| target.to_string());
    let listing = bazaar::similar::listing(&snap, &catalog, &rel).ok_or_else(|| {
        anyhow::anyhow!(
            "no valid app has the id or folder {target:?}; give an app id (com.acme.team.app) or its folder (catalog/team/app), and run `bazaar check` if its manifest has errors"
        )
    })?;
    Ok(if json {
        serde_json::to_string_pretty(&listing)? + "\n"
    } else {
        bazaar::similar::render(&listing)
    })
}
