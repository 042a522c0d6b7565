"""Rule profiles: every number a finance bureau could change, kept as data.

A profile is a TOML file. The shipped ones live in ``jixiao/profiles/``; a
user may pass a path to a file of their own, which may ``extends`` a shipped
profile and override only a few keys. Tables merge key by key; lists (bands,
grades, weights) are replaced whole. Every value is validated on load and a
bad one is reported with the file and the key.

Each rule may say where it comes from in a ``[sources.<key>]`` table
(``confidence = "official" | "inferred"``, ``source = "…"``): a disagreement
with an official rule is an error, with an inferred one a warning that names
the assumed rule (:meth:`Profile.settled`, :meth:`Profile.assumed`). A key
without a table inherits its parent's (``indicators.rounding`` → ``indicators``);
a profile without any is official throughout, as before sources existed.
``[profile] provinces / levels / years`` say which forms the profile is written
for, when the checker chooses a profile from the form itself.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, overload

from .errors import ProfileError
from .numbers import RoundMode, round_excel
from .rules import error_codes

error_codes({
    "profile.cycle": "规则配置循环继承",
    "profile.encoding": "规则配置文件编码错误",
    "profile.not_found": "找不到规则配置",
    "profile.syntax": "规则配置文件格式错误",
    "profile.unknown_control": "规则配置中没有此控制率",
})


DEFAULT_PROFILE = "national-2020"
FORM_KINDS = ("dept-province", "dept-city", "dept-county", "project", "county-rubric", "project-summary")
_MISSING = object()


# ---------------------------------------------------------------------------
# Validated pieces


@dataclass(frozen=True)
class Rounding:
    """``decimals=None``: no rounding. ``mode``: half_up (Excel ROUND), up, down."""

    decimals: int | None = 2
    mode: RoundMode = "half_up"

    def apply(self, x: float) -> float:
        """Round ``x`` by this rule.

        Example:
            >>> Rounding(0, "up").apply(8.452), Rounding(2).apply(1.005), Rounding(None).apply(8.452)
            (9.0, 1.01, 8.452)
        """
        return round_excel(x, self.decimals, self.mode)


@dataclass(frozen=True)
class Band:
    """An interval of a rate and the share of the weight it earns."""

    share: float
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    def contains(self, x: float) -> bool:
        """Whether the rate ``x`` lies in this band (bounds by their ``*_inclusive`` flags).

        Example:
            >>> b = Band(share=0.75, min=0.90, max=0.95, max_inclusive=False)
            >>> b.contains(0.9216), b.contains(0.95)
            (True, False)
        """
        if self.min is not None and (x < self.min or (x == self.min and not self.min_inclusive)):
            return False
        if self.max is not None and (x > self.max or (x == self.max and not self.max_inclusive)):
            return False
        return True


@dataclass(frozen=True)
class TotalCap:
    """When 执行率 is below ``below``, the form's total may not exceed ``max_total``."""

    below: float
    max_total: float


@dataclass(frozen=True)
class Family:
    """The plausible rules where a rule is not settled (DOMAIN.md §4): a found score that none of them gives
    is an error, one that some gives is a warning naming it. ``methods``: proportional (rate × 分值, capped)
    and/or bands (the profile's bands); ``round_modes`` × ``decimals``: every rounding tried;
    ``rate_as_displayed``: the rate also as the form shows it (to its own decimals)."""

    methods: tuple[str, ...] = ("proportional",)
    round_modes: tuple[str, ...] = ("half_up", "up", "down")
    decimals: tuple[int, ...] = (0, 2)
    rate_as_displayed: bool = True
    source: str = ""


@dataclass(frozen=True)
class ExecutionRule:
    weight: float
    method: str  # proportional | bands
    cap_at_weight: bool
    rounding: Rounding
    bands: tuple[Band, ...] = ()
    total_cap_enabled: bool = False
    total_cap: tuple[TotalCap, ...] = ()
    family: Family = Family()


@dataclass(frozen=True)
class QualGrade:
    label: str
    min: float
    max: float


@dataclass(frozen=True)
class IndicatorRule:
    rounding: Rounding
    over_achievement_ratio: float
    reverse_miss: str  # relative | zero
    equal_miss: str  # relative | zero
    approx_tolerance: float
    approx_as: str  # positive | equal
    reason_required_below_full: bool
    reason_recommended_over_achievement: bool
    qualitative_default: str  # upper | lower
    grades: tuple[QualGrade, ...]
    not_met_words: tuple[str, ...]
    partly_met_words: tuple[str, ...]
    score_tolerance: float = 0.005  # a reported score this close to the rule's counts as equal
    met_words: tuple[str, ...] = ()  # words showing a qualitative target achieved; () = jixiao's list
    floor_names: tuple[str, ...] = ()  # 三级指标 names that are by nature a floor (满意度 …): a bare rate reads as ≥
    family: Family = Family(methods=(), decimals=(0, 1, 2))  # roundings tried on the official formula

    def grade(self, label: str) -> QualGrade | None:
        """The 定性 grade labelled ``label``, or whose label starts with it (two characters at least); None if none.

        Example:
            >>> load_profile().indicators.grade("部分达成").label
            '部分达成并具有一定效果'
        """
        key = label.strip()
        for g in self.grades:
            if g.label == key or g.label.startswith(key) and len(key) >= 2:
                return g
        return None


@dataclass(frozen=True)
class WeightRule:
    total: float
    first_level: dict[str, float]
    first_level_severity: str
    sum_row_includes_execution: bool
    execution_separate: bool
    tolerance: float


@dataclass(frozen=True)
class GradeBand:
    min: float
    label: str


@dataclass(frozen=True)
class ControlRule:
    """How one control rate is scored.

    rule: ``ceiling`` (full at or below threshold, ``step`` points off per
    percentage point above), ``floor`` (full at or above, off per point below),
    ``target`` (full at threshold, off per point either way), ``bands``, or
    ``proportional`` (rate × weight, at most the weight).
    """

    key: str
    name: str
    rule: str
    weight: float
    threshold: float | None
    thresholds: dict[str, float]
    step: float
    bands: tuple[Band, ...]
    rounding: Rounding


@dataclass(frozen=True)
class Source:
    """Where a profile key comes from: ``official`` (a document settles it) or ``inferred`` (read off forms)."""

    confidence: str  # official | inferred
    note: str = ""  # the document, or what the value was inferred from (Chinese)


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    source: str
    description: str
    execution: ExecutionRule
    indicators: IndicatorRule
    weights: WeightRule
    grade: tuple[GradeBand, ...]
    funds_tolerance: float
    controls: dict[str, ControlRule]
    label_split_columns: dict[str, str] = field(default_factory=dict)  # income/spending → 全年预算数 …
    rubric_weights: dict[str, float] = field(default_factory=dict)  # 三级指标 → 分值 (county rubric)
    rubric_groups: dict[str, float] = field(default_factory=dict)  # 二级指标 → 分值 where rows are set by the form
    forms: tuple[str, ...] = ()  # [profile] forms: the form kinds this profile is written for; () = any form
    provinces: tuple[str, ...] = ()  # [profile] provinces: where the profile applies (湖南 …); () = anywhere
    levels: tuple[str, ...] = ()  # [profile] levels: 省级 / 市级 / 县级 / 乡镇; () = any level
    years: tuple[int, ...] = ()  # [profile] years: the form years it was written for; () = any year
    sources: dict[str, Source] = field(default_factory=dict)  # [sources.<key>]: where each rule comes from
    path: str = ""
    chain: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def key_source(self, key: str) -> Source:
        """Where the rule ``key`` (``execution``, ``indicators.formula`` …) comes from, and how sure it is.

        A key without its own ``[sources.<key>]`` table inherits its parent's (``indicators`` for
        ``indicators.rounding``); a profile that says nothing is official (the behaviour before sources existed).
        """
        k = key
        while k:
            if k in self.sources:
                return self.sources[k]
            k = k.rpartition(".")[0]
        return Source("official", self.source)

    def settled(self, key: str) -> bool:
        """Whether a disagreement with rule ``key`` is an error (settled by an official document)."""
        return self.key_source(key).confidence == "official"

    def assumed(self, key: str) -> str:
        """How a warning names an assumed rule: '（按推定规则：…；来源：…）'."""
        src = self.key_source(key)
        return f"（按推定规则 {self.id} [{key}]：{src.note or '无正式文件'}）" if src.confidence != "official" else ""

    def fits(self, kind: str) -> bool:
        """Whether this profile is meant for a form of ``kind`` (a template kind, or "dept"/"project" as read
        from a form without jixiao's template). A profile without ``forms`` fits every form."""
        if not self.forms or kind in self.forms:
            return True
        return kind == "dept" and any(f.startswith("dept-") for f in self.forms)  # 部门整体, any level

    def control(self, key: str) -> ControlRule:
        """The rule of control rate ``key``; ProfileError when the profile has none.

        Example:
            >>> load_profile("county-rubric-2022").control("staff_control").step
            0.2
        """
        try:
            return self.controls[key]
        except KeyError:
            names = "、".join(self.controls) or "无"
            raise ProfileError(f"规则配置中没有控制率“{key}”，可用：{names}",
                               code="profile.unknown_control", file=self.path) from None


# ---------------------------------------------------------------------------
# Loading


def shipped_profiles() -> list[str]:
    """Names of the profiles shipped with jixiao.

    Example:
        >>> {"national-2020", "hunan-dept-2024", "county-rubric-2022"} <= set(shipped_profiles())
        True
    """
    root = resources.files("jixiao.profiles")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError("规则配置文件不存在", code="profile.not_found", file=label) from None
    except UnicodeDecodeError:
        raise ProfileError("规则配置文件不是 UTF-8 编码", code="profile.encoding", file=label) from None
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"TOML 格式错误：{e}", code="profile.syntax", file=label) from None


def _locate(ref: str, base: Path | None) -> tuple[Path, str]:
    p = Path(ref)
    if ref.endswith(".toml") or p.exists() and p.is_file():
        if not p.is_absolute() and base is not None and not p.exists():
            p = base / p
        return p, str(p)
    shipped = resources.files("jixiao.profiles") / f"{ref}.toml"
    if not shipped.is_file():
        raise ProfileError(f"找不到规则配置“{ref}”，内置配置有：{'、'.join(shipped_profiles())}",
                           code="profile.not_found", file=ref)
    return Path(str(shipped)), f"jixiao/profiles/{ref}.toml"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _load_raw(ref: str, base: Path | None, seen: tuple[str, ...]) -> tuple[dict[str, Any], str, tuple[str, ...]]:
    path, label = _locate(ref, base)
    key = str(path.resolve())
    if key in seen:
        raise ProfileError(f"规则配置循环继承：{' → '.join(seen)} → {label}", code="profile.cycle", file=label)
    data = _read_toml(path, label)
    parent = data.get("profile", {}).get("extends")
    if parent:
        if not isinstance(parent, str):
            raise ProfileError("extends 应为配置名或文件路径", file=label, key="profile.extends")
        pdata, _, chain = _load_raw(parent, path.parent, seen + (key,))
        own = {k: v for k, v in data.items()}
        own_profile = dict(own.get("profile", {}))
        own_profile.pop("extends", None)
        merged = _merge(pdata, {**own, "profile": _merge(pdata.get("profile", {}), own_profile)})
        return merged, label, chain + (label,)
    return data, label, (label,)


def load_profile(ref: str | Path | Profile | None = None) -> Profile:
    """Load a shipped profile by name (``hunan-dept-2024``) or a TOML file by path.

    Example:
        >>> p = load_profile("hunan-dept-2024")
        >>> p.execution.weight, p.execution.rounding
        (10.0, Rounding(decimals=0, mode='up'))
        >>> p.chain
        ('jixiao/profiles/national-2020.toml', 'jixiao/profiles/hunan-dept-2024.toml')
        >>> load_profile().id
        'national-2020'
        >>> load_profile("no-such-profile")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        jixiao.errors.ProfileError: no-such-profile: 找不到规则配置“no-such-profile”，内置配置有：...national-2020... [profile.not_found]
    """
    if isinstance(ref, Profile):
        return ref
    ref = str(ref) if ref else DEFAULT_PROFILE
    p = Path(ref)
    stamp = p.stat().st_mtime_ns if p.is_file() else 0
    return _load_cached(ref, stamp)


@lru_cache(maxsize=64)
def _load_cached(ref: str, stamp: int) -> Profile:
    data, label, chain = _load_raw(ref, None, ())
    return _build(data, label, chain)


# ---------------------------------------------------------------------------
# Validation


class _Reader:
    def __init__(self, data: dict[str, Any], file: str, prefix: str = ""):
        self.data, self.file, self.prefix = data, file, prefix

    def _err(self, key: str, msg: str) -> ProfileError:
        return ProfileError(msg, file=self.file, key=f"{self.prefix}{key}")

    def sub(self, key: str, required: bool = True) -> "_Reader":
        v = self.data.get(key, _MISSING)
        if v is _MISSING:
            if required:
                raise self._err(key, "缺少此项")
            v = {}
        if not isinstance(v, dict):
            raise self._err(key, "应为表（[section]）")
        return _Reader(v, self.file, f"{self.prefix}{key}.")

    def get(self, key: str, default: Any = _MISSING) -> Any:
        v = self.data.get(key, default)
        if v is _MISSING:
            raise self._err(key, "缺少此项")
        return v

    @overload
    def num(self, key: str, default: Any = ..., lo: float | None = ..., hi: float | None = ...,
            optional: Literal[False] = ...) -> float: ...

    @overload
    def num(self, key: str, default: Any = ..., lo: float | None = ..., hi: float | None = ...,
            optional: bool = ...) -> float | None: ...

    def num(self, key: str, default: Any = _MISSING, lo: float | None = None, hi: float | None = None,
            optional: bool = False) -> float | None:
        v = self.data.get(key, default)
        if v is _MISSING:
            raise self._err(key, "缺少此项")
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self._err(key, f"应为数字，实际为 {v!r}")
        if lo is not None and v < lo or hi is not None and v > hi:
            raise self._err(key, f"应在 {lo} 与 {hi} 之间，实际为 {v}")
        return float(v)

    def text(self, key: str, default: Any = _MISSING, choices: tuple[str, ...] | None = None) -> str:
        v = self.get(key, default)
        if not isinstance(v, str):
            raise self._err(key, f"应为文字，实际为 {v!r}")
        if choices and v not in choices:
            raise self._err(key, f"应为 {' / '.join(choices)} 之一，实际为 {v!r}")
        return v

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        v = self.get(key, default)
        if not isinstance(v, bool):
            raise self._err(key, f"应为 true 或 false，实际为 {v!r}")
        return v

    def items(self, key: str, default: Any = _MISSING) -> list[Any]:
        v = self.get(key, default)
        if not isinstance(v, list):
            raise self._err(key, f"应为列表，实际为 {v!r}")
        return v

    def rounding(self) -> Rounding:
        d = self.data.get("decimals", None)
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 10):
            raise self._err("decimals", f"应为 0–10 的整数，或省略表示不取整，实际为 {d!r}")
        return Rounding(d, self.text("round_mode", "half_up", ("half_up", "up", "down")))  # type: ignore[arg-type]

    def family(self, methods: tuple[str, ...], decimals: tuple[int, ...]) -> Family:
        """The ``family`` sub-table: the plausible rules (defaults when absent)."""
        f = self.sub("family", required=False)
        ms = tuple(str(m) for m in f.items("methods", list(methods)))
        for m in ms:
            if m not in ("proportional", "bands"):
                raise f._err("methods", f"未知的计分方法“{m}”，可用：proportional、bands")
        modes = tuple(str(m) for m in f.items("round_modes", ["half_up", "up", "down"]))
        for m in modes:
            if m not in ("half_up", "up", "down"):
                raise f._err("round_modes", f"未知的取整方式“{m}”，可用：half_up、up、down")
        ds = tuple(f.items("decimals", list(decimals)))
        if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 10 for d in ds):
            raise f._err("decimals", f"应为 0–10 的整数列表，实际为 {list(ds)!r}")
        return Family(ms, modes, ds, f.flag("rate_as_displayed", True), f.text("source", ""))

    def bands(self, key: str) -> tuple[Band, ...]:
        out = []
        for i, b in enumerate(self.items(key, [])):
            if not isinstance(b, dict):
                raise self._err(f"{key}[{i}]", "应为 {min = …, share = …} 形式")
            r = _Reader(b, self.file, f"{self.prefix}{key}[{i}].")
            unknown = set(b) - {"min", "max", "min_inclusive", "max_inclusive", "share"}
            if unknown:
                raise r._err(sorted(unknown)[0], "未知的键")
            out.append(Band(share=r.num("share", lo=0, hi=1), min=r.num("min", None, optional=True),
                            max=r.num("max", None, optional=True), min_inclusive=r.flag("min_inclusive", True),
                            max_inclusive=r.flag("max_inclusive", True)))
        return tuple(out)


def _build(data: dict[str, Any], file: str, chain: tuple[str, ...]) -> Profile:
    root = _Reader(data, file)
    meta = root.sub("profile")
    ex = root.sub("execution")
    method = ex.text("method", choices=("proportional", "bands"))
    bands = ex.bands("bands")
    if method == "bands" and not bands:
        raise ex._err("bands", "method = \"bands\" 时必须给出分档")
    cap = ex.sub("total_cap", required=False)
    caps = []
    for i, c in enumerate(cap.items("bands", [])):
        r = _Reader(c if isinstance(c, dict) else {}, file, f"execution.total_cap.bands[{i}].")
        caps.append(TotalCap(r.num("below", lo=0), r.num("max_total", lo=0)))
    execution = ExecutionRule(
        weight=ex.num("weight", lo=0), method=method, cap_at_weight=ex.flag("cap_at_weight", True),
        rounding=ex.rounding(), bands=bands, total_cap_enabled=cap.flag("enabled", False),
        total_cap=tuple(sorted(caps, key=lambda c: c.below)), family=ex.family(("proportional",), (0, 2)))

    ind = root.sub("indicators")
    grades = []
    for i, g in enumerate(ind.items("grades")):
        r = _Reader(g if isinstance(g, dict) else {}, file, f"indicators.grades[{i}].")
        lo, hi = r.num("min", lo=0, hi=1), r.num("max", lo=0, hi=1)
        if lo > hi:  # type: ignore[operator]
            raise r._err("min", f"下限 {lo} 大于上限 {hi}")
        grades.append(QualGrade(r.text("label"), lo, hi))  # type: ignore[arg-type]
    if not grades:
        raise ind._err("grades", "至少需要一个定性等级")
    indicators = IndicatorRule(
        rounding=ind.rounding(), over_achievement_ratio=ind.num("over_achievement_ratio", lo=1),
        reverse_miss=ind.text("reverse_miss", choices=("relative", "zero")),
        equal_miss=ind.text("equal_miss", choices=("relative", "zero")),
        approx_tolerance=ind.num("approx_tolerance", 0.0, lo=0, hi=1),
        approx_as=ind.text("approx_as", "positive", ("positive", "equal")),
        reason_required_below_full=ind.flag("reason_required_below_full", True),
        reason_recommended_over_achievement=ind.flag("reason_recommended_over_achievement", True),
        qualitative_default=ind.text("qualitative_default", "upper", ("upper", "lower")),
        grades=tuple(grades),
        not_met_words=tuple(str(w) for w in ind.items("not_met_words", [])),
        partly_met_words=tuple(str(w) for w in ind.items("partly_met_words", [])),
        score_tolerance=ind.num("score_tolerance", 0.005, lo=0, hi=1),
        met_words=tuple(str(w) for w in ind.items("met_words", [])),
        floor_names=tuple(str(w) for w in ind.items("floor_names", [])), family=ind.family((), (0, 1, 2)))

    w = root.sub("weights")
    first = {}
    for i, fl in enumerate(w.items("first_level", [])):
        r = _Reader(fl if isinstance(fl, dict) else {}, file, f"weights.first_level[{i}].")
        first[r.text("name")] = r.num("weight", lo=0)
    weights = WeightRule(total=w.num("total", lo=0), first_level=first,
                         first_level_severity=w.text("first_level_severity", "warning", ("error", "warning", "info")),
                         sum_row_includes_execution=w.flag("sum_row_includes_execution"),
                         execution_separate=w.flag("execution_separate", True),
                         tolerance=w.num("tolerance", 0.005, lo=0))
    if first:
        exec_part = execution.weight if weights.execution_separate else 0.0
        if abs(sum(first.values()) + exec_part - weights.total) > weights.tolerance:
            raise w._err("first_level", f"一级指标分值之和 {sum(first.values()):g}"
                                        + (f" 加执行率分值 {exec_part:g}" if exec_part else "")
                                        + f" 应等于 total = {weights.total:g}")

    g = root.sub("grade")
    gbands = []
    for i, b in enumerate(g.items("bands")):
        r = _Reader(b if isinstance(b, dict) else {}, file, f"grade.bands[{i}].")
        gbands.append(GradeBand(r.num("min"), r.text("label")))  # type: ignore[arg-type]
    gbands.sort(key=lambda b: b.min, reverse=True)
    if not gbands:
        raise g._err("bands", "至少需要一个等级")

    funds = root.sub("funds", required=False)
    rub = root.sub("rubric", required=False)

    def named(key: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for i, item in enumerate(rub.items(key, [])):
            r = _Reader(item if isinstance(item, dict) else {}, file, f"rubric.{key}[{i}].")
            out[r.text("name")] = r.num("weight", lo=0)  # type: ignore[assignment]
        return out

    controls = {}
    ctl = root.sub("control", required=False)
    for key in ctl.data:
        c = ctl.sub(key)
        rule = c.text("rule", choices=("ceiling", "floor", "target", "bands", "proportional"))
        th = c.sub("thresholds", required=False)
        cr = ControlRule(
            key=key, name=c.text("name"), rule=rule, weight=c.num("weight", lo=0),
            threshold=c.num("threshold", None, optional=True),
            thresholds={k: th.num(k) for k in th.data},  # type: ignore[misc]
            step=c.num("step", 0.0, lo=0), bands=c.bands("bands"), rounding=c.rounding())
        if rule == "bands" and not cr.bands:
            raise c._err("bands", "rule = \"bands\" 时必须给出分档")
        if rule not in ("bands", "proportional") and cr.threshold is None and not cr.thresholds:
            raise c._err("threshold", f"rule = \"{rule}\" 时必须给出 threshold")
        controls[key] = cr

    sources = {}
    src = root.sub("sources", required=False)
    for key in src.data:
        r = src.sub(key)
        sources[key] = Source(r.text("confidence", choices=("official", "inferred")), r.text("source", ""))
    forms = tuple(str(f) for f in meta.items("forms", []))
    for f in forms:
        if f not in FORM_KINDS:
            raise meta._err("forms", f"未知的表格“{f}”，可用：{'、'.join(FORM_KINDS)}")
    return Profile(
        forms=forms, provinces=tuple(str(x) for x in meta.items("provinces", [])),
        levels=tuple(str(x) for x in meta.items("levels", [])),
        years=tuple(int(x) for x in meta.items("years", []) if isinstance(x, int) and not isinstance(x, bool)),
        sources=sources, id=meta.text("id"), name=meta.text("name"), source=meta.text("source", ""),
        description=meta.text("description", ""), execution=execution, indicators=indicators,
        weights=weights, grade=tuple(gbands), funds_tolerance=funds.num("tolerance", 0.005, lo=0),  # type: ignore[arg-type]
        controls=controls, path=file, chain=chain, data=data,
        label_split_columns={
            "income": funds.text("label_income_column", "全年预算数", ("年初预算数", "全年预算数", "全年执行数")),
            "spending": funds.text("label_spending_column", "全年执行数", ("年初预算数", "全年预算数", "全年执行数"))},
        rubric_weights=named("weights"), rubric_groups=named("groups"))
