//! Finding the entry a tool call names: the path forms an archive's own links use, the main
//! page, redirects followed to the entry that holds content, and the errors a model can act on.

use super::args::ToolError;
use crate::archive::{ArchiveError, Resolved};
use crate::library::OpenArchive;

/// The entry `wanted` names (the main page when `None`), redirects followed.
pub fn locate(open: &OpenArchive, name: &str, wanted: Option<&str>) -> Result<Resolved, ToolError> {
    let archive = &open.archive;
    let entry = match wanted {
        Some(path) => archive
            .find(path)
            .map_err(|error| read_error(name, error))?
            .ok_or_else(|| {
                ToolError::new(
                "entry_not_found",
                format!(
                    "entry not found: '{path}' in {name}. Use zim_search with mode=\"title\" to \
                     find the right path{}",
                    if archive.is_new_scheme() { "" } else { " (old archives need `A/`)" }
                ),
            )
            .with("entry_path", path)
            })?,
        None => archive
            .main_entry()
            .map_err(|error| read_error(name, error))?
            .ok_or_else(|| ToolError::new("entry_not_found", format!("{name} has no main page")))?,
    };
    archive
        .resolve(entry)
        .map_err(|error| read_error(name, error))
}

/// A read failure as the model sees it: loops named with their chain.
pub fn read_error(name: &str, error: ArchiveError) -> ToolError {
    match error {
        ArchiveError::RedirectLoop(chain) => ToolError::new(
            "redirect_loop",
            format!("{name}: {}", ArchiveError::RedirectLoop(chain.clone())),
        )
        .with("redirect_chain", chain),
        ArchiveError::TooManyRedirects(chain) => ToolError::new(
            "redirect_loop",
            format!("{name}: {}", ArchiveError::TooManyRedirects(chain.clone())),
        )
        .with("redirect_chain", chain),
        other => ToolError::new("archive_unreadable", format!("{name}: {other}")),
    }
}
