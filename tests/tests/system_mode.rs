//! System mode (`ozmd --system`): a shim may ask only for directories under the roots of the
//! config file, the socket's group decides who may connect at all, and each user sees and cleans
//! up its own instances only.
//!
//! The tests run as root; another user is played by uid 65534 through `setpriv`, with or
//! without the socket's group.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};

use ozm_tests::fixture::{
    ConfiguredDaemon, Shim, WAIT, binary, canonical_temp_dir, run_bounded, shim_pids, status_json,
    test_data,
};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The uid and gid that play another user.
const NOBODY: u32 = 65534;

/// Who runs a command.
#[derive(Clone, Copy)]
enum User {
    /// The test's own user.
    Root,
    /// Uid 65534 in no supplementary group.
    Nobody,
    /// Uid 65534, also in this group.
    NobodyIn(u32),
}

/// A system-mode daemon over a directory everyone may traverse.
struct System {
    _dir: TempDir,
    root: PathBuf,
    config: PathBuf,
    daemon: ConfiguredDaemon,
}

impl System {
    /// Starts `ozmd --system` with `config` as its file, its socket in `run/` for `group`.
    fn start(config: &str, group: &str) -> System {
        let (dir, root) = canonical_temp_dir();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config_path = root.join("ozmd.toml");
        std::fs::write(&config_path, config.replace("ROOT", root.to_str().unwrap())).unwrap();
        let cache = root.join("cache");
        let args = [
            OsStr::new("--system"),
            OsStr::new("--socket-group"),
            OsStr::new(group),
            OsStr::new("--config"),
            config_path.as_os_str(),
            OsStr::new("--cache-dir"),
            cache.as_os_str(),
        ];
        let tracking = root.join("instances");
        let env = [(
            "OPENZIM_MCP_INSTANCE__TRACKING_DIR",
            tracking.to_str().unwrap(),
        )];
        let socket = root.join("run/ozmd.sock");
        let daemon = ConfiguredDaemon::start(&socket, &root.join("ozmd.log"), &args, &env);
        System {
            _dir: dir,
            root,
            config: config_path,
            daemon,
        }
    }

    /// A directory under the temporary root, readable by everyone, holding `good.zim`.
    fn archive_dir(&self, data: &Path, name: &str) -> PathBuf {
        let dir = self.root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::copy(data.join("zim-tools/good.zim"), dir.join("good.zim")).unwrap();
        dir
    }

    /// Runs `ozm ARGS…` as `user`.
    fn ozm(&self, user: User, args: &[&str]) -> Output {
        let mut command = as_user(user, &self.root);
        command.args(args).env("OZM_SOCKET", &self.daemon.socket);
        run_bounded(&mut command)
    }

    /// `ozm mcp DIR` as root with stdin closed: the refusal the shim prints, if any.
    fn shim_refusal(&self, directory: &Path) -> String {
        let output = self.ozm(User::Root, &["mcp", directory.to_str().unwrap()]);
        assert!(!output.status.success(), "the shim was served");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }
}

/// `ozm` as `user`; another user's keeps its home and state under `root`.
fn as_user(user: User, root: &Path) -> Command {
    let mut command = Command::new("setpriv");
    command
        .arg(format!("--reuid={NOBODY}"))
        .arg(format!("--regid={NOBODY}"));
    match user {
        User::Root => return Command::new(binary("ozm")),
        User::Nobody => command.arg("--clear-groups"),
        User::NobodyIn(gid) => command.arg(format!("--groups={gid}")),
    };
    let home = root.join("home");
    command
        .arg("--")
        .arg(binary("ozm"))
        .env("HOME", &home)
        .env("XDG_STATE_HOME", &home)
        .env("OPENZIM_MCP_INSTANCE__TRACKING_DIR", root.join("instances"));
    command
}

/// The gid of the group `name`, from /etc/group.
fn group_id(name: &str) -> u32 {
    let groups = std::fs::read_to_string("/etc/group").expect("/etc/group");
    groups
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields[0] == name)
        .and_then(|fields| fields.get(2)?.parse().ok())
        .unwrap_or_else(|| panic!("no group {name} in /etc/group"))
}

#[test]
fn a_shim_may_ask_only_for_directories_under_the_roots() {
    let Some(data) = test_data() else { return };
    let system = System::start("roots = [\"ROOT/zim\"]\n", "users");
    let inside = system.archive_dir(&data, "zim");
    let outside = system.archive_dir(&data, "elsewhere");
    std::os::unix::fs::symlink(&outside, inside.join("link")).unwrap();

    for asked in [outside.clone(), inside.join("link")] {
        let refusal = system.shim_refusal(&asked);
        let roots = format!("({})", inside.display());
        let advice = format!(
            "ask the operator to add it to roots in {}",
            system.config.display()
        );
        assert!(
            refusal.contains(&outside.display().to_string()),
            "{refusal}"
        );
        assert!(
            refusal.contains(&roots) && refusal.contains(&advice),
            "{refusal}"
        );
    }

    let mut shim = Shim::start(&system.daemon.socket, &system.root, &[&inside], &[]);
    shim.initialize();
    let health = shim.call_ok("zim_health", json!({}));
    assert_eq!(health["loaded_archives"][0]["name"], "good.zim", "{health}");

    // Nor may an operator's command open an archive elsewhere, or learn that a directory
    // outside the roots exists.
    for elsewhere in [outside.join("good.zim"), outside.clone()] {
        let index = system.ozm(User::Root, &["index", elsewhere.to_str().unwrap()]);
        let said = String::from_utf8_lossy(&index.stderr);
        assert!(
            !index.status.success() && said.contains("is not under the roots"),
            "{said}"
        );
    }
    shim.close_cleanly();
}

#[test]
fn without_roots_every_shim_is_refused_saying_so() {
    let Some(data) = test_data() else { return };
    let system = System::start("", "users");
    let dir = system.archive_dir(&data, "zim");
    let refusal = system.shim_refusal(&dir);
    assert!(refusal.contains("no roots are configured"), "{refusal}");
    assert!(
        refusal.contains(&system.config.display().to_string()),
        "{refusal}"
    );
    assert!(system.daemon.log().contains("no roots configured"));
}

#[test]
fn the_socket_group_decides_who_connects_and_each_user_sees_its_own_instances() {
    let Some(data) = test_data() else { return };
    let gid = group_id("users");
    let system = System::start("roots = [\"ROOT/zim\"]\n", "users");
    let dir = system.archive_dir(&data, "zim");

    // Without the group the kernel refuses the connection; the daemon never hears of it.
    let refused = system.ozm(User::Nobody, &["status", "--json"]);
    let said = String::from_utf8_lossy(&refused.stderr).to_lowercase();
    assert!(
        !refused.status.success() && said.contains("permission denied"),
        "{said}"
    );

    let mut mine = Shim::start(&system.daemon.socket, &system.root, &[&dir], &[]);
    mine.initialize();
    let mut theirs = Client::start(
        as_user(User::NobodyIn(gid), &system.root),
        &system.daemon,
        &dir,
    );

    // Each user sees its own shim; root sees both.
    let status = |user| {
        let output = system.ozm(user, &["status", "--json"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout).unwrap()
    };
    let their_status = status(User::NobodyIn(gid));
    assert_eq!(shim_pids(&their_status), [theirs.pid()], "{their_status}");
    assert_eq!(their_status["shims"][0]["uid"], NOBODY);
    let mut both = vec![mine.pid(), theirs.pid()];
    both.sort_unstable();
    assert_eq!(shim_pids(&status_json(&system.daemon.socket)), both);

    // So do the management tools and `ozm config`.
    let instances = |configuration: &Value| configuration["instances"].as_array().unwrap().len();
    let their_configuration = theirs.call("get_server_configuration");
    assert_eq!(instances(&their_configuration), 1, "{their_configuration}");
    assert_eq!(
        instances(&mine.call_ok("get_server_configuration", json!({}))),
        2
    );
    let config = system.ozm(User::NobodyIn(gid), &["config", "--json"]);
    let config: Value = serde_json::from_slice(&config.stdout).unwrap();
    assert_eq!(config["instances"][0]["pid"], theirs.pid(), "{config}");
    assert_eq!(instances(&config), 1, "{config}");

    // Cleanup: root's stale instance file is not another user's to see or remove.
    let stale = system.root.join("instances/server_3999999.json");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, r#"{"pid": 3999999, "start_time": 1.0}"#).unwrap();
    let cleanup = |user| {
        let output = system.ozm(user, &["cleanup", "--dry-run", "--json"]);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(!cleanup(User::NobodyIn(gid)).contains("server_3999999.json"));
    assert!(cleanup(User::Root).contains("would remove stale instance file"));
    mine.close_cleanly();
}

/// An `ozm mcp` of another user, spoken to over stdin and stdout.
struct Client {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next_id: u64,
}

impl Client {
    fn start(mut command: Command, daemon: &ConfiguredDaemon, dir: &Path) -> Client {
        let mut child = command
            .arg("mcp")
            .arg(dir)
            .env("OZM_SOCKET", &daemon.socket)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting ozm mcp as another user");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take().unwrap();
        let mut client = Client {
            child,
            stdin,
            lines,
            next_id: 0,
        };
        let init = client.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "ozm-tests", "version": "0"}}),
        );
        assert!(init["result"].is_object(), "{init}");
        client.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        client
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self
                .lines
                .recv_timeout(WAIT)
                .expect("an answer from the shim");
            let message: Value = serde_json::from_str(&line).expect("JSON from the shim");
            if message["id"] == id {
                return message;
            }
        }
    }

    /// Calls a tool without arguments; its text result, parsed.
    fn call(&mut self, tool: &str) -> Value {
        let answer = self.request("tools/call", json!({"name": tool, "arguments": {}}));
        let text = answer["result"]["content"][0]["text"].as_str();
        serde_json::from_str(text.unwrap_or_else(|| panic!("{answer}"))).unwrap()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_directory_outside_the_roots_is_refused_as_such_whether_or_not_it_exists() {
    let Some(data) = test_data() else { return };
    let system = System::start("roots = [\"ROOT/link\"]\n", "users");
    let inside = system.archive_dir(&data, "zim");
    std::os::unix::fs::symlink(&inside, system.root.join("link")).unwrap();
    let outside = |refusal: &str| refusal.contains("is not under the roots this ozmd serves");

    // Outside: a missing directory, a file, a missing one reached through `..`.
    let missing = system.root.join("nowhere");
    let escaping = inside.join("../nowhere");
    let file = system.root.join("ozmd.log");
    for asked in [&missing, &escaping, &file] {
        let refusal = system.shim_refusal(asked);
        assert!(outside(&refusal), "{}: {refusal}", asked.display());
    }
    // Inside, through the root as written (a link): missing is what is wrong.
    let refusal = system.shim_refusal(&system.root.join("link/nowhere"));
    assert!(
        !outside(&refusal) && refusal.contains("No such file or directory"),
        "{refusal}"
    );
    let mut shim = Shim::start(
        &system.daemon.socket,
        &system.root,
        &[&system.root.join("link")],
        &[],
    );
    shim.initialize();
    shim.close_cleanly();
}
