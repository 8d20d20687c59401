//! Similar apps for the pages: each app's list (its page) and the groups of likely duplicates
//! (the dashboard), as Tera reads them.

use serde_json::{Value, json};

use super::model::app_url;
use crate::catalog::{Catalog, Snapshot, team_of};
use crate::similar::{self, Index};

/// Per app in the catalog's order: its similar apps; and the clusters of likely duplicates.
pub fn models(snap: &Snapshot, cat: &Catalog, readmes: &[String]) -> (Vec<Value>, Value) {
    let settings = similar::settings(cat.config.as_ref());
    let index = Index::build(similar::docs_cached(snap, cat, readmes));
    let all = similar::all(&index, &settings);
    let per_app = all
        .iter()
        .map(|list| {
            Value::Array(
                list.iter()
                    .map(|m| {
                        json!({
                            "id": m.id, "name": m.name, "url": app_url(&m.id),
                            "score": format!("{:.2}", m.score), "reasons": m.reasons,
                            "likely_duplicate": m.likely_duplicate, "distinct": m.distinct,
                        })
                    })
                    .collect(),
            )
        })
        .collect();
    let team_name = |dir: &str| {
        let t = team_of(dir);
        cat.teams.get(t).map_or(t.to_string(), |x| x.name.clone())
    };
    let clusters: Vec<Value> = similar::clusters(&index, &all)
        .into_iter()
        .map(|group| {
            // the evidence that joins the group: each member's best match inside it
            let apps: Vec<Value> = group
                .iter()
                .map(|&i| {
                    let d = &index.docs[i];
                    let best = all[i]
                        .iter()
                        .find(|m| m.likely_duplicate && group.iter().any(|&j| index.docs[j].id == m.id));
                    json!({
                        "id": d.id, "name": d.name, "url": app_url(&d.id), "team_name": team_name(&d.dir),
                        "like": best.map(|m| json!({ "name": m.name, "score": format!("{:.2}", m.score), "reasons": m.reasons })),
                    })
                })
                .collect();
            json!({ "size": apps.len(), "apps": apps })
        })
        .collect();
    (per_app, Value::Array(clusters))
}
