//! Placeholder until the real module lands.
pub fn html_to_markdown(html: &str) -> String {
    html.to_owned()
}
pub struct Page {
    pub text: String,
    pub offset: usize,
    pub total_chars: usize,
    pub next_offset: Option<usize>,
}
pub fn page(text: &str, offset: usize, max_chars: usize) -> Page {
    let total = text.chars().count();
    let t: String = text.chars().skip(offset).take(max_chars).collect();
    let end = offset + t.chars().count();
    Page {
        text: t,
        offset,
        total_chars: total,
        next_offset: (end < total).then_some(end),
    }
}
