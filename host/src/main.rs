//! `glacier-verify`: argument parsing and exit codes only; the work is in the library.

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

use glacier_verify::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `--version` after a command (`describe-job --version`) prints
        // what `glacier-verify --version` prints, as the AWS CLI does.
        Err(e) if e.kind() == ErrorKind::DisplayVersion => {
            print!("{}", Cli::command().render_version());
            return ExitCode::SUCCESS;
        }
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
