fn main() -> std::process::ExitCode {
    waterwatch::cli::main()
}
