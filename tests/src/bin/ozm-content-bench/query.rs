//! Requests in plain words: `zim_query` with four phrasings a small model would use, on titles
//! and title words of the benchmark archive's manifest. Each row also says which intent and
//! tool the daemon read the phrasing as, so a phrasing that is misread shows.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::bail;
use ozm_tests::fixture::Daemon;
use serde_json::{Value, json};

use crate::Run;
use crate::links::ARCHIVE;

/// The phrasings: their start, whether a title (else a word of one) follows, and how many.
const PHRASINGS: [(&str, bool, usize); 4] = [
    ("tell me about", true, 13),
    ("search for", false, 13),
    ("table of contents of", true, 12),
    ("links in", true, 12),
];

/// Times the queries on `daemon`, whose indexes of the benchmark archive are built.
pub fn run(run: &mut Run, daemon: &Daemon, bench: &Path, manifest: &Value) -> anyhow::Result<()> {
    let titles: Vec<&str> = ["samples", "first_articles"]
        .iter()
        .flat_map(|list| manifest[list].as_array().into_iter().flatten())
        .filter_map(|entry| entry["title"].as_str())
        .collect();
    let mut words: Vec<String> = Vec::new();
    let split = titles
        .iter()
        .flat_map(|title| title.split(|c: char| !c.is_alphabetic()));
    for word in split.map(str::to_lowercase) {
        if word.chars().count() >= 4 && !words.contains(&word) {
            words.push(word);
        }
    }
    if titles.is_empty() || words.is_empty() {
        bail!("the manifest of {ARCHIVE} lists no titles");
    }
    let total: usize = PHRASINGS.iter().map(|(_, _, count)| count).sum();
    writeln!(
        run.out,
        "\n3. zim_query on {ARCHIVE}, {total} requests in plain words"
    )?;
    writeln!(
        run.out,
        "  (on the restarted daemon: its own indexes serve searches and inbound links)"
    )?;

    let mut shim = daemon.shim(&[bench]);
    shim.initialize();
    let mut all = Vec::new();
    for (number, (start, titled, count)) in PHRASINGS.into_iter().enumerate() {
        let (mut timings, mut readings) = (Vec::new(), BTreeMap::new());
        for i in 0..count {
            let subject = match titled {
                true => titles[(number * 7 + i) % titles.len()].to_owned(),
                false => words[i % words.len()].clone(),
            };
            let arguments =
                json!({"query": format!("{start} {subject}"), "zim_file_path": ARCHIVE});
            let (elapsed, result) = run.call(&mut shim, "zim_query", arguments);
            timings.push(elapsed);
            let body = &result.body;
            let reading = match result.is_error {
                false => format!("{} via {}", text(&body["intent"]), text(&body["tool"])),
                true => format!(
                    "refused ({}: {})",
                    text(&body["intent"]),
                    text(&body["operation"])
                ),
            };
            *readings.entry(reading).or_insert(0) += 1;
        }
        let read_as: Vec<String> = readings
            .iter()
            .map(|(reading, n)| format!("{reading} ×{n}"))
            .collect();
        let meaning = format!("read as: {}", read_as.join(", "));
        run.row(
            &format!(
                "zim_query \"{start} <{}>\"",
                if titled { "title" } else { "word" }
            ),
            &timings,
            &meaning,
        )?;
        all.extend(timings);
    }
    run.row("zim_query, all phrasings", &all, "the rows above together")?;
    run.memory(daemon.pid(), "at the end")?;
    Ok(())
}

/// A JSON string's text, or `?`.
fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}
