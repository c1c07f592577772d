//! `nzpir-sandbox`: serves a local emulator of IR's PIR gateway until stopped.
fn main() -> std::process::ExitCode {
    nzpir_sandbox::run_cli(std::env::args_os())
}
