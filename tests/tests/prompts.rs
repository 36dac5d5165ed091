//! Prompts and completions through the real shim: `research`, `summarize` and `explore` filled
//! in with cleaned arguments, asking for missing ones, or refused; none in simple mode; and
//! completion of archive names and of entry paths by path and title (shared/zim/ORACLE.md).

use ozm_tests::fixture::{Shim, serve_with_env, strings, test_data};
use serde_json::{Value, json};

const RAY: &str = "libkiwix/zimfile.zim";
const NONS_WIKIBOOKS: &str = "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim";

/// The values of a completion that must succeed.
fn complete(shim: &mut Shim, reference: Value, argument: (&str, &str), context: Value) -> Value {
    let params = json!({"ref": reference, "argument": {"name": argument.0, "value": argument.1},
        "context": {"arguments": context}});
    let answer = shim.request("completion/complete", params);
    answer["result"]["completion"].clone()
}

#[test]
fn prompts_are_filled_in_asked_for_or_refused() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve_with_env(&[&data], &[]);
    let listed = shim.request("prompts/list", json!({}));
    let prompts = listed["result"]["prompts"].as_array().expect("prompts");
    let names: Vec<&str> = prompts
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["research", "summarize", "explore"]);
    assert_eq!(prompts[1]["arguments"][1]["name"], "entry_path");
    assert_eq!(prompts[1]["arguments"][1]["required"], true);

    let mut text = |name: &str, arguments: Value| -> String {
        let answer = shim.request("prompts/get", json!({"name": name, "arguments": arguments}));
        let messages = answer["result"]["messages"]
            .as_array()
            .expect("{answer}")
            .clone();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0]["role"], "user");
        messages[0]["content"]["text"]
            .as_str()
            .expect("a text")
            .to_owned()
    };
    let research = text("research", json!({"topic": " Ray\nCharles`\u{7} "}));
    assert!(
        research.starts_with("Research \"Ray Charles\" in the offline"),
        "{research}"
    );
    assert!(research.contains("\n1. Call zim_health") && research.contains("\n6. "));
    let summary = text(
        "summarize",
        json!({"zim_file_path": RAY, "entry_path": "A/Ray_Charles"}),
    );
    assert!(
        summary.contains(r#"zim_file_path="libkiwix/zimfile.zim", entry_path="A/Ray_Charles""#)
    );
    let asked = text("summarize", json!({"zim_file_path": "  "}));
    assert!(asked.contains("ask me for:\n- zim_file_path: ") && asked.contains("\n- entry_path: "));
    let placeholders = r#"zim_file_path="<zim_file_path>", entry_path="<entry_path>""#;
    assert!(asked.contains(placeholders), "{asked}");
    let explore = text("explore", json!({"zim_file_path": "z".repeat(300)}));
    assert!(explore.contains(&format!("\"{}\"", "z".repeat(200))));
    assert!(!explore.contains(&"z".repeat(201)));

    let unknown = shim.request("prompts/get", json!({"name": "summarise"}));
    assert_eq!(unknown["error"]["code"], -32602);
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("research, summarize, explore")
    );
    let wrong = shim.request(
        "prompts/get",
        json!({"name": "explore", "arguments": {"path": "x"}}),
    );
    assert_eq!(wrong["error"]["code"], -32602);
    shim.close_cleanly();
}

#[test]
fn simple_mode_lists_resources_but_no_prompts() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve_with_env(
        &[&data.join("libkiwix")],
        &[("OPENZIM_MCP_TOOL_MODE", "simple")],
    );
    let prompts = shim.request("prompts/list", json!({}));
    assert_eq!(prompts["result"]["prompts"], json!([]));
    let resources = shim.request("resources/list", json!({}));
    assert_eq!(
        resources["result"]["resources"].as_array().map(Vec::len),
        Some(6)
    );
    let overview = shim.request("resources/read", json!({"uri": "zim://zimfile.zim"}));
    assert_eq!(
        overview["result"]["contents"][0]["mimeType"],
        "application/json"
    );
    let refused = shim.request("prompts/get", json!({"name": "research"}));
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("advanced tool mode")
    );
    shim.close_cleanly();
}

#[test]
fn archive_names_and_entry_paths_complete() {
    let Some(data) = test_data() else { return };
    let (_daemon, mut shim) = serve_with_env(&[&data], &[]);
    let summarize = json!({"type": "ref/prompt", "name": "summarize"});
    let overview = json!({"type": "ref/resource", "uri": "zim://{name}"});
    let entry = json!({"type": "ref/resource", "uri": "zim://{name}/entry/{path}"});

    // Archive names, by name or file name, any case; absolute paths for an absolute prefix.
    for typed in ["libkiwix/z", "ZIMF"] {
        let found = complete(
            &mut shim,
            summarize.clone(),
            ("zim_file_path", typed),
            json!({}),
        );
        assert_eq!(
            found,
            json!({"values": [RAY], "total": 1, "hasMore": false}),
            "{typed}"
        );
    }
    let small = complete(&mut shim, overview.clone(), ("name", "small"), json!({}));
    assert_eq!(strings(&small["values"]).len(), 3, "{small}");
    let absolute = format!("{}/libkiwix/zim", data.display());
    let found = complete(
        &mut shim,
        summarize.clone(),
        ("zim_file_path", &absolute),
        json!({}),
    );
    assert_eq!(
        found["values"],
        json!([format!("{}/libkiwix/zimfile.zim", data.display())])
    );

    // Entry paths once the archive is known: by path (case as typed or capitalised) and title.
    let ray = json!({"zim_file_path": RAY});
    let by_path = complete(
        &mut shim,
        summarize.clone(),
        ("entry_path", "a/ray_c"),
        ray.clone(),
    );
    assert!(
        strings(&by_path["values"]).contains(&"A/Ray_Charles"),
        "{by_path}"
    );
    let by_title = complete(
        &mut shim,
        summarize.clone(),
        ("entry_path", "ray ch"),
        ray.clone(),
    );
    assert!(
        strings(&by_title["values"]).contains(&"A/Ray_Charles"),
        "{by_title}"
    );
    let all = complete(&mut shim, summarize.clone(), ("entry_path", ""), ray);
    assert_eq!(
        (all["values"].as_array().map(Vec::len), &all["hasMore"]),
        (Some(100), &json!(true))
    );
    assert_eq!(all["total"], Value::Null);
    let esperanto = complete(
        &mut shim,
        entry,
        ("path", "Эспэр"),
        json!({"name": NONS_WIKIBOOKS}),
    );
    assert_eq!(
        strings(&esperanto["values"])[..5],
        [
            "Эспэранта.html",
            "Эспэранта_Альфабэт.html",
            "Эспэранта_Вінавальны_склон.html",
            "Эспэранта_Дзеяслоў.html",
            "Эспэранта_Займеньнік.html",
        ]
    );

    // Without a known archive, or for other arguments, nothing.
    let unknown = json!({"zim_file_path": "nothing.zim"});
    let none = complete(&mut shim, summarize.clone(), ("entry_path", "A"), unknown);
    assert_eq!(none["values"], json!([]));
    let research = json!({"type": "ref/prompt", "name": "research"});
    assert_eq!(
        complete(&mut shim, research, ("topic", "Ray"), json!({}))["values"],
        json!([])
    );
    shim.close_cleanly();
}
