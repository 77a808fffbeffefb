//! `glacier-verify`: argument parsing and exit codes only; the work is in the library.

use std::process::ExitCode;

use clap::Parser;

use glacier_verify::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                glacier_verify::error::exit::USAGE
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    let code = run(cli);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
