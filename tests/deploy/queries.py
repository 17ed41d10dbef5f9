"""Every PromQL expression of the dashboards and alert rules, and the metric names they use."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
RULES = DEPLOY / "prometheus" / "alerts.yml"

# What Grafana puts in place of its variables, for evaluating the queries directly.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$adapter": ".*",
    "$job": ".*",
    "$instance": ".*",
}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "bool", "offset"}
PROMQL_WORDS |= {"group_left", "group_right", "inf", "nan", "le"}
SYNTHETIC = {"up"}
"""Series Prometheus makes itself for every target."""


@dataclass(frozen=True)
class Query:
    source: str  # "<dashboard uid> / <panel title>" or "rule <alert name>"
    expr: str


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return [panel for panel in found if panel["type"] != "row"]


def dashboard_queries() -> list[Query]:
    return [
        Query(f"{board['uid']} / {panel['title']}", substitute(target["expr"]))
        for board in dashboards().values()
        for panel in panels(board)
        for target in panel["targets"]
    ]


def variable_queries() -> list[Query]:
    """The series selectors inside ``label_values(...)`` of the dashboards' variables."""
    found = []
    for board in dashboards().values():
        for variable in board["templating"]["list"]:
            match = re.fullmatch(r"label_values\((.+), *\w+\)", variable["query"]["query"])
            assert match, variable
            found.append(Query(f"{board['uid']} / ${variable['name']}", match.group(1)))
    return found


def rule_queries() -> list[Query]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [Query(f"rule {rule['alert']}", rule["expr"]) for g in groups for rule in g["rules"]]


def all_queries() -> list[Query]:
    return dashboard_queries() + variable_queries() + rule_queries()


def substitute(expr: str) -> str:
    for name in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, GRAFANA_VARIABLES[name])
    return expr


def metric_names(expr: str) -> set[str]:
    """Names of the series an expression reads (functions, keywords and labels left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        if following.startswith("("):
            continue  # a function
        name = match.group(0)
        if name.lower() in PROMQL_WORDS or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        names.add(name)
    return names


HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def exported_names(metric_text: str) -> set[str]:
    """Every series name of a /metrics page, also of families declared without samples yet
    (a running job's loss while none runs); a histogram's as its _bucket/_sum/_count."""
    names: set[str] = set()
    for line in metric_text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            suffixes = HISTOGRAM_SERIES if kind == "histogram" else ("",)
            names.update(name + suffix for suffix in suffixes)
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names
