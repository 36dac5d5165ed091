//! Redirects a reader meets besides redirect entries: pages that redirect with a meta refresh
//! (followed like redirects, loops refused), Arabic redirect paths typed raw or percent-encoded,
//! and paths that name nothing, answered with the nearest titles. The archives are built here:
//! no real archive has meta-refresh pages or Arabic paths.

use ozm_tests::fixture::{Shim, ToolResult, serve_archive};
use ozm_tests::zim_writer::ZimBuilder;
use serde_json::{Value, json};

fn refresh_page(target: &str) -> String {
    format!(
        "<html><head><meta http-equiv=\"refresh\" content=\"0; url={target}\">\
         <title>Moved</title></head><body><a href=\"{target}\">moved</a></body></html>"
    )
}

fn article(title: &str, text: &str) -> String {
    format!(
        "<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
    )
}

fn get(shim: &mut Shim, path: &str) -> ToolResult {
    shim.call_tool(
        "zim_get",
        json!({"zim_file_path": "built.zim", "entry_path": path}),
    )
}

fn percent_encode(path: &str) -> String {
    path.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[test]
fn pages_that_redirect_with_a_meta_refresh_are_followed_like_redirects() {
    let mut builder = ZimBuilder::new();
    builder
        .article(
            "wiki/Cologne",
            "Cologne",
            &article("Cologne", "A city on the Rhine."),
        )
        .article(
            "old/Koeln.html",
            "Köln (old)",
            &refresh_page("../wiki/Cologne#History"),
        )
        .article("Koln", "Koln", &refresh_page("old/Koeln.html"))
        .redirect("Colonia", "Colonia", "Koln")
        .article(
            "Elsewhere",
            "Elsewhere",
            &refresh_page("https://example.org/"),
        )
        .article("Dangling", "Dangling", &refresh_page("Nowhere"));
    let (_dir, _daemon, mut shim) = serve_archive(&builder, "built.zim");

    let read = get(&mut shim, "old/Koeln.html");
    assert!(!read.is_error, "{}", read.body);
    assert_eq!(read.body["path"], "wiki/Cologne");
    assert!(
        read.body["content"]
            .as_str()
            .unwrap()
            .contains("A city on the Rhine.")
    );
    assert_eq!(read.body["redirected_from"], json!(["old/Koeln.html"]));

    // A redirect entry, then two pages that refresh: every hop is named, in order.
    let read = get(&mut shim, "Colonia");
    assert_eq!(read.body["path"], "wiki/Cologne", "{}", read.body);
    assert_eq!(
        read.body["redirected_from"],
        json!(["Colonia", "Koln", "old/Koeln.html"])
    );

    // A refresh to another site or to a missing entry leaves the page itself to read.
    for page in ["Elsewhere", "Dangling"] {
        let read = get(&mut shim, page);
        assert!(!read.is_error, "{}", read.body);
        assert_eq!(read.body["path"], page);
        assert_eq!(read.body["redirected_from"], Value::Null);
    }
}

#[test]
fn meta_refresh_loops_are_reported_with_their_chain() {
    let mut builder = ZimBuilder::new();
    builder
        .article("Ping", "Ping", &refresh_page("Pong"))
        .article("Pong", "Pong", &refresh_page("./Ping"))
        .article("Self", "Self", &refresh_page("Self"))
        .redirect("Mixed", "Mixed", "Back")
        .article("Back", "Back", &refresh_page("Mixed"));
    let (_dir, _daemon, mut shim) = serve_archive(&builder, "built.zim");

    for (start, chain) in [
        ("Ping", json!(["Ping", "Pong", "Ping"])),
        ("Self", json!(["Self", "Self"])),
        ("Mixed", json!(["Mixed", "Back", "Mixed", "Back"])),
    ] {
        let looped = get(&mut shim, start);
        assert!(looped.is_error, "{start}: {}", looped.body);
        assert_eq!(looped.body["operation"], "redirect_loop", "{}", looped.body);
        assert_eq!(looped.body["redirect_chain"], chain, "{start}");
    }
}

#[test]
fn long_chains_of_refreshing_pages_stop_at_the_hop_limit() {
    let mut builder = ZimBuilder::new();
    for hop in 0..15 {
        builder.article(
            &format!("Hop{hop}"),
            "Hop",
            &refresh_page(&format!("Hop{}", hop + 1)),
        );
    }
    builder.article("Hop15", "End", &article("End", "The end of the chain."));
    let (_dir, _daemon, mut shim) = serve_archive(&builder, "built.zim");

    let read = get(&mut shim, "Hop0");
    assert!(read.is_error, "{}", read.body);
    assert_eq!(read.body["operation"], "too_many_redirects");
    assert!(
        read.body["message"]
            .as_str()
            .unwrap()
            .contains("more than 10 redirects")
    );
    let read = get(&mut shim, "Hop6");
    assert_eq!(read.body["path"], "Hop15", "{}", read.body);
}

#[test]
fn arabic_redirects_are_followed_typed_raw_or_percent_encoded() {
    let target = "القاهرة";
    let redirect = "مدينة_القاهرة";
    for (mut builder, prefix) in [(ZimBuilder::new(), ""), (ZimBuilder::old_scheme(), "A/")] {
        builder
            .article(
                &format!("{prefix}{target}"),
                target,
                &article(target, "عاصمة مصر."),
            )
            .redirect(
                &format!("{prefix}{redirect}"),
                "مدينة القاهرة",
                &format!("{prefix}{target}"),
            );
        let (_dir, _daemon, mut shim) = serve_archive(&builder, "built.zim");

        let raw = format!("{prefix}{redirect}");
        for typed in [raw.clone(), percent_encode(&raw)] {
            let read = get(&mut shim, &typed);
            assert!(!read.is_error, "{typed}: {}", read.body);
            assert_eq!(read.body["path"], format!("{prefix}{target}"));
            assert_eq!(read.body["title"], target);
            assert_eq!(read.body["redirected_from"], json!([raw]));
            assert!(
                read.body["content"]
                    .as_str()
                    .unwrap()
                    .contains("عاصمة مصر.")
            );
        }
    }
}

#[test]
fn a_path_that_names_nothing_gets_the_nearest_titles() {
    let mut builder = ZimBuilder::new();
    builder
        .article(
            "Ray_Charles",
            "Ray Charles",
            &article("Ray Charles", "A pianist."),
        )
        .article(
            "Ray_Charles_(album)",
            "Ray Charles (album)",
            &article("Album", "An album."),
        )
        .article("Georgia", "Georgia", &article("Georgia", "A state."));
    let (_dir, _daemon, mut shim) = serve_archive(&builder, "built.zim");

    let missing = get(&mut shim, "Ray_Charles_discography");
    assert!(missing.is_error);
    assert_eq!(missing.body["operation"], "entry_not_found");
    assert_eq!(missing.body["entry_path"], "Ray_Charles_discography");
    let nearest: Vec<&str> = missing.body["nearest_titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["path"].as_str().unwrap())
        .collect();
    assert_eq!(nearest, ["Ray_Charles", "Ray_Charles_(album)"]);
    let message = missing.body["message"].as_str().unwrap();
    assert!(message.contains("'Ray Charles'"), "{message}");
    assert!(message.contains("entry_path=\"Ray_Charles\""), "{message}");

    // Nothing near: the model is sent to search instead.
    let missing = get(&mut shim, "Zzyzx");
    assert_eq!(missing.body["nearest_titles"], json!([]));
    assert!(
        missing.body["message"]
            .as_str()
            .unwrap()
            .contains("zim_search")
    );
}
