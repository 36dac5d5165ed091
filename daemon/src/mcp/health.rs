//! `zim_health`: the daemon's state and every archive the session can read, with the name to
//! pass as `zim_file_path`.

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::args::{self, ToolError};
use crate::library::Checksum;

/// The tool's name.
pub const NAME: &str = "zim_health";

/// No arguments.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct HealthArgs {}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<HealthArgs>(
        NAME,
        "Server health and the list of ZIM archives this session can read. Each archive's \
         `name` is what the other tools take as `zim_file_path`; unreadable archives are listed \
         with the reason.",
    )
}

/// Answers a call.
pub fn call(session: &Session, arguments: Option<JsonObject>) -> Result<Value, ToolError> {
    let _: HealthArgs = args::parse(NAME, arguments)?;
    let archives = session.library.visible_from(&session.directories);
    let mut readable = 0;
    let listed: Vec<Value> = archives
        .iter()
        .map(|(name, archive)| {
            let opened = archive.open();
            let mut row = json!({
                "name": name,
                "path": archive.path.display().to_string(),
                "size_bytes": archive.size_bytes,
                "size": human_size(archive.size_bytes),
                "split": archive.is_split(),
                "readable": opened.is_ok(),
                "checksum": match archive.checksum() {
                    Checksum::Pending => "pending",
                    Checksum::Unchecked => "not_checked",
                    Checksum::Valid => "valid",
                    Checksum::Damaged(_) => "mismatch",
                },
            });
            match opened {
                Ok(_) => readable += 1,
                Err(reason) => row["error"] = Value::String(reason),
            }
            row
        })
        .collect();

    let status = if readable == 0 || readable < listed.len() {
        "warning"
    } else {
        "healthy"
    };
    let mut warnings = Vec::new();
    if listed.is_empty() {
        warnings.push("no ZIM archives found in the directories given to `ozm mcp`".to_owned());
    }
    if readable < listed.len() {
        warnings.push(format!(
            "{} archive(s) cannot be read",
            listed.len() - readable
        ));
    }
    Ok(json!({
        "health": {
            "status": status,
            "server_name": "ozm",
            "version": env!("CARGO_PKG_VERSION"),
            "instance_id": session.instance_id,
            "uptime_info": {
                "process_id": session.daemon.pid,
                "uptime_seconds": session.daemon.started.elapsed().as_secs(),
            },
            "allowed_directories": session.directories.iter()
                .map(|dir| dir.display().to_string()).collect::<Vec<_>>(),
            "warnings": warnings,
        },
        "loaded_archives": listed,
    }))
}

/// A size as people read it, e.g. "1.4 MB".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}
