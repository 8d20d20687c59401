//! Synthetic but realistic catalogs for benchmarks: N apps spread over teams, tiers, runtimes
//! and data classes, with READMEs of a few hundred words from a large vocabulary, and six months
//! of usage and cost signals per app (`signals/usage-sample.csv`). Deterministic.

use std::path::Path;

use rayon::prelude::*;

use super::{ScaffoldError, write};

const TEAMS: &[(&str, &str)] = &[
    ("finance", "Finance Engineering"),
    ("people", "People Systems"),
    ("platform", "Platform"),
    ("security", "Security Engineering"),
    ("sales", "Sales Operations"),
    ("support", "Customer Support Tools"),
    ("clinical-ops", "Clinical Operations"),
    ("data", "Data Platform"),
    ("legal", "Legal Operations"),
    ("marketing", "Marketing Technology"),
    ("procurement", "Procurement"),
    ("facilities", "Workplace & Facilities"),
    ("it", "IT Services"),
    ("growth", "Growth Engineering"),
    ("payments", "Payments"),
    ("logistics", "Logistics"),
    ("research", "Research Computing"),
    ("design", "Design Systems"),
    ("mobile", "Mobile Platform"),
    ("risk", "Risk & Fraud"),
    ("billing", "Billing"),
    ("partners", "Partner Integrations"),
    ("quality", "Quality Engineering"),
    ("analytics", "Analytics"),
];

const ADJ: &[&str] = &[
    "quick",
    "shared",
    "daily",
    "smart",
    "team",
    "live",
    "secure",
    "simple",
    "unified",
    "weekly",
    "global",
    "local",
    "self-service",
    "automated",
    "visual",
    "mobile",
    "instant",
    "central",
    "open",
    "guided",
];
const NOUN: &[&str] = &[
    "expense",
    "invoice",
    "roster",
    "ticket",
    "budget",
    "calendar",
    "report",
    "dashboard",
    "approval",
    "inventory",
    "contract",
    "badge",
    "laptop",
    "incident",
    "release",
    "forecast",
    "survey",
    "payroll",
    "onboarding",
    "audit",
    "vendor",
    "shipment",
    "feedback",
    "meeting",
    "timesheet",
    "license",
    "quota",
    "backlog",
    "deploy",
    "alert",
];
const KIND: &[&str] = &[
    "tracker",
    "viewer",
    "board",
    "bot",
    "widget",
    "checker",
    "planner",
    "portal",
    "sync",
    "assistant",
    "explorer",
    "notifier",
    "card",
    "console",
    "importer",
];
const WORDS: &[&str] = &[
    "the",
    "a",
    "to",
    "and",
    "of",
    "for",
    "in",
    "with",
    "on",
    "team",
    "request",
    "data",
    "report",
    "user",
    "approval",
    "review",
    "access",
    "owner",
    "weekly",
    "daily",
    "update",
    "shows",
    "sends",
    "reads",
    "writes",
    "exports",
    "import",
    "finance",
    "people",
    "manager",
    "employee",
    "customer",
    "ticket",
    "incident",
    "budget",
    "invoice",
    "calendar",
    "dashboard",
    "service",
    "schedule",
    "reminder",
    "status",
    "summary",
    "change",
    "history",
    "release",
    "metric",
    "alert",
    "channel",
    "support",
    "policy",
    "review",
    "deadline",
    "quarter",
    "month",
    "region",
    "office",
    "vendor",
    "contract",
    "account",
    "workflow",
    "integration",
    "search",
    "filter",
    "export",
    "spreadsheet",
    "form",
    "field",
    "record",
    "audit",
    "log",
    "error",
    "retry",
    "queue",
    "batch",
    "sync",
    "cache",
    "token",
    "scope",
    "login",
    "role",
    "group",
    "admin",
    "rollout",
    "feature",
    "flag",
    "latency",
    "uptime",
    "page",
    "button",
    "link",
    "note",
    "comment",
    "draft",
    "submit",
    "approve",
    "reject",
    "escalate",
    "notify",
    "assign",
    "close",
    "open",
    "archive",
];
const SYL: &[&str] = &[
    "ka", "lo", "mi", "ter", "van", "dor", "sel", "pra", "qui", "zen", "bal", "cor", "fin", "gal",
    "hex", "ion", "jur", "kel", "lum", "mor", "nex", "ost", "pel", "rin", "sul", "tov", "ur",
    "vel", "wes", "yar",
];

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A word from a vocabulary of common words (Zipf-like) and ~27,000 rarer ones.
fn word(r: &mut Rng) -> String {
    if r.below(10) < 6 {
        // favour the first, most common words
        let i = r.below(WORDS.len()).min(r.below(WORDS.len()));
        WORDS[i].to_string()
    } else {
        let n = 2 + r.below(2);
        let mut w = String::new();
        for _ in 0..n {
            w.push_str(r.pick(SYL));
        }
        w
    }
}

fn paragraph(r: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        let w = word(r);
        if i == 0 || s.ends_with(". ") {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push_str(&w);
        }
        let sentence_end = i + 1 == words || r.below(12) == 0;
        s.push(if sentence_end { '.' } else { ' ' });
        if s.ends_with('.') && i + 1 != words {
            s.push(' ');
        }
    }
    s
}

fn hex(r: &mut Rng, n: usize) -> String {
    let mut s = String::with_capacity(n);
    while s.len() < n {
        s.push_str(&format!("{:016x}", r.next()));
    }
    s.truncate(n);
    s
}

/// The months of generated signals (fixed, so samples stay deterministic).
const SIGNAL_MONTHS: &[&str] = &[
    "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
];

/// An app's signals rows: active users and teams that grow or shrink a little each month, and
/// an actual cost around the forecast (sometimes well over it, so cost warnings show).
fn signal_rows(r: &mut Rng, id: &str, forecast: Option<usize>) -> String {
    let mut users = 3.0 + r.below(400) as f64;
    let teams = 1 + r.below(4).saturating_sub(1) + usize::from(r.below(6) == 0) * r.below(8);
    let over = [0.8, 0.95, 1.0, 1.1, 1.3, 1.6, 2.2][r.below(7)];
    let base = forecast.map_or(5.0 + r.below(300) as f64, |f| f as f64 * over);
    let mut out = String::new();
    for m in SIGNAL_MONTHS {
        users = (users * (0.9 + r.below(25) as f64 / 100.0)).max(1.0);
        let cost = base * (0.9 + r.below(20) as f64 / 100.0);
        out.push_str(&format!(
            "{id},{m},{},{teams},{},{:.2},{:.2},{cost:.2}\n",
            users.round(),
            (users * (20.0 + r.below(200) as f64)).round(),
            r.below(300) as f64 / 100.0,
            99.0 + r.below(100) as f64 / 100.0,
        ));
    }
    out
}

/// Writes N apps over the teams into `dir/catalog`, and their signals; returns (apps, teams).
pub fn generate(
    dir: &Path,
    n: usize,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(usize, usize), ScaffoldError> {
    let teams = TEAMS.len().min(n.div_ceil(5)).max(1);
    for (i, (slug, name)) in TEAMS.iter().take(teams).enumerate() {
        let text = format!(
            "#:schema ../../schemas/team.schema.json\nschema_version = 1\nname = \"{name}\"\ndescription = \"The {name} team's internal tools.\"\nforge_team = \"acme/{slug}\"\nsubdomain = \"{slug}\"\ncost_centers = [\"CC-{:04}\", \"CC-{:04}\"]\nchannel = \"#{slug}\"\n",
            5000 + i * 10,
            5001 + i * 10
        );
        write(
            &dir.join(format!("catalog/{slug}/team.toml")),
            text.as_bytes(),
        )?;
    }
    let done = std::sync::atomic::AtomicUsize::new(0);
    let signals = (0..n).into_par_iter().map(|i| -> Result<String, ScaffoldError> {
        let mut r = Rng(0xBA2A_A800 ^ (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let (team, team_name) = TEAMS[i % teams];
        let ti = i % teams;
        let slug = format!("{}-{}-{}-{i}", r.pick(ADJ), r.pick(NOUN), r.pick(KIND));
        let title = slug.rsplit_once('-').map_or(slug.as_str(), |x| x.0).split('-').map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        }).collect::<Vec<_>>().join(" ");
        let runtime = ["iframe", "web-component", "serverless", "container", "wasm", "automation"][r.below(6)];
        let tier = ["discover", "discover", "vetted", "vetted", "enterprise"][r.below(5)];
        let class = ["public", "internal", "internal", "internal", "confidential", "confidential", "pii", "phi"][r.below(8)];
        let status = if r.below(20) == 0 { "maintenance-required" } else { "active" };
        let people = 40 + teams * 4;
        let owner = format!("user-{}", r.below(people));
        let backup = format!("user-{}", (owner[5..].parse::<usize>().unwrap_or(0) + 1 + r.below(people - 1)) % people);
        let write_scope = r.below(4) == 0;
        let scopes = if write_scope { "[\"docs:read\", \"docs:write\"]" } else { "[\"docs:read\"]" };
        let mut t = format!(
            "#:schema ../../../schemas/app.schema.json\nschema_version = 1\nid = \"com.acme.{team}.{slug}\"\nname = \"{title}\"\nversion = \"{}.{}.{}\"\nsummary = \"{title} for the {team_name} team: {}.\"\ndescription = \"{}\"\nteam = \"{team}\"\ntags = [\"{}\", \"{}\"]\nruntime = \"{runtime}\"\ntier = \"{tier}\"\n",
            r.below(5), r.below(20), r.below(10), paragraph(&mut r, 8).trim_end_matches('.'), paragraph(&mut r, 30), r.pick(NOUN), r.pick(KIND)
        );
        if runtime != "automation" {
            t.push_str(&format!("endpoint = \"https://{slug}.{team}.prod.apps.acme.internal/\"\n"));
        }
        t.push_str(&format!("\n[owner]\nprimary = \"{owner}\"\nbackup = \"{backup}\"\n\n[auth]\ntype = \"oauth2\"\nscopes = {scopes}\n\n[data]\nclassification = \"{class}\"\n"));
        if class == "pii" || class == "phi" {
            t.push_str("residency = [\"eu-central\"]\njustification = \"Needs the records of the people it serves to show their own requests.\"\n");
        }
        if tier != "discover" {
            t.push_str(&format!("\n[security]\nsbom = \"https://artifacts.acme.internal/sbom/{slug}.cdx.json\"\nartifact_digest = \"sha256:{}\"\n", hex(&mut r, 64)));
        }
        t.push_str(&format!("\n[support]\nchannel = \"#{team}\"\n"));
        let forecast = (tier == "enterprise").then(|| 20 + r.below(2000));
        if let Some(usd) = forecast {
            t.push_str(&format!("sla = \"99.9% monthly, 4h response in business hours\"\nrunbook = \"https://wiki.acme.internal/runbooks/{slug}\"\noncall = \"{team}-primary\"\n\n[cost]\ncenter = \"CC-{:04}\"\nmonthly_usd = {usd}\n", 5000 + ti * 10));
        }
        let reviewed = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("date") + chrono::Duration::days(r.below(80) as i64);
        t.push_str(&format!("\n[lifecycle]\nstatus = \"{status}\"\nlast_reviewed = {reviewed}\nreview_by = {}\n", reviewed + chrono::Duration::days(90 + r.below(270) as i64)));
        if tier == "discover" {
            t.push_str(&format!("expires = {}\n", reviewed + chrono::Duration::days(30 + r.below(60) as i64)));
        }
        let words = 200 + r.below(300);
        let readme = format!(
            "# {title}\n\n{}\n\n## How to use it\n\n{}\n\n## Data\n\n{}\n\n## Getting help\n\nAsk in #{team}.\n",
            paragraph(&mut r, words / 2),
            paragraph(&mut r, words / 4),
            paragraph(&mut r, words / 4)
        );
        let base = dir.join(format!("catalog/{team}/{slug}"));
        write(&base.join("app.toml"), t.as_bytes())?;
        write(&base.join("README.md"), readme.as_bytes())?;
        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if d.is_multiple_of(2000) {
            progress(&format!("  {d}/{n} apps written"));
        }
        // signals from their own generator, so the apps stay as they were before signals
        let mut rs = Rng(0x5167_4A15 ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Ok(signal_rows(&mut rs, &format!("com.acme.{team}.{slug}"), forecast))
    }).collect::<Result<Vec<String>, ScaffoldError>>()?;
    let mut csv =
        String::from("app,month,active_users,teams,requests,error_rate,uptime,cost_usd\n");
    csv.extend(signals);
    write(&dir.join("signals/usage-sample.csv"), csv.as_bytes())?;
    Ok((n, teams))
}
