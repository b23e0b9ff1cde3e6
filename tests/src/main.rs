//! The daemon binary, built inside this package so the end-to-end tests can
//! run it as a real process (and kill it with SIGKILL).

fn main() -> std::process::ExitCode {
    waterwatch::cli::main()
}
