"""Reading deploy/prometheus/alerts.yml: its structure, and the metric names its expressions use."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
RULES_FILE = REPO / "deploy" / "prometheus" / "alerts.yml"

# Series Prometheus makes itself for every target, not exposed by a service.
SCRAPE_SERIES = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})

_RULE_KEYS = frozenset({"alert", "expr", "for", "keep_firing_for", "labels", "annotations"})
_SEVERITIES = frozenset({"critical", "warning", "info"})
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# PromQL words that look like names: operators, modifiers and the clauses that take label lists.
_KEYWORDS = frozenset({"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"})
_KEYWORDS |= frozenset({"bool", "offset", "atan2", "inf", "nan"})
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def load_rules(path: Path = RULES_FILE) -> Any:
    """The parsed YAML of a rules file."""
    return yaml.safe_load(path.read_text())


def structure_problems(document: Any) -> list[str]:
    """What makes ``document`` not a Prometheus rule file as this project writes them (empty: none)."""
    if not isinstance(document, dict) or set(document) != {"groups"}:
        return ["the file must be a mapping with one key, groups"]
    groups = document["groups"]
    if not isinstance(groups, list) or not groups:
        return ["groups must be a non-empty list"]
    problems: list[str] = []
    group_names: set[str] = set()
    alert_names: set[str] = set()
    for group in groups:
        if not isinstance(group, dict) or set(group) - {"name", "interval", "rules"}:
            problems.append(f"group {group!r} has keys other than name, interval, rules")
            continue
        name = group.get("name")
        if not isinstance(name, str) or not name or name in group_names:
            problems.append(f"group name {name!r} is missing or repeated")
        group_names.add(str(name))
        rules = group.get("rules")
        if not isinstance(rules, list) or not rules:
            problems.append(f"group {name!r} has no rules")
            continue
        for rule in rules:
            problems.extend(_rule_problems(rule, alert_names))
    return problems


def _rule_problems(rule: Any, seen: set[str]) -> list[str]:
    if not isinstance(rule, dict):
        return [f"rule {rule!r} is not a mapping"]
    alert = rule.get("alert")
    where = f"alert {alert!r}"
    problems = [f"{where} has unknown keys {sorted(set(rule) - _RULE_KEYS)}"] if set(rule) - _RULE_KEYS else []
    if not isinstance(alert, str) or not _NAME.match(alert) or alert in seen:
        problems.append(f"{where}: the name is missing, not a valid name, or repeated")
    seen.add(str(alert))
    expr = rule.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        problems.append(f"{where} has no expression")
    elif (unbalanced := _unbalanced(expr)) is not None:
        problems.append(f"{where}: unbalanced {unbalanced!r} in its expression")
    for key in ("for", "keep_firing_for"):
        if key in rule and not (isinstance(rule[key], str) and _DURATION.match(rule[key])):
            problems.append(f"{where}: {key} {rule[key]!r} is not a duration")
    labels, annotations = rule.get("labels"), rule.get("annotations")
    if not isinstance(labels, dict) or labels.get("severity") not in _SEVERITIES:
        problems.append(f"{where}: labels.severity must be one of {sorted(_SEVERITIES)}")
    elif not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        problems.append(f"{where}: labels must map strings to strings")
    if not isinstance(annotations, dict) or not {"summary", "description"} <= set(annotations):
        problems.append(f"{where}: annotations need a summary and a description")
    return problems


def _unbalanced(expr: str) -> str | None:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for char in _without_strings(expr):
        if char in "([{":
            stack.append(char)
        elif char in pairs and (not stack or stack.pop() != pairs[char]):
            return char
    return stack[-1] if stack else None


def _without_strings(expr: str) -> str:
    return re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'', '""', expr)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords and label names left out)."""
    text = _without_strings(expr)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range and subquery durations
    text = _LABEL_LIST.sub(" ", text)  # by (...), on (...), ...
    names: set[str] = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group()
        follows = text[match.end() :].lstrip()[:1]
        before = text[: match.start()]
        if follows == "(" or word.lower() in _KEYWORDS or re.search(r"[0-9.]$", before):
            continue  # a function call, an operator word, or the unit of a number (1e3, 5m)
        names.add(word)
    return names


def rule_metric_names(document: Any) -> dict[str, set[str]]:
    """Each alert's name, with the metric names its expression uses."""
    return {rule["alert"]: metric_names(rule["expr"]) for group in document["groups"] for rule in group["rules"]}


def exposed_names(families: list[tuple[str, str]]) -> set[str]:
    """The series names a scrape can hold, from its metric families' (name, type)."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("_count", "_sum", "_created", ""),
        "gauge": ("",),
        "untyped": ("",),
    }
    return {name + suffix for name, kind in families for suffix in suffixes.get(kind, ("",))}
