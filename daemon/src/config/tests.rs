use super::*;

fn parse(text: &str) -> Result<Loaded, ConfigError> {
    from_text(text, Some(Path::new("/etc/ozm/ozmd.toml")))
}

#[test]
fn keys_stand_for_the_variables_of_the_same_name() {
    let loaded = parse(
        "roots = [\"/srv/zim\", \"/data/wiki\"]\nserver_name = \"library\"\n\n[cache]\n\
         max_size = 200\nenabled = false\n\n[logging]\nlevel = \"debug\"\n",
    )
    .unwrap();
    let settings = &loaded.config.settings;
    assert_eq!(settings.server_name, "library");
    assert_eq!(settings.cache_max_size, 200);
    assert!(!settings.cache_enabled);
    assert_eq!(settings.logging_level, settings::LogLevel::Debug);
    assert_eq!(
        loaded.config.roots,
        [PathBuf::from("/srv/zim"), PathBuf::from("/data/wiki")]
    );
    assert!(
        loaded
            .config
            .variables
            .contains(&("OPENZIM_MCP_CACHE__MAX_SIZE".into(), "200".into()))
    );
}

#[test]
fn an_empty_file_gives_the_defaults() {
    let loaded = parse("").unwrap();
    assert_eq!(loaded.config.settings.cache_max_size, 100);
    assert!(loaded.config.roots.is_empty());
    assert!(loaded.warnings.is_empty());
}

#[test]
fn a_syntax_error_names_the_file_and_the_line() {
    let error = parse("server_name = \"x\"\n[cache]\nmax_size = = 3\n").unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("the config file /etc/ozm/ozmd.toml: line 3: "),
        "{text}"
    );
}

#[test]
fn a_refused_value_has_its_line_and_the_accepted_range() {
    let error = parse("[cache]\nmax_size = 0\nttl_seconds = 5\n").unwrap_err();
    assert_eq!(
        error.problems,
        [
            "line 2: [cache] max_size = 0 is not accepted: an integer from 1 to 10000",
            "line 3: [cache] ttl_seconds = 5 is not accepted: an integer from 60 to 86400",
        ]
    );
}

#[test]
fn an_unknown_key_is_a_warning_naming_the_closest_known_one() {
    let loaded = parse("rooots = 1\n[cache]\nmax_sise = 5\n").unwrap();
    assert_eq!(
        loaded.warnings,
        [
            "/etc/ozm/ozmd.toml: line 1: unknown key rooots ignored; the closest known key \
             is roots",
            "/etc/ozm/ozmd.toml: line 3: unknown key [cache] max_sise ignored; the closest \
             known key is [cache] max_size",
        ]
    );
    let loaded = parse("rooots = [\"/srv\"]\n").unwrap();
    assert!(
        loaded.warnings[0].ends_with("is roots"),
        "{:?}",
        loaded.warnings
    );
    let error = parse("server_name = [\"x\"]\n").unwrap_err();
    assert_eq!(
        error.problems,
        ["line 1: server_name: expected a string, number or boolean"]
    );
    let loaded = parse("server_nam = \"x\"\n").unwrap();
    assert!(
        loaded.warnings[0].ends_with("the closest known key is server_name"),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn roots_are_a_list_of_absolute_paths() {
    let error = parse("roots = \"/srv/zim\"\n").unwrap_err();
    assert!(
        error.problems[0].starts_with("line 1: roots: expected a list"),
        "{error}"
    );
    let error = parse("\nroots = [\"zim\"]\n").unwrap_err();
    assert_eq!(
        error.problems,
        ["line 2: roots: zim is not an absolute path"]
    );
    let loaded = parse("roots = [\"/nonexistent/ozm-root\"]\n").unwrap();
    assert_eq!(
        loaded.warnings,
        ["/etc/ozm/ozmd.toml: the root /nonexistent/ozm-root is not a directory (yet)"]
    );
}

#[test]
fn groups_nest_one_level_only() {
    let loaded = parse("[cache.inner]\nmax_size = 3\n").unwrap();
    assert!(
        loaded.warnings[0].contains("unknown key [cache] inner"),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn a_missing_file_is_an_error_only_when_named() {
    let path = PathBuf::from("/nonexistent/ozm/ozmd.toml");
    let named = Source {
        path: path.clone(),
        explicit: true,
    };
    let error = load(Some(&named)).unwrap_err();
    assert!(error.problems[0].starts_with("cannot be read: "), "{error}");
    let default = Source {
        path,
        explicit: false,
    };
    assert_eq!(
        load(Some(&default)).unwrap().config.settings.cache_max_size,
        100
    );
}

#[test]
fn the_daemons_http_settings_come_from_the_file_too() {
    let loaded =
        parse("transport = \"http\"\nport = 8123\nallowed_hosts = [\"a.lan\", \"b.lan\"]\n")
            .unwrap();
    assert!(loaded.config.http.mcp);
    assert_eq!(loaded.config.http.port, 8123);
    assert_eq!(loaded.config.http.allowed_hosts, ["a.lan", "b.lan"]);
    let error = parse("transport = \"http\"\nhost = \"0.0.0.0\"\n").unwrap_err();
    assert_eq!(error.file.as_deref(), Some(Path::new("/etc/ozm/ozmd.toml")));
    assert!(
        error.problems[0].starts_with("line 2: host = \"0.0.0.0\" is not accepted: a loopback")
    );
}

#[test]
fn a_refused_string_is_quoted_as_the_file_writes_it() {
    let error = parse("server_name = \"\"\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "the config file /etc/ozm/ozmd.toml: line 1: server_name = \"\" is not accepted: a \
         non-empty name"
    );
}
