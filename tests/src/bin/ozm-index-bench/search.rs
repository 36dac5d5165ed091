//! The searches: `zim_search` through a real shim, timed, and their answers checked.
//!
//! The queries are every `zzneedle` token of the manifest beside the archive (each is in one
//! article only, so it must find that article first and alone: a miss is a bug) and ordinary
//! words: the benchmark queries of `tests/data/bench20k_queries.json` for the archive they were
//! written for (with libzim's top ten for each), else words of the manifest's titles, else of
//! the first titles the archive lists.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use ozm_tests::bench::report;
use ozm_tests::fixture::Shim;
use serde_json::{Value, json};

use crate::{Archive, read_json};

/// Timed searches per daemon at least, after one warm-up pass over every query: whole rounds
/// of the queries, so that each kind weighs in the figures as much as in the list.
const SEARCHES: usize = 1000;
/// The quantile reported between the median and the maximum.
const TAIL: f64 = 0.99;
/// Ordinary word queries taken from titles, when the archive has no benchmark query set.
const TITLE_WORDS: usize = 200;

/// One query of the run, and what it must or should find.
pub struct Query {
    text: String,
    /// For a needle: the one article it must find.
    needle: Option<String>,
    /// For a benchmark query: libzim's top ten, to compare rankings with.
    libzim: Option<Vec<String>>,
}

/// The needles of the manifest beside the archive, then ordinary word queries.
pub fn queries(archive: &Archive, shim: &mut Shim) -> anyhow::Result<Vec<Query>> {
    let manifest = read_json(&archive.path.with_extension("json"));
    let needles = manifest["needles"].as_object().into_iter().flatten();
    let mut queries: Vec<Query> = needles
        .map(|(token, path)| Query {
            text: token.clone(),
            needle: path.as_str().map(str::to_owned),
            libzim: None,
        })
        .collect();

    // The benchmark set, with libzim's answers, when it was written for this archive.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/bench20k_queries.json");
    let benchmark = read_json(&data);
    if benchmark["archive"] == archive.name.as_str() {
        let cases = benchmark["queries"].as_array().into_iter().flatten();
        let words = cases.filter(|case| case["kind"] != "needle");
        queries.extend(words.map(|case| Query {
            text: case["query"].as_str().unwrap_or_default().to_owned(),
            needle: None,
            libzim: Some(strings(&case["paths"])),
        }));
        return Ok(queries);
    }

    // Otherwise words of titles: the manifest's, or the first the archive lists.
    let mut titles: Vec<String> = ["samples", "first_articles"]
        .iter()
        .flat_map(|list| manifest[list].as_array().into_iter().flatten())
        .filter_map(|entry| entry["title"].as_str().map(str::to_owned))
        .collect();
    for namespace in ["C", "A"] {
        if !titles.is_empty() {
            break;
        }
        let arguments =
            json!({"zim_file_path": archive.name, "namespace": namespace, "limit": 200});
        let listed = shim.call_tool("zim_browse", arguments).body;
        let rows = listed["results"].as_array().into_iter().flatten();
        titles.extend(rows.filter_map(|row| row["title"].as_str().map(str::to_owned)));
    }
    let mut seen = BTreeSet::new();
    let words = titles
        .iter()
        .flat_map(|title| title.split(|c: char| !c.is_alphabetic()));
    for word in words.map(str::to_lowercase) {
        if word.chars().count() >= 3 && seen.len() < TITLE_WORDS && seen.insert(word.clone()) {
            let (needle, libzim) = (None, None);
            queries.push(Query {
                text: word,
                needle,
                libzim,
            });
        }
    }
    if queries.is_empty() {
        bail!(
            "no queries for {}: no manifest beside it and no titles",
            archive.name
        );
    }
    Ok(queries)
}

/// Writes the heading of the search figures: the queries, and how the archive is searched.
pub fn heading(
    out: &mut impl Write,
    queries: &[Query],
    answered_by: &Value,
) -> std::io::Result<()> {
    let needles = queries
        .iter()
        .filter(|query| query.needle.is_some())
        .count();
    writeln!(
        out,
        "\nzim_search through ozm mcp, limit 10: {needles} needle and {} word queries, one \
         warm-up pass then {} rounds of them; milliseconds (min / median / p99 / max)\n  \
         own-index daemon's zim_metadata says full-text search is answered by: {answered_by}",
        queries.len() - needles,
        rounds(queries)
    )
}

/// The parts of one answer the run checks and compares.
struct Answer {
    paths: Vec<String>,
    scores: Vec<Option<f64>>,
    total: Option<u64>,
    notes: Vec<String>,
}

/// One daemon's answers to the warm-up pass, and the timings.
pub struct Run {
    answers: Vec<Answer>,
    warm_up: Vec<Duration>,
    needles: Vec<Duration>,
    words: Vec<Duration>,
}

/// Every query once (the warm-up, whose answers are kept), then rounds of every query until
/// [`SEARCHES`] are timed.
pub fn run(shim: &mut Shim, name: &str, queries: &[Query]) -> Run {
    let mut run = Run {
        answers: Vec::new(),
        warm_up: Vec::new(),
        needles: Vec::new(),
        words: Vec::new(),
    };
    for query in queries {
        let (elapsed, body) = timed_search(shim, name, &query.text);
        run.warm_up.push(elapsed);
        let rows = body["results"].as_array().into_iter().flatten();
        let path = |row: &Value| row["path"].as_str().unwrap_or("?").to_owned();
        let (paths, scores) = rows.map(|row| (path(row), row["score"].as_f64())).unzip();
        run.answers.push(Answer {
            paths,
            scores,
            total: body["total"].as_u64(),
            notes: strings(&body["notes"]),
        });
    }
    let timed = rounds(queries) * queries.len();
    for query in queries.iter().cycle().take(timed) {
        let (elapsed, _) = timed_search(shim, name, &query.text);
        match query.needle {
            Some(_) => run.needles.push(elapsed),
            None => run.words.push(elapsed),
        }
    }
    run
}

impl Run {
    /// Every timed search after the warm-up.
    pub fn all(&self) -> Vec<Duration> {
        [self.needles.as_slice(), &self.words].concat()
    }

    /// Writes the quantile lines of this daemon's searches.
    pub fn report(&self, out: &mut impl Write, index: &str) -> std::io::Result<()> {
        let lines = [
            ("warm-up (each query's first search)", &self.warm_up),
            ("needle queries", &self.needles),
            ("word queries", &self.words),
            ("all queries", &self.all()),
        ];
        for (what, samples) in lines {
            report(out, &format!("  {index}: {what}"), samples, TAIL)?;
        }
        Ok(())
    }
}

/// The rounds of every query that make at least [`SEARCHES`] searches.
fn rounds(queries: &[Query]) -> usize {
    SEARCHES.div_ceil(queries.len().max(1))
}

fn timed_search(shim: &mut Shim, name: &str, query: &str) -> (Duration, Value) {
    let arguments = json!({"zim_file_path": name, "query": query, "limit": 10});
    let started = Instant::now();
    let answer = shim.call_ok("zim_search", arguments);
    (started.elapsed(), answer)
}

/// Prints what the answers say: needles missed (returning how many), rankings against
/// libzim's, notes, and how the own index's answers differ from the embedded index's.
pub fn check(
    out: &mut impl Write,
    queries: &[Query],
    own: &Run,
    reference: Option<&Run>,
) -> std::io::Result<usize> {
    let needles = queries
        .iter()
        .filter(|query| query.needle.is_some())
        .count();
    let misses = needle_misses(queries, &own.answers);
    writeln!(
        out,
        "\nneedles found first and alone (own index): {} of {needles}",
        needles - misses.len()
    )?;
    for miss in &misses {
        writeln!(out, "  MISMATCH {miss}")?;
    }

    // Rankings: the set of the top ten, as the search bench compares them.
    let benchmark: Vec<usize> = (0..queries.len())
        .filter(|&i| queries[i].libzim.is_some())
        .collect();
    let as_libzim = |run: &Run| {
        let same = |i: &&usize| {
            let want: HashSet<&String> = queries[**i].libzim.iter().flatten().collect();
            run.answers[**i].paths.iter().collect::<HashSet<_>>() == want
        };
        benchmark.iter().filter(same).count()
    };
    if !benchmark.is_empty() {
        let embedded = reference.map_or(String::new(), |run| {
            format!(", embedded index {}", as_libzim(run))
        });
        writeln!(
            out,
            "top ten as libzim's (as a set) of {} word queries: own index {}{embedded}",
            benchmark.len(),
            as_libzim(own),
        )?;
    }

    // Rows without a score are title matches: the own index was not used for them.
    let unscored = own
        .answers
        .iter()
        .filter(|a| a.scores.contains(&None))
        .count();
    let notes: BTreeSet<&String> = own.answers.iter().flat_map(|a| &a.notes).collect();
    writeln!(
        out,
        "own-index answers with title rows (no score): {unscored} of {}; notes: {notes:?}",
        own.answers.len()
    )?;
    if let Some(reference) = reference {
        against_embedded(out, queries, own, reference)?;
    }
    Ok(misses.len())
}

/// The needles whose answer is not their one article alone, described.
fn needle_misses(queries: &[Query], answers: &[Answer]) -> Vec<String> {
    let mut misses = Vec::new();
    for (query, answer) in queries.iter().zip(answers) {
        let Some(want) = &query.needle else { continue };
        if answer.paths.first() == Some(want) && answer.paths.len() == 1 {
            continue;
        }
        let notes = match answer.notes.is_empty() {
            true => String::new(),
            false => format!(", notes {:?}", answer.notes),
        };
        misses.push(format!(
            "{}: want {want} alone, got {:?} (total {:?}){notes}",
            query.text,
            &answer.paths[..answer.paths.len().min(3)],
            answer.total,
        ));
    }
    misses
}

/// Compares the two daemons' answers query by query. Xapian (k1 = 1, b = 0.5) and tantivy
/// (k1 = 1.2, b = 0.75) weigh BM25 differently, so the same scores throughout would mean the
/// own-index daemon answered from the embedded index too.
fn against_embedded(
    out: &mut impl Write,
    queries: &[Query],
    own: &Run,
    reference: &Run,
) -> std::io::Result<()> {
    let pairs: Vec<(&Answer, &Answer)> = own.answers.iter().zip(&reference.answers).collect();
    let same_scores = pairs
        .iter()
        .filter(|(own, reference)| !own.scores.is_empty() && own.scores == reference.scores)
        .count();
    let same_paths = pairs.iter().filter(|(a, b)| a.paths == b.paths).count();
    let total = |answer: &Answer| answer.total.map_or("?".into(), |n| n.to_string());
    let differing: Vec<String> = (queries.iter().zip(&pairs))
        .filter(|(_, (own, reference))| own.total != reference.total)
        .map(|(query, (own, reference))| {
            format!("{} {} vs {}", query.text, total(own), total(reference))
        })
        .collect();
    writeln!(
        out,
        "own against embedded index, of {} queries: same scores for {same_scores}, same paths \
         in order for {same_paths}, same total for {}",
        pairs.len(),
        pairs.len() - differing.len()
    )?;
    if !differing.is_empty() {
        let shown = &differing[..differing.len().min(5)];
        writeln!(out, "  totals, own vs embedded: {}", shown.join("; "))?;
    }
    Ok(())
}

/// The strings of a JSON array (none for anything else).
fn strings(value: &Value) -> Vec<String> {
    let items = value.as_array().into_iter().flatten();
    items
        .filter_map(|item| item.as_str().map(str::to_owned))
        .collect()
}
