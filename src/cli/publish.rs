//! `bazaar publish`: the edge where a bucket's endpoint, region and credentials are read from
//! the flags and the environment (AWS_*), and the library publishes a built site.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use bazaar::publish::{Credentials, Progress, Published, Target};

/// `bazaar publish` and its options.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The built site: the folder (or link) `bazaar build --out` wrote.
    #[arg(long, default_value = "public")]
    site: PathBuf,
    /// Where to: `git:BRANCH` (a branch of --root, e.g. git:gh-pages) or `s3://BUCKET/PREFIX`.
    #[arg(long, value_name = "git:BRANCH|s3://BUCKET/PREFIX")]
    to: String,
    /// The Git repository that holds the branch (for git:BRANCH).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Push the branch to this remote (name or URL), only while it is where Bazaar saw it.
    #[arg(long, value_name = "REMOTE")]
    push: Option<String>,
    /// The S3 endpoint, e.g. http://127.0.0.1:9000 (default: $AWS_ENDPOINT_URL, else AWS).
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// The bucket's region (default: $AWS_REGION, else us-east-1).
    #[arg(long)]
    region: Option<String>,
    /// Output format of the report on stdout.
    #[arg(long, value_enum, default_value_t = super::TestFormat::Human)]
    format: super::TestFormat,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Runs `bazaar publish`.
pub fn run(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let mut target = Target::parse(&args.to, &args.root, args.push.clone())?;
    if let Target::Bucket(b) = &mut target {
        if args.push.is_some() {
            anyhow::bail!("--push is for git:BRANCH targets; a bucket is written directly");
        }
        b.endpoint = args.endpoint.clone().or_else(|| env("AWS_ENDPOINT_URL"));
        b.allow_http = b
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"));
        b.region = args
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"));
        b.credentials = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => Some(Credentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: env("AWS_SESSION_TOKEN"),
            }),
            _ => anyhow::bail!(
                "no credentials for {}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones) to a key that may write the bucket",
                b.url()
            ),
        };
    } else if args.endpoint.is_some() || args.region.is_some() {
        anyhow::bail!("--endpoint and --region are for s3:// targets");
    }
    let tty = std::io::stderr().is_terminal();
    let last = std::sync::Mutex::new(std::time::Instant::now());
    let progress = move |p: Progress| match p {
        Progress::Planned { upload, delete } => {
            eprintln!("publishing: {upload} file(s) to upload, {delete} to delete");
        }
        Progress::Uploaded { done, of } => {
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            if done == of || last.elapsed().as_millis() >= if tty { 200 } else { 2000 } {
                *last = std::time::Instant::now();
                if tty {
                    eprint!("\ruploaded {done}/{of}");
                    if done == of {
                        eprintln!();
                    }
                } else {
                    eprintln!("uploaded {done}/{of}");
                }
            }
        }
    };
    let published = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bazaar::publish::publish(
            &args.site,
            &target,
            Some(&progress),
        ))?;
    if args.format == super::TestFormat::Json {
        super::out(&(serde_json::to_string_pretty(&published)? + "\n"))?;
    } else {
        super::out(&human(&published))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn human(p: &Published) -> String {
    let t = p.timings_ms;
    let what = match (&p.commit, p.uploaded) {
        (Some(c), _) => format!("commit {}", &c[..c.len().min(12)]),
        (None, _) if p.target.starts_with("git:") => "no change, no commit".to_string(),
        (None, 0) if p.deleted == 0 => "nothing changed".to_string(),
        (None, _) => "manifest written".to_string(),
    };
    format!(
        "published {} files to {}: {} uploaded ({:.1} MB), {} deleted, {} unchanged; {what}{} in {:.2} s (scan {} ms, compare {} ms, upload {} ms, delete {} ms)\n",
        p.files,
        p.target,
        p.uploaded,
        p.uploaded_bytes as f64 / 1e6,
        p.deleted,
        p.kept,
        if p.pushed { ", pushed" } else { "" },
        t.total as f64 / 1000.0,
        t.scan,
        t.compare,
        t.upload,
        t.delete
    )
}
