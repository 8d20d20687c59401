//! The lifecycle on the site in a real browser: a retired app's page is a visible tombstone that
//! links its replacement, and the dashboard's per-team lifecycle view, both without serious
//! accessibility problems.

use fantoccini::Locator;
use serde_json::Value;

use crate::browser::{TEST_LIMIT, axe_violations, built_demo, serve_dir, start_browser, within};
use crate::support::edit;

#[tokio::test]
async fn a_retired_app_is_a_tombstone_and_the_team_view_reads_well() {
    within(TEST_LIMIT, "the tombstone test", async {
        let (_dir, public) = built_demo(|root| {
            edit(
                &root.join("catalog/people/org-chart-classic/app.toml"),
                "status = \"deprecated\"",
                "status = \"retired\"",
            );
        });
        let base = serve_dir(&public);
        let b = start_browser().await;
        b.open(&format!("{base}apps/com.acme.people.org-chart-classic/"))
            .await;
        let stone = b.wait_for(".tombstone").await;
        assert!(stone.is_displayed().await.unwrap());
        let text = stone.text().await.unwrap();
        assert!(text.contains("Retired on 2027-02-26."), "{text}");
        let link = b
            .find(Locator::Css(".tombstone a.replacement"))
            .await
            .expect("the replacement is linked");
        assert!(
            link.attr("href")
                .await
                .unwrap()
                .unwrap_or_default()
                .ends_with("apps/com.acme.people.employee-directory/"),
        );
        let mut bad = Vec::new();
        for page in [
            format!("{base}apps/com.acme.people.org-chart-classic/"),
            format!("{base}dashboard/"),
        ] {
            b.open(&page).await;
            if page.ends_with("dashboard/") {
                let view = b.wait_for("table.teams-lifecycle").await;
                assert!(view.is_displayed().await.unwrap());
            }
            bad.extend(
                axe_violations(&b)
                    .await
                    .into_iter()
                    .filter(|v: &Value| v["impact"] == "serious" || v["impact"] == "critical")
                    .map(|v| format!("{page}: {}", v["id"])),
            );
        }
        b.close().await;
        assert!(bad.is_empty(), "{bad:?}");
    })
    .await
}
