//! Several inputs in one run: where each output goes, the progress bar, and the report
//! (successful outputs stay, failures are listed, the exit code is 1).

use super::Failure;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// (input, output) for each input. One input: `output` is the file (or, when it is an
/// existing directory, the input's name inside it). Several: `output` is a directory
/// (created if missing) and each output keeps its input's file name.
pub(crate) fn plan(inputs: &[PathBuf], output: &Path) -> Result<Vec<(PathBuf, PathBuf)>, Failure> {
    let single_file = inputs.len() == 1 && !output.is_dir();
    if single_file {
        return Ok(inputs
            .iter()
            .map(|i| (i.clone(), output.to_path_buf()))
            .collect());
    }
    if !output.exists() {
        std::fs::create_dir_all(output).map_err(|e| {
            Failure::Input(format!(
                "{}: cannot create the output directory: {e}",
                output.display()
            ))
        })?;
    }
    let mut names = HashSet::new();
    let mut plan = Vec::with_capacity(inputs.len());
    for input in inputs {
        let name = input
            .file_name()
            .ok_or_else(|| Failure::Input(format!("{}: not a file name", input.display())))?;
        if !names.insert(name.to_owned()) {
            return Err(Failure::Input(format!(
                "two inputs are named {}: their outputs would collide in {}",
                Path::new(name).display(),
                output.display()
            )));
        }
        let out = output.join(name);
        let same = match (std::fs::canonicalize(input), std::fs::canonicalize(&out)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            return Err(Failure::Input(format!(
                "{}: the output directory is the input's own directory; choose another -o",
                input.display()
            )));
        }
        plan.push((input.clone(), out));
    }
    Ok(plan)
}

/// A progress bar on the terminal (hidden when stderr is not one) for `n` documents.
pub(crate) fn progress(n: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(u64::try_from(n).unwrap_or(u64::MAX)),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} signed {msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// The outcome of a batch: one line per success on stdout is the caller's; failures
/// make the run exit 1 with the list.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) signed: Vec<(PathBuf, PathBuf)>,
    pub(crate) failed: Vec<(PathBuf, String)>,
}

impl Report {
    /// The final message: success, or a failure listing what failed (the signed outputs
    /// stay where they are).
    pub(crate) fn finish(self, what: &str, extra: &str) -> Result<String, Failure> {
        let total = self.signed.len() + self.failed.len();
        let lines: Vec<String> = self
            .signed
            .iter()
            .map(|(i, o)| format!("signed {} -> {}", i.display(), o.display()))
            .collect();
        if self.failed.is_empty() {
            return Ok(format!(
                "{}\n{} of {total} documents signed ({what}{extra})",
                lines.join("\n"),
                self.signed.len()
            ));
        }
        for l in &lines {
            println!("{l}");
        }
        let failures: Vec<String> = self
            .failed
            .iter()
            .map(|(i, m)| format!("  {}: {m}", i.display()))
            .collect();
        Err(Failure::Signing(format!(
            "{} of {total} documents signed ({what}{extra}); {} failed and were not written:\n{}",
            self.signed.len(),
            self.failed.len(),
            failures.join("\n")
        )))
    }
}
