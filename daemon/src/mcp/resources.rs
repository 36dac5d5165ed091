//! Resources: the archives a session sees (`zim://files`), one archive's overview
//! (`zim://{name}`), and any entry as it is stored, with its own MIME type
//! (`zim://{name}/entry/{path}`).
//!
//! Unlike tools, resources are picked by the person in the client's interface, not by the model,
//! so they add nothing to what a small model must choose among: they are listed in both tool
//! modes, and simple mode keeps a way to attach an article without any tool.
//!
//! An archive is named as zim_health names it (`libkiwix/zimfile.zim`), with `/` written `%2F`
//! (as a client expanding the template writes it) or literally; its file stem (`zimfile`) works
//! too when it is unique. An entry's path may be percent-encoded or literal, `/` included.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rmcp::ErrorData;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::{Map, Value, json};

use super::args::{self, ToolError};
use super::{Session, entry, health, metadata};
use crate::content::{self, Style};
use crate::library::{LookupError, OpenArchive};
use crate::rendered::{Article, is_text};

/// The list of archives.
pub const FILES_URI: &str = "zim://files";

/// The template of an archive's overview.
pub const ARCHIVE_TEMPLATE: &str = "zim://{name}";

/// The template of an entry.
pub const ENTRY_TEMPLATE: &str = "zim://{name}/entry/{path}";

/// Bytes of a text entry sent before it is cut, and the most bytes of a binary entry sent:
/// what a client can hold in a model's context, as openzim-mcp chose.
const MAX_ENTRY_BYTES: usize = 256 * 1024;

/// Characters of the main page's Markdown in an archive's overview.
const PREVIEW_CHARS: usize = 2000;

/// The list of archives, then the overview of each archive that can be read (the list says why
/// the others cannot).
pub fn list(session: &Session) -> Vec<Resource> {
    let files = Resource::new(FILES_URI, "files")
        .with_title("ZIM archives")
        .with_description(
            "Every ZIM archive this session can read, as zim_health lists them: name (what \
             the tools take as zim_file_path), path, size and whether it can be read.",
        )
        .with_mime_type("application/json");
    let overviews = session
        .library
        .visible_from(&session.directories)
        .into_iter()
        .filter(|(_, archive)| archive.open().is_ok())
        .map(|(name, _)| {
            Resource::new(archive_uri(&name), name.clone())
                .with_description(format!(
                    "{name}: its metadata, namespaces and the start of its main page"
                ))
                .with_mime_type("application/json")
        });
    std::iter::once(files).chain(overviews).collect()
}

/// The URI of an archive's overview, the name encoded as a template expansion writes it.
fn archive_uri(name: &str) -> String {
    format!("zim://{}", percent_encode(name))
}

/// The two templates.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(ARCHIVE_TEMPLATE, "archive")
            .with_title("ZIM archive overview")
            .with_description(
                "An archive's metadata, namespaces and the first 2000 characters of its main \
                 page as Markdown. name: the archive's name from zim://files or zim_health (its \
                 file stem works too).",
            )
            .with_mime_type("application/json"),
        ResourceTemplate::new(ENTRY_TEMPLATE, "entry")
            .with_title("ZIM entry")
            .with_description(
                "One entry of an archive as stored, with its own MIME type: text as text (cut \
                 at 256 KiB), images and other binary entries as base64 up to 256 KiB. path: \
                 the entry path, e.g. A/Ray_Charles in old archives or Berlin in new ones, \
                 literal or percent-encoded; empty for the main page.",
            ),
    ]
}

/// Reads the resource at `uri`; an unknown URI, archive or entry is an invalid-params error
/// that says what would work.
pub async fn read(session: Arc<Session>, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let Some(rest) = uri.strip_prefix("zim://").filter(|rest| !rest.is_empty()) else {
        return Err(ErrorData::invalid_params(
            format!(
                "{uri} names no resource: ozm's are {FILES_URI}, {ARCHIVE_TEMPLATE} and \
                 {ENTRY_TEMPLATE}"
            ),
            Some(json!({"uri": uri, "resources": [FILES_URI, ARCHIVE_TEMPLATE, ENTRY_TEMPLATE]})),
        ));
    };
    let uri = uri.to_owned();
    let contents = if rest == "files" {
        args::blocking(move || files(&session, &uri)).await
    } else if let Some(target) = entry_target(&session, rest) {
        let target = target.map_err(invalid)?;
        args::blocking(move || entry_contents(&target, &uri)).await
    } else {
        overview(session, rest.trim_end_matches('/'), uri).await
    };
    Ok(ReadResourceResult::new(vec![contents.map_err(invalid)?]))
}

fn files(session: &Session, uri: &str) -> Result<ResourceContents, ToolError> {
    let health = health::call(session, None)?;
    Ok(json_contents(&health["loaded_archives"], uri))
}

async fn overview(
    session: Arc<Session>,
    requested: &str,
    uri: String,
) -> Result<ResourceContents, ToolError> {
    let (name, path, open) = open_named(&session, &percent_decode(requested))?;
    let request = Map::from_iter([("zim_file_path".to_owned(), json!(name))]);
    let described = metadata::call(Arc::clone(&session), Some(request)).await?;
    args::blocking(move || {
        let (main_page, preview) = main_page_preview(&session, &open, &name);
        let overview = json!({
            "name": name,
            "path": path.display().to_string(),
            "metadata": described["metadata"],
            "namespaces": described["namespaces"],
            "main_page": main_page,
            "main_page_preview": preview,
        });
        Ok(json_contents(&overview, &uri))
    })
    .await
}

/// The main page's path and title, and the start of its Markdown; an archive without one shows
/// why instead.
fn main_page_preview(session: &Session, open: &OpenArchive, name: &str) -> (Value, Value) {
    let resolved = match entry::locate(open, name, None) {
        Ok(resolved) => resolved,
        Err(error) => return (Value::Null, json!(error.message)),
    };
    let (archive, main) = (&open.archive, &resolved.entry);
    let page = json!({"path": main.path, "title": main.title});
    let preview = match session
        .library
        .rendered()
        .article(archive, main, Style::Full)
    {
        Ok(Article::Text(text)) => content::page(&text.markdown, 0, PREVIEW_CHARS).text,
        Ok(Article::Binary { .. }) => String::new(),
        Err(error) => return (page, json!(entry::read_error(name, error).message)),
    };
    (page, json!(preview))
}

/// The entry an entry URI names.
struct EntryTarget {
    /// The archive's name.
    name: String,
    open: Arc<OpenArchive>,
    /// The entry's path as the URI gives it.
    path: String,
}

/// The archive and entry path of an entry URI's `rest` (after `zim://`), or `None` when it names
/// no entry. A literal `/` may be in the name as well as in the path, so each `/entry/` is tried
/// as the boundary until the name before it is an archive.
fn entry_target(session: &Session, rest: &str) -> Option<Result<EntryTarget, ToolError>> {
    let mut first_failure = None;
    for (at, marker) in rest.match_indices("/entry/") {
        let path = rest[at + marker.len()..].to_owned();
        match open_named(session, &percent_decode(&rest[..at])) {
            Ok((name, _, open)) => return Some(Ok(EntryTarget { name, open, path })),
            Err(error) => {
                first_failure.get_or_insert(error);
            }
        }
    }
    first_failure.map(Err)
}

/// The archive `requested` names, by its name or its file stem: its name, file and contents.
fn open_named(
    session: &Session,
    requested: &str,
) -> Result<(String, PathBuf, Arc<OpenArchive>), ToolError> {
    let library = &session.library;
    let (name, archive) = library
        .lookup(&session.directories, requested)
        .or_else(|error| match error {
            LookupError::NotFound { .. } if !requested.ends_with(".zim") => {
                match library.lookup(&session.directories, &format!("{requested}.zim")) {
                    Err(LookupError::NotFound { .. }) => Err(error),
                    stem => stem,
                }
            }
            error => Err(error),
        })?;
    let (name, open) = args::archive(session, &name)?;
    Ok((name, archive.path.clone(), open))
}

/// An entry as stored: text as text, cut with a notice past [`MAX_ENTRY_BYTES`]; anything else
/// as base64 up to that size. An empty path names the main page.
fn entry_contents(target: &EntryTarget, uri: &str) -> Result<ResourceContents, ToolError> {
    let (open, name, path) = (&target.open, target.name.as_str(), target.path.as_str());
    let wanted = (!path.is_empty()).then_some(path);
    let resolved = entry::locate(open, name, wanted)?;
    let found = &resolved.entry;
    let bytes = open
        .archive
        .content(found)
        .map_err(|error| entry::read_error(name, error))?
        .unwrap_or_default();
    // Entries that hold nothing (deleted ones) have no MIME type: they read as empty text.
    let mime = found.mime().unwrap_or("text/plain");
    if is_text(mime) {
        let text = cut_text(&bytes, name, &found.path);
        return Ok(ResourceContents::text(text, uri).with_mime_type(mime));
    }
    if bytes.len() > MAX_ENTRY_BYTES {
        return Err(ToolError::new(
            "entry_too_large",
            format!(
                "{} in {name} is {mime} of {} bytes, more than the {MAX_ENTRY_BYTES} bytes a \
                 resource carries: read it with zim_get and binary=true",
                found.path,
                bytes.len()
            ),
        )
        .with("entry_path", found.path.clone())
        .with("mime_type", mime)
        .with("size", bytes.len())
        .with("limit", MAX_ENTRY_BYTES));
    }
    Ok(ResourceContents::blob(STANDARD.encode(&bytes), uri).with_mime_type(mime))
}

/// The entry's text, cut at a character boundary past [`MAX_ENTRY_BYTES`] with a notice saying
/// where to read the rest.
fn cut_text(bytes: &[u8], name: &str, path: &str) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= MAX_ENTRY_BYTES {
        return text.into_owned();
    }
    let mut end = MAX_ENTRY_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n\n[ozm: cut at {end} of {} bytes. Read the whole entry, in pages, with zim_get \
         zim_file_path=\"{name}\" entry_path=\"{path}\".]\n",
        &text[..end],
        bytes.len()
    )
}

fn json_contents(value: &Value, uri: &str) -> ResourceContents {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    ResourceContents::text(text, uri).with_mime_type("application/json")
}

/// A refused read as the client sees it: invalid params, with the tool error's message and its
/// details as data.
fn invalid(error: ToolError) -> ErrorData {
    let mut data = error.details;
    data.insert("operation".into(), Value::String(error.operation));
    ErrorData::invalid_params(error.message, Some(Value::Object(data)))
}

/// `text` with every byte outside the URI's unreserved characters written `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// `text` with its `%XX` escapes decoded; malformed escapes and bytes that are not UTF-8 are
/// kept as they were.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escaped = (bytes[at] == b'%')
            .then(|| text.get(at + 1..at + 3))
            .flatten()
            .filter(|hex| hex.bytes().all(|digit| digit.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                at += 3;
            }
            None => {
                decoded.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8(decoded).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{percent_decode, percent_encode};

    #[test]
    fn names_survive_encoding_and_decoding() {
        let name = "libkiwix/corner_cases#&.zim";
        assert_eq!(percent_encode(name), "libkiwix%2Fcorner_cases%23%26.zim");
        assert_eq!(percent_decode(&percent_encode(name)), name);
        assert_eq!(percent_decode("%D0%AD%D1%81"), "Эс");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%2F%+1"), "%zz/%+1");
    }
}
