//! Command-line interface: each command is a thin call into the library. Exit codes: 0 nothing
//! blocks, 1 something blocks, 2 Bazaar could not run.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod daemon;
mod sweep;

use bazaar::check::{CheckOptions, check};
use bazaar::context::{Context, Engine};
use bazaar::diagnostics::{Format, explain, lookup, render};
use bazaar::manifest::{Runtime, SchemaKind, Tier, schema};
use bazaar::scaffold;

mod publish;
mod similar;

/// Bazaar: an internal app marketplace kept in Git.
#[derive(Debug, Parser)]
#[command(name = "bazaar", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests, teams and collections; exit 1 when something blocks.
    Check {
        /// The catalog repository's root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Check this Git revision instead of the working tree.
        #[arg(long)]
        rev: Option<String>,
        /// Only report apps changed since this revision (cross-checks still see everything).
        #[arg(long)]
        base: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Explain a finding code and how to fix it (all codes when none is given).
    Explain {
        /// A code such as BZ0102.
        code: Option<String>,
    },
    /// Print the JSON Schema of a file kind, for editors and CI.
    Schema {
        /// Which file.
        #[arg(value_enum, default_value_t = SchemaKind::App)]
        kind: SchemaKind,
    },
    /// Scaffold a new app manifest (and README) that passes `check`.
    New {
        /// The catalog repository's root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The app's reverse-DNS id, e.g. com.acme.finance.expense-tracker; its last label names the folder.
        #[arg(long)]
        id: String,
        /// The owning team's folder name.
        #[arg(long)]
        team: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Tier.
        #[arg(long, value_parser = parse_tier, default_value = "discover")]
        tier: Tier,
        /// Runtime.
        #[arg(long, value_parser = parse_runtime, default_value = "web-component")]
        runtime: Runtime,
        /// Owner's forge login (defaults to $USER).
        #[arg(long)]
        owner: Option<String>,
        /// Backup owner's forge login (every app needs one).
        #[arg(long)]
        backup: Option<String>,
        /// SBOM path beside app.toml or https URL (vetted and enterprise apps need one).
        #[arg(long)]
        sbom: Option<String>,
        /// Artifact digest, sha256:<hex> (vetted and enterprise apps need one).
        #[arg(long)]
        digest: Option<String>,
    },
    /// Policy as code: run the policies' own tests.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Merge a submission with a commit signed by Bazaar's key that records its approvals.
    Merge {
        /// The catalog repository.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The branch to merge into.
        #[arg(long)]
        base: String,
        /// The submission's head (branch or commit).
        #[arg(long)]
        head: String,
        /// Bazaar's private SSH key (ed25519, mode 600).
        #[arg(long)]
        key: PathBuf,
        /// An approval, LOGIN:ROLE:REVIEW_ID[@HEAD[@TIME]] (repeat for each).
        #[arg(long = "approval", value_name = "LOGIN:ROLE:REVIEW_ID")]
        approvals: Vec<String>,
        /// The submission's author (forge login): they cannot approve it.
        #[arg(long)]
        author: Option<String>,
        /// The submission's URL.
        #[arg(long)]
        submission: Option<String>,
        /// When the submission was opened (RFC 3339).
        #[arg(long)]
        opened: Option<String>,
        /// Push the base branch to this remote (refused if the remote branch moved).
        #[arg(long)]
        push: Option<String>,
    },
    /// Build the static site into a fresh folder and publish it atomically at --out.
    Build {
        /// The catalog repository.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Build a revision instead of the working tree.
        #[arg(long)]
        rev: Option<String>,
        /// Where the site is published (a link replaced atomically on every build).
        #[arg(long, default_value = "public")]
        out: PathBuf,
    },
    /// Preview the site: build it, serve it locally and rebuild on every change (pages reload
    /// by themselves and show the catalog's errors while it has some).
    Serve {
        /// The catalog repository.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// The address to listen on (127.0.0.1 keeps the preview on this machine).
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
    },
    /// Verify the signed governance history: signatures, signers as of each parent, approvals.
    Audit {
        /// The catalog repository.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The tip to audit from.
        #[arg(long)]
        rev: Option<String>,
        /// Re-derive every merge's required roles from its base's policies instead of trusting
        /// the signed record (slower; catches a signer that computed them wrong).
        #[arg(long)]
        recompute: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TestFormat::Human)]
        format: TestFormat,
    },
    /// The lifecycle sweep: reminders before review dates, expiry, maintenance-required and
    /// retirement, planned for a day and written as one signed commit.
    Sweep {
        /// The catalog repository (its checked-out branch is swept).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The day to sweep as (YYYY-MM-DD; today in UTC by default).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
        /// Print the plan only; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Bazaar's private signing key (needed unless --dry-run).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TestFormat::Human)]
        format: TestFormat,
        /// Forge membership for the owners-left rule, as JSON: {"orgs": {"ORG": [logins]},
        /// "teams": {"ORG/TEAM": [logins]}} (without it the rule is skipped with a note).
        #[arg(long)]
        members: Option<PathBuf>,
    },
    /// List the apps most like one app, with the evidence (words, APIs, scopes, tags).
    Similar {
        /// The app's id, or its folder (catalog/<team>/<app>).
        app: String,
        /// The catalog repository.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Read a revision instead of the working tree.
        #[arg(long)]
        rev: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TestFormat::Human)]
        format: TestFormat,
    },
    /// Evaluates untrusted policies for a parent Bazaar process (internal; reads a job on stdin).
    #[command(name = "__policy-worker", hide = true)]
    PolicyWorker {
        /// The memory (data segment) the worker may use, in bytes.
        #[arg(long)]
        memory: u64,
    },
    /// Serve GitHub webhooks: check every pull request and report on it (see the README).
    Daemon(daemon::DaemonArgs),
    /// Publish a built site to a Git branch (git:gh-pages) or an S3-compatible bucket
    /// (s3://BUCKET/PREFIX), changed files only, never half a site.
    Publish(publish::PublishArgs),
    /// Create a new catalog repository: the default policies and templates, your settings, no
    /// apps, and a GitHub Actions workflow (`--demo` for the demo catalog).
    Init {
        /// Folder to create (must not exist or be empty).
        dir: PathBuf,
        /// The organisation's name (the site's title).
        #[arg(long)]
        org: Option<String>,
        /// The domain app endpoints live under, e.g. apps.acme.internal.
        #[arg(long)]
        apps_domain: Option<String>,
        /// The catalog's repository on GitHub, OWNER/NAME.
        #[arg(long)]
        repository: Option<String>,
        /// A forge login that holds the admin role (repeat for several).
        #[arg(long = "admin", value_name = "LOGIN")]
        admins: Vec<String>,
        /// Acme's demo catalog (22 apps) instead of an empty one.
        #[arg(long, conflicts_with_all = ["sample", "org", "apps_domain", "repository", "admins"])]
        demo: bool,
        /// Generate N synthetic apps instead (for benchmarks).
        #[arg(long, value_name = "N")]
        sample: Option<usize>,
    },
}

/// The run's context, read once from the environment at the edge: `BAZAAR_TODAY=YYYY-MM-DD`
/// pins the date policies see (reproducible checks and tests); `BAZAAR_POLICY_ENGINE` picks the
/// policy engine (`vm`, the default, or `interpreter`).
fn context() -> anyhow::Result<Context> {
    let mut ctx = Context::new();
    // a submission's own policies run in a memory-limited child: this very binary
    ctx.worker = std::env::current_exe().ok();
    if let Ok(v) = std::env::var("BAZAAR_TODAY") {
        ctx.today = Some(
            chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .map_err(|e| anyhow::anyhow!("BAZAAR_TODAY={v:?} is not a YYYY-MM-DD date: {e}"))?,
        );
    }
    if let Ok(v) = std::env::var("BAZAAR_POLICY_ENGINE") {
        ctx.engine = Engine::parse(&v).ok_or_else(|| {
            anyhow::anyhow!("BAZAAR_POLICY_ENGINE={v:?} is not an engine; use `vm` (the default) or `interpreter`")
        })?;
    }
    Ok(ctx)
}

/// Completes on Ctrl-C (or SIGTERM), so `serve` can stop cleanly and remove its build.
async fn stop_signal() {
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // no handler: Ctrl-C still ends the process, just without the cleanup
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Run every `test_` rule in policies/*.rego; exit 1 when one fails.
    Test {
        /// The catalog repository's root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Test the policies of this revision instead of the working tree.
        #[arg(long)]
        rev: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TestFormat::Human)]
        format: TestFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TestFormat {
    Human,
    Json,
}

fn parse_tier(s: &str) -> Result<Tier, String> {
    Tier::parse(s).ok_or_else(|| format!("use one of {}", Tier::choices()))
}

fn parse_runtime(s: &str) -> Result<Runtime, String> {
    Runtime::parse(s).ok_or_else(|| format!("use one of {}", Runtime::choices()))
}

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if let Some(h) = hint(&e) {
                eprintln!("hint: {h}");
            }
            ExitCode::from(2)
        }
    }
}

/// What to do next, for the library's errors that a command-line flag or command fixes (the
/// library says what went wrong; only the CLI knows its flags).
fn hint(e: &anyhow::Error) -> Option<&'static str> {
    use bazaar::check::CheckError;
    use bazaar::git::GitError;
    for cause in e.chain() {
        if let Some(c) = cause.downcast_ref::<CheckError>() {
            match c {
                CheckError::NoRoot(_) => {
                    return Some("pass --root with the catalog repository's folder");
                }
                CheckError::NotACatalog(_) => {
                    return Some(
                        "run Bazaar at the catalog repository's root, pass --root DIR, or create one with `bazaar init DIR`",
                    );
                }
                _ => {}
            }
        }
        if let Some(GitError::NotARepo { .. }) = cause.downcast_ref::<GitError>() {
            return Some(
                "run `git init` there and commit, or pass --root with the catalog repository",
            );
        }
    }
    None
}

pub(crate) fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check {
            root,
            rev,
            base,
            format,
        } => {
            let checked = check(&context()?, &CheckOptions { root, rev, base })?;
            let color = format == Format::Human
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            out(&render(&checked.report, format, color))?;
            Ok(if checked.report.blocks() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Explain { code: Some(code) } => match lookup(&code) {
            Some(info) => {
                out(&format!(
                    "{}: {}\n\n{}\n",
                    info.code, info.title, info.guide
                ))?;
                Ok(ExitCode::SUCCESS)
            }
            None => anyhow::bail!("unknown code {code:?}; `bazaar explain` lists every code"),
        },
        Command::Explain { code: None } => {
            let mut text = String::new();
            for info in explain() {
                text.push_str(&format!(
                    "{}  {:<8} {}\n",
                    info.code,
                    info.severity.as_str(),
                    info.title
                ));
            }
            text.push_str("\nRun `bazaar explain CODE` for what a code means and how to fix it.\n");
            out(&text)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { kind } => {
            out(&(serde_json::to_string_pretty(&schema(kind))? + "\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Policy {
            command: PolicyCommand::Test { root, rev, format },
        } => {
            let snap = bazaar::check::snapshot(&root, rev.as_deref())?;
            let (set, outcomes) = bazaar::policy::run_tests(&snap, &context()?)?;
            let failed = outcomes.iter().filter(|o| !o.passed).count();
            let broken = !set.errors.is_empty();
            if format == TestFormat::Json {
                let v = serde_json::json!({
                    "passed": outcomes.len() - failed,
                    "failed": failed,
                    "tests": outcomes,
                    "errors": set.errors,
                });
                out(&(serde_json::to_string_pretty(&v)? + "\n"))?;
            } else {
                let mut text = String::new();
                if broken {
                    let report = bazaar::diagnostics::Report {
                        findings: set.errors.clone(),
                        sources: set.sources.clone(),
                        ..Default::default()
                    };
                    let rendered = render(&report, Format::Human, false);
                    text.push_str(
                        rendered
                            .rsplit_once("\n\n")
                            .map_or(rendered.as_str(), |(a, _)| a),
                    );
                    text.push('\n');
                }
                for o in outcomes.iter().filter(|o| !o.passed) {
                    text.push_str(&format!(
                        "FAIL - {}:{} - {}\n       {}\n",
                        o.file,
                        o.line,
                        o.rule,
                        o.error.as_deref().unwrap_or("")
                    ));
                }
                if outcomes.is_empty() && !broken {
                    text.push_str("no test_ rules found in policies/*.rego\n");
                }
                text.push_str(&format!(
                    "{} tests, {} passed, {} failed\n",
                    outcomes.len(),
                    outcomes.len() - failed,
                    failed
                ));
                out(&text)?;
            }
            Ok(if failed > 0 || broken || outcomes.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::New {
            root,
            id,
            team,
            name,
            tier,
            runtime,
            owner,
            backup,
            sbom,
            digest,
        } => {
            let owner = owner
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_default();
            let written = scaffold::new_app(
                &root,
                &scaffold::NewApp {
                    id,
                    team,
                    name,
                    tier,
                    runtime,
                    owner,
                    backup,
                    sbom,
                    digest,
                },
            )?;
            for p in &written {
                eprintln!("wrote {}", p.display());
            }
            // Tell the contributor what is left, exactly as `check` will.
            let manifest = written[0]
                .strip_prefix(&root)
                .unwrap_or(&written[0])
                .to_string_lossy()
                .replace('\\', "/");
            let manifest = manifest.trim_start_matches("./").to_string();
            let mut checked = check(
                &context()?,
                &CheckOptions {
                    root: root.clone(),
                    rev: None,
                    base: None,
                },
            )?;
            checked
                .report
                .findings
                .retain(|f| f.file() == Some(manifest.as_str()));
            checked.report.notes.clear();
            if checked.report.findings.is_empty() {
                eprintln!(
                    "{manifest} passes `bazaar check`; next: fill in the summary and README, then open a pull request"
                );
            } else {
                eprint!(
                    "{}",
                    render(&checked.report, Format::Human, false)
                        .rsplit_once("\n\n")
                        .map_or("", |(a, _)| a)
                );
                eprintln!("\n{manifest} needs the fixes above before `bazaar check` passes");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge {
            root,
            base,
            head,
            key,
            approvals,
            author,
            submission,
            opened,
            push,
        } => {
            let opened = match opened {
                Some(o) => Some(
                    chrono::DateTime::parse_from_rfc3339(&o)
                        .map_err(|e| {
                            anyhow::anyhow!("--opened {o:?} is not an RFC 3339 time: {e}")
                        })?
                        .with_timezone(&chrono::Utc),
                ),
                None => None,
            };
            let opts = bazaar::merge::MergeOptions {
                root,
                base,
                head,
                key,
                approvals,
                author,
                submission,
                opened,
                push,
                granted: Vec::new(),
            };
            match bazaar::merge::merge(&context()?, &opts) {
                Ok(m) => {
                    out(&format!(
                        "merged {} into {} as {} (signed){}{}\n",
                        opts.head,
                        opts.base,
                        m.commit,
                        if m.pushed { ", pushed" } else { "" },
                        if m.worktree_updated {
                            ", working tree updated"
                        } else {
                            ""
                        }
                    ))?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(bazaar::merge::MergeError::Refused { reasons, checked }) => {
                    if let Some(c) = checked {
                        eprint!("{}", render(&c.report, Format::Human, false));
                    }
                    eprintln!("merge refused:");
                    for r in reasons {
                        eprintln!("  - {r}");
                    }
                    Ok(ExitCode::from(1))
                }
                Err(bazaar::merge::MergeError::UpToDate(why)) => {
                    eprintln!("merge refused:\n  - {why}");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Build { root, rev, out } => {
            let started = std::time::Instant::now();
            let out = if out.is_relative() {
                root.join(out)
            } else {
                out
            };
            let built = bazaar::site::build(&bazaar::site::BuildOptions {
                root,
                rev,
                out: out.clone(),
                ctx: context()?,
            })?;
            let errors = built.report.count(bazaar::diagnostics::Severity::Error);
            if errors > 0 {
                eprintln!(
                    "warning: {errors} error(s) in the catalog; apps whose manifests do not load are left out (run `bazaar check`)"
                );
            }
            let t = built.timings_ms;
            eprintln!(
                "built {} pages ({} rendered, {} unchanged) and a search index of {} apps into {} in {:.2} s; pages published after {:.2} s (check {} ms, model {} ms, pages {} ms, search {} ms)",
                built.pages,
                built.rendered,
                built.reused,
                built.search_records,
                out.display(),
                started.elapsed().as_secs_f64(),
                t.published as f64 / 1000.0,
                t.check,
                t.model,
                t.pages,
                t.search
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { root, port, bind } => {
            let opts = bazaar::site::serve::ServeOptions {
                root,
                bind,
                port,
                ctx: context()?,
            };
            let log: bazaar::site::serve::Log = std::sync::Arc::new(|note| eprintln!("{note}"));
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(bazaar::site::serve::serve(opts, log, stop_signal()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            root,
            rev,
            recompute,
            format,
        } => {
            // the audit judges each merge as of its own day, not a pinned one
            let report = bazaar::audit::audit(
                &Context {
                    today: None,
                    ..context()?
                },
                &bazaar::audit::AuditOptions {
                    root,
                    rev,
                    recompute,
                },
            )?;
            use bazaar::audit::Status;
            let failed = report.count(&Status::Failed);
            if format == TestFormat::Json {
                out(&(serde_json::to_string_pretty(&report)? + "\n"))?;
            } else {
                let mut text = String::new();
                for c in report.commits.iter().filter(|c| c.status == Status::Failed) {
                    text.push_str(&format!(
                        "FAIL {} {:?} (changes {})\n",
                        &c.commit[..12],
                        c.subject,
                        c.changed.join(", ")
                    ));
                    for r in &c.reasons {
                        text.push_str(&format!("     {r}\n"));
                    }
                }
                text.push_str(&format!(
                    "{} commits from {}: {} verified, {} failed, {} genesis (before policies/allowed_signers), {} not touching the catalog\n",
                    report.commits.len(),
                    &report.tip[..12],
                    report.count(&Status::Verified),
                    failed,
                    report.count(&Status::Genesis),
                    report.count(&Status::NotGoverned)
                ));
                out(&text)?;
            }
            Ok(if failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Sweep {
            root,
            at,
            dry_run,
            key,
            format,
            members,
        } => sweep::run(
            context()?.with_today(at),
            &root,
            dry_run,
            key,
            format == TestFormat::Json,
            members.as_deref(),
        ),
        Command::PolicyWorker { memory } => {
            bazaar::policy::worker::serve(
                std::io::stdin().lock(),
                std::io::stdout().lock(),
                memory,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Daemon(args) => daemon::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Similar {
            app,
            root,
            rev,
            format,
        } => {
            out(&similar::run(
                &root,
                rev.as_deref(),
                &app,
                format == TestFormat::Json,
            )?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Init {
            dir,
            org,
            apps_domain,
            repository,
            admins,
            demo,
            sample,
        } => {
            for a in &admins {
                if !bazaar::manifest::is_login(a) {
                    anyhow::bail!(
                        "--admin {a:?} is not a forge login (letters, digits and single hyphens)"
                    );
                }
            }
            let kind = match (demo, sample) {
                (true, _) => scaffold::InitKind::Demo,
                (false, Some(n)) => scaffold::InitKind::Sample(n),
                (false, None) => scaffold::InitKind::Org(scaffold::org::OrgOptions {
                    org,
                    apps_domain,
                    repository,
                    admins,
                }),
            };
            let progress = |msg: &str| eprintln!("{msg}");
            let summary = scaffold::init(&dir, &kind, &progress)?;
            eprintln!(
                "created catalog repository {} with {} apps in {} teams (commit {})\nnext: cd {} && bazaar check{}",
                dir.display(),
                summary.apps,
                summary.teams,
                &summary.commit[..12.min(summary.commit.len())],
                dir.display(),
                if matches!(kind, scaffold::InitKind::Org(_)) {
                    " (it lists the settings still to fill), then `bazaar new` for the first app"
                } else {
                    ""
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
