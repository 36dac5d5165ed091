#!/usr/bin/env python3
"""Expected full-text search and title suggestion results, taken from the real libzim.

For each test archive and each query below, this asks the Python ``libzim`` package
(libzim 9 with Xapian 1.4) what it returns, and prints JSON:

* full text: ``Searcher(archive).search(Query().set_query(q))``, then
  ``getEstimatedMatches()`` and the ordered paths of ``getResults(0, 20)``;
* suggestions: ``SuggestionSearcher(archive).suggest(q)``, then
  ``getEstimatedMatches()`` and the ordered paths of ``getResults(0, 20)``.

Titles are ``archive.get_entry_by_path(path).title`` (null when that fails). Paths are
kept exactly as libzim gives them. Archives are named relative to their base
directory (``base`` is ``zim`` for --zim-dir and ``bench`` for --bench-dir). A mode is
asked only when the archive has the index for it (``has_fulltext_index`` /
``has_title_index``); an archive with no title index still gets suggestions, which
libzim then answers from its title listing (``suggest_source`` says which).

With ``--bench20k`` it writes instead the small benchmark check file: 200 full-text
queries on bench-20k.zim (single words and pairs drawn with a fixed seed from the
archive's own body text, plus needle tokens) and libzim's top 10 paths.

Standard library + libzim only. The output is deterministic (same bytes on every
run with the same libzim). Run from the repository root with a venv that has libzim
(``python3 -m venv /tmp/oracle/venv && /tmp/oracle/venv/bin/pip install libzim``):

    /tmp/oracle/venv/bin/python tests/oracle/libzim_expected.py \\
        --zim-dir ../shared/zim --bench-dir ../shared/bench > tests/data/search_expected.json
    /tmp/oracle/venv/bin/python tests/oracle/libzim_expected.py --bench20k \\
        --bench-dir ../shared/bench > tests/data/bench20k_queries.json
"""

import argparse
import collections
import html
import importlib.metadata
import json
import os
import random
import re
import sys

from stable_json import dump
from libzim.reader import Archive
from libzim.search import Query, Searcher
from libzim.suggestion import SuggestionSearcher
import libzim.version

LIMIT = 20
BENCH20K_LIMIT = 10
BENCH20K_SEED = 20240601

# Queries that exercise the same thing on several archives.
PUNCTUATION = [".", "?", "", " ", "--"]

# ---------------------------------------------------------------- the queries
# Each archive: (base, path relative to the base dir, full-text queries, suggestion queries).
# The first query of each list is the one of shared/zim/ORACLE.md where it has one.

RAY_FULLTEXT = [
    "piano", "Piano", "PIANO",
    # stemming: plural, -ing, -ed, irregular
    "song", "songs", "singing", "sings", "sang", "recorded", "recording", "recordings",
    "love", "loving",
    # several words (default operator AND), capitalised input
    "Ray Charles", "ray charles", "piano jazz", "genius soul jazz", "Georgia on my mind",
    "Hit the Road Jack", "Atlantic Records", "soul jazz", "grammy award",
    # stopwords alone and mixed (this DB has no stopwords metadata)
    "the", "of", "a", "and", "to be", "the blues",
    # numbers
    "1959", "1930", "2004", "1",
    # hyphen, apostrophe, ampersand, dots, symbols
    "rhythm-and-blues", "rhythm and blues", "Charles's", "what'd i say", "don't", "Don't",
    "R&B", "r&b", "D.R.A.M.", "Genius+Soul=Jazz", "C#", "piano,", "(piano)",
    # accents: text has them (Ertegün, Rogét, Paweł, ça) or not (élection, café)
    "Ertegün", "ertegun", "ERTEGÜN", "Ahmet Ertegün", "Rogét", "roget", "Paweł", "pawel",
    "ça", "ca", "élection", "café", "Lóan",
    # rare words (one document)
    "aspartame", "broccoli",
    # operators and wildcards (libzim parses with FLAG_CJK_NGRAM only)
    "piano -jazz", "piano OR jazz", "piano AND jazz", "\"ray charles\"", "blues*", "pian*",
    # absent word, CJK, punctuation only / empty
    "xyzzyqwerty", "日本",
] + PUNCTUATION

RAY_SUGGEST = [
    "Ray", "ray", "RAY",
    # prefixes of 1, 2, 3 letters, capitalised and not
    "R", "r", "Ra", "ra", "Ray ", "Geo", "geo", "Hit", "hit",
    # whole words and two-word prefixes
    "georgia", "ray ch", "Ray Ch", "ray charles", "Ray Charles", "Charles, Ray", "hit the",
    "What'd I", "what'd", "carry me back", "virginny", "Raelettes", "song", "songs",
    "the", "The", "film", "(film)", "1927", "genius +", "Do the Twist!", "r&b",
    # accents: title has one (Lóan er komin) or the text does (Ertegün)
    "Lóan", "loan", "Lo", "Ertegün",
    "xyzzy",
] + PUNCTUATION

BE_FULLTEXT = [
    "кухня", "Кухня", "КУХНЯ", "кУхНя", "кухні", "кухню",
    "італьянская мова", "Італьянская", "урок", "ўрок", "Урок 1", "эспэранта", "Эспэранта",
    "азербайджанская", "Азербайджанская кухня", "польская кухня", "кухня -польская",
    "рэцэпт", "рэцэпт:квас", "суп з гарбуза", "квас", "чай", "сіроп", "сіропы", "кава",
    # stopword-like short words (no stemmer for Belarusian, no stopwords metadata)
    "і", "з", "ў", "у", "на", "гэта",
    # Esperanto words in the text, with and without the accent
    "esperanto", "Esperanto", "hodiaŭ", "hodiau",
    "C++", "c++", "1", "the",
    "xyzzy", "кухня.",
] + PUNCTUATION[:2]

BE_SUGGEST = [
    "кухня", "Кухня", "КУХНЯ", "кУХНя",
    "к", "К", "ку", "кух",
    "італьянская мова", "Італьянская м", "Эспэранта", "эспэранта", "эсп", "Эспэранта/А",
    "Урок 1", "урок", "ўрок", "Рэцэпт:", "рэцэпт", "рэцэпт:ч",
    "азербайджанская", "азербаиджанская", "вугорская", "венгерская",
    "c++", "C", "Main", "xyzzy", ".",
]

BE_NONS_SUGGEST = [
    "кухня", "Кухня", "к", "ку", "кух", "Эспэранта", "эсп", "урок", "Урок 1",
    "вугорская", "Вугорская кухня", "венгерская", "c++", "Main", "Першая", ".",
]

BE_WITHNS_SUGGEST = [
    "Эспэранта", "эспэранта", "Э", "Эсп", "кухня", "Вугорская", "Італьянская мова/", "Першая", ".",
]

EXAMPLE_FULLTEXT = [
    "freedombox", "FreedomBox", "wikibooks", "cookbook", "ginger", "ginger cookies", "open books",
    "Wikibooks, open books", "offline wikipedia", "debian", "apache2", "install", "installing",
    "español", "espanol", "Français", "francais", "the", "xyzzy", ".",
]

EXAMPLE_SUGGEST = [
    "Wiki", "wiki", "W", "F", "free", "freedombox", "FreedomBox for", "open world", "index",
    "index(2)", "Wikibooks_files", "xyz", ".",
]

SMALL_FULLTEXT = ["test", "Test", "TEST", "zim", "test zim file", "file", "xyz", "."]
SMALL_SUGGEST = ["Test", "test", "t", "Te", "Test Z", "zim", "favicon", "."]
TEST_SUGGEST = ["Test", "test", "Te", "article", "Test ZIM file - A", "."]

SPELLING_SUGGEST = [
    "Abent", "abent", "A", "a", "Ab", "Abenteuer", "Abenteur", "Applaus", "ap", "W", "Willkommen",
    # umlauts and sharp s, also as first letter
    "ä", "Ä", "ü", "Führ", "fuhr", "Phänomen", "phanomen", "hässlich", "hasslich", "beiß", "beis",
    "Über", "ß", "Lorem i", "lorem ipsum", "King Kong", "kong", "xyz", ".",
]

CORNER_SUGGEST = ["c", "C", "c#", "C#", "c_sharp", "c sharp", "empty", "e", "#", "&", ".", "html"]

BENCH_NEEDLES = ["zzneedle000000", "zzneedle000300", "zzneedle000700", "zzneedle001200",
                 "zzneedle001900", "ZZNEEDLE000100", "Zzneedle001500"]

BENCH_FULLTEXT = BENCH_NEEDLES + [
    "zzneedle", "zzneedle0001",
    "the", "of", "the of", "see also", "thudded", "owns", "euphemism", "thudded owns",
    "corm allergenic fireside", "zodiac output",
    "support", "supports", "supported", "supporting", "addict", "addicts", "ambush", "ambushed",
    "abductions", "absinthe", "banana", "aquavit asthma",
    "Buñuel", "bunuel", "BUÑUEL", "Düsseldorf", "dusseldorf", "Velázquez", "velazquez",
    "Aesculapius", "Sensurround", "Main Page",
    "xyzzyq", ".",
]

BENCH_SUGGEST = [
    "A", "a", "Ab", "Abb", "Aesculapius Bu", "aesculapius bun", "Buñuel", "bunuel", "Africa",
    "africa, h", "Foreman", "foreman, s", "sunbeam st", "the", "of", "zz", "Main", "Main Page", ".",
]

ARCHIVES = [
    ("zim", "libkiwix/zimfile.zim", RAY_FULLTEXT, RAY_SUGGEST),
    ("zim", "libkiwix/example.zim", EXAMPLE_FULLTEXT, EXAMPLE_SUGGEST),
    ("zim", "libkiwix/spelling_correction_test.zim", [], SPELLING_SUGGEST),
    ("zim", "libkiwix/corner_cases#&.zim", [], CORNER_SUGGEST),
    ("zim", "libkiwix/poor.zim", [], TEST_SUGGEST),
    ("zim", "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim", BE_FULLTEXT, BE_SUGGEST),
    ("zim", "zim-testing-suite/nons/wikibooks_be_all_nopic_2017-02.zim", [], BE_NONS_SUGGEST),
    ("zim", "zim-testing-suite/withns/wikibooks_be_all_nopic_2017-02.zim", [], BE_WITHNS_SUGGEST),
    ("zim", "zim-testing-suite/withns/small.zim", SMALL_FULLTEXT, SMALL_SUGGEST),
    ("zim", "zim-testing-suite/nons/small.zim", [], SMALL_SUGGEST),
    ("zim", "zim-testing-suite/noTitleListingV0/small.zim", [], SMALL_SUGGEST),
    ("zim", "zim-tools/good.zim", [], TEST_SUGGEST),
    ("zim", "zim-tools/poor.zim", [], TEST_SUGGEST),
    ("bench", "bench-2k.zim", BENCH_FULLTEXT, BENCH_SUGGEST),
]


# ---------------------------------------------------------------- asking libzim


def title_of(archive, path):
    try:
        return archive.get_entry_by_path(path).title
    except Exception:  # libzim raises KeyError (or RuntimeError) for a path it cannot find
        return None


def run(archive, results):
    estimated = results.getEstimatedMatches()
    return estimated, list(results.getResults(0, LIMIT))


def fulltext(archive, query):
    return run(archive, Searcher(archive).search(Query().set_query(query)))


def suggest(archive, query):
    return run(archive, SuggestionSearcher(archive).suggest(query))


def record(archive, ask, query, with_titles=True):
    rec = {"query": query}
    try:
        estimated, paths = ask(archive, query)
    except Exception as e:  # keep libzim's refusal as the expected answer
        rec["error"] = "%s: %s" % (type(e).__name__, e)
        return rec
    rec["estimated"] = estimated
    rec["paths"] = paths
    if with_titles:
        rec["titles"] = [title_of(archive, p) for p in paths]
    return rec


def check_unique(name, queries):
    seen = set()
    for q in queries:
        if q in seen:
            sys.exit("%s: query %r listed twice" % (name, q))
        seen.add(q)


def versions():
    v = libzim.version.get_versions()
    return {
        "libzim_python": importlib.metadata.version("libzim"),
        "libzim": v.get("libzim"),
        "libxapian": v.get("libxapian"),
        "libicu": v.get("libicu"),
    }


def expected(zim_dir, bench_dir):
    gen = versions()
    gen["limit"] = LIMIT
    gen["note"] = (
        "Made by tests/oracle/libzim_expected.py with the Python libzim package. "
        "fulltext: Searcher(a).search(Query().set_query(q)); suggest: SuggestionSearcher(a).suggest(q); "
        "estimated = getEstimatedMatches() (a Xapian estimate: it can differ from the number of "
        "paths even when all results fit in the page); paths = getResults(0, limit) in order, "
        "exactly as libzim gives them; titles = get_entry_by_path(path).title (null if that fails). "
        "A mode is listed only when the archive has its index, except suggest on an archive with "
        "no title index, which libzim answers from its title listing (see suggest_source). "
        "A query whose call raised has 'error' instead of results.")
    out = {"generator": gen, "archives": {}}
    bases = {"zim": zim_dir, "bench": bench_dir}
    for base, rel, ft_queries, sug_queries in ARCHIVES:
        if bases[base] is None:
            continue
        check_unique(rel + " fulltext", ft_queries)
        check_unique(rel + " suggest", sug_queries)
        archive = Archive(os.path.join(bases[base], rel))
        entry = {
            "base": base,
            "fulltext_index": archive.has_fulltext_index,
            "title_index": archive.has_title_index,
            "namespace_scheme": "new" if archive.has_new_namespace_scheme else "old",
        }
        if archive.has_fulltext_index and ft_queries:
            entry["fulltext"] = [record(archive, fulltext, q) for q in ft_queries]
        if sug_queries:
            entry["suggest_source"] = ("xapian title index" if archive.has_title_index
                                       else "title listing (no title index)")
            entry["suggest"] = [record(archive, suggest, q) for q in sug_queries]
        out["archives"][rel] = entry
    if bench_dir is not None:
        check_needles(out["archives"].get("bench-2k.zim"), os.path.join(bench_dir, "bench-2k.json"))
    return out


def check_needles(entry, manifest_path):
    """Each needle must find exactly its one article (the manifest says which)."""
    if entry is None or not os.path.exists(manifest_path):
        return
    with open(manifest_path, encoding="utf-8") as f:
        needles = json.load(f)["needles"]
    for rec in entry.get("fulltext", []):
        want = needles.get(rec["query"].lower())
        if want is not None and rec.get("paths") != [want]:
            print("warning: needle %r gave %r, manifest says %r" % (rec["query"], rec.get("paths"), want),
                  file=sys.stderr)


# ---------------------------------------------------------------- bench-20k


WORD = re.compile(r"[a-z]{3,}")
TAG = re.compile(r"<[^>]+>")


def article_words(entry):
    """The set of lower-case ASCII words in an HTML article's text."""
    text = html.unescape(TAG.sub(" ", bytes(entry.get_item().content).decode("utf-8", "replace")))
    return set(WORD.findall(text.lower()))


def body_document_frequencies(archive):
    """Document frequency of every word of the HTML articles' text, and the first
    entry id where each word occurs."""
    df = collections.Counter()
    first = {}
    for i in range(archive.all_entry_count):
        entry = archive._get_entry_by_id(i)  # the binding's only way to walk every entry
        if entry.is_redirect or entry.path == "Main_Page":
            continue
        if not entry.get_item().mimetype.startswith("text/html"):
            continue
        words = article_words(entry)
        df.update(words)
        for w in words:
            first.setdefault(w, i)
    return df, first


def bench20k(bench_dir):
    archive = Archive(os.path.join(bench_dir, "bench-20k.zim"))
    df, first = body_document_frequencies(archive)
    ranked = sorted(df, key=lambda w: (-df[w], w))
    common = ranked[:1500]                               # the most frequent body words
    rare = sorted(w for w in df if df[w] <= 3)          # words of at most 3 articles
    with open(os.path.join(bench_dir, "bench-20k.json"), encoding="utf-8") as f:
        needle_paths = json.load(f)["needles"]
    needles = sorted(needle_paths)
    rng = random.Random(BENCH20K_SEED)
    plan = []
    plan += [("common", w) for w in rng.sample(common, 60)]
    plan += [("rare", w) for w in rng.sample(rare, 60)]
    plan += [("common+common", "%s %s" % tuple(rng.sample(common, 2))) for _ in range(40)]
    plan += [("common+rare", "%s %s" % (rng.choice(common), rng.choice(rare))) for _ in range(10)]
    # A rare word and a common word of the same article: at least one hit.
    common_set = set(common)
    for w in rng.sample(rare, 10):
        mates = sorted(article_words(archive._get_entry_by_id(first[w])) & common_set)
        plan.append(("rare+common same article", "%s %s" % (w, rng.choice(mates))))
    plan += [("needle", w) for w in rng.sample(needles, 20)]
    queries = []
    seen = set()
    for kind, q in plan:
        if q in seen:
            continue
        seen.add(q)
        s = Searcher(archive).search(Query().set_query(q))
        queries.append({"query": q, "kind": kind, "estimated": s.getEstimatedMatches(),
                        "paths": list(s.getResults(0, BENCH20K_LIMIT))})
    for rec in queries:
        want = needle_paths.get(rec["query"])
        if want is not None and rec["paths"] != [want]:
            print("warning: needle %r gave %r, manifest says %r" % (rec["query"], rec["paths"], want),
                  file=sys.stderr)
    gen = versions()
    gen["limit"] = BENCH20K_LIMIT
    gen["seed"] = BENCH20K_SEED
    gen["note"] = (
        "Made by tests/oracle/libzim_expected.py --bench20k. Words come from the articles' body "
        "text (lower-case ASCII, 3+ letters): 'common' = among the 1500 highest document "
        "frequencies, 'rare' = in at most 3 articles ('rare+common same article' pairs a rare word "
        "with a common word of the first article holding it); needles come from bench-20k.json. "
        "paths = libzim's full-text getResults(0, limit) in order.")
    return {"generator": gen, "archive": "bench-20k.zim", "base": "bench", "queries": queries}


# ---------------------------------------------------------------- output


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zim-dir", help="shared/zim (libkiwix/, zim-testing-suite/, zim-tools/)")
    ap.add_argument("--bench-dir", help="shared/bench (bench-2k.zim, bench-20k.zim and manifests)")
    ap.add_argument("--bench20k", action="store_true",
                    help="write the bench-20k query check file instead (needs --bench-dir)")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    args = ap.parse_args(argv)
    if args.bench20k:
        if not args.bench_dir:
            ap.error("--bench20k needs --bench-dir")
        out = bench20k(args.bench_dir)
    else:
        if not args.zim_dir and not args.bench_dir:
            ap.error("give --zim-dir and/or --bench-dir")
        out = expected(args.zim_dir, args.bench_dir)
    data = dump(out) + "\n"
    json.loads(data)  # the output must load
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data.encode("utf-8"))


if __name__ == "__main__":
    main()
