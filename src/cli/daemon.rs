//! `bazaar daemon`: the edge where the environment and the config file are read into a
//! [`Config`], logging is set up, and the daemon runs until SIGTERM or Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use bazaar::daemon::{self, Config, Sources};

/// `bazaar daemon` and its options.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// A TOML file whose `[daemon]` table holds settings (lower-case names without `BAZAAR_`,
    /// e.g. `listen`, `repository`); the environment wins over it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<DaemonCommand>,
}

#[derive(Debug, Subcommand)]
enum DaemonCommand {
    /// Work one journaled delivery again, for debugging, and print how it ended.
    Replay {
        /// The delivery's id (`X-GitHub-Delivery`).
        id: String,
    },
}

fn sources(config: Option<&PathBuf>) -> anyhow::Result<Sources> {
    let env = std::env::vars()
        .filter(|(k, _)| k.starts_with("BAZAAR_"))
        .collect();
    let file = match config {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            let mut table: toml::Table = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not valid TOML: {e}", path.display()))?;
            match table.remove("daemon") {
                Some(toml::Value::Table(t)) => Some(t),
                Some(_) => anyhow::bail!("[daemon] in {} must be a table", path.display()),
                None => anyhow::bail!("{} has no [daemon] table", path.display()),
            }
        }
    };
    Ok(Sources { env, file })
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BAZAAR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Runs `bazaar daemon …`.
pub fn run(args: DaemonArgs) -> anyhow::Result<ExitCode> {
    let mut config = Config::from_sources(&sources(args.config.as_ref())?)
        .map_err(|e| anyhow::anyhow!("cannot start the daemon: {e}"))?;
    // the clock, engine, limits and policy worker of every check it runs
    config.context = super::context()?;
    init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.command {
        None => {
            rt.block_on(daemon::run(config, super::stop_signal()))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(DaemonCommand::Replay { id }) => {
            let outcome = rt.block_on(daemon::replay(config, &id))?;
            super::out(&format!("{id}: {outcome}\n"))?;
            Ok(if outcome.starts_with("failed") {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
