//! Prompts: `research`, `summarize` and `explore`, each one user message holding a numbered
//! workflow of ozm's tools, for clients that offer prompts as commands.
//!
//! The workflows name tools that simple mode does not list, so prompts are offered in advanced
//! mode only, as openzim-mcp does. Argument values come from a person's typing and land in the
//! model's instructions: control characters, bidirectional overrides and backticks are removed
//! and each value is cut at [`MAX_ARGUMENT_CHARS`]. A missing value is no error: the message
//! then asks the model to ask for it.

use std::collections::HashMap;

use rmcp::ErrorData;
use rmcp::model::{GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::{Value, json};

use crate::settings::ToolMode;

/// Characters of an argument value kept.
const MAX_ARGUMENT_CHARS: usize = 200;

/// One prompt as clients see it.
struct Spec {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    /// What the workflow does, completing "I want to …".
    purpose: &'static str,
    arguments: &'static [(&'static str, &'static str)],
    /// The numbered workflow, the arguments filled in.
    workflow: fn(&Values) -> String,
}

/// The cleaned, non-blank argument values given, by name.
type Values = HashMap<&'static str, String>;

const TOPIC: (&str, &str) = ("topic", "what to research, in a few words");
const ARCHIVE: (&str, &str) = (
    "zim_file_path",
    "the archive, as zim_health names it (call zim_health and offer me the list)",
);
const ENTRY: (&str, &str) = (
    "entry_path",
    "the entry's path, such as A/Ray_Charles in old archives or Berlin in new ones",
);

const PROMPTS: [Spec; 3] = [
    Spec {
        name: "research",
        title: "Research a topic",
        description: "Research a topic across the offline ZIM archives and answer with citations.",
        purpose: "research a topic in the offline ZIM archives that ozm serves",
        arguments: &[TOPIC],
        workflow: research,
    },
    Spec {
        name: "summarize",
        title: "Summarize an entry",
        description: "Read one entry of a ZIM archive in full and summarize it, citing it.",
        purpose: "have an entry of a ZIM archive summarized",
        arguments: &[ARCHIVE, ENTRY],
        workflow: summarize,
    },
    Spec {
        name: "explore",
        title: "Explore an archive",
        description: "Find out what a ZIM archive holds and how to find things in it.",
        purpose: "learn what a ZIM archive holds and how to find things in it",
        arguments: &[ARCHIVE],
        workflow: explore,
    },
];

/// The prompts a session in `mode` offers.
pub fn list(mode: ToolMode) -> Vec<Prompt> {
    offered(mode)
        .iter()
        .map(|spec| {
            let arguments = spec
                .arguments
                .iter()
                .map(|(name, description)| {
                    PromptArgument::new(*name)
                        .with_description(capitalised(description))
                        .with_required(true)
                })
                .collect();
            Prompt::new(spec.name, Some(spec.description), Some(arguments)).with_title(spec.title)
        })
        .collect()
}

/// The message of the prompt `name`; an unknown prompt or argument is an invalid-params error
/// naming what exists.
pub fn get(
    mode: ToolMode,
    name: &str,
    arguments: Option<JsonObject>,
) -> Result<GetPromptResult, ErrorData> {
    let Some(spec) = offered(mode).iter().find(|spec| spec.name == name) else {
        return Err(unknown_prompt(mode, name));
    };
    let mut values = argument_values(spec, arguments.unwrap_or_default())?;
    let missing: Vec<_> = spec
        .arguments
        .iter()
        .filter(|(name, _)| !values.contains_key(name))
        .collect();
    let text = if missing.is_empty() {
        (spec.workflow)(&values)
    } else {
        // The workflow still goes along, with placeholders for the answers.
        let mut wanted = String::new();
        for (name, description) in missing {
            wanted.push_str(&format!("- {name}: {description}\n"));
            values.insert(name, format!("<{name}>"));
        }
        format!(
            "I want to {}, but I have not said everything it needs. Before calling any tool, ask \
             me for:\n{wanted}Then do the following, with my answers in place of the \
             <placeholders>.\n\n{}",
            spec.purpose,
            (spec.workflow)(&values)
        )
    };
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(spec.description),
    )
}

fn offered(mode: ToolMode) -> &'static [Spec] {
    match mode {
        ToolMode::Advanced => &PROMPTS,
        ToolMode::Simple => &[],
    }
}

fn unknown_prompt(mode: ToolMode, name: &str) -> ErrorData {
    let available: Vec<&str> = offered(mode).iter().map(|spec| spec.name).collect();
    let message = if available.is_empty() {
        format!(
            "there is no prompt named {name:?}: prompts are offered in advanced tool mode \
             (`ozm mcp --mode advanced`)"
        )
    } else {
        format!(
            "there is no prompt named {name:?}; available: {}",
            available.join(", ")
        )
    };
    ErrorData::invalid_params(message, Some(json!({"available_prompts": available})))
}

/// The cleaned values given, blank ones left out; names the prompt does not take are refused.
fn argument_values(spec: &Spec, arguments: JsonObject) -> Result<Values, ErrorData> {
    let accepted: Vec<&'static str> = spec.arguments.iter().map(|(name, _)| *name).collect();
    let mut values = HashMap::new();
    for (given, value) in arguments {
        let Some(name) = accepted.iter().find(|name| **name == given) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "the prompt {} takes no argument {given:?}; its arguments: {}",
                    spec.name,
                    accepted.join(", ")
                ),
                Some(json!({"accepted_arguments": accepted})),
            ));
        };
        let text = match value {
            Value::String(text) => text,
            Value::Null => continue,
            other => {
                return Err(ErrorData::invalid_params(
                    format!("the argument {name} must be a string, not {other}"),
                    None,
                ));
            }
        };
        let text = clean(&text);
        if !text.is_empty() {
            values.insert(*name, text);
        }
    }
    Ok(values)
}

/// The value without control characters (line breaks and tabs become spaces), bidirectional
/// overrides or backticks, trimmed and cut at [`MAX_ARGUMENT_CHARS`].
fn clean(value: &str) -> String {
    let kept: String = value
        .chars()
        .filter_map(|c| match c {
            '`' => None,
            // The workflow quotes each value with double quotes.
            '"' => Some('\''),
            c if c.is_control() && c.is_whitespace() => Some(' '),
            c if c.is_control() || is_bidi_control(c) => None,
            c => Some(c),
        })
        .collect();
    let cut: String = kept.trim().chars().take(MAX_ARGUMENT_CHARS).collect();
    cut.trim_end().to_owned()
}

/// Characters that reorder the text around them, so that what a person sees is not what the
/// model reads.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn value<'a>(values: &'a Values, argument: (&str, &str)) -> &'a str {
    values.get(argument.0).map_or("", String::as_str)
}

fn research(values: &Values) -> String {
    let topic = value(values, TOPIC);
    format!(
        "Research \"{topic}\" in the offline ZIM archives that ozm serves, and answer from what \
         they say.\n\n\
         1. Call zim_health to see the archives, and note those likely to cover the topic.\n\
         2. Call zim_search with query=\"{topic}\" and cross_file=true to search every archive \
         at once (or zim_file_path for one). If nothing fits, try mode=\"title\", or shorter or \
         other words.\n\
         3. For each promising hit, call zim_get with its zim_file_path and entry_path and \
         view=\"summary\" to judge whether it is relevant.\n\
         4. Read the relevant articles with zim_get. For a long one, call view=\"toc\" first and \
         read the sections you need with zim_get_section.\n\
         5. Where the topic needs more, call zim_links with direction=\"related\" to find \
         connected articles.\n\
         6. Write the answer. Cite the archive and entry path behind each fact, and say what the \
         archives do not cover."
    )
}

fn summarize(values: &Values) -> String {
    let (archive, entry) = (value(values, ARCHIVE), value(values, ENTRY));
    format!(
        "Summarize the entry \"{entry}\" of the ZIM archive \"{archive}\".\n\n\
         1. Call zim_get with zim_file_path=\"{archive}\", entry_path=\"{entry}\" and \
         view=\"toc\" to see how it is organised. If the entry is not found, call zim_search \
         with mode=\"title\" and zim_file_path=\"{archive}\" to find its path.\n\
         2. Call zim_get with view=\"full\" and read the whole text: while next_offset is not \
         null, call again with content_offset=next_offset.\n\
         3. Write the summary: the main points in a few paragraphs, keeping the key facts, \
         names, figures and dates, in the order of the entry's own sections.\n\
         4. End with the source: the archive, the entry's path and title, and the source, \
         license and date that zim_get reports."
    )
}

fn explore(values: &Values) -> String {
    let archive = value(values, ARCHIVE);
    format!(
        "Explore the ZIM archive \"{archive}\": tell me what it holds and how to find things \
         in it.\n\n\
         1. Call zim_metadata with zim_file_path=\"{archive}\" for its title, description, \
         language, date, entry counts, namespaces and search indexes.\n\
         2. Call zim_get with zim_file_path=\"{archive}\" and main_page=true to read its main \
         page.\n\
         3. Call zim_browse with zim_file_path=\"{archive}\" and the namespace that holds its \
         articles (C in new archives, A in old ones, as zim_metadata's namespaces show) to \
         list entries; pass next_cursor to see more.\n\
         4. Call zim_search with zim_file_path=\"{archive}\" and mode=\"title\" for a few \
         subjects of the main page to see how entries are named, and once with \
         mode=\"fulltext\" to see whether full-text search works.\n\
         5. Report what the archive covers, its size and date, how best to search it, and a few \
         entries worth reading, with their paths."
    )
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn values_lose_control_characters_backticks_and_length() {
        assert_eq!(clean("  Ray\u{0}\nCharles`  "), "Ray Charles");
        assert_eq!(clean("a\u{202E}b"), "ab");
        assert_eq!(clean("say \"hi\""), "say 'hi'");
        assert_eq!(clean(&"ж".repeat(300)).chars().count(), 200);
    }
}
