//! What a run needs besides its arguments: the clock, the policy engine, the limits and where
//! caches live. The CLI and the daemon build one at their edge (from flags and the environment);
//! nothing below them reads the environment or the system clock directly, so a test (or the
//! daemon) can pin time, pick the engine and tighten limits for one call without touching the
//! process.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

/// The policy engine that evaluates Rego. Both are strict: a builtin's error in a rule blocks
/// (the VM since the patch in `vendor/regorus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// regorus' tree-walking interpreter.
    Interpreter,
    /// regorus' bytecode VM: several times faster; any error it meets is re-run on the
    /// interpreter, whose message names the policy file and line. The default.
    #[default]
    Vm,
}

impl Engine {
    /// The name used in settings and cache keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Interpreter => "interpreter",
            Engine::Vm => "vm",
        }
    }

    /// Parses `interpreter` or `vm`.
    pub fn parse(s: &str) -> Option<Engine> {
        match s {
            "interpreter" => Some(Engine::Interpreter),
            "vm" => Some(Engine::Vm),
            "default" => Some(Engine::default()),
            _ => None,
        }
    }
}

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system clock, in UTC.
    #[default]
    System,
    /// A fixed instant (tests, reproducible checks, time travel).
    Fixed(DateTime<Utc>),
}

/// Bounds on work that untrusted input (a submission's policies or files) can cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time one app's policy evaluation may take before the policy is declared broken.
    pub policy_eval: Duration,
    /// Total time the policy-impact report (a submission's own policies over the whole catalog)
    /// may take before it stops and says it is partial.
    pub impact_budget: Duration,
    /// Most findings one policy evaluation may produce for one app.
    pub findings_per_app: usize,
    /// Memory (data segment) an isolated policy worker may use, in bytes.
    pub policy_memory: u64,
    /// Largest answer an isolated policy worker may give, in bytes.
    pub policy_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            policy_eval: Duration::from_secs(2),
            impact_budget: Duration::from_secs(10),
            findings_per_app: 100,
            policy_memory: 1024 * 1024 * 1024,
            policy_output: 64 * 1024 * 1024,
        }
    }
}

/// One run's clock, engine and limits. Cheap to clone; share it between threads.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Where "now" comes from.
    pub clock: Clock,
    /// The day policies take as today, when pinned separately from the clock.
    pub today: Option<NaiveDate>,
    /// The policy engine.
    pub engine: Engine,
    /// Bounds on untrusted work.
    pub limits: Limits,
    /// Use the on-disk caches in the repository's Git folder (`.git/bazaar/`).
    pub caches: bool,
    /// The program that evaluates untrusted policies in a child process with a memory limit
    /// (Bazaar's own binary, `bazaar __policy-worker`); `None` evaluates them in this process.
    pub worker: Option<std::path::PathBuf>,
}

impl Context {
    /// The defaults: system clock, the (strict) VM, default limits, caches on.
    pub fn new() -> Context {
        Context {
            caches: true,
            ..Default::default()
        }
    }

    /// The current instant (UTC).
    pub fn now(&self) -> DateTime<Utc> {
        match self.clock {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => t,
        }
    }

    /// Today's date as policies see it (UTC unless pinned).
    pub fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(|| self.now().date_naive())
    }

    /// This context with `today` pinned.
    pub fn with_today(mut self, today: Option<NaiveDate>) -> Context {
        if today.is_some() {
            self.today = today;
        }
        self
    }
}
