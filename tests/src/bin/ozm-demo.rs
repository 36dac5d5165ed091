//! `ozm-demo`: what an AI client sees of ozm, end to end, with nothing to download.
//!
//! It writes a small ZIM archive of its own (or serves the directory given as argument), runs
//! the real `ozm mcp` shim, which starts a real `ozmd` on a private socket, speaks MCP to it
//! over stdin/stdout exactly as Claude Desktop would, prints each exchange, and stops the
//! daemon. Build the binaries first: `cargo build --workspace`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use ozm_tests::fixture::{Shim, signal};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

fn main() -> anyhow::Result<()> {
    let work = tempfile::tempdir().context("creating a temporary directory")?;
    let served = match std::env::args_os().nth(1) {
        Some(dir) => std::fs::canonicalize(PathBuf::from(dir)).context("the directory given")?,
        None => write_demo_archive(work.path())?,
    };
    let socket = work.path().join("ozmd.sock");
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "serving {} through `ozm mcp` (it starts ozmd on {})\n",
        served.display(),
        socket.display()
    )?;

    let mut shim = Shim::start(&socket, work.path(), &[&served], &[]);
    let init = shim.initialize();
    show(&mut out, "initialize", &init["result"]["serverInfo"])?;
    let tools = shim.request("tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|tool| tool["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    show(&mut out, "tools/list", &json!(names))?;

    let health = shim.call_tool("zim_health", json!({}));
    show(&mut out, "zim_health", &health.body["loaded_archives"])?;
    let archive = health.body["loaded_archives"]
        .as_array()
        .and_then(|archives| archives.iter().find(|a| a["readable"] == json!(true)))
        .and_then(|archive| archive["name"].as_str())
        .context("no readable archive in the served directory")?
        .to_owned();

    // The main page's path, so the demo can show its links whatever archive it serves.
    let main_page = shim.call_tool(
        "zim_get",
        json!({"zim_file_path": archive, "main_page": true}),
    );
    let main_path = main_page.body["path"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let calls = [
        ("zim_metadata", json!({"zim_file_path": archive})),
        (
            "zim_search",
            json!({"zim_file_path": archive, "query": "ki", "mode": "title"}),
        ),
        (
            "zim_get",
            json!({"zim_file_path": archive, "main_page": true,
            "max_content_length": 600}),
        ),
        (
            "zim_get",
            json!({"zim_file_path": archive, "entry_path": main_path, "view": "toc"}),
        ),
        (
            "zim_links",
            json!({"zim_file_path": archive, "entry_path": main_path, "limit": 5}),
        ),
        (
            "zim_query",
            json!({"zim_file_path": archive, "query": "search for reader", "limit": 3}),
        ),
        (
            "zim_get",
            json!({"zim_file_path": archive, "entry_path": "no/such/entry"}),
        ),
    ];
    for (tool, arguments) in calls {
        let result = shim.call_tool(tool, arguments.clone());
        let label = format!(
            "{tool} {arguments}{}",
            if result.is_error { "  (isError)" } else { "" }
        );
        show(&mut out, &label, &result.body)?;
    }

    shim.close();
    stop_daemon(&socket);
    Ok(())
}

fn show(out: &mut impl Write, request: &str, answer: &Value) -> anyhow::Result<()> {
    writeln!(out, "→ {request}")?;
    let text = serde_json::to_string_pretty(answer)?;
    for line in text.lines() {
        writeln!(out, "  {line}")?;
    }
    writeln!(out)?;
    Ok(())
}

/// The daemon the shim started writes its pid into the lock file beside the socket.
fn stop_daemon(socket: &Path) {
    if let Ok(pid) = std::fs::read_to_string(socket.with_extension("lock"))
        && let Ok(pid) = pid.trim().parse::<u32>()
    {
        signal(pid, "TERM");
    }
}

fn write_demo_archive(dir: &Path) -> anyhow::Result<PathBuf> {
    let library = dir.join("library");
    std::fs::create_dir_all(&library)?;
    let mut zim = ZimBuilder::new();
    zim.metadata("Title", "ozm demo")
        .metadata("Language", "eng")
        .metadata("Creator", "ozm")
        .metadata("Date", "2026-12-04")
        .metadata("Description", "A tiny archive written by ozm-demo")
        .article(
            "Kiwix.html",
            "Kiwix",
            "<html><head><title>Kiwix</title></head><body><h1>Kiwix</h1>\
             <p><b>Kiwix</b> is an offline reader for web content such as Wikipedia. It reads \
             archives in the <a href=\"ZIM_format.html\">ZIM format</a>.</p>\
             <h2>Platforms</h2><ul><li>Desktop</li><li>Mobile</li></ul></body></html>",
        )
        .article(
            "ZIM_format.html",
            "ZIM format",
            "<html><body><h1>ZIM format</h1><p>A <i>ZIM</i> file stores a whole website in \
             one file: entries, compressed clusters, and an index of titles.</p>\
             <table><tr><th>Part</th><th>Holds</th></tr><tr><td>Cluster</td><td>Compressed \
             content</td></tr></table></body></html>",
        )
        .article(
            "Kite.html",
            "Kite",
            "<html><body><p>A kite is a tethered aircraft.</p></body></html>",
        )
        .redirect("Kiwix_reader.html", "Kiwix reader", "Kiwix.html")
        .main_page("Kiwix.html");
    zim.write(&library.join("demo.zim"))?;
    Ok(library)
}
