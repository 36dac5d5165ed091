"""JSON that regenerates byte for byte: keys sorted, UTF-8 text kept as it is, and each list
of scalars (or of scalar lists) on one line, so the expected-results files stay readable and
their diffs small. Shared by the scripts beside it."""

import json


def _flat(v):
    return not isinstance(v, (dict, list)) or (
        isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v))


def dump(obj, level=0):
    """`obj` as JSON text, indented by `level` spaces."""
    pad = " " * level
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = ["%s %s: %s" % (pad, json.dumps(k, ensure_ascii=False), dump(obj[k], level + 1))
                 for k in sorted(obj)]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and obj and not all(_flat(x) for x in obj):
        items = ["%s %s" % (pad, dump(x, level + 1)) for x in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
