#!/usr/bin/python3
"""Storage-level facts about the Xapian glass databases embedded in ZIM archives.

The Rust glass reader is unit-tested against these facts. The script does two things:

1. It finds the blobs of ``X/fulltext/xapian`` and ``X/title/xapian`` by parsing the
   ZIM format itself (header -> URL pointer list -> dirent -> cluster -> blob offset
   table), so it works for old-scheme and new-scheme archives alike. The blob must sit
   in an uncompressed cluster, as libzim requires. Each blob is written to
   ``--blob-dir`` as a single-file glass database.
2. It opens each blob with Debian's ``python3-xapian`` (the reference Xapian
   implementation) and records document counts, lengths, metadata, postlists,
   positions, values and the start of the vocabulary.

The output is deterministic: running it again gives identical bytes.

Run it with Debian's Python, which has the ``xapian`` module
(``apt-get install -y python3-xapian xapian-tools``), from the repository root:

    /usr/bin/python3 tests/oracle/glass_facts.py --zim-dir ../shared/zim \
        --blob-dir /tmp/oracle/blobs > tests/data/glass_facts.json
"""

import argparse
import hashlib
import json
import os
import struct
import sys

from stable_json import dump

ZIM_MAGIC = 72173914  # 0x044D495A

# Each database: the archive (relative to --zim-dir), which index, the terms whose
# statistics and postlists are recorded (some absent on purpose: accented or
# unfolded spellings that the writer never stores, a missing 0posanchor, ...),
# the terms whose positions are recorded (title DBs only: full-text DBs have no
# position table) and the docids whose length, data and values are recorded
# ("last" stands for the database's last docid).
DATABASES = [
    {
        "archive": "libkiwix/zimfile.zim",
        "kind": "fulltext",
        "terms": ["piano", "the", "ray", "charl", "charles", "song", "songs", "1959",
                  "ertegun", "ertegün", "aspartam", "broccoli", "r&b", "what'd", "1,000,000",
                  "Zpiano", "zz_absent"],
        "position_terms": [],
        "docids": [1, 2, 3, 10, 50, 100, "last"],
    },
    {
        "archive": "libkiwix/zimfile.zim",
        "kind": "title",
        "terms": ["0posanchor", "ray", "Zray", "rays", "charles", "Zcharl", "song", "Zsong",
                  "the", "virginny", "loan", "lóan", "what'd", "r&b", "1927", "zz_absent"],
        "position_terms": ["ray", "charles", "the", "Zray"],
        "docids": [1, 2, 3, 10, 50, 100, "last"],
    },
    {
        "archive": "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim",
        "kind": "fulltext",
        "terms": ["кухня", "кухні", "і", "у", "ў", "урок", "эспэранта", "азербаиджанская",
                  "азербайджанская", "esperanto", "hodiau", "hodiaŭ", "c++", "1", "the",
                  "Zкухня", "zz_absent"],
        "position_terms": [],
        "docids": [1, 2, 3, 10, 30, "last"],
    },
    {
        "archive": "zim-testing-suite/noTitleListingV0/wikibooks_be_all_nopic_2017-02.zim",
        "kind": "title",
        "terms": ["0posanchor", "кухня", "Zкухня", "эспэранта", "Zэспэранта", "урок",
                  "італьянская", "мова", "азербаиджанская", "азербайджанская", "c++", "Zc++",
                  "1", "zz_absent"],
        "position_terms": ["0posanchor", "кухня", "мова", "Zкухня"],
        "docids": [1, 2, 3, 10, 30, "last"],
    },
    # Not one of the four main databases: a small old-style title DB (ZIM 5.1 with new-scheme
    # paths) whose metadata carries a stopword list ("test" is a stopword) and whose document
    # data are paths with no namespace: libzim 9 cuts two characters off them in suggestions.
    {
        "archive": "libkiwix/poor.zim",
        "kind": "title",
        "terms": ["0posanchor", "test", "zim", "Zzim", "article", "Zarticl", "main", "1"],
        "position_terms": ["zim", "article"],
        "docids": [1, 2, "last"],
    },
]

POSTLIST_LIMIT = 300
VOCAB_HEAD = 50


# ---------------------------------------------------------------- ZIM parsing


class Zim:
    """Just enough of the ZIM format to find an X/ blob (stdlib only)."""

    def __init__(self, path):
        self.path = path
        self.f = open(path, "rb")
        head = self.f.read(80)
        (magic, self.major, self.minor) = struct.unpack_from("<IHH", head, 0)
        if magic != ZIM_MAGIC:
            raise ValueError("%s: not a ZIM file" % path)
        (self.entry_count, self.cluster_count, self.url_ptr_pos, _title_ptr_pos,
         self.cluster_ptr_pos) = struct.unpack_from("<IIQQQ", head, 24)

    def close(self):
        self.f.close()

    def read_at(self, offset, size):
        self.f.seek(offset)
        data = self.f.read(size)
        if len(data) != size:
            raise ValueError("short read at %d" % offset)
        return data

    def dirent(self, index):
        (ptr,) = struct.unpack("<Q", self.read_at(self.url_ptr_pos + 8 * index, 8))
        self.f.seek(ptr)
        raw = self.f.read(16 + 4096)  # dirent header + generous room for the strings
        (mime, _plen, ns, _rev) = struct.unpack_from("<HBcI", raw, 0)
        if mime == 0xFFFF:
            cluster = blob = None
            pos = 12
        else:
            (cluster, blob) = struct.unpack_from("<II", raw, 8)
            pos = 16
        end = raw.index(b"\0", pos)
        url = raw[pos:end].decode("utf-8")
        return ns.decode("ascii"), url, mime, cluster, blob

    def find(self, namespace, url):
        """Binary search of the URL-sorted dirent list for (namespace, url)."""
        key = (namespace.encode("ascii"), url.encode("utf-8"))
        lo, hi = 0, self.entry_count
        while lo < hi:
            mid = (lo + hi) // 2
            ns, u, mime, cluster, blob = self.dirent(mid)
            k = (ns.encode("ascii"), u.encode("utf-8"))
            if k == key:
                return mid, mime, cluster, blob
            if k < key:
                lo = mid + 1
            else:
                hi = mid
        return None

    def blob_location(self, cluster, blob):
        """(absolute offset, size, compression byte) of an uncompressed blob."""
        (cpos,) = struct.unpack("<Q", self.read_at(self.cluster_ptr_pos + 8 * cluster, 8))
        info = self.read_at(cpos, 1)[0]
        compression = info & 0x0F
        if compression not in (0, 1):
            raise ValueError("cluster %d is compressed (type %d): no direct access" % (cluster, compression))
        width = 8 if info & 0x10 else 4
        fmt = "<Q" if width == 8 else "<I"
        (first,) = struct.unpack(fmt, self.read_at(cpos + 1, width))
        count = first // width - 1
        if blob >= count:
            raise ValueError("blob %d out of range in cluster %d" % (blob, cluster))
        (start, end) = struct.unpack("<" + fmt[1] * 2, self.read_at(cpos + 1 + width * blob, 2 * width))
        return cpos + 1 + start, end - start, info


def extract_blob(zim_path, kind, blob_dir, name):
    """Write X/<kind>/xapian of zim_path to blob_dir/name; return facts about it."""
    z = Zim(zim_path)
    try:
        found = z.find("X", "%s/xapian" % kind)
        if found is None:
            raise ValueError("%s has no X/%s/xapian" % (zim_path, kind))
        index, mime, cluster, blob = found
        if mime == 0xFFFF:
            raise ValueError("X/%s/xapian is a redirect" % kind)
        offset, size, info = z.blob_location(cluster, blob)
        data = z.read_at(offset, size)
    finally:
        z.close()
    os.makedirs(blob_dir, exist_ok=True)
    out = os.path.join(blob_dir, name)
    with open(out, "wb") as f:
        f.write(data)
    return out, {
        "zim_version": "%d.%d" % (z.major, z.minor),
        "dirent_index": index,
        "cluster": cluster,
        "blob": blob,
        "cluster_info_byte": info,
        "blob_offset": offset,
        "blob_size": size,
        "blob_sha256": hashlib.sha256(data).hexdigest(),
        "blob_magic_hex": data[:14].hex(),
        "blocks_8k": size / 8192,
    }


# ---------------------------------------------------------------- Xapian facts


def text(b):
    """Xapian returns bytes; keep UTF-8 text as text and anything else as hex."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": b.hex()}


def resolve(docid, db):
    return db.get_lastdocid() if docid == "last" else docid


def describe(xapian, path, spec):
    db = xapian.Database(path)
    last = db.get_lastdocid()
    facts = {
        "doccount": db.get_doccount(),
        "lastdocid": last,
        "avlength": db.get_avlength(),
        "total_length": db.get_total_length(),
        "doclength_lower_bound": db.get_doclength_lower_bound(),
        "doclength_upper_bound": db.get_doclength_upper_bound(),
        "has_positions": db.has_positions(),
        "revision": db.get_revision(),
        "uuid": text(db.get_uuid()),
    }

    facts["metadata"] = {text(k): text(db.get_metadata(k)) for k in db.metadata_keys()}

    terms = {}
    for term in spec["terms"]:
        tb = term.encode("utf-8")
        entry = {"termfreq": db.get_termfreq(tb), "collection_freq": db.get_collection_freq(tb),
                 "exists": db.term_exists(tb)}
        if entry["exists"]:
            entry["wdf_upper_bound"] = db.get_wdf_upper_bound(tb)
            pairs = [[p.docid, p.wdf] for p in db.postlist(tb)]
            entry["postlist_count"] = len(pairs)
            entry["postlist"] = pairs[:POSTLIST_LIMIT]
            entry["postlist_truncated"] = len(pairs) > POSTLIST_LIMIT
        terms[term] = entry
    facts["terms"] = terms

    # The whole vocabulary in order: its size, its first and last terms, and the most
    # frequent terms (ties broken by term bytes).
    all_terms = []
    for t in db.allterms():
        all_terms.append((t.term, t.termfreq))
    facts["term_count"] = len(all_terms)
    facts["first_terms"] = [text(t) for t, _ in all_terms[:VOCAB_HEAD]]
    facts["last_terms"] = [text(t) for t, _ in all_terms[-10:]]
    top = sorted(all_terms, key=lambda x: (-x[1], x[0]))[:10]
    facts["top_termfreq"] = [[text(t), f] for t, f in top]
    facts["prefix_counts"] = {
        "Z": sum(1 for t, _ in all_terms if t.startswith(b"Z")),
        "uppercase_ascii_start": sum(1 for t, _ in all_terms if t[:1].isupper()),
    }

    docs = []
    for d in spec["docids"]:
        docid = resolve(d, db)
        entry = {"doclength": db.get_doclength(docid)}
        doc = db.get_document(docid)
        entry["data"] = text(doc.get_data())
        # doc.values() needs the termlist table, which recent writers leave out;
        # get_value() reads the value streams and always works.
        entry["values"] = {str(slot): text(doc.get_value(slot)) for slot in (0, 1, 2)
                           if doc.get_value(slot)}
        entry["values_via_termlist"] = {str(v.num): text(v.value) for v in doc.values()}
        try:
            tl = [text(t.term) for t in db.termlist(docid)]
            entry["termlist_count"] = len(tl)
            entry["termlist_head"] = tl[:20]
        except xapian.Error as e:
            entry["termlist_error"] = type(e).__name__
        entry["docid"] = docid
        docs.append(entry)
    facts["documents"] = docs

    slots = {}
    for slot in (0, 1, 2):
        slots[str(slot)] = {
            "value_freq": db.get_value_freq(slot),
            "lower_bound": text(db.get_value_lower_bound(slot)),
            "upper_bound": text(db.get_value_upper_bound(slot)),
        }
    facts["value_slots"] = slots

    # Positions of each term in the first 3 documents of its postlist and in its last one.
    positions = []
    for term in spec["position_terms"]:
        tb = term.encode("utf-8")
        docids = [p.docid for p in db.postlist(tb)] if db.term_exists(tb) else []
        picks = sorted(set(docids[:3] + docids[-1:]))
        for docid in picks:
            positions.append({"term": term, "docid": docid,
                              "positions": list(db.positionlist(docid, tb)),
                              "wdf": next(p.wdf for p in db.postlist(tb) if p.docid == docid)})
    facts["positions"] = positions
    db.close()
    return facts


def delve_version():
    import subprocess
    try:
        out = subprocess.run(["xapian-delve", "--version"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zim-dir", required=True, help="directory holding libkiwix/ and zim-testing-suite/")
    ap.add_argument("--blob-dir", default="/tmp/oracle/blobs", help="where the extracted blobs are written")
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    args = ap.parse_args(argv)

    import xapian

    out = {
        "generator": {
            "tool": "python3-xapian (Debian) " + xapian.version_string(),
            "xapian_delve": delve_version(),
            "note": "Produced by tests/oracle/glass_facts.py. Blobs are found by parsing the ZIM "
                    "file (blob_offset is absolute in the archive) and opened as single-file glass "
                    "databases. Postlists are [docid, wdf] pairs, cut to the first %d entries "
                    "(postlist_count is the full length). Terms are UTF-8; stems in title DBs carry "
                    "the 'Z' prefix. A term listed with exists=false is absent on purpose." % POSTLIST_LIMIT,
        },
        "databases": [],
    }
    for spec in DATABASES:
        zim_path = os.path.join(args.zim_dir, spec["archive"])
        stem = spec["archive"].replace("/", "__").replace(".zim", "")
        name = "%s.%s.glass" % (stem, spec["kind"])
        blob_path, blob = extract_blob(zim_path, spec["kind"], args.blob_dir, name)
        entry = {"archive": spec["archive"], "entry": "X/%s/xapian" % spec["kind"],
                 "kind": spec["kind"], "blob_file": name}
        entry.update(blob)
        entry.update(describe(xapian, blob_path, spec))
        out["databases"].append(entry)

    data = dump(out) + "\n"
    json.loads(data)  # the output must load
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(data)
    else:
        sys.stdout.write(data)


if __name__ == "__main__":
    main()
