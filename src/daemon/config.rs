//! The daemon's settings, from the environment and an optional `[daemon]` table of a config
//! file (the environment wins). A missing or invalid setting is an error that names it; secrets
//! are read into [`Secret`]s and never shown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::forge::{AppCredentials, Auth, RepoName, Secret};

/// GitHub sends payloads of up to 25 MB.
pub const DEFAULT_MAX_BODY: usize = 25 * 1024 * 1024;

/// Everything `bazaar daemon` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the HTTP edge listens.
    pub listen: SocketAddr,
    /// Webhook secrets; any of them verifies a delivery (rotation).
    pub secrets: Vec<Secret>,
    /// The catalog repository on the forge.
    pub repository: RepoName,
    /// Where the mirror fetches from (an https URL, a path or file:// URL in tests).
    pub remote_url: String,
    /// Journal, mirror and caches.
    pub data_dir: PathBuf,
    /// The REST API's address.
    pub api_url: url::Url,
    /// How to authenticate.
    pub auth: Auth,
    /// The login Bazaar acts as, when it should not be asked from the API.
    pub bot_login: Option<String>,
    /// Largest accepted body (413 above).
    pub max_body: usize,
    /// Deliveries accepted and not yet done, at most (503 above).
    pub queue_capacity: usize,
    /// Pull requests worked at once.
    pub workers: usize,
    /// The check run's name.
    pub check_name: String,
    /// The day policies take as today (`BAZAAR_TODAY`; the local date when unset).
    pub today: Option<chrono::NaiveDate>,
    /// The clock, policy engine, limits and policy worker of the checks it runs (the CLI edge
    /// sets the worker to this binary).
    pub context: crate::context::Context,
    /// How long SIGTERM waits for queued work before exiting anyway.
    pub drain_timeout: Duration,
    /// Attempts at a delivery whose work fails (unreachable remote or forge) before it is left
    /// for reconciliation; the waits double from one second.
    pub attempts: u32,
    /// Bazaar's SSH signing key (`BAZAAR_SIGNING_KEY`): with it the daemon merges approved
    /// submissions and runs the lifecycle sweep; without it, it only checks them.
    pub signing_key: Option<PathBuf>,
    /// The branch submissions merge into and the site is built from.
    pub main_branch: String,
    /// How often every open pull request is brought to its right state and the site rebuilt
    /// when the main branch moved (also once at start).
    pub reconcile_every: Duration,
    /// Tries at a merge whose push finds the main branch moved (each re-judged on the new base).
    pub merge_attempts: u32,
    /// Where the site is built and published (`BAZAAR_SITE_DIR`): the folder target.
    pub site_dir: Option<PathBuf>,
    /// A branch of the catalog repository the site is also published to (`BAZAAR_PUBLISH_BRANCH`,
    /// e.g. `gh-pages`), pushed with a lease.
    pub publish_branch: Option<String>,
    /// An S3-compatible bucket the site is also published to (`BAZAAR_PUBLISH_BUCKET`,
    /// `s3://BUCKET/PREFIX`, with `BAZAAR_S3_ENDPOINT`, `BAZAAR_S3_REGION`,
    /// `BAZAAR_S3_ACCESS_KEY_ID` and `BAZAAR_S3_SECRET_ACCESS_KEY` or `_FILE`).
    pub publish_bucket: Option<crate::publish::Bucket>,
    /// How often the lifecycle sweep runs (`BAZAAR_SWEEP_EVERY`: `24h` by default, `off` to
    /// stop it); it also runs once shortly after the start.
    pub sweep_every: Option<Duration>,
    /// The most content-creating forge writes one sweep makes (`BAZAAR_SWEEP_WRITES`, 80 by
    /// default, GitHub's secondary limit per minute); the rest wait for the next run.
    pub sweep_writes: usize,
}

/// A duration like `90s`, `15m`, `24h`, `1d`, or seconds; `off` is `None`.
fn duration(name: &'static str, v: &str) -> Result<Option<Duration>, ConfigError> {
    let v = v.trim();
    if v.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let (n, unit) = match v.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => v.split_at(i),
        None => (v, "s"),
    };
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match n.parse::<u64>() {
        Ok(n) if n > 0 && mult > 0 => Ok(Some(Duration::from_secs(n.saturating_mul(mult)))),
        _ => Err(ConfigError::Invalid(
            name,
            format!("{v:?} is not a duration like 30s, 15m, 24h or 1d (or off)"),
        )),
    }
}

/// A setting that stops the start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not given anywhere.
    #[error("{0} is not set: {1}")]
    Missing(&'static str, &'static str),
    /// Given but wrong.
    #[error("{0} is invalid: {1}")]
    Invalid(&'static str, String),
}

/// Where settings come from: environment variables (`BAZAAR_…`) and the config file's
/// `[daemon]` table (the same names in lower case without `BAZAAR_`).
#[derive(Debug, Default)]
pub struct Sources {
    /// Environment variables (only `BAZAAR_` ones are read).
    pub env: BTreeMap<String, String>,
    /// The `[daemon]` table, when a config file was given.
    pub file: Option<toml::Table>,
}

impl Sources {
    fn get(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        if let Some(v) = self.env.get(name) {
            return Ok(Some(v.clone()));
        }
        let key = name.trim_start_matches("BAZAAR_").to_ascii_lowercase();
        match self.file.as_ref().and_then(|t| t.get(&key)) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(toml::Value::Integer(i)) => Ok(Some(i.to_string())),
            Some(toml::Value::Array(a)) => Ok(Some(
                a.iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            Some(other) => Err(ConfigError::Invalid(
                name,
                format!(
                    "`{key}` in [daemon] must be a string, not {}",
                    other.type_str()
                ),
            )),
        }
    }

    fn need(&self, name: &'static str, hint: &'static str) -> Result<String, ConfigError> {
        match self.get(name)? {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(ConfigError::Missing(name, hint)),
        }
    }

    fn number<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
    ) -> Result<T, ConfigError> {
        match self.get(name)? {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| ConfigError::Invalid(name, format!("{v:?} is not a number"))),
        }
    }
}

fn read_secret_file(name: &'static str, path: &str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map_err(|e| ConfigError::Invalid(name, format!("cannot read {path}: {e}")))
}

/// The bucket target, when one is set: its URL, endpoint, region and credentials.
fn bucket(src: &Sources) -> Result<Option<crate::publish::Bucket>, ConfigError> {
    const NAME: &str = "BAZAAR_PUBLISH_BUCKET";
    let Some(url) = src.get(NAME)?.filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let mut b = crate::publish::Bucket::from_url(url.trim())
        .map_err(|e| ConfigError::Invalid(NAME, e.to_string()))?;
    b.endpoint = src
        .get("BAZAAR_S3_ENDPOINT")?
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    b.allow_http = b
        .endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"));
    b.region = src
        .get("BAZAAR_S3_REGION")?
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let key = src.need(
        "BAZAAR_S3_ACCESS_KEY_ID",
        "set it (and BAZAAR_S3_SECRET_ACCESS_KEY or _FILE) to the bucket's credentials",
    )?;
    let secret = match (
        src.get("BAZAAR_S3_SECRET_ACCESS_KEY")?,
        src.get("BAZAAR_S3_SECRET_ACCESS_KEY_FILE")?,
    ) {
        (Some(s), _) => s,
        (None, Some(path)) => read_secret_file("BAZAAR_S3_SECRET_ACCESS_KEY_FILE", &path)?,
        (None, None) => {
            return Err(ConfigError::Missing(
                "BAZAAR_S3_SECRET_ACCESS_KEY",
                "set it (or BAZAAR_S3_SECRET_ACCESS_KEY_FILE) to the bucket's secret key",
            ));
        }
    };
    b.credentials = Some(crate::publish::Credentials {
        access_key_id: key.trim().to_string(),
        secret_access_key: secret.trim().to_string(),
        session_token: None,
    });
    Ok(Some(b))
}

impl Config {
    /// Reads the settings. Files named by settings (secrets, the App key) are read here.
    pub fn from_sources(src: &Sources) -> Result<Config, ConfigError> {
        let listen = src
            .get("BAZAAR_LISTEN")?
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen.trim().parse().map_err(|_| {
            ConfigError::Invalid(
                "BAZAAR_LISTEN",
                format!("{listen:?} is not ADDRESS:PORT (e.g. 0.0.0.0:8080)"),
            )
        })?;

        let secrets_text = match (
            src.get("BAZAAR_WEBHOOK_SECRET")?,
            src.get("BAZAAR_WEBHOOK_SECRET_FILE")?,
        ) {
            (Some(s), _) => s,
            (None, Some(path)) => read_secret_file("BAZAAR_WEBHOOK_SECRET_FILE", &path)?,
            (None, None) => {
                return Err(ConfigError::Missing(
                    "BAZAAR_WEBHOOK_SECRET",
                    "set it (or BAZAAR_WEBHOOK_SECRET_FILE) to the GitHub App's webhook secret; several, comma-separated, during a rotation",
                ));
            }
        };
        let secrets: Vec<Secret> = secrets_text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
            .collect();
        if secrets.is_empty() {
            return Err(ConfigError::Invalid(
                "BAZAAR_WEBHOOK_SECRET",
                "it holds no secret".into(),
            ));
        }

        let repo = src.need(
            "BAZAAR_REPOSITORY",
            "set it to the catalog repository, OWNER/NAME",
        )?;
        let repository = RepoName::parse(repo.trim()).ok_or_else(|| {
            ConfigError::Invalid("BAZAAR_REPOSITORY", format!("{repo:?} is not OWNER/NAME"))
        })?;
        let remote_url = match src.get("BAZAAR_REMOTE_URL")? {
            Some(u) if !u.trim().is_empty() => u.trim().to_string(),
            _ => format!("https://github.com/{repository}.git"),
        };
        let data_dir = PathBuf::from(src.need(
            "BAZAAR_DATA_DIR",
            "set it to a folder the daemon owns (journal and mirror live there)",
        )?);
        let api = src
            .get("BAZAAR_GITHUB_API_URL")?
            .unwrap_or_else(|| "https://api.github.com".into());
        let api_url = url::Url::parse(api.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                ConfigError::Invalid(
                    "BAZAAR_GITHUB_API_URL",
                    format!("{api:?} is not an http(s) URL"),
                )
            })?;

        let auth = match (
            src.get("BAZAAR_GITHUB_TOKEN")?,
            src.get("BAZAAR_GITHUB_APP_ID")?,
        ) {
            (Some(t), _) if !t.trim().is_empty() => Auth::Token(Secret::new(t.trim())),
            (_, Some(id)) => {
                let app_id: u64 = id.trim().parse().map_err(|_| {
                    ConfigError::Invalid("BAZAAR_GITHUB_APP_ID", format!("{id:?} is not a number"))
                })?;
                let path = src.need(
                    "BAZAAR_GITHUB_APP_KEY_FILE",
                    "set it to the GitHub App's private key (.pem)",
                )?;
                let key = read_secret_file("BAZAAR_GITHUB_APP_KEY_FILE", &path)?;
                let app = AppCredentials {
                    app_id,
                    key_pem: Secret::new(key),
                };
                app.validate()
                    .map_err(|e| ConfigError::Invalid("BAZAAR_GITHUB_APP_KEY_FILE", e))?;
                Auth::App(app)
            }
            _ => {
                return Err(ConfigError::Missing(
                    "BAZAAR_GITHUB_APP_ID",
                    "set BAZAAR_GITHUB_APP_ID and BAZAAR_GITHUB_APP_KEY_FILE (a GitHub App), or BAZAAR_GITHUB_TOKEN",
                ));
            }
        };
        let today = match src.get("BAZAAR_TODAY")? {
            None => None,
            Some(v) => Some(
                chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
                    ConfigError::Invalid("BAZAAR_TODAY", format!("{v:?} is not YYYY-MM-DD"))
                })?,
            ),
        };
        let positive = |name: &'static str, v: usize| {
            if v == 0 {
                Err(ConfigError::Invalid(name, "must be at least 1".into()))
            } else {
                Ok(v)
            }
        };
        Ok(Config {
            listen,
            secrets,
            repository,
            remote_url,
            data_dir,
            api_url,
            auth,
            bot_login: src
                .get("BAZAAR_BOT_LOGIN")?
                .filter(|s| !s.trim().is_empty()),
            max_body: positive(
                "BAZAAR_MAX_BODY",
                src.number("BAZAAR_MAX_BODY", DEFAULT_MAX_BODY)?,
            )?,
            queue_capacity: positive(
                "BAZAAR_QUEUE_CAPACITY",
                src.number("BAZAAR_QUEUE_CAPACITY", 10_000)?,
            )?,
            workers: positive("BAZAAR_WORKERS", src.number("BAZAAR_WORKERS", 4)?)?,
            check_name: src
                .get("BAZAAR_CHECK_NAME")?
                .unwrap_or_else(|| "Bazaar".into()),
            today,
            context: crate::context::Context {
                today,
                ..crate::context::Context::new()
            },
            drain_timeout: Duration::from_secs(src.number("BAZAAR_DRAIN_TIMEOUT_SECS", 60)?),
            attempts: positive("BAZAAR_ATTEMPTS", src.number("BAZAAR_ATTEMPTS", 5usize)?)? as u32,
            signing_key: match src.get("BAZAAR_SIGNING_KEY")? {
                Some(p) if !p.trim().is_empty() => {
                    let p = PathBuf::from(p.trim());
                    // the same checks as `bazaar merge --key` (a private key, not readable by
                    // others), at start rather than at the first approved submission
                    crate::signing::Signer::from_file(&p)
                        .map_err(|e| ConfigError::Invalid("BAZAAR_SIGNING_KEY", e.to_string()))?;
                    Some(p)
                }
                _ => None,
            },
            main_branch: src
                .get("BAZAAR_MAIN_BRANCH")?
                .map(|b| b.trim().to_string())
                .filter(|b| !b.is_empty())
                .unwrap_or_else(|| "main".into()),
            reconcile_every: Duration::from_secs(positive(
                "BAZAAR_RECONCILE_SECS",
                src.number("BAZAAR_RECONCILE_SECS", 300usize)?,
            )? as u64),
            merge_attempts: positive(
                "BAZAAR_MERGE_ATTEMPTS",
                src.number("BAZAAR_MERGE_ATTEMPTS", 3usize)?,
            )? as u32,
            site_dir: src
                .get("BAZAAR_SITE_DIR")?
                .filter(|s| !s.trim().is_empty())
                .map(|s| PathBuf::from(s.trim())),
            publish_branch: match src.get("BAZAAR_PUBLISH_BRANCH")? {
                Some(b) if !b.trim().is_empty() => {
                    let b = b.trim().to_string();
                    if !crate::publish::branch::valid_branch(&b) {
                        return Err(ConfigError::Invalid(
                            "BAZAAR_PUBLISH_BRANCH",
                            format!("{b:?} is not a branch name git accepts (e.g. gh-pages)"),
                        ));
                    }
                    Some(b)
                }
                _ => None,
            },
            publish_bucket: bucket(src)?,
            sweep_every: match src.get("BAZAAR_SWEEP_EVERY")? {
                None => Some(Duration::from_secs(86_400)),
                Some(v) => duration("BAZAAR_SWEEP_EVERY", &v)?,
            },
            sweep_writes: positive(
                "BAZAAR_SWEEP_WRITES",
                src.number("BAZAAR_SWEEP_WRITES", 80usize)?,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(pairs: &[(&str, &str)], file: Option<&str>) -> Sources {
        Sources {
            env: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            file: file.map(|f| toml::from_str(f).unwrap()),
        }
    }

    const BASE: &[(&str, &str)] = &[
        ("BAZAAR_WEBHOOK_SECRET", "s1, s2"),
        ("BAZAAR_REPOSITORY", "acme/catalog"),
        ("BAZAAR_DATA_DIR", "/var/lib/bazaar"),
        ("BAZAAR_GITHUB_TOKEN", "ghs_topsecret"),
    ];

    #[test]
    fn reads_env_and_file_env_wins() {
        let mut pairs = BASE.to_vec();
        pairs.push(("BAZAAR_LISTEN", "0.0.0.0:9000"));
        let c = Config::from_sources(&src(
            &pairs,
            Some("listen = \"127.0.0.1:1\"\nworkers = 2\nrepository = \"x/y\""),
        ))
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.workers, 2);
        assert_eq!(c.repository.to_string(), "acme/catalog");
        assert_eq!(c.secrets.len(), 2);
        assert_eq!(c.remote_url, "https://github.com/acme/catalog.git");
    }

    #[test]
    fn a_missing_or_invalid_setting_is_named_and_secrets_never_show() {
        for (drop, name) in [
            ("BAZAAR_WEBHOOK_SECRET", "BAZAAR_WEBHOOK_SECRET"),
            ("BAZAAR_REPOSITORY", "BAZAAR_REPOSITORY"),
            ("BAZAAR_DATA_DIR", "BAZAAR_DATA_DIR"),
            ("BAZAAR_GITHUB_TOKEN", "BAZAAR_GITHUB_APP_ID"),
        ] {
            let pairs: Vec<_> = BASE.iter().copied().filter(|(k, _)| *k != drop).collect();
            let e = Config::from_sources(&src(&pairs, None)).unwrap_err();
            assert!(e.to_string().contains(name), "{e}");
        }
        let mut pairs = BASE.to_vec();
        pairs.push(("BAZAAR_LISTEN", "nonsense"));
        let e = Config::from_sources(&src(&pairs, None)).unwrap_err();
        assert!(e.to_string().contains("BAZAAR_LISTEN"), "{e}");
        let c = Config::from_sources(&src(BASE, None)).unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("topsecret") && !shown.contains("s1"),
            "{shown}"
        );
    }

    #[test]
    fn publish_targets_are_read_and_a_wrong_one_is_named() {
        let c = Config::from_sources(&src(BASE, None)).unwrap();
        assert!(c.publish_branch.is_none() && c.publish_bucket.is_none());
        assert_eq!(c.main_branch, "main");
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("BAZAAR_PUBLISH_BRANCH", "gh-pages"),
            ("BAZAAR_PUBLISH_BUCKET", "s3://acme-site/catalog"),
            ("BAZAAR_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("BAZAAR_S3_ACCESS_KEY_ID", "AKIA1"),
            ("BAZAAR_S3_SECRET_ACCESS_KEY", "s3cret-value"),
        ]);
        let c = Config::from_sources(&src(&pairs, None)).unwrap();
        assert_eq!(c.publish_branch.as_deref(), Some("gh-pages"));
        let b = c.publish_bucket.as_ref().unwrap();
        assert_eq!(
            (b.name.as_str(), b.prefix.as_str()),
            ("acme-site", "catalog")
        );
        assert!(
            b.allow_http,
            "an http:// endpoint (a local S3-compatible server)"
        );
        assert!(!format!("{c:?}").contains("s3cret-value"));
        for (name, value, named) in [
            ("BAZAAR_PUBLISH_BRANCH", "gh pages", "BAZAAR_PUBLISH_BRANCH"),
            (
                "BAZAAR_PUBLISH_BUCKET",
                "s3://Bad_Bucket",
                "BAZAAR_PUBLISH_BUCKET",
            ),
            ("BAZAAR_S3_ACCESS_KEY_ID", "", "BAZAAR_S3_ACCESS_KEY_ID"),
        ] {
            let mut bad: Vec<_> = pairs.iter().copied().filter(|(k, _)| *k != name).collect();
            bad.push((name, value));
            let e = Config::from_sources(&src(&bad, None)).unwrap_err();
            assert!(e.to_string().contains(named), "{name}={value:?}: {e}");
        }
    }

    #[test]
    fn lifecycle_sweep_settings_default_to_daily_and_80_writes() {
        let c = Config::from_sources(&src(BASE, None)).unwrap();
        assert_eq!(c.sweep_every, Some(Duration::from_secs(86_400)));
        assert_eq!((c.sweep_writes, c.signing_key.clone()), (80, None));
        let mut pairs = BASE.to_vec();
        pairs.push(("BAZAAR_SWEEP_EVERY", "15m"));
        let c = Config::from_sources(&src(&pairs, Some("sweep_writes = 5"))).unwrap();
        assert_eq!(c.sweep_every, Some(Duration::from_secs(900)));
        assert_eq!(c.sweep_writes, 5);
        // the key is checked at start (the merge tests start daemons with a real one)
        pairs.push(("BAZAAR_SIGNING_KEY", "/keys/bazaar"));
        let e = Config::from_sources(&src(&pairs, None)).unwrap_err();
        assert!(
            e.to_string().contains("BAZAAR_SIGNING_KEY") && e.to_string().contains("/keys/bazaar"),
            "{e}"
        );
        for bad in ["soon", "0h", "5w"] {
            let mut pairs = BASE.to_vec();
            pairs.push(("BAZAAR_SWEEP_EVERY", bad));
            let e = Config::from_sources(&src(&pairs, None)).unwrap_err();
            assert!(e.to_string().contains("BAZAAR_SWEEP_EVERY"), "{e}");
        }
        let mut pairs = BASE.to_vec();
        pairs.push(("BAZAAR_SWEEP_EVERY", "off"));
        assert_eq!(
            Config::from_sources(&src(&pairs, None))
                .unwrap()
                .sweep_every,
            None
        );
    }

    #[test]
    fn an_app_key_that_is_not_rsa_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "not a key").unwrap();
        let mut pairs: Vec<_> = BASE
            .iter()
            .copied()
            .filter(|(k, _)| *k != "BAZAAR_GITHUB_TOKEN")
            .collect();
        pairs.push(("BAZAAR_GITHUB_APP_ID", "42"));
        let k = key.to_str().unwrap().to_string();
        pairs.push(("BAZAAR_GITHUB_APP_KEY_FILE", &k));
        let e = Config::from_sources(&src(&pairs, None)).unwrap_err();
        assert!(e.to_string().contains("BAZAAR_GITHUB_APP_KEY_FILE"), "{e}");
    }
}
