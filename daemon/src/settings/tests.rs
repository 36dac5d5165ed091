//! Tests of settings parsing, the canonical form and the hash.

use super::*;

fn parse(pairs: &[(&str, &str)]) -> Result<Settings, Vec<SettingError>> {
    Settings::from_env(&vars(pairs), Some(Path::new("/home/u")))
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|&(name, value)| (name.into(), value.into()))
        .collect()
}

fn defaults() -> Settings {
    parse(&[]).unwrap()
}

#[test]
fn every_variable_is_read() {
    let settings = parse(&[
        ("OPENZIM_MCP_SERVER_NAME", "wiki"),
        ("OPENZIM_MCP_TOOL_MODE", "Simple"),
        ("OPENZIM_MCP_CONTENT__MAX_CONTENT_LENGTH", "100"),
        ("OPENZIM_MCP_CONTENT__SNIPPET_LENGTH", "100000"),
        ("OPENZIM_MCP_CONTENT__DEFAULT_SEARCH_LIMIT", " 100 "),
        ("OPENZIM_MCP_INSTANCE__TRACKING_ENABLED", "No"),
        ("OPENZIM_MCP_INSTANCE__TRACKING_DIR", "~/track"),
        ("OPENZIM_MCP_INSTANCE__CONFLICT_DETECTION", "relaxed"),
        ("OPENZIM_MCP_INSTANCE__HEARTBEAT_INTERVAL", "1"),
        ("OPENZIM_MCP_LOGGING__LEVEL", "debug"),
        ("OPENZIM_MCP_CACHE__ENABLED", "0"),
        ("OPENZIM_MCP_CACHE__MAX_SIZE", "10000"),
        ("OPENZIM_MCP_CACHE__MAX_BYTES", "0"),
        ("OPENZIM_MCP_CACHE__TTL_SECONDS", "86400"),
    ]);
    let expected = Settings {
        server_name: "wiki".into(),
        tool_mode: ToolMode::Simple,
        content_max_length: 100,
        content_snippet_length: 100_000,
        search_default_limit: 100,
        tracking_enabled: false,
        tracking_dir: "/home/u/track".into(),
        conflict_detection: ConflictDetection::Relaxed,
        heartbeat_interval_secs: 1,
        logging_level: LogLevel::Debug,
        cache_enabled: false,
        cache_max_size: 10_000,
        cache_max_bytes: 0,
        cache_ttl_seconds: 86_400,
    };
    assert_eq!(settings, Ok(expected));
}

#[test]
fn each_bad_value_is_refused_with_its_variable_and_range() {
    let cases = [
        ("SERVER_NAME", " ", "a non-empty name"),
        ("TOOL_MODE", "expert", "one of advanced, simple"),
        ("CONTENT__MAX_CONTENT_LENGTH", "99", "from 100 to 10000000"),
        ("CONTENT__SNIPPET_LENGTH", "100001", "from 100 to 100000"),
        ("CONTENT__DEFAULT_SEARCH_LIMIT", "0", "from 1 to 100"),
        ("INSTANCE__TRACKING_ENABLED", "maybe", "true or false"),
        ("INSTANCE__TRACKING_DIR", "track", "an absolute path"),
        (
            "INSTANCE__CONFLICT_DETECTION",
            "lax",
            "strict, moderate, relaxed",
        ),
        ("INSTANCE__HEARTBEAT_INTERVAL", "3601", "from 1 to 3600"),
        (
            "LOGGING__LEVEL",
            "TRACE",
            "DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        ("CACHE__ENABLED", "2", "true or false"),
        ("CACHE__MAX_SIZE", "0", "from 1 to 10000"),
        ("CACHE__MAX_BYTES", "-1", "from 0 to 8589934592"),
        ("CACHE__TTL_SECONDS", "59", "from 60 to 86400"),
    ];
    for (name, value, expected) in cases {
        let variable = format!("OPENZIM_MCP_{name}");
        let errors = parse(&[(&variable, value)]).unwrap_err();
        assert_eq!(errors.len(), 1, "{variable}");
        assert_eq!(
            (&*errors[0].variable, &*errors[0].value),
            (&*variable, value.trim())
        );
        assert!(
            errors[0].expected.contains(expected),
            "{variable}: {}",
            errors[0].expected
        );
    }
    let error = &parse(&[("OPENZIM_MCP_CACHE__MAX_SIZE", "0")]).unwrap_err()[0];
    let message = r#"OPENZIM_MCP_CACHE__MAX_SIZE="0" is not accepted: an integer from 1 to 10000"#;
    assert_eq!(error.to_string(), message);
}

#[test]
fn every_error_is_reported_together() {
    let errors = parse(&[
        ("OPENZIM_MCP_CACHE__TTL_SECONDS", "1"),
        ("OPENZIM_MCP_TOOL_MODE", "none"),
        ("openzim_mcp_logging__level", "loud"),
    ])
    .unwrap_err();
    let variables: Vec<_> = errors.iter().map(|error| error.variable.as_str()).collect();
    let expected = [
        "OPENZIM_MCP_TOOL_MODE",
        "openzim_mcp_logging__level",
        "OPENZIM_MCP_CACHE__TTL_SECONDS",
    ];
    assert_eq!(variables, expected);
}

#[test]
fn tracking_dir_needs_home_for_a_tilde() {
    // Without a home there is no default directory to look at, and that is no error.
    let no_home = Settings::from_env(&[], None).unwrap();
    assert_eq!(no_home.tracking_dir, PathBuf::new());
    let tilde = vars(&[("OPENZIM_MCP_INSTANCE__TRACKING_DIR", "~/instances")]);
    let refused = Settings::from_env(&tilde, None).unwrap_err();
    assert_eq!(refused[0].variable, "OPENZIM_MCP_INSTANCE__TRACKING_DIR");
    assert!(refused[0].expected.contains("$HOME is unknown"));

    let absolute = vars(&[("OPENZIM_MCP_INSTANCE__TRACKING_DIR", "/var/lib/ozm")]);
    let settings = Settings::from_env(&absolute, None).unwrap();
    assert_eq!(settings.tracking_dir, Path::new("/var/lib/ozm"));
}

#[test]
fn two_spellings_of_one_setting_must_agree() {
    let same = [
        ("OPENZIM_MCP_CACHE__MAX_SIZE", "5"),
        ("openzim_mcp_Cache__Max_Size", "5"),
    ];
    assert_eq!(parse(&same).unwrap().cache_max_size, 5);

    let differing = [
        ("OPENZIM_MCP_CACHE__MAX_SIZE", "5"),
        ("openzim_mcp_cache__max_size", "6"),
    ];
    let errors = parse(&differing).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].expected.contains("OPENZIM_MCP_CACHE__MAX_SIZE"));
}

#[test]
fn hash_ignores_order_and_case() {
    let one = parse(&[
        ("OPENZIM_MCP_TOOL_MODE", "simple"),
        ("OPENZIM_MCP_CACHE__MAX_SIZE", "7"),
    ]);
    let other = parse(&[
        ("openzim_mcp_cache__max_size", "7"),
        ("Openzim_Mcp_Tool_Mode", "SIMPLE"),
    ]);
    let (one, other) = (one.unwrap(), other.unwrap());
    let dirs = ["/a", "/b"].map(PathBuf::from);
    let shuffled = ["/b", "/a", "/b"].map(PathBuf::from);
    assert_eq!(one.hash(&dirs), other.hash(&shuffled));
    assert_ne!(one.hash(&dirs), defaults().hash(&dirs));
}

#[test]
fn hash_differs_when_one_daemon_wide_value_differs() {
    let dirs = [PathBuf::from("/z")];
    let base = defaults().hash(&dirs);
    for (name, value) in [
        ("OPENZIM_MCP_CACHE__ENABLED", "false"),
        ("OPENZIM_MCP_CACHE__MAX_SIZE", "101"),
        ("OPENZIM_MCP_CACHE__MAX_BYTES", "1"),
        ("OPENZIM_MCP_CACHE__TTL_SECONDS", "60"),
    ] {
        assert_ne!(parse(&[(name, value)]).unwrap().hash(&dirs), base, "{name}");
    }
}

#[test]
fn defaults_and_their_golden_hash() {
    let settings = defaults();
    let dirs = [PathBuf::from("/z")];
    let canonical = concat!(
        r#"{"allowed_directories":["/z"],"cache_enabled":true,"cache_max_bytes":67108864,"#,
        r#""cache_max_size":100,"cache_ttl_seconds":3600,"content_max_length":100000,"#,
        r#""content_snippet_length":3000,"search_default_limit":10,"#,
        r#""server_name":"openzim-mcp","tool_mode":"advanced"}"#,
    );
    let hash = "f1c09c5094b344ee533a32ccd546b18162a7a6954d64c5274a37a079b0329fea";
    assert_eq!(settings.canonical(&dirs), canonical);
    assert_eq!(settings.hash(&dirs), hash);

    // The settings the hash leaves out.
    assert!(settings.tracking_enabled);
    let tracking_dir = Path::new("/home/u/.openzim_mcp_instances");
    assert_eq!(settings.tracking_dir, tracking_dir);
    assert_eq!(settings.conflict_detection, ConflictDetection::Strict);
    assert_eq!(settings.heartbeat_interval_secs, 30);
    assert_eq!(settings.logging_level, LogLevel::Info);
}

#[test]
fn daemon_wide_differences_name_both_values() {
    let daemon = defaults();
    let shim = parse(&[
        ("OPENZIM_MCP_CACHE__MAX_BYTES", "1024"),
        ("OPENZIM_MCP_CACHE__TTL_SECONDS", "60"),
        ("OPENZIM_MCP_TOOL_MODE", "simple"),
    ])
    .unwrap();
    let differences = vec![
        ("cache_max_bytes", "1024".to_owned(), "67108864".to_owned()),
        ("cache_ttl_seconds", "60".to_owned(), "3600".to_owned()),
    ];
    assert_eq!(shim.daemon_wide_differences(&daemon), differences);
    assert!(daemon.daemon_wide_differences(&defaults()).is_empty());
    assert!(Settings::is_major("cache_max_bytes") && !Settings::is_major("cache_ttl_seconds"));
}

#[test]
fn unknown_and_ignored_variables_are_listed() {
    let given = vars(&[
        ("OPENZIM_MCP_PORT", "8000"),
        ("openzim_mcp_rate_limit__burst_size", "40"),
        ("OPENZIM_MCP_CACHE__MAX_SIZ", "5"),
        ("OPENZIM_MCP_CACHE__MAX_SIZE", "5"),
        ("PATH", "/bin"),
    ]);
    assert_eq!(unknown_variables(&given), ["OPENZIM_MCP_CACHE__MAX_SIZ"]);
    let ignored = ["OPENZIM_MCP_PORT", "openzim_mcp_rate_limit__burst_size"];
    assert_eq!(ignored_variables(&given), ignored);
    let settings = Settings::from_env(&given, Some(Path::new("/h"))).unwrap();
    assert_eq!(settings.cache_max_size, 5);
}
