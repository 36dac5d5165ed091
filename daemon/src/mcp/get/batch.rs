//! Several entries in one call. Each answers with its first page or its error, in the order
//! asked. When the call chose no page size, the entries share one page's budget: a small
//! article takes what it needs and the long ones split the rest, so the whole answer still
//! fits a model's context; each long one says how to read on. Tables of contents and
//! structures share the page the same way.

use serde_json::{Map, Value, json};

use super::{Reading, View, views};
use crate::content::{self, Budget};
use crate::rendered::Article;

/// The answers for `paths`, with how many succeeded and failed.
pub fn answer(reading: &Reading, paths: &[String]) -> Value {
    let budgets = budgets(reading, paths);
    let compact = if reading.style == content::Style::Compact {
        ", compact=true"
    } else {
        ""
    };
    let results: Vec<Value> = paths
        .iter()
        .zip(budgets)
        .enumerate()
        .map(|(index, (path, budget))| {
            let again = format!("Call zim_get with entry_path=\"{path}\"{compact} and");
            let mut result = Map::new();
            result.insert("index".into(), json!(index));
            result.insert("entry_path".into(), json!(path));
            match reading.answer(Some(path), budget, &again) {
                Ok(page) => {
                    result.insert("success".into(), Value::Bool(true));
                    if let Value::Object(page) = page {
                        result.extend(page);
                    }
                }
                Err(error) => {
                    result.insert("success".into(), Value::Bool(false));
                    result.insert("error".into(), Value::Bool(true));
                    result.insert("operation".into(), Value::String(error.operation));
                    result.insert("message".into(), Value::String(error.message));
                    result.extend(error.details);
                }
            }
            Value::Object(result)
        })
        .collect();
    let succeeded = results.iter().filter(|r| r["success"] == true).count();
    json!({
        "view": views::name(reading.view),
        "results": results,
        "succeeded": succeeded,
        "failed": results.len() - succeeded,
    })
}

/// Each entry's page budget.
fn budgets(reading: &Reading, paths: &[String]) -> Vec<Budget> {
    let budget = reading.budget;
    if reading.view == View::Summary || reading.chosen_length {
        return vec![budget; paths.len()];
    }
    // What each entry would take whole; entries that fail or are not text need nothing.
    let measure = |text: &str| match budget.max_tokens {
        Some(_) => content::estimate_tokens(text),
        None => text.chars().count(),
    };
    let sizes: Vec<usize> = paths
        .iter()
        .map(|path| {
            let Ok(resolved) = super::entry::locate(reading.open, reading.name, Some(path)) else {
                return 0;
            };
            let entry = &resolved.entry;
            let article = reading
                .rendered
                .article(reading.archive(), entry, reading.style);
            let Ok(Article::Text(text)) = article else {
                return 0;
            };
            let mime = entry.mime().unwrap_or_default();
            let whole = Budget::chars(usize::MAX);
            let view = match reading.view {
                View::Toc => views::toc(entry, mime, &text, whole),
                View::Structure => views::structure(entry, mime, &text, whole),
                View::Full | View::Summary => return measure(&text.markdown),
            };
            measure(&serde_json::to_string_pretty(&view).unwrap_or_default())
        })
        .collect();
    let total = budget.max_tokens.unwrap_or(budget.max_chars);
    let shares = content::split(&sizes, total).into_iter();
    shares
        .map(|share| match budget.max_tokens {
            Some(_) => Budget::tokens(budget.max_chars, share),
            None => Budget::chars(share),
        })
        .collect()
}
