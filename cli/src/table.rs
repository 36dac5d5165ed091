//! How the operator's commands print their reports: tables that fit the terminal, or plain
//! records when the output goes to a pipe or a file.
//!
//! On a terminal (stdout is a tty) each table has a bold title and aligned columns that fit the
//! width (`COLUMNS` if set, else the terminal's own); a cell too long for its column is shortened
//! with `…`, in the middle for paths and at the end for prose (titles too), so that no row wraps.
//! Errors are red and warnings yellow, unless `NO_COLOR` is set to something
//! (https://no-color.org) or `TERM` is `dumb`.
//!
//! Otherwise every row is one line: the kind of record (`daemon`, `shim`, `archive`, …), then
//! one `NAME VALUE` field per column, separated by tabs, complete and without colour. Control
//! characters in values are escaped (a tab as `\t`, a backslash as `\\`), so a value never
//! splits a line or a field and every escape reads back as one character.
//! A list of sentences (recommendations, actions) gives one line each: the kind, a tab, the text.

mod terminal;

use std::ffi::OsString;
use std::io::Write;

use terminal::{BOLD, paint, wrapped};

/// Where the report goes, which decides its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A terminal this many columns wide, with or without colour.
    Terminal {
        /// Columns available.
        width: usize,
        /// Whether to colour.
        color: bool,
    },
    /// A pipe or a file: records, one a line.
    Plain,
}

impl Mode {
    /// The mode for this process's stdout and environment.
    pub fn detect() -> Mode {
        let stdout = std::io::stdout();
        if !rustix::termios::isatty(&stdout) {
            return Mode::Plain;
        }
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|text| text.parse().ok());
        let window = rustix::termios::tcgetwinsize(&stdout).map(|size| usize::from(size.ws_col));
        let width = columns
            .filter(|&width| width > 0)
            .or(window.ok().filter(|&width| width > 0))
            .unwrap_or(80);
        Mode::Terminal {
            width,
            color: colors_wanted(std::env::var_os("NO_COLOR"), std::env::var_os("TERM")),
        }
    }
}

/// Whether a terminal gets colour: not when `NO_COLOR` is set to anything but the empty string,
/// nor on a `dumb` terminal.
fn colors_wanted(no_color: Option<OsString>, term: Option<OsString>) -> bool {
    no_color.is_none_or(|value| value.is_empty()) && term.is_none_or(|term| term != "dumb")
}

/// How a cell's text is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// As it is.
    Normal,
    /// Something to look at (yellow).
    Warning,
    /// Something wrong (red).
    Error,
}

/// One value of a row.
#[derive(Debug, Clone)]
pub struct Cell {
    text: String,
    tone: Tone,
}

impl Cell {
    /// A cell showing `text`, control characters escaped; `-` when empty.
    pub fn new(text: impl AsRef<str>) -> Cell {
        let text = shown(text.as_ref());
        Cell {
            text: if text.is_empty() {
                "-".to_owned()
            } else {
                text
            },
            tone: Tone::Normal,
        }
    }

    /// A cell coloured as a warning.
    pub fn warning(text: impl AsRef<str>) -> Cell {
        Cell::new(text).tone(Tone::Warning)
    }

    /// A cell coloured as an error.
    pub fn error(text: impl AsRef<str>) -> Cell {
        Cell::new(text).tone(Tone::Error)
    }

    /// The same cell in another tone.
    pub fn tone(mut self, tone: Tone) -> Cell {
        self.tone = tone;
        self
    }
}

/// How a column gives way when the table is too wide for the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Short values (numbers, ids): shortened only when nothing else is left to shorten.
    Keep,
    /// Paths: shortened in the middle, keeping the start and the file name.
    Middle,
    /// Prose: cut at the end.
    End,
    /// Details a person can do without: the column is left out on a terminal too narrow for
    /// the table (records when piped always have it).
    Spare,
}

/// Rows of one kind of record.
pub struct Table {
    kind: &'static str,
    title: String,
    columns: Vec<(&'static str, Fit)>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table of records of `kind`, titled `title` on a terminal. Each column is named
    /// by its field name in plain records; its heading is that name in capitals.
    pub fn new(
        kind: &'static str,
        title: impl Into<String>,
        columns: &[(&'static str, Fit)],
    ) -> Self {
        Table {
            kind,
            title: title.into(),
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row, one cell per column.
    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "a {} row", self.kind);
        self.rows.push(cells);
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A report being put together, printed at the end in one piece.
pub struct Report {
    mode: Mode,
    text: String,
}

impl Report {
    /// An empty report for `mode`.
    pub fn new(mode: Mode) -> Report {
        Report {
            mode,
            text: String::new(),
        }
    }

    /// Adds a table. On a terminal an empty one shows only its title.
    pub fn table(&mut self, table: &Table) {
        match self.mode {
            Mode::Plain => {
                for row in &table.rows {
                    self.text.push_str(table.kind);
                    for ((name, _), cell) in table.columns.iter().zip(row) {
                        self.text.push_str(&format!("\t{name} {}", cell.text));
                    }
                    self.text.push('\n');
                }
            }
            Mode::Terminal { width, color } => {
                self.title(&table.title, width, color);
                if !table.rows.is_empty() {
                    self.text.push_str(&terminal::rows(table, width, color));
                }
            }
        }
    }

    /// Adds a list of sentences of `kind` (one record each when plain), under `title` on a
    /// terminal, where each is wrapped at word boundaries with a hanging indent.
    pub fn sentences(&mut self, kind: &str, title: &str, items: &[String]) {
        match self.mode {
            Mode::Plain => {
                for item in items {
                    self.text.push_str(&format!("{kind}\t{}\n", shown(item)));
                }
            }
            Mode::Terminal { width, color } => {
                self.title(title, width, color);
                for item in items {
                    self.text
                        .push_str(&wrapped(&shown(item), width, "  - ", "    "));
                }
            }
        }
    }

    /// Prints the report on stdout. A reader that stopped early (`ozm status | head`) is fine.
    pub fn print(&self) -> anyhow::Result<()> {
        print(self.text.as_bytes())
    }

    /// A title, shortened to the terminal's width like any cell.
    fn title(&mut self, title: &str, width: usize, color: bool) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        let title = terminal::shortened(title, width, Fit::End);
        self.text.push_str(&paint(&title, BOLD, color));
        self.text.push('\n');
    }
}

/// Writes `bytes` to stdout; a closed pipe is no failure.
pub fn print(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(error).context("writing to stdout"))
        }
        _ => Ok(()),
    }
}

/// Text with control characters and backslashes escaped, so a file or process name cannot
/// rewrite the terminal or split a record, and a backslash in it is not taken for an escape.
pub fn shown(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() || c == '\\' {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use terminal::display_width;

    /// A status-like table: a path column, a short one, and prose.
    fn archives() -> Table {
        let mut table = Table::new(
            "archive",
            "Archives (2)",
            &[
                ("path", Fit::Middle),
                ("size", Fit::Keep),
                ("state", Fit::End),
            ],
        );
        let long = "/home/someone/archives/wikipedia/wikipedia_en_all_maxi_2024-01.zim";
        table.row(vec![
            Cell::new(long),
            Cell::new("102.4 GB"),
            Cell::new("open, 6,000,000 entries"),
        ]);
        table.row(vec![
            Cell::new("/z/bad.zim"),
            Cell::new("25 bytes"),
            Cell::error("UNREADABLE: not a ZIM archive (bad magic number)"),
        ]);
        table
    }

    fn rendered(mode: Mode) -> String {
        let mut report = Report::new(mode);
        report.table(&archives());
        report.sentences(
            "recommendation",
            "Recommendations",
            &["run `ozm cleanup`".into()],
        );
        report.text
    }

    #[test]
    fn plain_records_are_complete_tab_separated_and_uncoloured() {
        let text = rendered(Mode::Plain);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "archive\tpath /home/someone/archives/wikipedia/wikipedia_en_all_maxi_2024-01.zim\t\
                 size 102.4 GB\tstate open, 6,000,000 entries",
                "archive\tpath /z/bad.zim\tsize 25 bytes\t\
                 state UNREADABLE: not a ZIM archive (bad magic number)",
                "recommendation\trun `ozm cleanup`",
            ]
        );
    }

    #[test]
    fn titles_are_shortened_to_a_narrow_terminal() {
        let text = rendered(Mode::Terminal {
            width: 8,
            color: false,
        });
        let titles: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("Archi") || line.starts_with("Recom"))
            .collect();
        assert_eq!(titles, ["Archive…", "Recomme…"]);
    }

    #[test]
    fn a_terminal_table_fits_its_width_shortening_paths_in_the_middle() {
        for width in [40, 60, 80] {
            let text = rendered(Mode::Terminal {
                width,
                color: false,
            });
            for line in text.lines() {
                assert!(display_width(line) <= width, "{width}: {line:?}");
            }
            let row = text.lines().nth(2).expect("the first row");
            assert!(row.starts_with("/home"), "{width}: {row}");
            assert!(row.contains('…'), "{width}: {row}");
        }
        let wide = rendered(Mode::Terminal {
            width: 200,
            color: false,
        });
        assert!(
            wide.contains("wikipedia_en_all_maxi_2024-01.zim  102.4 GB"),
            "{wide}"
        );
        assert!(!wide.contains('…'), "{wide}");
        let lines: Vec<&str> = wide.lines().collect();
        assert_eq!(lines[0], "Archives (2)");
        assert!(
            lines[1].starts_with("PATH ") && lines[1].ends_with("SIZE      STATE"),
            "{wide}"
        );
    }

    #[test]
    fn control_characters_cannot_split_a_record() {
        assert_eq!(shown("a\tb\nc"), "a\\tb\\nc");
        assert_eq!(shown("a\\tb"), "a\\\\tb");
    }

    #[test]
    fn colour_marks_titles_and_errors_only_when_wanted() {
        let coloured = rendered(Mode::Terminal {
            width: 200,
            color: true,
        });
        assert!(
            coloured.starts_with("\x1b[1mArchives (2)\x1b[0m\n"),
            "{coloured}"
        );
        assert!(coloured.contains("\x1b[31mUNREADABLE"), "{coloured}");
        let plain = rendered(Mode::Terminal {
            width: 200,
            color: false,
        });
        assert!(!plain.contains('\x1b'), "{plain}");

        let set = |value: &str| Some(OsString::from(value));
        assert!(colors_wanted(None, set("xterm-256color")));
        assert!(colors_wanted(set(""), None));
        assert!(!colors_wanted(set("1"), set("xterm")));
        assert!(!colors_wanted(None, set("dumb")));
    }
}
