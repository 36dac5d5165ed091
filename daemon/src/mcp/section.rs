//! `zim_get_section`: one section of an article, named by its id from `zim_get view=toc` or by
//! its heading's text, so a model reads the part it needs instead of the whole article.
//!
//! The section's offsets are positions in the article's full Markdown, the text `zim_get` pages
//! through: a section cut short by `max_chars` is read on with `zim_get` from `next_offset`.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Session;
use super::args::{self, ToolError};
use super::{entry, get};
use crate::content::{
    self, Budget, DEFAULT_PAGE_CHARS, DEFAULT_PAGE_TOKENS, Rendered, Style, fold,
};
use crate::rendered::Article;

/// The tool's name.
pub const NAME: &str = "zim_get_section";

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SectionArgs {
    /// The archive: its name from zim_health, a path relative to a served directory, or an
    /// absolute path inside one.
    zim_file_path: String,
    /// The article, e.g. `A/Ray_Charles` in old archives or `Berlin` in new ones.
    entry_path: String,
    /// The section: a section_id from zim_get with view=toc, or the heading's text (case and
    /// accents do not matter).
    section_id: String,
    /// The most characters to return (default: a page of about 25,000 tokens, at most 100,000
    /// characters, or the session's OPENZIM_MCP_CONTENT__MAX_CONTENT_LENGTH).
    max_chars: Option<i64>,
    /// Include the section's subsections (default true); false returns its own text only.
    include_subsections: Option<bool>,
    /// For small models (default false): the section in zim_get's compact text, with large
    /// tables summarised in one line and no link markup. Offsets then refer to that text.
    compact: Option<bool>,
    /// Accepted for compatibility with openzim-mcp (tiny, small, medium, large or a number)
    /// and ignored: the section is cut by max_chars.
    #[schemars(with = "Option<String>")]
    compact_budget: Option<Value>,
}

/// The tool as clients see it.
pub fn definition() -> Tool {
    args::tool::<SectionArgs>(
        NAME,
        "Read one section of an article as Markdown, by its section_id from zim_get \
         view=toc or by its heading text. Returns the section with its subsections (or \
         without them with include_subsections=false), its parent section and the list of \
         its subsections. compact=true suits small models. An unknown section lists the \
         article's sections.",
    )
}

/// Answers a call.
pub async fn call(
    session: Arc<Session>,
    arguments: Option<JsonObject>,
) -> Result<Value, ToolError> {
    let request: SectionArgs = args::parse(NAME, arguments)?;
    get::check_compact_budget(request.compact_budget.as_ref())?;
    for (name, value) in [
        ("entry_path", &request.entry_path),
        ("section_id", &request.section_id),
    ] {
        if value.trim().is_empty() {
            return Err(ToolError::new(
                "invalid_argument",
                format!("`{name}` is empty"),
            ));
        }
    }
    let budget = match request.max_chars {
        Some(_) => {
            let chars = args::bounded("max_chars", request.max_chars, 0, 1..=10_000_000)?;
            Budget::chars(chars as usize)
        }
        None => {
            let chars = usize::try_from(session.settings.content_max_length).unwrap_or(usize::MAX);
            if chars == DEFAULT_PAGE_CHARS {
                Budget::tokens(chars, DEFAULT_PAGE_TOKENS)
            } else {
                Budget::chars(chars)
            }
        }
    };
    let include_subsections = request.include_subsections.unwrap_or(true);
    let compact = request.compact.unwrap_or(false);
    let style = if compact { Style::Compact } else { Style::Full };

    let (name, open) = args::archive(&session, &request.zim_file_path)?;
    args::blocking(move || {
        let resolved = entry::locate(&open, &name, Some(&request.entry_path))?;
        let article = &resolved.entry;
        let rendered = session.library.rendered();
        let text = match rendered.article(&open.archive, article, style) {
            Ok(Article::Text(text)) => text,
            Ok(Article::Binary { mime, .. }) => {
                return Err(ToolError::new(
                    "invalid_section",
                    format!(
                        "{} is {mime}, not an article: it has no sections",
                        article.path
                    ),
                ));
            }
            Err(error) => return Err(entry::read_error(&name, error)),
        };
        let Some(index) = text.find_section(request.section_id.trim()) else {
            return Err(not_found(&text, &article.path, &request.section_id));
        };
        let mut answer = section_answer(&text, index, include_subsections, budget);
        answer["entry_path"] = json!(article.path);
        answer["title"] = json!(article.title);
        answer["zim_file_path"] = json!(name);
        if !resolved.via.is_empty() {
            answer["redirected_from"] = json!(resolved.via);
        }
        if compact {
            answer["compact"] = json!(true);
        }
        if let Some(next) = answer["next_offset"].as_u64() {
            let end = answer["section_end"].as_u64().unwrap_or(next);
            let compact = if compact { ", compact=true" } else { "" };
            answer["notice"] = json!(format!(
                "The section continues: call zim_get with entry_path=\"{}\"{compact}, \
                 content_offset={next} and max_content_length={} to read the rest of it.",
                article.path,
                end - next
            ));
        }
        Ok(answer)
    })
    .await
}

/// Section `index` of `text`, at most one page of `budget`.
fn section_answer(
    text: &Rendered,
    index: usize,
    include_subsections: bool,
    budget: Budget,
) -> Value {
    let heading = &text.outline[index];
    let section = text.section(index, include_subsections);
    let body = &text.markdown[section.start_byte..section.end_byte];
    let page = content::page_in(body, 0, budget);
    let parent = text.parent(index).map(|parent| &text.outline[parent].id);
    let subsections: Vec<Value> = text
        .subsections(index)
        .map(|i| {
            let sub = &text.outline[i];
            json!({"id": sub.id, "title": sub.text, "level": sub.level})
        })
        .collect();
    json!({
        "section_id": heading.id,
        "section_title": heading.text,
        "level": heading.level,
        "parent_id": parent,
        "content": page.text,
        "char_count": page.text.chars().count(),
        "word_count": content::word_count(&page.text),
        "truncated": page.next_offset.is_some(),
        "next_offset": page.next_offset.map(|next| section.start + next),
        "section_start": section.start,
        "section_end": section.end,
        "include_subsections": include_subsections,
        "subsections": subsections,
    })
}

/// `section_not_found`, with the article's sections and the one `wanted` most likely meant.
fn not_found(text: &Rendered, path: &str, wanted: &str) -> ToolError {
    if text.outline.is_empty() {
        return ToolError::new(
            "section_not_found",
            format!("{path} has no headings, so it has no sections: read it whole with zim_get"),
        )
        .with("available_sections", Vec::<Value>::new())
        .with("available_section_ids", Vec::<Value>::new());
    }
    let closest = closest(text, wanted);
    let hint = closest
        .map(|i| format!(" Did you mean '{}'?", text.outline[i].text))
        .unwrap_or_default();
    let sections: Vec<Value> = text
        .outline
        .iter()
        .map(|h| json!({"id": h.id, "title": h.text}))
        .collect();
    let ids: Vec<&str> = text.outline.iter().map(|h| h.id.as_str()).collect();
    ToolError::new(
        "section_not_found",
        format!(
            "{path} has no section '{wanted}'.{hint} Pass one of available_section_ids, or a \
             heading's text."
        ),
    )
    .with("available_sections", sections)
    .with("available_section_ids", ids)
    .with("closest_match", closest.map(|i| text.outline[i].id.clone()))
}

/// The heading nearest to `wanted`: a small edit away from its text or id, else the first
/// whose text contains it or is contained in it.
fn closest(text: &Rendered, wanted: &str) -> Option<usize> {
    let wanted = fold(wanted);
    if wanted.is_empty() {
        return None;
    }
    let candidates: Vec<String> = text
        .outline
        .iter()
        .flat_map(|h| [fold(&h.text), fold(&h.id)])
        .collect();
    let near = args::closest(&wanted, &candidates)
        .and_then(|near| candidates.iter().position(|c| *c == near))
        .map(|at| at / 2);
    near.or_else(|| {
        let folded = candidates.iter().step_by(2);
        folded
            .clone()
            .position(|c| c.contains(&wanted))
            .or_else(|| {
                folded
                    .clone()
                    .position(|c| !c.is_empty() && wanted.contains(c))
            })
    })
}
