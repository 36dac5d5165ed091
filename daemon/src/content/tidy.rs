//! The last cleaning of the Markdown: trailing spaces, headings left without content, runs of
//! blank lines, and the stray space htmd leaves at the start of a paragraph. Fenced code is left
//! as it is.

/// The rank of a Markdown ATX heading line (`## Title` is 2), if it is one.
pub fn heading_level(line: &str) -> Option<usize> {
    let level = line.len() - line.trim_start_matches('#').len();
    let rest = &line[level..];
    ((1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' '))).then_some(level)
}

/// Trims line ends, drops headings left without content, and collapses blank runs, leaving
/// fenced code as it is.
pub fn tidy(markdown: &str) -> String {
    let lines: Vec<&str> = markdown.lines().map(str::trim_end).collect();
    let mut fence: Option<usize> = None;
    let code: Vec<bool> = lines
        .iter()
        .map(|line| {
            let line = line.trim_start();
            let ticks = line.len() - line.trim_start_matches('`').len();
            match fence {
                None if ticks >= 3 => fence = Some(ticks),
                Some(open) if ticks >= open && ticks == line.len() => fence = None,
                _ => return fence.is_some(),
            }
            true
        })
        .collect();
    // Walking backwards, a heading is empty when what follows it is the end or a heading of the
    // same or higher rank; `None` stands for the end, `Some(7)` for content.
    let mut keep = vec![true; lines.len()];
    let mut next: Option<usize> = None;
    for (i, line) in lines.iter().enumerate().rev() {
        match heading_level(line).filter(|_| !code[i]) {
            Some(level) if next.is_none_or(|n| n <= level) => keep[i] = false,
            Some(level) => next = Some(level),
            None if code[i] || !line.is_empty() => next = Some(7),
            None => {}
        }
    }
    let mut out = String::with_capacity(markdown.len());
    let mut blank = false;
    for (i, line) in lines.iter().enumerate().filter(|&(i, _)| keep[i]) {
        if line.is_empty() && !code[i] {
            blank = !out.is_empty();
            continue;
        }
        if std::mem::take(&mut blank) {
            out.push('\n');
        }
        // htmd keeps the space that opens an inline element starting a paragraph; list and code
        // indents are never a single space.
        let single_space = line.starts_with(' ') && !line[1..].starts_with(' ') && !code[i];
        out.push_str(if single_space { &line[1..] } else { line });
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}
