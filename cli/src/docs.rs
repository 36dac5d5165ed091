//! `ozm completions SHELL` and `ozm man`: shell completions and man pages generated from the
//! command-line definition, so that they never fall behind it. `ozm man --dir` also writes
//! `ozmd.1`, which the `ozmd` a shim would start generates from its own options.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap_complete::Shell;

use crate::{connect, table};

/// Prints the completion script of `shell` for `command`.
pub fn completions(mut command: clap::Command, shell: Shell) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ozm", &mut script);
    table::print(&script)
}

/// Prints the page of `ozm` itself, or with `dir` writes one page per command there (`ozm.1`,
/// `ozm-status.1`, `ozm-daemon-start.1`, …) and prints their paths.
pub fn man(command: clap::Command, dir: Option<&Path>) -> anyhow::Result<()> {
    // No page for `help`, which only repeats the others. Built, so that each subcommand is named
    // by its path (`ozm-daemon-start`).
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let Some(dir) = dir else {
        return table::print(page(clap_mangen::Man::new(command))?.as_bytes());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    write_pages(command, dir, &mut written)
        .with_context(|| format!("writing the man pages into {}", dir.display()))?;
    match daemon_page() {
        Ok(page) => {
            let path = dir.join("ozmd.1");
            std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))?;
            written.push(path);
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "ozm: no page for ozmd: {error:#}");
        }
    }
    let listing: String = written
        .iter()
        .map(|path| format!("{}\n", path.display()))
        .collect();
    table::print(listing.as_bytes())
}

fn write_pages(
    command: clap::Command,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    let path = dir.join(man.get_filename());
    std::fs::write(&path, page(man)?)?;
    written.push(path);
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    Ok(())
}

/// The page of the `ozmd` a shim would start, as that ozmd writes it.
fn daemon_page() -> anyhow::Result<String> {
    let binary = connect::daemon_binary();
    let output = Command::new(&binary)
        .arg("--man-page")
        .output()
        .with_context(|| format!("running {} --man-page", binary.display()))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        bail!(
            "{} --man-page failed: {}",
            binary.display(),
            said.trim_end()
        );
    }
    let text = String::from_utf8(output.stdout).context("ozmd's page is not UTF-8")?;
    Ok(ascii(&text))
}

/// The roff source of `man`, in ASCII (see [`ascii`]).
fn page(man: clap_mangen::Man) -> std::io::Result<String> {
    let mut page = Vec::new();
    man.render(&mut page)?;
    let text = String::from_utf8(page).map_err(std::io::Error::other)?;
    Ok(ascii(&text))
}

/// Roff source in ASCII: a character beyond it (the `…` of `DIR…`) is written as the escape
/// `\[uXXXX]`, so that groff shows it right without `preconv` (which `man` runs, but
/// `groff -man` alone does not).
fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' '..='~' | '\n' | '\t' => c.to_string(),
            _ => format!("\\[u{:04X}]", u32::from(c)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_ascii_with_other_characters_escaped() {
        let command = clap::Command::new("tool").about("Reads DIR… and «écrit»");
        let page = page(clap_mangen::Man::new(command)).expect("a page");
        assert!(page.is_ascii(), "{page}");
        assert!(page.contains("DIR\\[u2026]"), "{page}");
        assert!(page.contains("\\[u00AB]\\[u00E9]crit\\[u00BB]"), "{page}");
    }
}
