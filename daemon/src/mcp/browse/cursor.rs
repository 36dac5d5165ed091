//! The cursor of `zim_browse`: where a listing resumes, bound to the archive, namespace, mode
//! and asset choice it was made for. It is opaque to clients (base64 of a short text), and
//! refused in any other context, so it can never continue a different listing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::archive::Archive;
use crate::mcp::args::ToolError;

/// How entries are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Rows with content type and redirect target, an exact total, offsets.
    Page,
    /// Path and title only, larger pages.
    Walk,
}

impl Mode {
    /// The mode as the `mode` argument names it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Mode::Page => "page",
            Mode::Walk => "walk",
        }
    }
}

/// Where a listing resumes: the next entry id to look at, and how many entries were shown
/// before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Resume {
    /// The id of the next entry to look at.
    pub next_id: u32,
    /// Entries listed before it (hidden assets not counted).
    pub shown: u32,
}

/// What a cursor is bound to; a cursor made for one context is refused in another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Context {
    /// The archive, as [`archive_tag`] names it.
    pub archive: u64,
    /// The namespace.
    pub letter: char,
    /// The mode.
    pub mode: Mode,
    /// Whether assets are listed.
    pub assets: bool,
}

/// The archive a cursor belongs to: a hash (64-bit FNV-1a) of its UUID and of the checksum its
/// header points at, since some archives share an all-zero UUID. A file replaced by another
/// archive under the same name gets another tag, and its old cursors are refused.
pub(crate) fn archive_tag(archive: &Archive) -> u64 {
    let identity = format!("{}:{}", archive.uuid(), archive.stored_checksum_hex());
    identity.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The cursor that resumes a listing in `context` at `resume`.
pub(super) fn encode_cursor(context: Context, resume: Resume) -> String {
    let Context {
        archive,
        letter,
        mode,
        assets,
    } = context;
    let text = format!(
        "browse:{archive:016x}:{}:{letter}:{}:{}:{}",
        mode.name(),
        u8::from(assets),
        resume.next_id,
        resume.shown
    );
    URL_SAFE_NO_PAD.encode(text)
}

/// Where `cursor` resumes, if it was made for `context`.
pub(super) fn decode_cursor(cursor: &str, context: Context) -> Result<Resume, ToolError> {
    let invalid = || {
        ToolError::new(
            "cursor_decode",
            "`cursor` is not a cursor from zim_browse: pass the next_cursor of a previous \
             answer unchanged, or leave it out to start over",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let parts: Vec<&str> = text.splitn(7, ':').collect();
    let ["browse", archive, mode, letter, assets, next_id, shown] = parts[..] else {
        return Err(invalid());
    };
    if u64::from_str_radix(archive, 16).map_err(|_| invalid())? != context.archive {
        return Err(ToolError::new(
            "cursor_context_mismatch",
            "this cursor continues a listing of another archive: pass it with the \
             zim_file_path of the call that gave it, or leave the cursor out to start over",
        ));
    }
    let assets = match assets {
        "0" => false,
        "1" => true,
        _ => return Err(invalid()),
    };
    let made_for = format!("namespace {letter}, mode={mode}, include_assets={assets}");
    let wanted = format!(
        "namespace {}, mode={}, include_assets={}",
        context.letter,
        context.mode.name(),
        context.assets
    );
    if made_for != wanted {
        return Err(ToolError::new(
            "cursor_context_mismatch",
            format!(
                "this cursor continues {made_for}, not {wanted}: repeat the call that gave it, \
                 or leave the cursor out to start over"
            ),
        ));
    }
    Ok(Resume {
        next_id: next_id.parse().map_err(|_| invalid())?,
        shown: shown.parse().map_err(|_| invalid())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_C: Context = Context {
        archive: 0x6f1d_19d0_633f_087b,
        letter: 'C',
        mode: Mode::Page,
        assets: false,
    };

    #[test]
    fn cursors_round_trip_and_refuse_other_contexts_and_garbage() {
        let resume = Resume {
            next_id: 42,
            shown: 30,
        };
        let cursor = encode_cursor(PAGE_C, resume);
        assert_eq!(decode_cursor(&cursor, PAGE_C).unwrap(), resume);
        for other in [
            Context {
                letter: 'A',
                ..PAGE_C
            },
            Context {
                mode: Mode::Walk,
                ..PAGE_C
            },
            Context {
                assets: true,
                ..PAGE_C
            },
            Context {
                archive: 1,
                ..PAGE_C
            },
        ] {
            let refused = decode_cursor(&cursor, other).unwrap_err();
            assert_eq!(refused.operation, "cursor_context_mismatch");
        }
        assert_eq!(
            decode_cursor("!!", PAGE_C).unwrap_err().operation,
            "cursor_decode"
        );
        let forged = URL_SAFE_NO_PAD.encode("browse:6f1d19d0633f087b:page:C:0:x:1");
        assert_eq!(
            decode_cursor(&forged, PAGE_C).unwrap_err().operation,
            "cursor_decode"
        );
    }
}
