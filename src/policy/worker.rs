//! Untrusted policies run in a child process. A submission's own policies are evaluated over the
//! whole catalog for the policy-impact report; a policy like `numbers.range(1, 400000000)` or
//! `sprintf("%0500000000d", [1])` would otherwise take the memory of the process that runs it
//! (the daemon). The worker is Bazaar's own binary (`bazaar __policy-worker`), given the policy
//! files, the catalog facts and the inputs on stdin; it limits its own data segment
//! (`RLIMIT_DATA`) before reading anything and answers on stdout. The parent bounds its time and
//! the size of its answer, and turns any failure into an error it can report as a finding: the
//! parent always survives.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::PolicySet;
use crate::context::{Context, Engine, Limits};

/// What the worker evaluates.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    /// The policy, data and roster files (path → text).
    pub files: BTreeMap<String, String>,
    /// The catalog facts (`data.catalog`), when a policy reads them.
    pub catalog: Option<serde_json::Value>,
    /// `interpreter` or `vm`.
    pub engine: String,
    /// Time one evaluation may take, in milliseconds.
    pub eval_ms: u64,
    /// One input document per app.
    pub inputs: Vec<serde_json::Value>,
}

/// One evaluation's outcome: the gathered decisions as JSON, or the engine's error.
pub type Answer = Result<String, String>;

/// Why the worker gave no answers.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// It could not be started or talked to.
    #[error("could not run the policy worker {program}: {detail}")]
    Start {
        /// The program.
        program: String,
        /// What failed.
        detail: String,
    },
    /// It stopped without answering: out of memory (the usual case), killed, or crashed.
    #[error(
        "stopped without an answer ({status}); most likely they need more than the {limit_mib} MiB of memory policies may use{detail}"
    )]
    Died {
        /// How it ended.
        status: String,
        /// The memory limit.
        limit_mib: u64,
        /// The end of what it wrote on stderr.
        detail: String,
    },
    /// It ran past the time budget and was stopped.
    #[error("ran past the {0} s budget and were stopped")]
    TimedOut(f64),
    /// It answered more than the answer limit.
    #[error("produced more than {0} MiB of results (a runaway rule)")]
    TooMuchOutput(usize),
    /// The answer could not be read.
    #[error("answered something unreadable: {0}")]
    BadAnswer(String),
}

/// The child side: limits its memory, reads a [`Job`], evaluates every input (in parallel), and
/// writes the answers as JSON.
pub fn serve(input: impl Read, output: impl Write, memory: u64) -> std::io::Result<()> {
    // the thread pool and the allocator's first reservation exist before the limit, which
    // counts from what the process already has
    let _ = rayon::current_num_threads();
    drop(vec![0u8; 1024]);
    limit_memory(data_size().unwrap_or(0).saturating_add(memory))?;
    let job: Job = serde_json::from_reader(input).map_err(std::io::Error::other)?;
    let files = job
        .files
        .into_iter()
        .map(|(p, t)| (p, t.into_bytes()))
        .collect();
    let snap = crate::source::Snapshot::from_files(files);
    let ctx = Context {
        engine: Engine::parse(&job.engine).unwrap_or_default(),
        limits: Limits {
            policy_eval: Duration::from_millis(job.eval_ms),
            ..Limits::default()
        },
        caches: false,
        ..Context::default()
    };
    let mut set = PolicySet::load(&snap, false, &ctx).map_err(std::io::Error::other)?;
    if let Some(c) = job.catalog {
        set.set_data(c);
    }
    set.prepare();
    use rayon::prelude::*;
    let answers: Vec<Answer> = job
        .inputs
        .into_par_iter()
        .map_init(
            || {
                let s = set.clone();
                let vm = s.vm();
                (s, vm)
            },
            |(s, vm), input| {
                s.eval_fast(vm.as_mut(), &input)
                    .and_then(|v| v.to_json_str().map_err(|e| e.to_string()))
            },
        )
        .collect();
    serde_json::to_writer(output, &answers).map_err(std::io::Error::other)
}

/// This process's data segment size (`VmData`, bytes), as the data limit counts it.
fn data_size() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmData:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Caps this process's data segment (heap and anonymous mappings) at `bytes`: an allocation past
/// it fails and the process aborts, instead of the machine's OOM killer choosing a victim.
pub fn limit_memory(bytes: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: setrlimit reads a plain struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_DATA, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The parent side: runs `program __policy-worker` on the job, within the limits and, when
/// given, until the deadline.
pub fn run(
    program: &Path,
    job: &Job,
    limits: &Limits,
    until: Option<Instant>,
) -> Result<Vec<Answer>, WorkerError> {
    let start_err = |e: &dyn std::fmt::Display| WorkerError::Start {
        program: program.display().to_string(),
        detail: e.to_string(),
    };
    let body = serde_json::to_vec(job).map_err(|e| start_err(&e))?;
    let mut child = Command::new(program)
        .args([
            "__policy-worker",
            "--memory",
            &limits.policy_memory.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| start_err(&e))?;
    let mut stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let cap = limits.policy_output;
    let writer = std::thread::spawn(move || {
        // a worker that dies early closes the pipe: its exit status tells why
        let _ = stdin.write_all(&body);
    });
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let r = stdout.take(cap as u64 + 1).read_to_end(&mut out);
        r.map(|_| out)
    });
    let errors = std::thread::spawn(move || {
        let mut err = Vec::new();
        let _ = stderr.take(64 * 1024).read_to_end(&mut err);
        err
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => return Err(start_err(&e)),
        }
        if until.is_some_and(|t| Instant::now() >= t) {
            let _ = child.kill();
            let _ = child.wait();
            let _ = writer.join();
            let _ = reader.join();
            let budget = limits.impact_budget.as_secs_f64();
            return Err(WorkerError::TimedOut(budget));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let out = reader
        .join()
        .map_err(|_| WorkerError::BadAnswer("reader stopped".into()))?
        .map_err(|e| WorkerError::BadAnswer(e.to_string()))?;
    let err = errors.join().unwrap_or_default();
    if !status.success() {
        let text = String::from_utf8_lossy(&err);
        // the allocator's own words, when it said any ("memory allocation of N bytes failed")
        let last = text
            .lines()
            .find(|l| l.contains("memory allocation"))
            .unwrap_or("");
        return Err(WorkerError::Died {
            status: describe(status),
            limit_mib: limits.policy_memory / (1024 * 1024),
            detail: if last.is_empty() {
                String::new()
            } else {
                format!(": {}", last.chars().take(200).collect::<String>())
            },
        });
    }
    if out.len() > cap {
        return Err(WorkerError::TooMuchOutput(cap / (1024 * 1024)));
    }
    let answers: Vec<Answer> =
        serde_json::from_slice(&out).map_err(|e| WorkerError::BadAnswer(e.to_string()))?;
    if answers.len() != job.inputs.len() {
        return Err(WorkerError::BadAnswer(format!(
            "{} answers for {} inputs",
            answers.len(),
            job.inputs.len()
        )));
    }
    Ok(answers)
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(libc::SIGABRT)) => "aborted: an allocation failed".into(),
        (_, Some(libc::SIGKILL)) => "killed".into(),
        (_, Some(s)) => format!("signal {s}"),
        (Some(c), _) => format!("exit code {c}"),
        _ => "unknown".into(),
    }
}
