//! Where a link in an article leads. An archive is a small website whose pages link to each
//! other with relative URLs (`../I/m/Photo.jpg`, `Berlin#History`, `%D0%9A.html`), so a link is
//! read the way a browser reads it from the page's own path.

use super::percent_decode;

/// What an `href` (or `src`) of the page at some path points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Href {
    /// Outside the archive: the URL has a scheme (`https:`, `mailto:`) or starts with `//`.
    External {
        /// The URL as written.
        url: String,
        /// Its host, lower-cased, when it has one.
        domain: Option<String>,
    },
    /// A place in the same page (`#History`).
    Anchor(String),
    /// An entry of the archive.
    Internal {
        /// The entry's path from the archive's root, percent-decoded, without query string.
        path: String,
        /// The `#fragment`, if the link has one.
        fragment: Option<String>,
    },
}

/// Reads `href` as written on the page whose path is `page_path` (as users name it: `A/Foo` in
/// old archives, `Foo` or `wiki/Foo` in new ones).
pub fn classify(page_path: &str, href: &str) -> Href {
    let href = href.trim();
    if href.starts_with("//") || has_scheme(href) {
        return Href::External {
            url: href.to_owned(),
            domain: domain(href),
        };
    }
    let (rest, fragment) = match href.split_once('#') {
        Some((rest, fragment)) => (rest, Some(decoded(fragment))),
        None => (href, None),
    };
    let rest = rest.split_once('?').map_or(rest, |(path, _)| path);
    if rest.is_empty() {
        return match fragment {
            Some(fragment) => Href::Anchor(fragment),
            None => Href::Internal {
                path: page_path.to_owned(),
                fragment: None,
            },
        };
    }
    Href::Internal {
        path: join(page_path, &decoded(rest)),
        fragment,
    }
}

/// Schemes of links that leave the archive even without `//`. A page title such as
/// `Category:Rivers` also looks like a scheme, so other words before a colon are paths.
const SCHEMES_WITHOUT_SLASHES: [&str; 9] = [
    "mailto",
    "tel",
    "sms",
    "news",
    "geo",
    "data",
    "javascript",
    "urn",
    "magnet",
];

fn has_scheme(href: &str) -> bool {
    let Some((scheme, rest)) = href.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    well_formed
        && (rest.starts_with("//")
            || SCHEMES_WITHOUT_SLASHES
                .iter()
                .any(|known| known.eq_ignore_ascii_case(scheme)))
}

fn domain(url: &str) -> Option<String> {
    let after = url.split_once("//")?.1;
    let host = after.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

fn decoded(text: &str) -> String {
    percent_decode(text).unwrap_or_else(|| text.to_owned())
}

/// Joins a relative path to the directory of `page_path`; `..` never climbs above the root.
fn join(page_path: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = if relative.starts_with('/') {
        Vec::new()
    } else {
        let mut base: Vec<&str> = page_path.split('/').collect();
        base.pop();
        base
    };
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::{Href, classify};

    fn internal(path: &str, fragment: Option<&str>) -> Href {
        Href::Internal {
            path: path.to_owned(),
            fragment: fragment.map(str::to_owned),
        }
    }

    #[test]
    fn relative_links_resolve_from_the_page_directory() {
        assert_eq!(
            classify("A/Ray_Charles", "Georgia"),
            internal("A/Georgia", None)
        );
        assert_eq!(
            classify("A/Ray_Charles", "../I/m/Photo.jpg"),
            internal("I/m/Photo.jpg", None)
        );
        assert_eq!(
            classify("wiki/Foo", "./Bar#Early_life"),
            internal("wiki/Bar", Some("Early_life"))
        );
        assert_eq!(
            classify("Foo", "../../-/style.css"),
            internal("-/style.css", None)
        );
        assert_eq!(classify("a/b/c", "/x/y"), internal("x/y", None));
    }

    #[test]
    fn percent_escapes_are_decoded_and_queries_dropped() {
        assert_eq!(
            classify("Main", "%D0%9A%D1%96%D0%B5%D1%9E"),
            internal("Кіеў", None)
        );
        assert_eq!(classify("Main", "c%23.html"), internal("c#.html", None));
        assert_eq!(
            classify("Main", "page.html?lang=en#Top"),
            internal("page.html", Some("Top"))
        );
    }

    #[test]
    fn external_links_and_anchors_are_told_apart() {
        assert_eq!(
            classify("A/X", "https://User@En.Wikipedia.org:443/wiki/X"),
            Href::External {
                url: "https://User@En.Wikipedia.org:443/wiki/X".into(),
                domain: Some("en.wikipedia.org".into())
            }
        );
        assert_eq!(
            classify("A/X", "mailto:someone@example.org"),
            Href::External {
                url: "mailto:someone@example.org".into(),
                domain: None
            }
        );
        assert!(matches!(
            classify("A/X", "//example.org/a"),
            Href::External { .. }
        ));
        assert_eq!(classify("A/X", "#History"), Href::Anchor("History".into()));
        assert_eq!(
            classify("A/X", "Category:Rivers"),
            internal("A/Category:Rivers", None)
        );
    }
}
