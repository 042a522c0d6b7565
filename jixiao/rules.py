"""The registry of rule ids: each id, its Chinese title and the cell its findings point at.

A module that emits findings declares its rules at the top with :func:`rule`,
beside the code that applies them; the reports and the docs read the titles
from here, and the checker reads where a finding points.

Example:
    >>> from jixiao import execution  # noqa: F401  (declares its rules on import)
    >>> title("execution.wrong_budget")
    '执行率用年初预算数作分母'
    >>> RULES["execution.wrong_budget"].points_at
    'funds.exec_rate'
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    title: str  # Chinese, as reports show it
    points_at: str | None = None  # a field key, or an indicator column ("score", "actual" …) for row rules


RULES: dict[str, Rule] = {}


def rule(rule_id: str, title: str, points_at: str | None = None) -> str:
    """Declare a rule; returns its id, to be used when the rule emits a finding."""
    known = RULES.get(rule_id)
    if known is not None and known != Rule(rule_id, title, points_at):
        raise ValueError(f"rule {rule_id} declared twice with different titles")
    RULES[rule_id] = Rule(rule_id, title, points_at)
    return rule_id


def error_codes(titles: dict[str, str]) -> None:
    """Declare the codes of the errors a module raises: each can become a finding of the file it stopped."""
    for rule_id, text in titles.items():
        rule(rule_id, text)


def title(rule_id: str) -> str:
    """The Chinese title of a rule id (the id itself for an unknown one)."""
    known = RULES.get(rule_id)
    return known.title if known else rule_id
