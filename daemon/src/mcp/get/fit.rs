//! Views of an article's headings cut to fit one page: the table of contents or the structure
//! of a long article (thousands of headings) would otherwise fill a model's context. The
//! deepest heading levels go first, since the sections above them lead to them (down to the
//! first level that lists several headings); then the previews get shorter; then the list
//! stops where the page is full.
//!
//! The sizes of the cuts tried are added up from the sizes of their rows, each row measured
//! once and only until the sum passes the budget: serialising the whole answer for every cut
//! tried cost an article of 13,500 headings over half a second a call. Only the chosen cut is
//! built and measured, and cut shorter should the sum have been off.

use std::ops::Add;

use serde_json::{Value, json};

use crate::content::{self, Budget, Rendered};

/// The part of an outline a view shows.
pub struct Shown {
    /// The indices in the outline of the headings shown, in document order.
    pub indices: Vec<usize>,
    /// The deepest heading level listed.
    pub deepest: u8,
    /// Characters of each section's preview; 0 leaves previews out.
    pub preview_chars: usize,
}

/// The size of JSON text as a budget counts it: chars, and tokens in quarters, so that the
/// sizes of rows add up to the size of the view without rounding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    chars: usize,
    quarters: usize,
}

impl Size {
    /// The size of `text`.
    fn of(text: &str) -> Size {
        Size {
            chars: text.chars().count(),
            quarters: content::estimate_quarters(text),
        }
    }

    /// The size of `answer` as the model reads it: pretty JSON.
    fn of_answer(answer: &Value) -> Size {
        Size::of(&serde_json::to_string_pretty(answer).unwrap_or_default())
    }

    /// What `row` adds to an answer as an element of an array nested `depth` levels deep in
    /// pretty JSON: its text, each of its lines indented, and the separator after it.
    pub fn of_element(row: &Value, depth: usize) -> Size {
        let text = serde_json::to_string_pretty(row).unwrap_or_default();
        // Spaces, a comma and a newline: a char and a quarter of a token each.
        let added = text.lines().count() * 2 * depth + ",\n".len();
        Size::of(&text)
            + Size {
                chars: added,
                quarters: added,
            }
    }

    /// The tokens, as [`content::estimate_tokens`] counts them.
    fn tokens(self) -> usize {
        self.quarters.div_ceil(4)
    }

    fn fits(self, budget: Budget) -> bool {
        self.chars <= budget.max_chars && budget.max_tokens.is_none_or(|most| self.tokens() <= most)
    }
}

impl Add for Size {
    type Output = Size;

    fn add(self, other: Size) -> Size {
        Size {
            chars: self.chars + other.chars,
            quarters: self.quarters + other.quarters,
        }
    }
}

/// The view `build` makes of as much of the outline of `text` as fits `budget`, measured as the
/// JSON the model reads. `row(index, preview_chars)` is what heading `index` adds to the view
/// (see [`Size::of_element`]). `previews` are the preview lengths to try, longest first. A
/// view cut short says so with `truncated`, `omitted_headings` and a note on how to see the
/// rest.
pub fn fit(
    text: &Rendered,
    budget: Budget,
    previews: &[usize],
    build: impl Fn(&Shown) -> Value,
    row: impl Fn(usize, usize) -> Size,
) -> Value {
    let outline = &text.outline;
    let full_preview = previews[0];
    let finish = |shown: &Shown| {
        let mut answer = build(shown);
        mark_cut(&mut answer, text, shown, full_preview);
        answer
    };
    // The answer without rows, as it would be marked for `shown`.
    let frame = |shown: &Shown| {
        let empty = Shown {
            indices: Vec::new(),
            ..*shown
        };
        let mut answer = build(&empty);
        mark_cut(&mut answer, text, shown, full_preview);
        Size::of_answer(&answer)
    };
    // The whole view as the rows add it up; when the sum says it fits, the view built.
    let attempt = |shown: &Shown, rows: &mut Rows<_>| {
        let ends = rows.sums(&shown.indices, budget);
        let sum = ends[ends.len() - 1];
        if ends.len() <= shown.indices.len() || !(frame(shown) + sum).fits(budget) {
            return None;
        }
        let answer = finish(shown);
        Size::of_answer(&answer).fits(budget).then_some(answer)
    };

    let mut rows = Rows {
        row,
        preview_chars: full_preview,
        sizes: vec![None; outline.len()],
    };
    let mut shown = Shown {
        indices: (0..outline.len()).collect(),
        deepest: u8::MAX,
        preview_chars: full_preview,
    };
    if let Some(answer) = attempt(&shown, &mut rows) {
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
        shown.indices.retain(|&i| outline[i].level <= deepest);
        shown.deepest = deepest;
        if let Some(answer) = attempt(&shown, &mut rows) {
            return answer;
        }
    }
    for &chars in &previews[1..] {
        shown.preview_chars = chars;
        rows.preview_chars = chars;
        rows.sizes.fill(None);
        if let Some(answer) = attempt(&shown, &mut rows) {
            return answer;
        }
    }
    cut(shown, &mut rows, budget, frame, finish)
}

/// The sizes of the rows at one preview length, each measured when first needed: a view of a
/// long article holds a few hundred of its thousands of headings.
struct Rows<F> {
    /// What heading `index` adds to the view with previews of `chars`.
    row: F,
    preview_chars: usize,
    sizes: Vec<Option<Size>>,
}

impl<F: Fn(usize, usize) -> Size> Rows<F> {
    /// What the first rows of `indices` add up to: `ends[count]` for the first `count`, from 0
    /// on. The sums stop at the first that alone passes `budget`: no more rows can fit.
    fn sums(&mut self, indices: &[usize], budget: Budget) -> Vec<Size> {
        let mut ends = vec![Size::default()];
        for &index in indices {
            let size =
                *self.sizes[index].get_or_insert_with(|| (self.row)(index, self.preview_chars));
            let end = ends[ends.len() - 1] + size;
            ends.push(end);
            if !end.fits(budget) {
                break;
            }
        }
        ends
    }
}

/// The longest run of the headings `shown` from the start that fits `budget`, built.
fn cut<F: Fn(usize, usize) -> Size>(
    mut shown: Shown,
    rows: &mut Rows<F>,
    budget: Budget,
    frame: impl Fn(&Shown) -> Size,
    finish: impl Fn(&Shown) -> Value,
) -> Value {
    let all = std::mem::take(&mut shown.indices);
    let ends = rows.sums(&all, budget);
    let mut fitting = |count: usize| {
        shown.indices = all[..count].to_vec();
        (frame(&shown) + ends[count]).fits(budget)
    };
    // By the sums, `low` headings fit and `high` do not.
    let (mut low, mut high) = (0, ends.len());
    while high - low > 1 {
        let middle = (low + high) / 2;
        if fitting(middle) {
            low = middle;
        } else {
            high = middle;
        }
    }
    // The sums can be a little off: the built view is measured, and cut shorter if it must.
    loop {
        shown.indices = all[..low].to_vec();
        let answer = finish(&shown);
        let size = Size::of_answer(&answer);
        if low == 0 || size.fits(budget) {
            return answer;
        }
        let excess = Size {
            chars: size.chars.saturating_sub(budget.max_chars),
            quarters: budget
                .max_tokens
                .map_or(0, |most| size.quarters.saturating_sub(most * 4)),
        };
        // Rows from the end are dropped until they add up to the excess.
        let enough = |count: &usize| {
            let (dropped, kept) = (ends[low], ends[*count]);
            dropped.chars - kept.chars >= excess.chars
                && dropped.quarters - kept.quarters >= excess.quarters
        };
        low = (0..low).rev().find(enough).unwrap_or(0);
    }
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
            0 => "section previews are left out (the sections have no content_preview)".to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Heading, Style};

    fn row(heading: &Heading) -> Value {
        json!({"id": heading.id, "text": heading.text, "position": heading.position})
    }

    /// A view of every heading as a row of `rows`, cut to `budget`.
    fn view(text: &Rendered, budget: Budget) -> Value {
        let build = |shown: &Shown| {
            let rows: Vec<Value> = shown
                .indices
                .iter()
                .map(|&i| row(&text.outline[i]))
                .collect();
            json!({"rows": rows, "heading_count": text.outline.len()})
        };
        let size = |i: usize, _| Size::of_element(&row(&text.outline[i]), 2);
        fit(text, budget, &[0], build, size)
    }

    #[test]
    fn cut_views_fill_their_budget_without_passing_it() {
        let mut html = String::from("<h1>Title</h1>");
        for i in 0..300 {
            // Lengths and scripts vary, so that rows differ in chars and in tokens.
            let words = "Раздзел 漢字 word ".repeat(i % 7);
            html.push_str(&format!("<h2>Section {i} {words}</h2><p>Text.</p>"));
        }
        let text = crate::content::render(&html, Style::Full, "Title");
        let whole = Size::of_answer(&view(&text, Budget::chars(usize::MAX)));
        let rows: Vec<Size> = (0..text.outline.len())
            .map(|i| Size::of_element(&row(&text.outline[i]), 2))
            .collect();
        let largest = |size: fn(&Size) -> usize| rows.iter().map(size).max().unwrap();
        let (most_chars, most_quarters) = (largest(|row| row.chars), largest(|row| row.quarters));
        for chars in (2_000..whole.chars).step_by(1_999) {
            for budget in [Budget::chars(chars), Budget::tokens(chars, chars / 4)] {
                let answer = view(&text, budget);
                let size = Size::of_answer(&answer);
                assert!(size.fits(budget), "{size:?} for {budget:?}");
                // Full: no room is left for two more rows.
                let chars_left = budget.max_chars - size.chars;
                let quarters_left = budget
                    .max_tokens
                    .map_or(usize::MAX, |most| most * 4 - size.quarters);
                assert!(
                    chars_left < 2 * most_chars || quarters_left < 2 * most_quarters,
                    "{size:?} for {budget:?}"
                );
            }
        }
    }
}
