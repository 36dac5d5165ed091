//! Pages that redirect with `<meta http-equiv="refresh" content="0; url=Target">`: some
//! scrapers write a redirect as such a page instead of a redirect entry, and a reader expects the
//! target, as a browser would show it.

/// Only the start of a page is read: the tag belongs in `<head>`.
const HEAD_BYTES: usize = 8 * 1024;

/// A refresh later than this is a page that reloads, not a redirect.
const MAX_DELAY_SECONDS: f64 = 5.0;

/// The URL an HTML page redirects to at once, as written, if it does.
pub fn target(html: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&html[..html.len().min(HEAD_BYTES)]);
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<meta").map(|at| from + at) {
        let end = lower[start..]
            .find('>')
            .map_or(lower.len(), |at| start + at);
        let tag = &head[start..end];
        if attribute(tag, "http-equiv").is_some_and(|value| value.eq_ignore_ascii_case("refresh"))
            && let Some(content) = attribute(tag, "content")
        {
            return url_of(&content);
        }
        from = end;
    }
    None
}

/// `0; url=Target` → `Target`, when the delay is short and a URL is given.
fn url_of(content: &str) -> Option<String> {
    let (delay, rest) = content.split_once([';', ','])?;
    let delay: f64 = delay.trim().parse().ok()?;
    if !(0.0..=MAX_DELAY_SECONDS).contains(&delay) {
        return None;
    }
    let rest = rest.trim_start();
    let url = match rest.get(..4) {
        Some(key) if key.eq_ignore_ascii_case("url=") => &rest[4..],
        _ => rest,
    };
    let url = url.trim().trim_matches(['\'', '"']).trim();
    (!url.is_empty()).then(|| decode_entities(url))
}

/// The value of `name` in a tag's text, quoted or not; ASCII case of the name is ignored.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(name).map(|at| from + at) {
        from = at + name.len();
        let before_ok = at > 0 && lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        return Some(match value.chars().next()? {
            quote @ ('"' | '\'') => value[1..].split(quote).next()?.to_owned(),
            _ => value.split_whitespace().next()?.to_owned(),
        });
    }
    None
}

fn decode_entities(url: &str) -> String {
    url.replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn a_refresh_tag_names_its_target() {
        let page = br#"<html><head><META HTTP-EQUIV="Refresh" CONTENT="0;URL='Berlin.html'">"#;
        assert_eq!(target(page).as_deref(), Some("Berlin.html"));
        let page = b"<meta content=\"0; url=../A/K%C3%B6ln?x=1&amp;y=2\" http-equiv=refresh>";
        assert_eq!(target(page).as_deref(), Some("../A/K%C3%B6ln?x=1&y=2"));
    }

    #[test]
    fn reloads_and_other_meta_tags_are_not_redirects() {
        assert_eq!(
            target(b"<meta http-equiv=\"refresh\" content=\"30\">"),
            None
        );
        assert_eq!(
            target(b"<meta http-equiv=\"refresh\" content=\"600; url=x\">"),
            None
        );
        assert_eq!(
            target(b"<meta charset=utf-8><meta name=refresh content=\"0;url=x\">"),
            None
        );
        assert_eq!(target(b"<p>http-equiv=refresh content=0;url=x</p>"), None);
    }
}
