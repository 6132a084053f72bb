#!/usr/bin/python3
"""promcheck: reads a /metrics text on stdin, parses it with the official
Prometheus Python client (what a scraper would accept) and prints one line
per family, "NAME TYPE SAMPLES", for a shell test to grep. Exits 1 with a
message when the text does not parse or a family of the watch contract
(docs: `wsr watch` metrics) is missing or of another type.

Run with /usr/bin/python3 (python3-prometheus-client)."""
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    sys.exit("promcheck: python3-prometheus-client is not installed")

CONTRACT = {
    "wsr_reconcile_total": "counter",
    "wsr_reconcile_duration_seconds": "histogram",
    "wsr_last_success_timestamp_seconds": "gauge",
    "wsr_changes_applied_total": "counter",
    "wsr_drift_detected_total": "counter",
    "wsr_errors_total": "counter",
    "wsr_source_fetch_duration_seconds": "histogram",
    "wsr_held_changes": "gauge",
    "wsr_source_info": "gauge",
}


def main():
    text = sys.stdin.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others
        print("promcheck: does not parse: %s" % e, file=sys.stderr)
        return 1
    seen = {}
    for f in families:
        # the client names a counter family without its _total suffix;
        # print the name as exposed, so lines match the contract
        name = f.name + "_total" if f.type == "counter" else f.name
        if name in seen:
            print("promcheck: family %s appears twice" % name, file=sys.stderr)
            return 1
        seen[name] = f.type
        print("%s %s %d" % (name, f.type, len(f.samples)))
    bad = 0
    for name, typ in CONTRACT.items():
        if name not in seen:
            print("promcheck: family %s is missing" % name, file=sys.stderr)
            bad = 1
        elif seen[name] != typ:
            print("promcheck: family %s is a %s, want %s" % (name, seen[name], typ),
                  file=sys.stderr)
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
