//! The `shomei` command-line tool: a thin shell over the library.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::run()
}
