//! The cursors of `zim_links`: opaque text naming the listing they continue (archive,
//! direction, kind and page) and where, so that a cursor passed with other arguments is
//! refused. The archive is named by the tag `zim_browse` binds its cursors with: two archives
//! hold pages of the same path (`index.html`), and a file can be replaced by another archive.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{Context, Direction};
use crate::links::Kind;
use crate::mcp::args::ToolError;

/// The cursor that continues `context` at result `next`.
pub fn encode(context: &Context, next: usize) -> String {
    let text = format!(
        "links\n{:016x}\n{}\n{}\n{next}\n{}",
        context.archive,
        context.direction.name(),
        context.kind.name(),
        context.entry_path
    );
    URL_SAFE_NO_PAD.encode(text)
}

/// The listing a cursor continues, and where.
pub fn decode(cursor: &str) -> Result<(Context, usize), ToolError> {
    let invalid = || {
        ToolError::new(
            "cursor_decode",
            "`cursor` is not a cursor from zim_links: pass the next_cursor of a previous answer \
             unchanged, or leave it out to start over",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let parts: Vec<&str> = text.splitn(6, '\n').collect();
    let ["links", archive, direction, kind, next, entry_path] = parts[..] else {
        return Err(invalid());
    };
    let archive = u64::from_str_radix(archive, 16).map_err(|_| invalid())?;
    let direction = match direction {
        "outbound" => Direction::Outbound,
        "inbound" => Direction::Inbound,
        _ => return Err(invalid()),
    };
    let kind = [Kind::Internal, Kind::External, Kind::Media]
        .into_iter()
        .find(|known| known.name() == kind)
        .ok_or_else(invalid)?;
    let next = next.parse().map_err(|_| invalid())?;
    let context = Context {
        archive,
        direction,
        kind,
        entry_path: entry_path.to_owned(),
    };
    Ok((context, next))
}

/// The refusal of a cursor made for another listing.
pub fn mismatch(made_for: &Context, wanted: &Context) -> ToolError {
    if made_for.archive != wanted.archive {
        return ToolError::new(
            "cursor_context_mismatch",
            format!(
                "this cursor continues the links of {} in another archive: pass it with the \
                 zim_file_path of the call that gave it, or leave the cursor out to start over",
                made_for.entry_path
            ),
        );
    }
    let describe = |context: &Context| {
        format!(
            "the {} {} links of {}",
            context.direction.name(),
            context.kind.name(),
            context.entry_path
        )
    };
    ToolError::new(
        "cursor_context_mismatch",
        format!(
            "this cursor continues {}, not {}: repeat the call that gave it, or leave the cursor \
             out to start over",
            describe(made_for),
            describe(wanted)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(direction: Direction, kind: Kind, entry_path: &str) -> Context {
        Context {
            archive: 0x6f1d_19d0_633f_087b,
            direction,
            kind,
            entry_path: entry_path.to_owned(),
        }
    }

    #[test]
    fn cursors_round_trip_and_name_what_they_continue() {
        let made = context(Direction::Outbound, Kind::Media, "A/Foo\u{a0}bar");
        let (decoded, next) = decode(&encode(&made, 120)).unwrap();
        assert_eq!((decoded, next), (made.clone(), 120));
        let other = context(Direction::Inbound, Kind::Internal, "A/Foo\u{a0}bar");
        let refused = mismatch(&made, &other);
        assert_eq!(refused.operation, "cursor_context_mismatch");
        assert!(
            refused.message.contains("outbound media links of A/Foo"),
            "{}",
            refused.message
        );
        let elsewhere = Context {
            archive: 1,
            ..made.clone()
        };
        let refused = mismatch(&made, &elsewhere);
        assert_eq!(refused.operation, "cursor_context_mismatch");
        assert!(
            refused.message.contains("another archive"),
            "{}",
            refused.message
        );
        for garbage in [
            "!!",
            "bGlua3M",
            &URL_SAFE_NO_PAD.encode("links\nrelated\ninternal\n1\nX"),
            &URL_SAFE_NO_PAD.encode("links\n6f1d19d0633f087b\nrelated\ninternal\n1\nX"),
            &URL_SAFE_NO_PAD.encode("links\nzz\noutbound\ninternal\n1\nX"),
            // A cursor of the form before cursors named their archive.
            &URL_SAFE_NO_PAD.encode("links\noutbound\ninternal\n3\nindex.html"),
        ] {
            assert_eq!(decode(garbage).unwrap_err().operation, "cursor_decode");
        }
    }
}
