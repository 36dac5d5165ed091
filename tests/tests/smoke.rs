//! The shortest path through ozm: a shim reaches a daemon and lists the tools.

use ozm_tests::fixture::Daemon;

#[test]
fn a_shim_lists_the_tools_of_a_running_daemon() {
    let daemon = Daemon::start();
    let mut shim = daemon.shim(&[daemon.dir.path()]);
    let init = shim.initialize();
    assert_eq!(init["result"]["serverInfo"]["name"], "ozm");
    let tools = shim.request("tools/list", serde_json::json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .expect("a tool list")
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "zim_health",
            "zim_metadata",
            "zim_get",
            "zim_get_section",
            "zim_links",
            "zim_browse",
            "zim_search",
            "zim_query",
            "get_server_health",
            "get_server_configuration",
            "diagnose_server_state",
            "resolve_server_conflicts"
        ]
    );
    assert!(shim.close().success());
}
