//! The daemon's Prometheus metrics, served at `/metrics` in the text format (version 0.0.4).
//!
//! Two kinds: what is counted as it happens (tool calls, errors and latencies, recorded by the
//! MCP tools; conflicts, set by the conflict watch) lives in one process-wide set, since a
//! process runs one daemon; what the daemon already knows (clients, archives, cache hits, index
//! builds) is read from it at each scrape, so nothing has to be kept in step.
//!
//! Label values are bounded: tools by the names ozm has (`unknown` for any other), errors by
//! their codes, archives by the paths the daemon serves.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;

use ozm_protocol::{BuildState, IndexKind};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode_registry;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::server::Daemon;

/// The `Content-Type` of [`encode`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency buckets, in seconds: from a cached answer (under a millisecond)
/// to a cross-archive search of large archives (seconds).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The conflict kinds, each always shown (0 when there is none).
pub const CONFLICT_KINDS: [&str; 5] = [
    "configuration_mismatch",
    "multiple_instances",
    "stale_instance",
    "orphaned_instance",
    "unresponsive_instance",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    tool: &'static str,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// What is counted as it happens.
struct Counted {
    registry: Registry,
    tool_calls: Family<ToolLabels, Counter>,
    tool_errors: Family<ErrorLabels, Counter>,
    tool_durations: Family<ToolLabels, Histogram>,
    conflicts: Family<KindLabels, Gauge>,
}

static COUNTED: LazyLock<Counted> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let tool_calls = Family::<ToolLabels, Counter>::default();
    let tool_errors = Family::<ErrorLabels, Counter>::default();
    let tool_durations = Family::<ToolLabels, Histogram>::new_with_constructor(
        (|| Histogram::new(LATENCY_BUCKETS)) as fn() -> Histogram,
    );
    let conflicts = Family::<KindLabels, Gauge>::default();
    registry.register(
        "ozm_tool_calls",
        "Tool calls answered, by tool",
        tool_calls.clone(),
    );
    registry.register(
        "ozm_tool_errors",
        "Tool calls answered with an error, by tool and error code",
        tool_errors.clone(),
    );
    registry.register(
        "ozm_tool_call_duration_seconds",
        "Time to answer a tool call, by tool",
        tool_durations.clone(),
    );
    registry.register(
        "ozm_conflicts",
        "Conflicts between instances found by the last check, by kind",
        conflicts.clone(),
    );
    for kind in CONFLICT_KINDS {
        conflicts.get_or_create(&KindLabels { kind }).set(0);
    }
    Counted {
        registry,
        tool_calls,
        tool_errors,
        tool_durations,
        conflicts,
    }
});

/// Records one answered tool call: `tool` is one of ozm's tool names (or `unknown`), `error`
/// the code of a failed call.
pub fn tool_call(tool: &'static str, error: Option<&str>, seconds: f64) {
    let counted = &*COUNTED;
    let labels = ToolLabels { tool };
    counted.tool_calls.get_or_create(&labels).inc();
    counted
        .tool_durations
        .get_or_create(&labels)
        .observe(seconds);
    if let Some(code) = error {
        let labels = ErrorLabels {
            tool,
            code: code.to_owned(),
        };
        counted.tool_errors.get_or_create(&labels).inc();
    }
}

/// Sets the conflicts found by the last check, by kind (kinds not named count 0).
pub fn set_conflicts(by_kind: &BTreeMap<&str, i64>) {
    for kind in CONFLICT_KINDS {
        let count = by_kind.get(kind).copied().unwrap_or(0);
        COUNTED
            .conflicts
            .get_or_create(&KindLabels { kind })
            .set(count);
    }
}

/// Every metric as Prometheus text. Blocking: it reads the state of every archive's indexes.
pub fn encode(daemon: &Daemon) -> String {
    let mut openmetrics = String::new();
    let read = read_daemon(daemon);
    // Writing into a String cannot fail.
    let _ = encode_registry(&mut openmetrics, &COUNTED.registry);
    let _ = encode_registry(&mut openmetrics, &read);
    prometheus_text(&openmetrics)
}

/// The metrics read from the daemon at this scrape.
fn read_daemon(daemon: &Daemon) -> Registry {
    let mut registry = Registry::default();

    let instances = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
    for transport in ["socket", "http"] {
        instances
            .get_or_create(&vec![("transport", transport)])
            .set(0);
    }
    for shim in daemon.registry.shims() {
        let transport = shim.transport.name();
        instances
            .get_or_create(&vec![("transport", transport)])
            .inc();
    }
    registry.register(
        "ozm_instances",
        "Connected clients, by transport",
        instances,
    );

    let archives = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
    let indexes = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
    let progress = Family::<Vec<(&'static str, String)>, Gauge<f64, AtomicU64>>::default();
    for state in ["open", "unreadable"] {
        archives.get_or_create(&vec![("state", state)]).set(0);
    }
    for archive in daemon.library.all() {
        let Ok(open) = archive.open() else {
            archives.get_or_create(&vec![("state", "unreadable")]).inc();
            continue;
        };
        archives.get_or_create(&vec![("state", "open")]).inc();
        let path = archive.path.display().to_string();
        for (kind, state) in open.own.states() {
            let (name, fraction) = build_stage(&state);
            let kind = kind_name(kind);
            indexes
                .get_or_create(&vec![("kind", kind), ("state", name)])
                .inc();
            let labels = vec![("archive", path.clone()), ("kind", kind.to_owned())];
            progress.get_or_create(&labels).set(fraction);
        }
    }
    registry.register(
        "ozm_archives",
        "Archives found, by whether they can be read",
        archives,
    );
    registry.register(
        "ozm_indexes",
        "ozm's own indexes, by kind and state (queued, building, ready, failed)",
        indexes,
    );
    registry.register(
        "ozm_index_build_progress",
        "How far the build of each own index is, from 0 to 1 (1 when ready, 0 when failed)",
        progress,
    );

    let hits = Family::<Vec<(&'static str, &'static str)>, Counter>::default();
    let misses = Family::<Vec<(&'static str, &'static str)>, Counter>::default();
    let (rendered_hits, rendered_misses) = daemon.library.rendered().counts();
    let clusters = daemon.library.clusters().stats();
    for (cache, hit, missed) in [
        ("rendered", rendered_hits, rendered_misses),
        ("clusters", clusters.hits, clusters.misses),
    ] {
        hits.get_or_create(&vec![("cache", cache)]).inc_by(hit);
        misses.get_or_create(&vec![("cache", cache)]).inc_by(missed);
    }
    registry.register(
        "ozm_cache_hits",
        "Reads served from a shared cache (rendered articles, decompressed clusters)",
        hits,
    );
    registry.register(
        "ozm_cache_misses",
        "Reads a shared cache could not serve",
        misses,
    );
    registry
}

/// A build state's name and how far it is, from 0 to 1.
fn build_stage(state: &BuildState) -> (&'static str, f64) {
    match state {
        BuildState::Queued => ("queued", 0.0),
        BuildState::Building { done, total, .. } => {
            let fraction = if *total == 0 {
                0.0
            } else {
                (*done as f64 / *total as f64).min(1.0)
            };
            ("building", fraction)
        }
        BuildState::Ready { .. } => ("ready", 1.0),
        BuildState::Failed(_) => ("failed", 0.0),
    }
}

fn kind_name(kind: IndexKind) -> &'static str {
    match kind {
        IndexKind::Fulltext => "fulltext",
        IndexKind::Titles => "titles",
        IndexKind::Links => "links",
    }
}

/// OpenMetrics text (what the crate writes) as Prometheus text 0.0.4: a counter's `HELP` and
/// `TYPE` lines name it with its `_total` suffix, as its samples do, and the OpenMetrics-only
/// `# UNIT` and `# EOF` lines go.
fn prometheus_text(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len() + counters.len() * 16);
    for line in openmetrics.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let described = ["# HELP ", "# TYPE "]
            .iter()
            .find_map(|start| Some((*start, line.strip_prefix(start)?)));
        match described {
            Some((start, rest)) => {
                let name = rest.split(' ').next().unwrap_or_default();
                let suffix = if counters.contains(&name) {
                    "_total"
                } else {
                    ""
                };
                text.push_str(start);
                text.push_str(name);
                text.push_str(suffix);
                text.push_str(&rest[name.len()..]);
            }
            None => text.push_str(line),
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_with_their_total_suffix() {
        let openmetrics = "# HELP a_calls Calls.\n# TYPE a_calls counter\na_calls_total 3\n\
                           # HELP b Bytes.\n# TYPE b gauge\n# UNIT b bytes\nb 1\n# EOF\n";
        assert_eq!(
            prometheus_text(openmetrics),
            "# HELP a_calls_total Calls.\n# TYPE a_calls_total counter\na_calls_total 3\n\
             # HELP b Bytes.\n# TYPE b gauge\nb 1\n"
        );
    }

    #[test]
    fn a_tool_call_is_counted_timed_and_its_error_recorded() {
        tool_call("zim_browse", Some("invalid_namespace"), 0.003);
        let mut text = String::new();
        encode_registry(&mut text, &COUNTED.registry).unwrap();
        let text = prometheus_text(&text);
        assert!(
            text.contains("ozm_tool_calls_total{tool=\"zim_browse\"} 1\n"),
            "{text}"
        );
        let error = "ozm_tool_errors_total{tool=\"zim_browse\",code=\"invalid_namespace\"} 1\n";
        assert!(text.contains(error), "{text}");
        let bucket = "ozm_tool_call_duration_seconds_bucket{le=\"0.005\",tool=\"zim_browse\"} 1";
        assert!(text.contains(bucket), "{text}");
        assert!(
            text.contains("ozm_conflicts{kind=\"stale_instance\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn a_build_reports_its_fraction_done() {
        let building = BuildState::Building {
            done: 25,
            total: 100,
            per_second: 1.0,
            seconds_left: None,
        };
        assert_eq!(build_stage(&building), ("building", 0.25));
        assert_eq!(
            build_stage(&BuildState::Failed("disk".into())),
            ("failed", 0.0)
        );
    }
}
