//! The `shomei` command-line tool: a thin shell over the library.

use std::process::ExitCode;

mod cli;

/// mimalloc for the binary (the library leaves the allocator to its users).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::run()
}
