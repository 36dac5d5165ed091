//! SIGHUP, as `systemctl reload ozmd` sends it: archives added and removed show in `ozm status`
//! and in a session that stays open, a changed config file applies, and a broken one changes
//! nothing while the log says why.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use ozm_tests::fixture::{ConfiguredDaemon, Shim, canonical_temp_dir, ozm, status_json, test_data};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A daemon with a config file, and a directory of archive copies a shim may serve.
struct Library {
    _dir: TempDir,
    root: PathBuf,
    zim: PathBuf,
    config: PathBuf,
    daemon: ConfiguredDaemon,
}

impl Library {
    /// Copies `archives` (paths under the test data) into `zim/` and starts the daemon with
    /// `config` as its file and `env` added.
    fn start(data: &Path, archives: &[&str], config: &str, env: &[(&str, &str)]) -> Library {
        let (dir, root) = canonical_temp_dir();
        let zim = root.join("zim");
        std::fs::create_dir(&zim).expect("archive directory");
        for archive in archives {
            copy(data, archive, &zim);
        }
        let config_path = root.join("ozmd.toml");
        std::fs::write(&config_path, config).expect("writing the config file");
        let tracking = root.join("instances");
        let mut env = env.to_vec();
        env.push((
            "OPENZIM_MCP_INSTANCE__TRACKING_DIR",
            tracking.to_str().unwrap(),
        ));
        let cache = root.join("cache");
        let args = [
            OsStr::new("--config"),
            config_path.as_os_str(),
            OsStr::new("--cache-dir"),
            cache.as_os_str(),
        ];
        let daemon =
            ConfiguredDaemon::start(&root.join("ozmd.sock"), &root.join("ozmd.log"), &args, &env);
        Library {
            _dir: dir,
            root,
            zim,
            config: config_path,
            daemon,
        }
    }

    /// An initialised shim serving `zim/`.
    fn shim(&self) -> Shim {
        let mut shim = Shim::start(&self.daemon.socket, &self.root, &[&self.zim], &[]);
        shim.initialize();
        shim
    }

    /// The file names of the archives `ozm status` lists.
    fn status_archives(&self) -> Vec<String> {
        let status = status_json(&self.daemon.socket);
        let mut names: Vec<String> = status["archives"]
            .as_array()
            .expect("an archive list")
            .iter()
            .map(|archive| file_name(archive["path"].as_str().expect("a path")))
            .collect();
        names.sort();
        names
    }

    /// `ozm config --json`.
    fn config_json(&self) -> Value {
        let output = ozm(&self.daemon.socket, &["config", "--json"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("ozm config --json prints JSON")
    }
}

fn copy(data: &Path, archive: &str, to: &Path) {
    let source = data.join(archive);
    let target = to.join(source.file_name().expect("a file name"));
    std::fs::copy(&source, &target).expect("copying a test archive");
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The archive names a session's `zim_health` lists.
fn health_archives(shim: &mut Shim) -> Vec<String> {
    let health = shim.call_ok("zim_health", json!({}));
    let mut names: Vec<String> = health["loaded_archives"]
        .as_array()
        .expect("an archive list")
        .iter()
        .map(|row| row["name"].as_str().expect("a name").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sighup_shows_archives_added_and_removed_in_status_and_in_an_open_session() {
    let Some(data) = test_data() else { return };
    let library = Library::start(
        &data,
        &["zim-tools/good.zim", "zim-testing-suite/nons/small.zim"],
        "",
        &[],
    );
    let mut shim = library.shim();
    assert_eq!(health_archives(&mut shim), ["good.zim", "small.zim"]);
    assert_eq!(library.status_archives(), ["good.zim", "small.zim"]);

    copy(&data, "zim-tools/poor.zim", &library.zim);
    std::fs::remove_file(library.zim.join("small.zim")).expect("removing an archive");
    let line = library.daemon.reload(1);
    assert!(
        line.contains("poor.zim") && line.contains("small.zim"),
        "{line}"
    );

    assert_eq!(library.status_archives(), ["good.zim", "poor.zim"]);
    // The same session, never reconnected, sees the change and reads the new archive.
    assert_eq!(health_archives(&mut shim), ["good.zim", "poor.zim"]);
    let metadata = shim.call_ok("zim_metadata", json!({"zim_file_path": "poor.zim"}));
    assert!(metadata.to_string().contains("poor.zim"), "{metadata}");
    let gone = shim.call_tool("zim_metadata", json!({"zim_file_path": "small.zim"}));
    assert!(gone.is_error, "{}", gone.body);
    let status = status_json(&library.daemon.socket);
    assert_eq!(status["shims"][0]["pid"], json!(shim.pid()), "{status}");
    shim.close_cleanly();
}

#[test]
fn sighup_applies_a_changed_config_file_and_the_environment_still_wins() {
    let Some(data) = test_data() else { return };
    let before = "[cache]\nmax_size = 150\nttl_seconds = 600\nmax_sise = 3\n";
    let env = [("OPENZIM_MCP_CACHE__TTL_SECONDS", "120")];
    let library = Library::start(&data, &["zim-tools/good.zim"], before, &env);
    let log = library.daemon.log();
    assert!(
        log.contains(
            "unknown key [cache] max_sise ignored; the closest known key is [cache] max_size"
        ),
        "{log}"
    );
    let daemon_wide =
        |library: &Library| library.config_json()["daemon"]["daemon_wide_settings"].clone();
    assert_eq!(daemon_wide(&library)["cache_max_size"], "150");
    assert_eq!(daemon_wide(&library)["cache_ttl_seconds"], "120");
    let mut shim = library.shim();

    let after = "[cache]\nmax_size = 250\nttl_seconds = 900\n\n[logging]\nlevel = \"DEBUG\"\n";
    std::fs::write(&library.config, after).expect("rewriting the config file");
    let line = library.daemon.reload(1);
    assert!(
        line.contains("cache_max_size") && line.contains("logging_level"),
        "{line}"
    );
    assert!(
        !line.contains("cache_ttl_seconds"),
        "the environment's value stays: {line}"
    );
    assert_eq!(daemon_wide(&library)["cache_max_size"], "250");
    assert_eq!(daemon_wide(&library)["cache_ttl_seconds"], "120");

    // The open session sees the daemon's new value, as its own (it asked for none): no warning.
    let configuration = shim.call_ok("get_server_configuration", json!({}));
    let daemon = &configuration["daemon"]["daemon_wide_settings"];
    assert_eq!(daemon["cache_max_size"], "250", "{configuration}");
    assert_eq!(
        configuration["diagnostics"]["warnings"],
        json!([]),
        "{configuration}"
    );
    assert_eq!(
        configuration["configuration"]["settings"]["cache_max_size"],
        250
    );
    shim.close_cleanly();
}

#[test]
fn a_broken_file_on_sighup_keeps_the_settings_and_serving_and_the_log_says_why() {
    let Some(data) = test_data() else { return };
    let library = Library::start(
        &data,
        &["zim-tools/good.zim"],
        "[cache]\nmax_size = 150\n",
        &[],
    );
    let mut shim = library.shim();

    std::fs::write(
        &library.config,
        "[cache]\nmax_size = 150\nttl_seconds = \"soon\n",
    )
    .expect("breaking the config file");
    library.daemon.reload(1);
    let log = library.daemon.log();
    let refused = log
        .lines()
        .find(|line| line.contains("config file not reloaded"))
        .unwrap_or_else(|| panic!("no line says the file was not reloaded: {log}"));
    assert!(
        refused.contains("ozmd.toml") && refused.contains("line 3"),
        "{refused}"
    );

    std::fs::write(&library.config, "[cache]\nmax_size = 0\n").expect("a refused value");
    library.daemon.reload(2);
    let log = library.daemon.log();
    assert!(
        log.contains("line 2: [cache] max_size = 0 is not accepted: an integer from 1 to 10000"),
        "{log}"
    );

    assert_eq!(
        library.config_json()["daemon"]["daemon_wide_settings"]["cache_max_size"],
        "150"
    );
    assert_eq!(health_archives(&mut shim), ["good.zim"]);
    let mut second = library.shim();
    assert_eq!(health_archives(&mut second), ["good.zim"]);
    second.close_cleanly();
    shim.close_cleanly();
}

#[test]
fn a_split_set_losing_a_part_is_replaced_and_its_missing_part_named() {
    let Some(data) = test_data() else { return };
    let set = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02_splitted";
    let parts = ["zimaa", "zimab", "zimac"].map(|part| format!("{set}.{part}"));
    let archives = [&*parts[0], &parts[1], &parts[2], "zim-tools/good.zim"];
    let library = Library::start(&data, &archives, "", &[]);
    // Links that are not archives, one of them leading out of the directory: not the library's
    // business, so nothing is said about them.
    std::os::unix::fs::symlink(&library.root, library.zim.join("latest")).expect("a link");
    std::os::unix::fs::symlink("/etc/hostname", library.zim.join("notes")).expect("a link");
    let mut shim = library.shim();
    let name = "wikibooks_be_all_nopic_2017-02_splitted.zim";
    assert_eq!(health_archives(&mut shim), ["good.zim", name]);

    let missing = library
        .zim
        .join(format!("{}.zimab", name.trim_end_matches(".zim")));
    std::fs::remove_file(&missing).expect("removing a part");
    let line = library.daemon.reload(1);
    let path = library.zim.join(name);
    let replaced = format!("replaced=[{:?}]", path.display().to_string());
    assert!(
        line.contains("added=[] removed=[]") && line.contains(&replaced),
        "{line}"
    );

    let status = status_json(&library.daemon.socket);
    let row = status["archives"]
        .as_array()
        .expect("an archive list")
        .iter()
        .find(|row| row["path"] == path.display().to_string())
        .unwrap_or_else(|| panic!("the set is not listed: {status}"));
    let said = format!("its part {} is missing", missing.display());
    assert!(row["state"].to_string().contains(&said), "{row}");
    let answer = shim.call_tool("zim_metadata", json!({ "zim_file_path": name }));
    assert!(
        answer.is_error && answer.body.to_string().contains(&said),
        "{}",
        answer.body
    );

    // Archive fields hold the bare path, as every other line has it, so that journalctl's
    // OZM_ARCHIVE=PATH finds them.
    let log = library.daemon.log();
    let gone = format!(
        "archive is gone; no longer served archive={}",
        path.display()
    );
    assert!(log.contains(&gone), "{log}");
    assert!(!log.contains("skipping"), "{log}");
    shim.close_cleanly();
}

#[test]
fn an_archive_whose_name_is_not_utf8_is_skipped_saying_so() {
    use std::os::unix::ffi::OsStrExt;
    let Some(data) = test_data() else { return };
    let library = Library::start(&data, &["zim-tools/good.zim"], "", &[]);
    let mut shim = library.shim();
    let odd = std::ffi::OsStr::from_bytes(b"n\xffme.zim");
    std::fs::copy(library.zim.join("good.zim"), library.zim.join(odd)).expect("a copy");
    library.daemon.reload(1);
    assert_eq!(health_archives(&mut shim), ["good.zim"]);
    let log = library.daemon.log();
    assert!(
        log.contains("skipping an archive whose file name is not UTF-8"),
        "{log}"
    );
    shim.close_cleanly();
}
