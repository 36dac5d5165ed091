//! The form of the operator's reports: whole, uncoloured tab-separated records in a pipe, and
//! on a terminal tables that fit its width, coloured unless `NO_COLOR` or `TERM=dumb`.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use ozm_tests::fixture::{
    Daemon, binary, canonical_temp_dir, ozm, run_bounded, write_small_archive,
};

fn records(text: &str) -> Vec<Vec<&str>> {
    const KINDS: [&str; 10] = [
        "daemon",
        "shim",
        "archive",
        "index",
        "diagnosis",
        "conflict",
        "difference",
        "recommendation",
        "instance",
        "setting",
    ];
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert!(KINDS.contains(&fields[0]), "not a record: {line:?}");
            if fields[0] != "recommendation" {
                assert!(
                    fields[1..].iter().all(|field| field.contains(' ')),
                    "{line:?}"
                );
            }
            fields
        })
        .collect()
}

#[test]
fn piped_reports_are_whole_uncoloured_records() {
    let (_served, served) = canonical_temp_dir();
    let deep = served.join("a directory with a long name that no terminal column would hold");
    std::fs::create_dir(&deep).expect("a deep directory");
    let archive = deep.join("small.zim");
    write_small_archive(&archive, "pipedword");
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&served]);
    shim.initialize();

    let status = ozm(&daemon.socket, &["status"]);
    assert!(status.status.success());
    let text = String::from_utf8(status.stdout).expect("UTF-8");
    assert!(!text.contains('\x1b') && !text.contains('…'), "{text}");
    let lines = records(&text);
    let has = |kind: &str, field: String| {
        lines
            .iter()
            .any(|fields| fields[0] == kind && fields.contains(&field.as_str()))
    };
    assert!(
        has("archive", format!("path {}", archive.display())),
        "{text}"
    );
    assert!(
        has("index", format!("archive {}", archive.display())),
        "{text}"
    );
    assert!(has("shim", format!("pid {}", shim.pid())), "{text}");
    assert!(has("daemon", format!("pid {}", daemon.pid())), "{text}");

    for command in ["diagnose", "config", "cleanup"] {
        let output = ozm(&daemon.socket, &[command]);
        let text = String::from_utf8(output.stdout).expect("UTF-8");
        assert!(!text.contains('\x1b'), "{command}: {text}");
        if command != "cleanup" {
            records(&text);
        }
    }
    shim.close_cleanly();
}

/// Runs `ozm ARGS…` on a pseudo-terminal through `script`, with `env`; `None` when `script`
/// (util-linux) is missing.
fn on_terminal(socket: &Path, args: &str, env: &[(&str, &str)]) -> Option<String> {
    if Command::new("script").arg("--version").output().is_err() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: no `script` (util-linux) to run ozm on a pseudo-terminal"
        );
        return None;
    }
    let command = format!("'{}' {args}", binary("ozm").display());
    let output = run_bounded(
        Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("OZM_SOCKET", socket)
            .env_remove("NO_COLOR")
            .envs(env.iter().copied()),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    // The terminal turns each newline into CR LF.
    Some(
        String::from_utf8(output.stdout)
            .expect("UTF-8")
            .replace('\r', ""),
    )
}

#[test]
fn a_terminal_gets_tables_that_fit_its_width_coloured_unless_no_color() {
    let (_served, served) = canonical_temp_dir();
    let deep = served.join("a directory with a long name that no terminal column would hold");
    std::fs::create_dir(&deep).expect("a deep directory");
    write_small_archive(&deep.join("small.zim"), "terminalword");
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[&served]);
    shim.initialize();

    let narrow = [("COLUMNS", "60"), ("NO_COLOR", "1"), ("TERM", "xterm")];
    let Some(text) = on_terminal(&daemon.socket, "status", &narrow) else {
        return;
    };
    assert!(!text.contains('\x1b'), "{text}");
    for line in text.lines() {
        assert!(line.chars().count() <= 60, "wider than 60: {line:?}");
    }
    assert!(
        text.contains("Archives (1)") && text.contains("PATH"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|line| line.contains("small.zim"))
        .unwrap_or_else(|| panic!("no archive row: {text}"));
    assert!(
        row.starts_with(&served.display().to_string()[..4]) && row.contains('…'),
        "{row}"
    );

    let coloured = on_terminal(&daemon.socket, "status", &[("TERM", "xterm")]).expect("script");
    assert!(
        coloured.contains("\x1b[1mArchives (1)\x1b[0m"),
        "{coloured}"
    );
    let dumb = on_terminal(&daemon.socket, "config", &[("TERM", "dumb")]).expect("script");
    assert!(
        !dumb.contains('\x1b') && dumb.contains("CONFIG HASH"),
        "{dumb}"
    );
    shim.close_cleanly();
}
