//! Views of an article's headings cut to fit one page: the table of contents or the structure
//! of a long article (hundreds of headings) would otherwise fill a model's context. The
//! deepest heading levels go first, since the sections above them lead to them (down to the
//! first level that lists several headings); then the previews get shorter; then the list
//! stops where the page is full.

use serde_json::{Value, json};

use crate::content::{self, Budget, Rendered};

/// The part of an outline a view shows.
pub struct Shown {
    /// The indices in the outline of the headings shown, in document order.
    pub indices: Vec<usize>,
    /// The deepest heading level listed.
    pub deepest: u8,
    /// Characters of each section's preview; 0 leaves previews empty.
    pub preview_chars: usize,
}

/// The view `build` makes of as much of the outline of `text` as fits `budget`, measured as the
/// JSON the model reads. `previews` are the preview lengths to try, longest first. A view cut
/// short says so with `truncated`, `omitted_headings` and a note on how to see the rest.
pub fn fit(
    text: &Rendered,
    budget: Budget,
    previews: &[usize],
    build: impl Fn(&Shown) -> Value,
) -> Value {
    let outline = &text.outline;
    let attempt = |shown: &Shown| {
        let mut answer = build(shown);
        mark_cut(&mut answer, text, shown, previews[0]);
        fits(&answer, budget).then_some(answer)
    };
    let mut shown = Shown {
        indices: (0..outline.len()).collect(),
        deepest: u8::MAX,
        preview_chars: previews[0],
    };
    if let Some(answer) = attempt(&shown) {
        return answer;
    }
    let mut levels: Vec<u8> = outline.iter().map(|h| h.level).collect();
    levels.sort_unstable();
    levels.dedup();
    // A lone title is no table of contents: the levels down to the first one that lists
    // several headings stay.
    let up_to = |level: u8| outline.iter().filter(|h| h.level <= level).count();
    let kept = levels.iter().position(|&level| up_to(level) > 1);
    let droppable = &levels[kept.map_or(levels.len(), |kept| kept + 1)..];
    for &deepest in levels.iter().rev().skip(1).take(droppable.len()) {
        shown.indices = (0..outline.len())
            .filter(|&i| outline[i].level <= deepest)
            .collect();
        shown.deepest = deepest;
        if let Some(answer) = attempt(&shown) {
            return answer;
        }
    }
    for &chars in &previews[1..] {
        shown.preview_chars = chars;
        if let Some(answer) = attempt(&shown) {
            return answer;
        }
    }
    // The longest run of the headings left that fits: `fitting` fits and `over` does not.
    let all = std::mem::take(&mut shown.indices);
    let (mut fitting, mut over) = (0, all.len());
    while over - fitting > 1 {
        let middle = (fitting + over) / 2;
        shown.indices = all[..middle].to_vec();
        if attempt(&shown).is_some() {
            fitting = middle;
        } else {
            over = middle;
        }
    }
    shown.indices = all[..fitting].to_vec();
    let mut answer = build(&shown);
    mark_cut(&mut answer, text, &shown, previews[0]);
    answer
}

/// Whether `answer`, as the model reads it, fits `budget`.
fn fits(answer: &Value, budget: Budget) -> bool {
    let json = serde_json::to_string_pretty(answer).unwrap_or_default();
    json.chars().count() <= budget.max_chars
        && budget
            .max_tokens
            .is_none_or(|tokens| content::estimate_tokens(&json) <= tokens)
}

/// Says in `answer` whether the view is cut short, and if so what is missing and where to
/// find it.
fn mark_cut(answer: &mut Value, text: &Rendered, shown: &Shown, full_preview: usize) {
    let outline = &text.outline;
    let omitted = outline.len() - shown.indices.len();
    let shortened = shown.preview_chars < full_preview;
    answer["truncated"] = json!(omitted > 0 || shortened);
    if omitted == 0 && !shortened {
        return;
    }
    answer["omitted_headings"] = json!(omitted);
    let mut parts = Vec::new();
    let mut advice = Vec::new();
    let deepest = shown.deepest;
    let deeper = outline.iter().filter(|h| h.level > deepest).count();
    if deeper > 0 {
        parts.push(format!(
            "the {deeper} headings below level {deepest} are left out"
        ));
        advice
            .push("zim_get_section with a section_id shown here lists that section's subsections");
    }
    let from = shown.indices.last().map_or(0, |&last| last + 1);
    if let Some(next) = outline[from..].iter().find(|h| h.level <= deepest) {
        parts.push(match shown.indices.last() {
            Some(&last) => format!("the list stops after '{}'", outline[last].text),
            None => "no heading fits".to_owned(),
        });
        parts.push(format!(
            "the next heading, '{}', starts at content_offset={} of the text",
            next.text, next.position
        ));
        advice.push("zim_get with that content_offset reads on from there");
    }
    if shortened {
        parts.push(match shown.preview_chars {
            0 => "section previews are left out".to_owned(),
            chars => format!("section previews are cut to {chars} characters"),
        });
    }
    advice.push("a larger max_content_length shows more");
    answer["note"] = json!(format!(
        "This view of the article's {} headings is cut to fit one answer: {}. To see the rest: \
         {}.",
        outline.len(),
        parts.join("; "),
        advice.join("; ")
    ));
}
