//! Publishing to a bucket of a real moto S3 server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bazaar::publish::{Published, Target, bucket::publish_to};
use futures_util::stream::BoxStream;
use object_store::path::Path as Key;
use object_store::{
    GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use super::*;
use crate::support::{EXPENSE, edit};

const SUMMARY: &str = "Submit, attach receipts to and track";

async fn publish_lib(moto: &Moto, url: &str, site: &Path) -> Published {
    bazaar::publish::publish(site, &Target::Bucket(moto.target(url)), None)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn first_publish_uploads_all_then_only_changes_and_deletes_removed_pages() {
    let moto = Moto::start();
    moto.bucket("site");
    let cat = built_demo();
    let site = cat.path().join("public");
    let v1 = files(&site);

    let p = publish_lib(&moto, "s3://site/www", &site).await;
    assert_eq!((p.files, p.uploaded, p.deleted), (v1.len(), v1.len(), 0));
    let store = moto.store("site");
    let served = objects(store.as_ref(), "www").await;
    assert_serves(&served, &v1);
    assert!(served.contains_key(".bazaar/published.json"));
    assert!(!served.contains_key(".bazaar/pending.json"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&served[".bazaar/published.json"]).unwrap();
    assert_eq!(manifest["files"].as_object().unwrap().len(), v1.len());

    // Content-Type per extension, as the server stored it
    for (key, want) in [
        ("www/index.html", "text/html; charset=utf-8"),
        ("www/static/style.css", "text/css; charset=utf-8"),
        ("www/catalog.json", "application/json"),
        ("www/feed.xml", "application/atom+xml"),
        ("www/pagefind/pagefind.js", "text/javascript; charset=utf-8"),
    ] {
        let got = store.get(&Key::from(key)).await.unwrap();
        let ct = got
            .attributes
            .get(&object_store::Attribute::ContentType)
            .map(|v| v.to_string());
        assert_eq!(ct.as_deref(), Some(want), "{key}");
    }

    // nothing changed: nothing uploaded
    let p = publish_lib(&moto, "s3://site/www", &site).await;
    assert_eq!((p.uploaded, p.deleted, p.kept), (0, 0, v1.len()));

    // one app's summary changes: exactly the files whose bytes changed are uploaded
    edit(
        &cat.path().join(EXPENSE),
        SUMMARY,
        "File, attach receipts to and follow",
    );
    rebuild(cat.path());
    let v2 = files(&site);
    let (changed, removed) = diff(&v1, &v2);
    let p = publish_lib(&moto, "s3://site/www", &site).await;
    assert_eq!(p.uploaded, changed.len(), "uploaded exactly {changed:?}");
    assert!(p.uploaded > 0 && p.uploaded * 4 < v2.len(), "{p:?}");
    assert_eq!(p.deleted, removed.len());
    assert_serves(&objects(store.as_ref(), "www").await, &v2);

    // an app removed: its page is deleted from the bucket
    std::fs::remove_dir_all(cat.path().join("catalog/finance/invoice-ocr")).unwrap();
    rebuild(cat.path());
    let v3 = files(&site);
    let (_, removed) = diff(&v2, &v3);
    assert!(
        removed.iter().any(|r| r.contains("invoice-ocr")),
        "{removed:?}"
    );
    let p = publish_lib(&moto, "s3://site/www", &site).await;
    assert_eq!(p.deleted, removed.len());
    let served = objects(store.as_ref(), "www").await;
    assert_serves(&served, &v3);
    assert!(!served.keys().any(|k| k.contains("invoice-ocr")));
}

/// An object store that fails every put after the first `left`, and every delete when
/// `no_deletes`.
#[derive(Debug)]
struct FailAfter {
    inner: Arc<dyn ObjectStore>,
    left: AtomicUsize,
    no_deletes: bool,
}

fn fail_after(inner: &Arc<dyn ObjectStore>, puts: usize, no_deletes: bool) -> Arc<FailAfter> {
    Arc::new(FailAfter {
        inner: inner.clone(),
        left: AtomicUsize::new(puts),
        no_deletes,
    })
}

impl std::fmt::Display for FailAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FailAfter({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for FailAfter {
    async fn put_opts(
        &self,
        location: &Key,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        if self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
            return Err(object_store::Error::Generic {
                store: "FailAfter",
                source: "injected failure".into(),
            });
        }
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &Key,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(
        &self,
        location: &Key,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }
    async fn delete(&self, location: &Key) -> object_store::Result<()> {
        if self.no_deletes {
            return Err(object_store::Error::Generic {
                store: "FailAfter",
                source: "injected failure".into(),
            });
        }
        self.inner.delete(location).await
    }
    fn list(&self, prefix: Option<&Key>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Key>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy(&self, from: &Key, to: &Key) -> object_store::Result<()> {
        self.inner.copy(from, to).await
    }
    async fn copy_if_not_exists(&self, from: &Key, to: &Key) -> object_store::Result<()> {
        self.inner.copy_if_not_exists(from, to).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_upload_leaves_the_old_site_whole_and_the_next_publish_completes_it() {
    let moto = Moto::start();
    moto.bucket("site");
    let store = moto.store("site");
    let cat = built_demo();
    let site = cat.path().join("public");
    let old = files(&site);
    let noop = |_| {};
    publish_to(store.clone(), "www", "s3://site/www", &site, &noop)
        .await
        .unwrap();

    // a new site: one app changed, one removed
    edit(
        &cat.path().join(EXPENSE),
        SUMMARY,
        "File, attach receipts to and follow",
    );
    std::fs::remove_dir_all(cat.path().join("catalog/finance/invoice-ocr")).unwrap();
    rebuild(cat.path());
    let new = files(&site);
    let (changed, _) = diff(&old, &new);
    let pages = changed.iter().filter(|c| c.ends_with(".html")).count();
    assert!(pages > 2, "{changed:?}");
    // fail at every point: in the search files, the assets, the pages and the entry files
    for puts in [
        1,
        3,
        changed.len() - pages + 2,
        changed.len(),
        changed.len() + 1,
    ] {
        let faulty = fail_after(&store, puts, false);
        let r = publish_to(faulty, "www", "s3://site/www", &site, &noop).await;
        assert!(
            r.is_err(),
            "the injected failure after {puts} puts surfaced"
        );
        let served = objects(store.as_ref(), "www").await;
        assert_whole(&served, &old, &new);
        assert!(served.contains_key(".bazaar/pending.json"));
    }
    // everything uploaded and the manifest written, then the deletes fail: the new site serves
    // with the removed pages still there, and the pending list still names them
    let r = publish_to(
        fail_after(&store, usize::MAX, true),
        "www",
        "s3://site/www",
        &site,
        &noop,
    );
    assert!(r.await.is_err());
    let served = objects(store.as_ref(), "www").await;
    assert_whole(&served, &old, &new);
    assert!(served.keys().any(|k| k.contains("invoice-ocr")));
    assert!(served.contains_key(".bazaar/pending.json"));
    // the next publish completes it: the bucket holds exactly the new site
    let p = publish_to(store.clone(), "www", "s3://site/www", &site, &noop)
        .await
        .unwrap();
    assert!(p.deleted > 0, "{p:?}");
    let served = objects(store.as_ref(), "www").await;
    assert_serves(&served, &new);
    assert!(!served.contains_key(".bazaar/pending.json"));

    // a failed publish of a third site, then the second again: pages the failed run
    // overwrote are restored although the manifest says they are current
    let second = new;
    edit(&cat.path().join(EXPENSE), "File, attach", "Lodge, attach");
    rebuild(cat.path());
    let third = files(&site);
    let keep = tempfile::tempdir().unwrap();
    let faulty = fail_after(&store, diff(&second, &third).0.len(), false);
    assert!(
        publish_to(faulty, "www", "s3://site/www", &site, &noop)
            .await
            .is_err()
    );
    for (rel, bytes) in &second {
        let p = keep.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    publish_to(store.clone(), "www", "s3://site/www", keep.path(), &noop)
        .await
        .unwrap();
    assert_serves(&objects(store.as_ref(), "www").await, &second);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_of_a_real_publish_mid_upload_leaves_the_bucket_whole() {
    let moto = Moto::start();
    moto.bucket("big");
    let store = moto.store("big");
    let cat = built_demo();
    let small = cat.path().join("public");
    let old = files(&small);
    let r = publish_cli(
        &moto,
        &["--site", small.to_str().unwrap(), "--to", "s3://big/site"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // a much bigger site replaces it: killed while its files upload
    let big = tempfile::tempdir().unwrap();
    let root = big.path().join("cat");
    let r = bazaar(&["init", "--sample", "400", root.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    rebuild(&root);
    let site = root.join("public");
    let new = files(&site);
    let mut child = publish_cmd(
        &moto,
        &["--site", site.to_str().unwrap(), "--to", "s3://big/site"],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let started = Instant::now();
    loop {
        let arrived = keys(store.as_ref(), "site")
            .await
            .iter()
            .filter(|k| !old.contains_key(*k))
            .count();
        if arrived > 20 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the publish finished before it could be killed"
        );
        assert!(started.elapsed() < Duration::from_secs(120));
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let served = objects(store.as_ref(), "site").await;
    assert!(
        new.iter().any(|(k, v)| served.get(k) != Some(v)),
        "killed mid-upload, before the new site was complete"
    );
    assert_whole(&served, &old, &new);
    assert!(
        served["index.html"] == old["index.html"],
        "the entry page is still the old one"
    );

    let r = publish_cli(
        &moto,
        &[
            "--site",
            site.to_str().unwrap(),
            "--to",
            "s3://big/site",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let served = objects(store.as_ref(), "site").await;
    assert_serves(&served, &new);
    assert!(!served.contains_key(".bazaar/pending.json"));
}

#[test]
fn clear_errors_for_missing_bucket_credentials_and_endpoint() {
    let moto = Moto::start();
    let cat = built_demo();
    let site = cat.path().join("public");
    let s = site.to_str().unwrap();
    let r = publish_cli(&moto, &["--site", s, "--to", "s3://nosuch/www"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("NoSuchBucket") && r.stderr.contains("does not exist"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.lines().count() <= 2,
        "one line, no wall of XML: {}",
        r.stderr
    );

    let r = publish_cmd(&moto, &["--site", s, "--to", "s3://nosuch/www"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        err.contains("no credentials") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );

    let dead = format!("http://127.0.0.1:{}", super::free_port());
    let r = std::process::Command::new(bin())
        .args([
            "publish",
            "--site",
            s,
            "--to",
            "s3://site/www",
            "--endpoint",
            &dead,
        ])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2));
    assert!(err.contains("could not be reached"), "{err}");
}
