//! The daemon binary, built inside this package so the browser test can run
//! it as a real process.

fn main() -> std::process::ExitCode {
    waterwatch::cli::main()
}
