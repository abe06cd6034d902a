fn main() {
    std::process::exit(devenv::cli::main());
}
