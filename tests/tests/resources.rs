//! Resources through the real shim: the archive list and overviews, and entries read with their
//! own MIME type and byte size as libzim reports them (shared/zim/ORACLE.md), under names and
//! paths written literally or percent-encoded.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ozm_tests::fixture::{Shim, serve_with_env, strings, test_data};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

const RAY: &str = "libkiwix/zimfile.zim";
const RAY_URI: &str = "zim://libkiwix%2Fzimfile.zim";

/// Entries, one per line: archive | path in the URI | MIME type | bytes, as ORACLE.md lists
/// them. Paths are written literally and percent-encoded, `/` included.
const ENTRIES: &str = "\
    libkiwix/zimfile.zim | A/Ray_Charles | text/html | 7860
    libkiwix%2Fzimfile.zim | A%2FRay_Charles | text/html | 7860
    libkiwix/zimfile.zim | I/m/Ray_Charles_classic_piano_pose.jpg | image/jpeg | 20077
    libkiwix/zimfile.zim | -/s/css_modules/content.parsoid.css | text/css | 4453
    zim-testing-suite%2Fnons%2Fwikibooks_be_all_nopic_2017-02.zim | Эспэранта.html \
        | text/html | 5204
    zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim \
        | %D0%AD%D1%81%D0%BF%D1%8D%D1%80%D0%B0%D0%BD%D1%82%D0%B0.html | text/html | 5204
    zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim | A/Эспэранта.html \
        | text/html | 5219
    zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim \
        | A%2F%D0%AD%D1%81%D0%BF%D1%8D%D1%80%D0%B0%D0%BD%D1%82%D0%B0.html | text/html | 5219
    zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim \
        | m/115a35549794e50dcd03e60ef1a1ae24.png | image/png | 1170
    libkiwix%2Fcorner_cases%23%26.zim | c%23.html | text/html | 404";

/// The first contents of a `resources/read` that must succeed.
fn read(shim: &mut Shim, uri: &str) -> Value {
    let answer = shim.request("resources/read", json!({"uri": uri}));
    let contents = &answer["result"]["contents"];
    assert_eq!(
        contents.as_array().map(Vec::len),
        Some(1),
        "{uri}: {answer}"
    );
    assert_eq!(contents[0]["uri"], uri, "{answer}");
    contents[0].clone()
}

/// A JSON resource's parsed text.
fn read_json(shim: &mut Shim, uri: &str) -> Value {
    let contents = read(shim, uri);
    assert_eq!(contents["mimeType"], "application/json", "{contents}");
    serde_json::from_str(contents["text"].as_str().expect("text")).expect("JSON text")
}

/// The JSON-RPC error of a `resources/read` that must fail with invalid params.
fn refused(shim: &mut Shim, uri: &str) -> Value {
    let answer = shim.request("resources/read", json!({"uri": uri}));
    assert_eq!(answer["error"]["code"], -32602, "{uri}: {answer}");
    answer["error"].clone()
}

#[test]
fn the_archive_list_and_templates_are_listed() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve_with_env(&[&data], &[]);
    let listed = shim.request("resources/list", json!({}));
    let resources = listed["result"]["resources"].as_array().expect("resources");
    let uris: Vec<&str> = resources
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris[0], "zim://files");
    let ray = resources
        .iter()
        .find(|r| r["uri"] == RAY_URI)
        .expect("{listed}");
    assert_eq!(ray["name"], RAY);
    let unreadable = "zim://zim-testing-suite%2Fnons%2Finvalid.smaller_than_header.zim";
    assert!(!uris.contains(&unreadable), "{uris:?}");
    assert!(
        uris.contains(&"zim://libkiwix%2Fcorner_cases%23%26.zim"),
        "{uris:?}"
    );

    let templates = shim.request("resources/templates/list", json!({}));
    let templates = &templates["result"]["resourceTemplates"];
    assert_eq!(templates[0]["uriTemplate"], "zim://{name}");
    assert_eq!(templates[1]["uriTemplate"], "zim://{name}/entry/{path}");
    shim.close_cleanly();
}

#[test]
fn zim_files_lists_what_zim_health_lists() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve_with_env(&[&data], &[]);
    let files = read_json(&mut shim, "zim://files");
    let health = shim.call_ok("zim_health", json!({}));
    let names = |rows: &Value| -> Vec<String> {
        let rows = rows.as_array().expect("rows");
        rows.iter().map(|row| row["name"].to_string()).collect()
    };
    assert_eq!(names(&files), names(&health["loaded_archives"]));
    let row = |name: &str| {
        files
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
    };
    let ray = row(RAY).expect("zimfile.zim is listed");
    assert_eq!(ray["size_bytes"], 569304);
    assert_eq!(ray["readable"], true);
    let tiny = row("zim-testing-suite/nons/invalid.smaller_than_header.zim").expect("listed");
    assert_eq!(tiny["readable"], false);
    shim.close_cleanly();
}

#[test]
fn an_overview_is_found_by_encoded_name_literal_name_or_stem() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve_with_env(&[&data], &[]);
    for uri in [RAY_URI, "zim://libkiwix/zimfile.zim", "zim://zimfile"] {
        let overview = read_json(&mut shim, uri);
        assert_eq!(overview["name"], RAY, "{uri}");
        assert!(
            overview["path"]
                .as_str()
                .unwrap()
                .ends_with("/libkiwix/zimfile.zim")
        );
        assert_eq!(overview["metadata"]["Title"], "Ray Charles");
        assert_eq!(overview["metadata"]["Date"], "2020-03-31");
        assert_eq!(
            overview["main_page"],
            json!({"path": "A/index", "title": "Main Page"})
        );
        let preview = overview["main_page_preview"].as_str().expect("a preview");
        assert!(preview.contains("Ray Charles"), "{preview}");
        assert!((1..=2000).contains(&preview.chars().count()), "{preview}");
        let namespaces = overview["namespaces"].to_string();
        assert!(namespaces.contains(r#""A""#), "{namespaces}");
    }

    // An archive without a main page says so.
    let poor = read_json(&mut shim, "zim://libkiwix%2Fpoor.zim");
    assert_eq!(poor["main_page"], Value::Null);
    assert!(
        poor["main_page_preview"]
            .as_str()
            .unwrap()
            .contains("no main page")
    );

    // Names that fit none or several archives, and URIs that are not ozm's.
    let ambiguous = refused(&mut shim, "zim://small");
    assert_eq!(
        ambiguous["data"]["candidates"].as_array().map(Vec::len),
        Some(3)
    );
    let unknown = refused(&mut shim, "zim://nothing.zim");
    assert!(strings(&unknown["data"]["available_archives"]).contains(&RAY));
    for uri in ["file:///etc/passwd", "zim://", "zim://files/entry/x"] {
        refused(&mut shim, uri);
    }
    shim.close_cleanly();
}

#[test]
fn entries_come_with_their_own_mime_type_and_bytes() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve_with_env(&[&data], &[]);
    for line in ENTRIES.lines() {
        let row: Vec<&str> = line.split('|').map(str::trim).collect();
        let [archive, path, mime, size] = row[..] else {
            panic!("bad row {row:?}")
        };
        let uri = format!("zim://{archive}/entry/{path}");
        let contents = read(&mut shim, &uri);
        assert_eq!(contents["mimeType"], mime, "{uri}");
        let bytes = match contents.get("blob") {
            Some(blob) => STANDARD.decode(blob.as_str().unwrap()).expect("base64"),
            None => contents["text"].as_str().expect("text").as_bytes().to_vec(),
        };
        assert_eq!(bytes.len().to_string(), size, "{uri}");
        assert_eq!(
            contents.get("blob").is_some(),
            mime.starts_with("image/"),
            "{uri}"
        );
        if mime == "image/jpeg" {
            assert_eq!(bytes[..3], [0xff, 0xd8, 0xff]);
        }
    }

    // A redirect reads as its target; an empty path reads the main page.
    let redirect = read(&mut shim, &format!("{RAY_URI}/entry/A/A_Song_For_You"));
    let target = read(&mut shim, &format!("{RAY_URI}/entry/A/A_Song_for_You"));
    assert_eq!(redirect["text"], target["text"]);
    let main = read(&mut shim, &format!("{RAY_URI}/entry/"));
    let index = read(&mut shim, &format!("{RAY_URI}/entry/A/index"));
    assert_eq!(main["text"], index["text"]);

    // Misses and loops are invalid params that say what went wrong.
    let missing = refused(&mut shim, &format!("{RAY_URI}/entry/A/Ray_Charlez"));
    assert_eq!(missing["data"]["operation"], "entry_not_found");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("A/Ray_Charlez")
    );
    let rings = refused(
        &mut shim,
        "zim://libkiwix/poor.zim/entry/redirect_loop2.html",
    );
    assert_eq!(rings["data"]["operation"], "redirect_loop");
    shim.close_cleanly();
}

#[test]
fn long_text_is_cut_with_a_notice_and_large_binary_is_refused() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // 300 KiB of two-byte characters, so that the cut falls inside one.
    let long = format!("<p>{}</p>", "ж".repeat(150 * 1024));
    let big = vec![7u8; 300 * 1024];
    let mut zim = ZimBuilder::new();
    zim.article("Long.html", "Long", &long)
        .item(
            "big.bin",
            "big.bin",
            "application/octet-stream",
            &big,
            false,
        )
        .main_page("Long.html");
    zim.write(&dir.path().join("long.zim"))
        .expect("writing the archive");
    let (_daemon, mut shim) = serve_with_env(&[dir.path()], &[]);

    let text = read(&mut shim, "zim://long/entry/Long.html")["text"].clone();
    let text = text.as_str().expect("text");
    let (kept, notice) = text.split_once("\n\n[ozm: cut at ").expect("a notice");
    assert_eq!(
        kept.len(),
        256 * 1024 - 1,
        "cut at the last whole character"
    );
    assert!(long.starts_with(kept));
    assert!(notice.contains(r#"zim_get zim_file_path="long.zim" entry_path="Long.html""#));

    let error = refused(&mut shim, "zim://long.zim/entry/big.bin");
    assert_eq!(error["data"]["size"], 300 * 1024);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("zim_get and binary=true")
    );
    shim.close_cleanly();
}
