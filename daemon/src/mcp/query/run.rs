//! Answers a query: takes out the archive it names, reads its intent, and calls the tools that
//! answer it ([`read`](super::read) for articles, [`target`](super::target) for the choice of
//! archive). Every tool is called through [`tools::dispatch`](crate::mcp::tools::dispatch),
//! exactly as a client's call would be.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::intent::{self, BARE_CONFIDENCE, Intent, Parsed};
use super::read::Reading;
use super::target::most;
use super::{Request, answer, archives};
use crate::mcp::Session;
use crate::mcp::args::ToolError;

/// How sure the reading of a query that names an archive and asks nothing else is.
const DESCRIBED_CONFIDENCE: f64 = 0.8;

/// What answered a query.
pub(super) struct Outcome {
    /// The intent, as openzim-mcp names it.
    pub intent: &'static str,
    /// How sure the reading of the query is, from 0 to 1.
    pub confidence: f64,
    /// The tool that answered.
    pub tool: &'static str,
    /// The arguments it was called with.
    pub arguments: Value,
    /// Its answer.
    pub result: Value,
    /// How an article named by title was found.
    pub lookup: Option<Value>,
    /// What the model should know about how the query was read.
    pub notes: Vec<String>,
}

/// A query being answered.
pub(super) struct Run {
    /// The session the query came from; the tools called see the same.
    pub session: Arc<Session>,
    /// Fires when the client cancels the call.
    pub cancel: CancellationToken,
    /// The checked call of zim_query.
    pub request: Request,
    /// The archives the session can read.
    pub names: Vec<String>,
    /// Notes made on the way (a limit brought down), for the answer.
    pub notes: Mutex<Vec<String>>,
}

/// Answers `request`.
pub(super) async fn answer(
    session: Arc<Session>,
    request: Request,
    cancel: CancellationToken,
) -> Result<Value, ToolError> {
    let names: Vec<String> = session
        .library
        .visible_from(&session.directories)
        .into_iter()
        .filter(|(_, archive)| archive.open().is_ok())
        .map(|(name, _)| name)
        .collect();
    let (text, mut mentioned) = match archives::take_from_query(&request.query, &names) {
        Some((text, found)) => (text, Some(found)),
        None => (request.query.clone(), None),
    };
    // "Describe example.zim", "language of example": only the archive is asked about.
    let parsed = match archives::described(&text, mentioned.as_deref(), &names) {
        Some(described) => {
            mentioned = Some(described);
            Parsed {
                intent: Intent::Metadata {
                    scope: String::new(),
                },
                confidence: DESCRIBED_CONFIDENCE,
            }
        }
        None => intent::parse(&text),
    };
    let run = Run {
        session,
        cancel,
        request,
        names,
        notes: Mutex::new(Vec::new()),
    };
    // A refusal says how the query was read, so the model can rephrase it.
    let guessed = parsed.intent.name();
    let parsed = run
        .settle(parsed, mentioned.clone())
        .await
        .map_err(|error| error.with("intent", guessed))?;
    let intent = parsed.intent.name();
    let mut outcome = run
        .execute(parsed, mentioned)
        .await
        .map_err(|error| error.with("intent", intent))?;
    let made_on_the_way = std::mem::take(
        &mut *run
            .notes
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()),
    );
    let unused = run.unused(&outcome);
    outcome
        .notes
        .splice(0..0, made_on_the_way.into_iter().chain(unused));
    let markdown = answer::render(&outcome);
    let mut value = json!({
        "intent": outcome.intent,
        "confidence": outcome.confidence,
        "tool": outcome.tool,
        "arguments": outcome.arguments,
    });
    if let Some(lookup) = outcome.lookup {
        value["lookup"] = lookup;
    }
    if !outcome.notes.is_empty() {
        value["notes"] = json!(outcome.notes);
    }
    // The article's text is in `answer` already; twice would double what a small model reads.
    let mut result = outcome.result;
    if let Some(fields) = result.as_object_mut()
        && fields.remove("content").is_some()
    {
        fields.insert("content".into(), json!("(the text is in `answer`)"));
    }
    value["result"] = result;
    value["answer"] = Value::String(markdown);
    Ok(value)
}

impl Run {
    async fn execute(
        &self,
        parsed: Parsed,
        mentioned: Option<Vec<String>>,
    ) -> Result<Outcome, ToolError> {
        let Parsed { intent, confidence } = parsed;
        let name = intent.name();
        let (tool, arguments) = match intent.clone() {
            Intent::ListFiles => ("zim_health", json!({})),
            Intent::Metadata { scope } => {
                let named = self.scope(&scope, mentioned.clone());
                if named.is_none() && !scope.is_empty() {
                    // "What is in a hamburger" names no archive: it asks about a subject.
                    let read = Reading::Full { strict: true };
                    return self
                        .read("tell_me_about", 0.6, &scope, mentioned, read)
                        .await;
                }
                ("zim_metadata", json!({"zim_file_path": self.one(named)?}))
            }
            Intent::ListNamespaces { scope } => {
                let named = self.named_scope(&scope, mentioned)?;
                ("zim_metadata", json!({"zim_file_path": self.one(named)?}))
            }
            Intent::MainPage { scope } => {
                let named = self.named_scope(&scope, mentioned)?;
                let mut arguments = json!({"zim_file_path": self.one(named)?, "main_page": true});
                self.add_paging(&mut arguments);
                ("zim_get", arguments)
            }
            Intent::Browse {
                namespace,
                walk,
                scope,
            } => {
                let archive = self.one(self.named_scope(&scope, mentioned)?)?;
                let namespace = match namespace {
                    Some(letter) => letter,
                    None => self.content_namespace(&archive)?,
                };
                let mode = if walk { "walk" } else { "page" };
                let mut arguments = json!({
                    "zim_file_path": archive,
                    "namespace": namespace.to_string(),
                    "mode": mode,
                });
                let most = if walk { most::WALK } else { most::PAGE };
                self.add_list_window(&mut arguments, !walk, most);
                ("zim_browse", arguments)
            }
            Intent::Search { query, everywhere } => {
                let (query, archive) = self.subject(&query, mentioned, true)?;
                // "… in every archive" wins over the archive the call names.
                let archive = archive.filter(|_| !everywhere);
                let paging = self.request.offset.is_some() || self.request.cursor.is_some();
                if confidence == BARE_CONFIDENCE
                    && !paging
                    && let Some(outcome) = self.open_named(&query, archive.clone()).await?
                {
                    return Ok(outcome);
                }
                return self.search(name, confidence, &query, archive).await;
            }
            Intent::FindByTitle { title: text } | Intent::Suggestions { prefix: text, .. } => {
                let complete = matches!(intent, Intent::Suggestions { complete: true, .. });
                let (text, archive) = self.subject(&text, mentioned, true)?;
                let mode = if complete { "suggest" } else { "title" };
                let mut arguments = json!({"query": text, "mode": mode});
                self.add_target(&mut arguments, archive);
                self.add_limit(&mut arguments, most::TITLES);
                ("zim_search", arguments)
            }
            Intent::TellMeAbout { subject, describe } => {
                // "Describe zimfile" asks about the archive.
                if let Some(named) = self.scope(&subject, None).filter(|_| describe) {
                    let arguments = json!({"zim_file_path": self.one(Some(named))?});
                    let result = self.call("zim_metadata", &arguments).await?;
                    return Ok(
                        Outcome::of("metadata", confidence, "zim_metadata", arguments)
                            .with_result(result),
                    );
                }
                let read = Reading::Full { strict: true };
                return self.read(name, confidence, &subject, mentioned, read).await;
            }
            Intent::GetArticle { title }
            | Intent::Summary { title }
            | Intent::Toc { title }
            | Intent::Section { title, .. }
            | Intent::Links { title, .. } => {
                let read = Reading::of(&intent);
                return self.read(name, confidence, &title, mentioned, read).await;
            }
        };
        let result = self.call(tool, &arguments).await?;
        Ok(Outcome::of(name, confidence, tool, arguments).with_result(result))
    }

    /// The archives a scope slot names; a scope that names none is an error.
    fn named_scope(
        &self,
        scope: &str,
        mentioned: Option<Vec<String>>,
    ) -> Result<Option<Vec<String>>, ToolError> {
        match self.scope(scope, mentioned) {
            None if !scope.is_empty() => Err(self.no_archive_named(scope)),
            named => Ok(named),
        }
    }
}

impl Outcome {
    /// An outcome of `tool` called with `arguments`, before its result is known.
    pub fn of(intent: &'static str, confidence: f64, tool: &'static str, arguments: Value) -> Self {
        Outcome {
            intent,
            confidence,
            tool,
            arguments,
            result: Value::Null,
            lookup: None,
            notes: Vec::new(),
        }
    }

    /// The same outcome with the tool's result.
    pub fn with_result(mut self, result: Value) -> Self {
        self.result = result;
        self
    }
}
