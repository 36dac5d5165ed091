//! `/metrics` as Prometheus reads it, after known calls through a real daemon: exact counts of
//! calls and errors per tool, latency buckets, cache hits, conflicts found and settled (and their
//! log lines), index build progress; and the metrics listener on its own, without `/mcp`.

use ozm_tests::fixture::{
    Daemon, HttpClient, INDEX_WAIT, WAIT, canonical_temp_dir, http_daemon, http_get,
    listening_address, metric, scrape, status_json, test_data, wait_ready, wait_until,
};
use serde_json::json;

const RAY_CHARLES: &str = "libkiwix/zimfile.zim";

#[test]
fn metrics_count_each_call_error_and_cache_hit() {
    let Some(data) = test_data() else { return };
    // No index build in the background, whose reads would move the cluster cache's counts.
    let (daemon, address) = http_daemon(&data, &[("OZM_INDEX_BUILDS", "lazy")]);
    wait_ready(address);
    let mut client = HttpClient::new(address, None);
    client.initialize();

    // Known calls: two searches, two reads of one article, a missing entry, an unknown tool.
    let search = json!({"zim_file_path": RAY_CHARLES, "query": "piano"});
    let read = json!({"zim_file_path": RAY_CHARLES, "entry_path": "A/Ray_Charles"});
    client.call_ok("zim_search", search.clone());
    client.call_ok("zim_search", search);
    client.call_ok("zim_get", read.clone());
    let before = scrape(address);
    client.call_ok("zim_get", read);
    let after = scrape(address);
    let missing = json!({"zim_file_path": RAY_CHARLES, "entry_path": "A/No_such_page"});
    assert!(client.call_tool("zim_get", missing).is_error);
    assert!(client.call_tool("zim_nope", json!({})).is_error);

    let metrics = scrape(address);
    let exact = [
        ("ozm_tool_calls_total{tool=\"zim_search\"}", 2.0),
        ("ozm_tool_calls_total{tool=\"zim_get\"}", 3.0),
        ("ozm_tool_calls_total{tool=\"unknown\"}", 1.0),
        (
            "ozm_tool_errors_total{tool=\"zim_get\",code=\"entry_not_found\"}",
            1.0,
        ),
        (
            "ozm_tool_errors_total{tool=\"unknown\",code=\"unknown_tool\"}",
            1.0,
        ),
        (
            "ozm_tool_call_duration_seconds_count{tool=\"zim_get\"}",
            3.0,
        ),
        (
            "ozm_tool_call_duration_seconds_bucket{le=\"+Inf\",tool=\"zim_search\"}",
            2.0,
        ),
        ("ozm_instances{transport=\"http\"}", 1.0),
        ("ozm_instances{transport=\"socket\"}", 0.0),
    ];
    for (line_start, value) in exact {
        assert_eq!(
            metric(&metrics, line_start),
            Some(value),
            "{line_start} in:\n{metrics}"
        );
    }
    assert_eq!(
        metric(&metrics, "ozm_tool_errors_total{tool=\"zim_search\",code"),
        None
    );
    for bound in ["0.0005", "0.001", "0.01", "0.1", "1.0", "10.0"] {
        let bucket =
            format!("ozm_tool_call_duration_seconds_bucket{{le=\"{bound}\",tool=\"zim_get\"}}");
        assert!(
            metric(&metrics, &bucket).is_some(),
            "{bucket} in:\n{metrics}"
        );
    }
    for counter in [
        "ozm_tool_calls_total",
        "ozm_cache_hits_total",
        "ozm_cache_misses_total",
    ] {
        assert!(
            metrics.contains(&format!("# TYPE {counter} counter\n")),
            "{counter}"
        );
    }
    assert!(metrics.contains("# TYPE ozm_tool_call_duration_seconds histogram\n"));

    // The second read of the article came from the caches: hits, and no new miss.
    for cache in ["rendered", "clusters"] {
        let hits = format!("ozm_cache_hits_total{{cache=\"{cache}\"}}");
        let misses = format!("ozm_cache_misses_total{{cache=\"{cache}\"}}");
        let (hits_before, hits_after) = (metric(&before, &hits), metric(&after, &hits));
        assert!(
            hits_after > hits_before,
            "{cache}: {hits_before:?} -> {hits_after:?}"
        );
        assert_eq!(metric(&before, &misses), metric(&after, &misses), "{cache}");
    }

    // Shim calls count too, and its transport shows.
    let mut shim = daemon.shim(&[&data]);
    shim.initialize();
    shim.call_ok("zim_metadata", json!({"zim_file_path": RAY_CHARLES}));
    let metrics = scrape(address);
    assert_eq!(
        metric(&metrics, "ozm_tool_calls_total{tool=\"zim_metadata\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&metrics, "ozm_instances{transport=\"socket\"}"),
        Some(1.0)
    );
    // Every archive found is either open or unreadable (the invalid.* files, bad checksums).
    let open = metric(&metrics, "ozm_archives{state=\"open\"}").expect("open archives");
    let unreadable = metric(&metrics, "ozm_archives{state=\"unreadable\"}").expect("unreadable");
    let found = status_json(&daemon.socket)["archives"]
        .as_array()
        .map(Vec::len);
    assert_eq!(Some((open + unreadable) as usize), found, "{metrics}");
}

#[test]
fn conflicts_are_logged_when_found_and_settled_and_counted() {
    let Some(data) = test_data() else { return };
    let (daemon, address) = http_daemon(&data, &[]);
    let mismatch = "ozm_conflicts{kind=\"configuration_mismatch\"}";
    assert_eq!(metric(&scrape(address), mismatch), Some(0.0));

    let _default = daemon.shim(&[&data]);
    let other = daemon.shim_with_env(&[&data], &[("OPENZIM_MCP_CACHE__MAX_SIZE", "5")]);
    let found = "conflict found kind=\"configuration_mismatch\"";
    wait_until(WAIT, "the mismatch is logged", || {
        daemon.log().contains(found)
    });
    wait_until(WAIT, "the mismatch is counted", || {
        metric(&scrape(address), mismatch) == Some(1.0)
    });
    let log = daemon.log();
    let line = log.lines().find(|line| line.contains(found)).unwrap();
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("cache_max_size"), "{line}");

    let _ = other.close();
    wait_until(WAIT, "the mismatch is settled", || {
        daemon
            .log()
            .contains("conflict settled kind=\"configuration_mismatch\"")
    });
    assert_eq!(daemon.log().matches(found).count(), 1, "found once");
    wait_until(WAIT, "the count drops", || {
        metric(&scrape(address), mismatch) == Some(0.0)
    });
}

#[test]
fn the_metrics_listener_alone_serves_metrics_index_progress_and_no_mcp() {
    let Some(data) = test_data() else { return };
    let (_dir, path) = canonical_temp_dir();
    let archive = path.join("good.zim");
    std::fs::copy(data.join("zim-tools/good.zim"), &archive).expect("copying good.zim");
    let daemon = Daemon::start_with_env(&[
        ("OPENZIM_MCP_METRICS__ENABLED", "true"),
        ("OPENZIM_MCP_METRICS__PORT", "0"),
    ]);
    let address = listening_address(&daemon, "metrics");
    assert!(!daemon.log().contains("HTTP listening on"));
    assert_eq!(http_get(address, "/mcp", &[]).status, 404);
    assert_eq!(
        http_get(address, "/readyz", &[]).json(),
        json!({"status": "ready"})
    );

    // good.zim has no Xapian index: ozm builds its own, and the build's progress shows.
    let mut shim = daemon.shim(&[&path]);
    shim.initialize();
    let progress = format!(
        "ozm_index_build_progress{{archive=\"{}\",kind=\"fulltext\"}}",
        archive.display()
    );
    let ready = "ozm_indexes{kind=\"fulltext\",state=\"ready\"}";
    wait_until(INDEX_WAIT, "the full-text build completes", || {
        metric(&scrape(address), ready) == Some(1.0)
    });
    let metrics = scrape(address);
    assert_eq!(metric(&metrics, &progress), Some(1.0), "{metrics}");
    assert_eq!(metric(&metrics, "ozm_archives{state=\"open\"}"), Some(1.0));
}
