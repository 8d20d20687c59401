//! The `bazaar` binary: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // The policy engine reports undefined values through anyhow errors; with RUST_BACKTRACE
        // set, each would capture a backtrace, which made policy evaluation 30% slower. Panics
        // keep their backtraces (RUST_BACKTRACE still applies to them).
        // SAFETY: at the very start of main, before any thread exists.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    bazaar::cli::main()
}

// Policy evaluation allocates many small values; mimalloc makes a full 10k-app check ~25% faster
// than glibc's allocator on two threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
