fn main() -> std::process::ExitCode {
    anbud::cli::main()
}
