//! The Markdown a small model reads: each tool's result rendered as a title, the text or a
//! short list, and one line saying how to go on (the `content_offset`, `offset` or `cursor` to
//! ask again with). The full result stays beside it in the answer for models that read JSON.

use std::fmt::Write;

use serde_json::Value;

use super::read::same_title;
use super::run::Outcome;

/// Rows of a list shown in the Markdown; the result holds them all.
const LIST_ROWS: usize = 50;

/// The Markdown for `outcome`.
pub(super) fn render(outcome: &Outcome) -> String {
    let result = &outcome.result;
    let mut text = String::new();
    for note in &outcome.notes {
        let _ = writeln!(text, "_{note}._\n");
    }
    let body = match outcome.tool {
        "zim_health" => archives(result),
        "zim_metadata" if outcome.intent == "list_namespaces" => namespaces(result),
        "zim_metadata" => metadata(result),
        "zim_get" => entry(result),
        "zim_get_section" => section(result),
        "zim_search" if outcome.intent == "find_by_title" => titled(&outcome.arguments, result),
        "zim_search" => search(result),
        "zim_browse" | "zim_links" => listing(outcome.intent, result),
        _ => String::new(),
    };
    text.push_str(&body);
    text.trim_end().to_owned()
}

fn string<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

fn archives(result: &Value) -> String {
    let rows = result["loaded_archives"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if rows.is_empty() {
        return "No archives are served.".to_owned();
    }
    let mut text = format!(
        "**{} archive(s)** — name one in a query (\"… in NAME\"):\n",
        rows.len()
    );
    for row in &rows {
        let state = match row["error"].as_str() {
            Some(error) => format!(" — unreadable: {error}"),
            None => String::new(),
        };
        let _ = writeln!(
            text,
            "- `{}` ({}){state}",
            string(row, "name"),
            string(row, "size")
        );
    }
    text
}

fn metadata(result: &Value) -> String {
    let metadata = &result["metadata"];
    let title = metadata["Title"].as_str().unwrap_or("(untitled)");
    let mut text = format!("**{title}** — `{}`\n", string(result, "zim_file_path"));
    if let Some(description) = metadata["Description"].as_str() {
        let _ = writeln!(text, "\n{description}\n");
    }
    for key in [
        "Language",
        "Date",
        "Creator",
        "Publisher",
        "Flavour",
        "License",
        "Source",
    ] {
        if let Some(value) = metadata[key].as_str() {
            let _ = writeln!(text, "- {key}: {value}");
        }
    }
    let counts = &result["counts"];
    let _ = writeln!(
        text,
        "- Articles: {}; entries: {}",
        counts["article_count"], counts["entry_count"]
    );
    let indexes = &result["index_capabilities"];
    let _ = writeln!(
        text,
        "- Full-text search: {}",
        string(indexes, "fulltext_search")
    );
    text
}

fn namespaces(result: &Value) -> String {
    let mut text = format!("Namespaces of `{}`:\n", string(result, "zim_file_path"));
    for row in result["namespaces"].as_array().into_iter().flatten() {
        let _ = writeln!(
            text,
            "- `{}` — {} entries: {}",
            string(row, "namespace"),
            row["entries"],
            string(row, "description")
        );
    }
    text
}

/// An article in any of zim_get's views.
fn entry(result: &Value) -> String {
    let title = string(result, "title");
    let path = string(result, "path");
    let content = result["content"].as_str();
    // The Markdown of most articles starts with their own title.
    let mut text = match content {
        Some(content) if content.starts_with("# ") => format!("`{path}`\n\n"),
        _ => format!("# {title}\n\n`{path}`\n\n"),
    };
    if let Some(summary) = result["summary"].as_str() {
        text.push_str(summary);
    } else if let Some(toc) = result["toc"].as_array() {
        text.push_str("Sections (ask for \"the SECTION section of ARTICLE\"):\n");
        headings(&mut text, toc, 0);
    } else if let Some(content) = content {
        text.push_str(content);
        if let Some(next) = result["next_offset"].as_u64() {
            let total = result["total_chars"].as_u64().unwrap_or_default();
            let left = total.saturating_sub(next);
            let _ = write!(
                text,
                "\n\n_… {left} more characters: ask again with content_offset={next}._"
            );
        }
    }
    if let Some(note) = result["note"].as_str() {
        let _ = write!(text, "\n\n_{note}_");
    }
    text
}

fn headings(text: &mut String, rows: &[Value], depth: usize) {
    for row in rows {
        let name = row["text"]
            .as_str()
            .or(row["title"].as_str())
            .unwrap_or_default();
        let _ = writeln!(text, "{}- {name}", "  ".repeat(depth));
        if let Some(children) = row["children"].as_array() {
            headings(text, children, depth + 1);
        }
    }
}

fn section(result: &Value) -> String {
    let title = result["section_title"]
        .as_str()
        .unwrap_or(string(result, "section_id"));
    let content = result["content_markdown"]
        .as_str()
        .or(result["content"].as_str())
        .unwrap_or_default();
    let mut text = format!("_from {}_\n\n", string(result, "title"));
    // Sections usually start with their own heading.
    if !content.starts_with('#') {
        let _ = write!(text, "## {title}\n\n");
    }
    text.push_str(content);
    if result["truncated"] == true {
        text.push_str("\n\n_… the section goes on: ask with a larger max_content_length._");
    }
    text
}

/// Whether an article has the title asked for, then the titles that start with it.
fn titled(arguments: &Value, result: &Value) -> String {
    let wanted = string(arguments, "query");
    let rows = result["results"].as_array().cloned().unwrap_or_default();
    let exact = rows.iter().find(|row| same_title(row, wanted));
    let mut text = match exact {
        Some(row) => format!(
            "Yes: **{}** — `{}`.\n\n",
            string(row, "title"),
            string(row, "path")
        ),
        None => format!("No article is titled exactly '{wanted}'.\n\n"),
    };
    text.push_str(&search(result));
    text
}

fn search(result: &Value) -> String {
    let rows = result["results"].as_array().cloned().unwrap_or_default();
    let query = string(result, "query");
    if rows.is_empty() {
        let mut text = format!("Nothing found for '{query}'.");
        for note in result["notes"].as_array().into_iter().flatten() {
            let _ = write!(text, "\n_{}_", note.as_str().unwrap_or_default());
        }
        return text;
    }
    let cross = result["files_searched"].is_number();
    let mut text = format!("Results for '{query}':\n");
    if result["mode"] != "fulltext" {
        text.push_str(&titles(&rows, cross));
        if result["page_info"]["next_offset"].is_u64() {
            text.push_str("\n_More titles match: ask again with a larger limit._");
        }
        return text;
    }
    for (number, row) in rows.iter().enumerate() {
        let place = if cross {
            format!(" in `{}`", string(row, "zim_file_path"))
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "{}. **{}** — `{}`{place}",
            number + 1,
            string(row, "title"),
            string(row, "path")
        );
        if let Some(snippet) = row["snippet"].as_str().filter(|s| !s.is_empty()) {
            let _ = writeln!(text, "   {}", snippet.replace('\n', " "));
        }
    }
    if let Some(next) = result["page_info"]["next_offset"].as_u64() {
        let _ = write!(text, "\n_More results: ask again with offset={next}._");
    }
    text
}

/// Title matches, one line per article: several titles (its own, those of redirects to it)
/// may lead to the same one, and the line says which.
fn titles(rows: &[Value], cross: bool) -> String {
    // Each article once, in the order first met, with the other titles that led to it.
    let mut articles: Vec<(&Value, Vec<&Value>)> = Vec::new();
    for row in rows {
        let same_place = |(first, _): &&mut (&Value, Vec<&Value>)| {
            first["path"] == row["path"] && first["zim_file_path"] == row["zim_file_path"]
        };
        match articles.iter_mut().find(same_place) {
            Some((_, others)) => others.push(row),
            None => articles.push((row, Vec::new())),
        }
    }
    let mut text = String::new();
    for (number, (first, others)) in articles.iter().enumerate() {
        let place = if cross {
            format!(" in `{}`", string(first, "zim_file_path"))
        } else {
            String::new()
        };
        let _ = write!(
            text,
            "{}. **{}** — `{}`{place}",
            number + 1,
            string(first, "title"),
            string(first, "path")
        );
        let reached: Vec<String> = std::iter::once(*first)
            .chain(others.iter().copied())
            .filter_map(|row| {
                let from = row["redirect_from"].as_str()?;
                Some(format!("'{}' (`{from}`)", string(row, "matched_title")))
            })
            .collect();
        if !reached.is_empty() {
            let _ = write!(
                text,
                " — matched through redirect(s) {}",
                reached.join(", ")
            );
        }
        text.push('\n');
    }
    text
}

/// Namespace entries and links: one line per row.
fn listing(intent: &str, result: &Value) -> String {
    let rows = result["results"].as_array().cloned().unwrap_or_default();
    let title = result["title"].as_str().unwrap_or(string(result, "path"));
    let mut text = match intent {
        "inbound_links" => format!("Pages that link to **{title}**:\n"),
        "related" => format!("Articles related to **{title}**:\n"),
        "links" => format!("Links in **{title}**:\n"),
        _ => format!(
            "Entries of namespace {} in `{}`:\n",
            string(result, "namespace"),
            string(result, "zim_file_path")
        ),
    };
    if rows.is_empty() {
        text.push_str("(none)\n");
    }
    if let Some(note) = result["note"].as_str() {
        let _ = writeln!(text, "_{note}_");
    }
    for row in rows.iter().take(LIST_ROWS) {
        let label = ["title", "text", "path", "url"]
            .iter()
            .find_map(|key| row[*key].as_str().filter(|value| !value.is_empty()))
            .unwrap_or_default();
        let place = row["path"]
            .as_str()
            .or(row["url"].as_str())
            .unwrap_or_default();
        let _ = writeln!(text, "- {label} — `{place}`");
    }
    if rows.len() > LIST_ROWS {
        let _ = writeln!(text, "- … {} more in `result`", rows.len() - LIST_ROWS);
    }
    if let Some(cursor) = result["next_cursor"].as_str() {
        let _ = write!(text, "\n_More: ask again with cursor=\"{cursor}\"._");
    } else if let Some(next) = result["page_info"]["next_offset"].as_u64() {
        let _ = write!(text, "\n_More: ask again with offset={next}._");
    }
    text
}
