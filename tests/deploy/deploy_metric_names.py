"""Metric family names that the Grafana dashboard and the Prometheus alert rules query.

The end-to-end test scrapes every running service and checks that at least one of them exports
each name that metric_names_used() returns. The deploy test checks the same names against
core/metrics/metrics.cc.

Only names that start with ``reftune_`` are returned. Series that Prometheus makes itself, such
as ``up`` and ``ALERTS``, are left out because no reftune process exports them. Histogram series
names lose their ``_bucket``, ``_sum`` and ``_count`` suffix, so the result matches the family
names in ``# TYPE`` lines of the text exposition format.
"""

import json
import pathlib
import re

import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARD_DIR = REPO_ROOT / "deploy" / "grafana" / "dashboards"
ALERT_RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

# A metric name starting with reftune_, not preceded by a character that could continue an
# identifier or a recording-rule name (job:reftune_x:rate5m names no exported family).
_METRIC_NAME = re.compile(r"(?<![A-Za-z0-9_:])reftune_[A-Za-z0-9_]*(?![A-Za-z0-9_:])")
# PromQL string literals: label values and regular expressions may contain anything.
_STRING_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_COMMENT = re.compile(r"#[^\n]*")


def strip_histogram_suffix(name):
    """Return the family name of a series name: without _bucket, _sum or _count."""
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def metric_names_in_expression(expression):
    """Return the reftune_ family names that one PromQL expression selects."""
    code = _STRING_LITERAL.sub('""', expression)
    code = _COMMENT.sub("", code)
    return {strip_histogram_suffix(name) for name in _METRIC_NAME.findall(code)}


def _panels(panels):
    for panel in panels:
        yield panel
        # Collapsed rows keep their panels inside the row.
        yield from _panels(panel.get("panels", []))


def dashboard_expressions(path):
    """Yield (where, expression) for every PromQL query of one Grafana dashboard file."""
    dashboard = json.loads(pathlib.Path(path).read_text())
    for panel in _panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield f"{path.name}: panel {panel.get('title')!r}", target["expr"]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if query:
            yield f"{path.name}: variable {variable.get('name')!r}", query


def alert_expressions(path=ALERT_RULES):
    """Yield (where, expression) for every alerting and recording rule of one rule file."""
    rules = yaml.safe_load(pathlib.Path(path).read_text())
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            yield f"{path.name}: rule {name}", rule["expr"]


def all_expressions():
    """Yield (where, expression) for the dashboards in deploy/grafana and deploy/prometheus's rules."""
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        yield from dashboard_expressions(path)
    yield from alert_expressions(ALERT_RULES)


def metric_names_used():
    """Return the set of reftune_ metric family names used by the dashboards and alert rules."""
    names = set()
    for _, expression in all_expressions():
        names |= metric_names_in_expression(expression)
    return names


if __name__ == "__main__":
    for metric_name in sorted(metric_names_used()):
        print(metric_name)
