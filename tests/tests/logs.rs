//! Where and how much ozmd logs, with real daemons: the level from
//! `OPENZIM_MCP_LOGGING__LEVEL` and a filter that wins over it, a level refused at start, and
//! readable lines on stderr unless stderr is the journal.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use ozm_tests::fixture::{Running, Scratch, run_bounded, status_json, wait_for_socket};

#[test]
fn debug_level_shows_debug_lines_unless_a_log_filter_is_given() {
    // An empty filter (`Environment=OZM_LOG=`) is no filter.
    for (filter, debug_expected) in [(None, true), (Some("info"), false), (Some(""), true)] {
        let scratch = Scratch::temporary();
        let socket = scratch.path("ozmd.sock");
        let mut ozmd = scratch.ozmd(&[]);
        ozmd.arg("--socket")
            .arg(&socket)
            .env("OPENZIM_MCP_LOGGING__LEVEL", "debug");
        if let Some(filter) = filter {
            ozmd.env("OZM_LOG", filter);
        }
        let mut daemon = Running::start(&mut ozmd);
        wait_for_socket(&socket);
        assert!(status_json(&socket)["daemon"]["pid"].is_u64());
        assert!(daemon.terminate().success());

        let log = scratch.log();
        let debug_lines = log.lines().filter(|line| line.contains(" DEBUG ")).count();
        assert_eq!(debug_lines > 0, debug_expected, "OZM_LOG={filter:?}: {log}");
        assert!(
            log.contains(" INFO ") && log.contains("ozmd starting"),
            "{log}"
        );
    }
}

#[test]
fn an_invalid_log_level_is_refused_at_start() {
    let scratch = Scratch::temporary();
    let mut ozmd = scratch.ozmd(&[]);
    ozmd.arg("--socket")
        .arg(scratch.path("ozmd.sock"))
        .env("OPENZIM_MCP_LOGGING__LEVEL", "loud");
    let output = run_bounded(&mut ozmd);
    assert!(!output.status.success(), "ozmd started with level loud");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let named = stderr.contains("OPENZIM_MCP_LOGGING__LEVEL") && stderr.contains("loud");
    assert!(named, "{stderr}");
    let listed = stderr.contains("WARNING") && stderr.contains("CRITICAL");
    assert!(listed, "the accepted levels are not named: {stderr}");
    assert!(
        !scratch.path("ozmd.sock").exists(),
        "ozmd bound its socket anyway"
    );
}

#[test]
fn stderr_gets_readable_lines_unless_it_is_the_journal() {
    // JOURNAL_STREAM of another stream (a parent's, inherited): plain lines on stderr.
    let scratch = Scratch::temporary();
    let socket = scratch.path("ozmd.sock");
    let mut ozmd = scratch.ozmd(&[]);
    ozmd.arg("--socket")
        .arg(&socket)
        .env("JOURNAL_STREAM", "1:1");
    let mut daemon = Running::start(&mut ozmd);
    wait_for_socket(&socket);
    assert!(daemon.terminate().success());
    let log = scratch.log();
    let starting = log
        .lines()
        .find(|line| line.contains("ozmd starting"))
        .unwrap_or_else(|| panic!("no start line: {log}"));
    assert!(
        starting.contains(" INFO ") && starting.contains("version="),
        "{starting}"
    );
    assert!(starting.contains("log=\"stderr\""), "{starting}");

    // JOURNAL_STREAM naming stderr itself: journald, or plain lines saying why not.
    let scratch = Scratch::temporary();
    let socket = scratch.path("ozmd.sock");
    let mut ozmd = scratch.ozmd(&[]);
    let log = std::fs::metadata(scratch.path("ozmd.log")).expect("the log file");
    let stream = format!("{}:{}", log.dev(), log.ino());
    ozmd.arg("--socket")
        .arg(&socket)
        .env("JOURNAL_STREAM", stream);
    let mut daemon = Running::start(&mut ozmd);
    wait_for_socket(&socket);
    assert!(daemon.terminate().success());
    let log = scratch.log();
    if Path::new("/run/systemd/journal/socket").exists() {
        assert!(!log.contains("ozmd starting"), "journald is there: {log}");
    } else {
        assert!(log.contains("journald cannot be reached"), "{log}");
    }
}
