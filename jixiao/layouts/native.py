"""Native formula text: the scoring rules written in functions every spreadsheet has.

A template built with ``engine="native"`` scores itself in Excel 2010+, WPS and
LibreOffice without jixiao's add-in. Every formula here is generated from a
:class:`~jixiao.profile.Profile` (bands, rounding, weights, grade cut-offs, caps,
qualitative grades and words) and from the tables of :mod:`jixiao.values`
(comparator words, magnitudes, units, full-width characters), so one profile and
one vocabulary drive both the Python rules and the formula text.

Functions used: IF, AND, OR, NOT, ISNUMBER, N, SUM, COUNT, COUNTIF, MIN, MAX, ABS,
ROUND, ROUNDUP, ROUNDDOWN, LEN, LEFT, RIGHT, MID, FIND, SUBSTITUTE, TRIM, EXACT,
UPPER, LOWER, VALUE, CHOOSE, TEXT, CHAR — all in Excel 2010, and every one on
scalars only: no array constants, no function applied to an array (Gnumeric reads
``FIND({"0","1"},x)`` as ``FIND("0",x)`` and ``INDEX({1,0.8},2)`` as #REF!, while
Excel and LibreOffice evaluate them element-wise), no LET, LAMBDA, dynamic arrays,
REGEX, XLOOKUP, TEXTJOIN, IFS, SWITCH or CONCAT. :data:`LIMITS` holds Excel's limits
on a formula's length, nesting and arguments, which every generated formula keeps.

Indicator values are read in hidden helper cells, one step per cell. The reading
follows :func:`jixiao.values.parse_value` exactly where it is certain; where a
formula cannot be certain (a sign before the number, spaces inside it, a
thousands separator, a short text that may be a mistyped value, odd whitespace),
the value's kind is ``?`` and the score cell shows :data:`CHECK` instead of a
number. Totals that depend on such a cell show :data:`CHECK` too, never a sum
that silently counts it as 0.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from ..deviation import MEASURED_WORDS, MET_WORDS, NOT_NOTHING, NOTHING_HAPPENED
from ..profile import Band, Profile, Rounding
from ..values import (
    _FULLWIDTH,
    MAGNITUDES,
    NEGATED_WORDS,
    PREFIX_WORDS,
    RATIO_SCALE,
    SUFFIX_WORDS,
    UNITS,
    Comparator,
)

CHECK = "需核对"  # shown instead of a number where a native formula cannot read a value with certainty
EPS = "1E-9"  # the core's tolerance in comparisons (jixiao.deviation._EPS)

# comparator codes used in the helper cells
CMP_CODE = {Comparator.GE: 1, Comparator.GT: 2, Comparator.LE: 3, Comparator.LT: 4, Comparator.EQ: 5,
            Comparator.APPROX: 6}
PUNCT = (";", "。", ",")  # trailing punctuation the reader accepts after normalisation ("." handled apart)
SIGNS = "+-."  # a number may start with these in the core's grammar: the formula does not guess


def q(text: str) -> str:
    """A string literal."""
    return '"' + text.replace('"', '""') + '"'


LIMITS = {"length": 8192, "nesting": 64, "arguments": 255}
"""Excel 2010's limits on one formula: characters, nested function calls, arguments of one function."""


def contains_any(expr: str, items: Iterable[str], raw: Iterable[str] = ()) -> str:
    """TRUE when the text ``expr`` contains any of ``items`` (case-sensitive; ``raw``: expressions such as
    ``CHAR(9)``), as an OR of scalar FINDs: the one spelling every spreadsheet evaluates alike."""
    needles = [q(x) for x in dict.fromkeys(items)] + list(raw)
    if not needles:
        return "FALSE"
    if len(needles) > LIMITS["arguments"]:
        raise ValueError(f"{len(needles)} words exceed the {LIMITS['arguments']} arguments of OR")
    tests = [f"ISNUMBER(FIND({n},{expr}))" for n in needles]
    return tests[0] if len(tests) == 1 else "OR(" + ",".join(tests) + ")"


def digits_as_zero(expr: str) -> str:
    """The text with every digit written 0: one FIND then finds the first digit, or a digit pattern."""
    for d in "123456789":
        expr = f'SUBSTITUTE({expr},"{d}","0")'
    return expr


def has_latin_letter(expr: str) -> str:
    """TRUE when the text holds a letter A–Z or a–z (UPPER folds the small ones; full-width letters stay
    full-width in every spreadsheet)."""
    return contains_any(f"UPPER({expr})", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def choose(index: str, items: Iterable[float]) -> str:
    """The ``index``-th of ``items`` (from 1), without an array constant."""
    return f"CHOOSE({index}," + ",".join(num(x) for x in items) + ")"


def bar_list(words: Iterable[str]) -> str:
    """Words between bars, for an exact membership test with FIND: |w1|w2|."""
    return q("|" + "|".join(words) + "|")


def member(expr: str, words: Iterable[str]) -> str:
    """TRUE when ``expr`` is exactly one of ``words`` (case-sensitive, no wildcards)."""
    return f'ISNUMBER(FIND("|"&{expr}&"|",{bar_list(words)}))'


def rounded(expr: str, r: Rounding) -> str:
    """The profile's rounding on the 15-digit value (scores are within 0–100, so 12 decimals carry it)."""
    if r.decimals is None:
        return expr
    fn = {"half_up": "ROUND", "up": "ROUNDUP", "down": "ROUNDDOWN"}[r.mode]
    return f"{fn}(ROUND({expr},12),{r.decimals})"


def num(x: float) -> str:
    return format(float(x), ".15g")


def _band_cond(b: Band, x: str) -> str:
    parts = []
    if b.min is not None:
        parts.append(f"{x}{'>=' if b.min_inclusive else '>'}{num(b.min)}")
    if b.max is not None:
        parts.append(f"{x}{'<=' if b.max_inclusive else '<'}{num(b.max)}")
    if not parts:
        return "TRUE"
    return parts[0] if len(parts) == 1 else f"AND({','.join(parts)})"


def band_share(bands: Iterable[Band], x: str) -> str:
    """The share of the first band that contains ``x`` (0 when none does), as nested IFs."""
    out = "0"
    for b in reversed(list(bands)):
        out = f"IF({_band_cond(b, x)},{num(b.share)},{out})"
    return out


# ---------------------------------------------------------------------------
# Funds and totals


def exec_rate(budget: str, executed: str) -> str:
    """执行率 = 全年执行数 / 全年预算数; 需核对 where the core refuses (no budget, negative spending, text)."""
    return (f'=IF(OR({budget}="",{executed}=""),"",IF(OR(NOT(ISNUMBER({budget})),NOT(ISNUMBER({executed})),'
            f'{budget}<=0,{executed}<0),"{CHECK}",{executed}/{budget}))')


def exec_score(p: Profile, rate: str, weight: str) -> str:
    rule = p.execution
    w = f'IF({weight}="",{num(rule.weight)},{weight})'
    if rule.method == "bands":
        raw = f"{band_share(rule.bands, rate)}*{w}"
    else:
        raw = f"MIN({rate}*{w},{w})" if rule.cap_at_weight else f"{rate}*{w}"
    return (f'=IF({rate}="","",IF(OR({rate}="{CHECK}",AND({weight}<>"",NOT(ISNUMBER({weight})))),"{CHECK}",'
            f'MAX(0,{rounded(f"MAX({raw},0)", rule.rounding)})))')


def split_problems(totals: str, parts: tuple[int, int], cols: str, tolerance: float) -> str:
    """Helper text of the split check (each problem followed by ；), or empty; see :func:`split_check`."""
    names = ("年初预算数", "全年预算数", "全年执行数")
    r_total = int("".join(ch for ch in totals if ch.isdigit()))
    first, last = parts
    pieces = []
    for col, name in zip(cols, names):
        t, rng = f"{col}{r_total}", f"{col}{first}:{col}{last}"
        s = f"ROUND(SUM({rng}),6)"
        cond = f'AND(COUNT({rng})>0,ISNUMBER({t}),ABS({s}-{t})>{num(tolerance)}+{EPS})'
        pieces.append(f'IF({cond},"{name}：分项之和 "&TEXT({s},"0.00")&" ≠ "&TEXT({t},"0.00")&"；","")')
    return "=" + "&".join(pieces)


def split_check(helper: str) -> str:
    return f'=IF({helper}="","",LEFT({helper},LEN({helper})-1))'


def any_check(*ranges: str) -> str:
    """TRUE when any of the ranges holds a 需核对 mark."""
    return "(" + "+".join(f'COUNTIF({r},"{CHECK}")' for r in ranges) + ">0)"


def sum_row(p: Profile, exec_score_ref: str, scores: str) -> str:
    """合计: indicator scores, with the 执行率 score where the profile says the 合计 includes it."""
    body = f"N({exec_score_ref})+SUM({scores})" if p.weights.sum_row_includes_execution else f"SUM({scores})"
    return (f'=IF({any_check(scores, exec_score_ref)},"{CHECK}",IF(COUNT({scores})=0,"",ROUND({body},10)))')


def total_cap(p: Profile, total: str, rate: str) -> str:
    rule = p.execution
    if not rule.total_cap_enabled or not rule.total_cap:
        return total
    out = total
    for cap in reversed(rule.total_cap):  # ascending by `below`: the strictest cap that applies wins
        out = f"IF({rate}<{num(cap.below)},MIN({total},{num(cap.max_total)}),{out})"
    return out


def total(p: Profile, exec_score_ref: str, rate_ref: str, scores: str) -> str:
    """总分 = 执行率得分 + 指标得分, capped by 执行率 where the profile enables it."""
    raw = f"ROUND(N({exec_score_ref})+SUM({scores}),10)"
    return (f'=IF({any_check(scores, exec_score_ref, rate_ref)},"{CHECK}",IF(COUNT({scores})=0,"",'
            f'{total_cap(p, raw, f"N({rate_ref})")}))')


def grade_expr(p: Profile, x: str) -> str:
    """等级 by the profile's bands (high to low); the lowest label below every cut-off."""
    out = q(p.grade[-1].label)
    for b in reversed(p.grade):
        out = f"IF({x}>={num(b.min)}-{EPS},{q(b.label)},{out})"
    return out


def grade(p: Profile, x: str, prefix: str = "") -> str:
    g = grade_expr(p, x)
    if prefix:
        g = f"{q(prefix)}&{g}"
    return f'=IF({x}="","",IF({x}="{CHECK}","{CHECK}",{g}))'


# ---------------------------------------------------------------------------
# Reading an indicator value: one step per helper cell


def _subst_chain(expr: str, pairs: list[tuple[str, str]]) -> str:
    for a, b in pairs:
        expr = f"SUBSTITUTE({expr},{q(a)},{q(b)})"
    return expr


def _strip_chars(expr: str, chars: str) -> str:
    return _subst_chain(expr, [(c, "") for c in chars])


DIGITS = "0123456789"
# Full-width characters are mapped to half-width as the core's normalise() does where the half-width
# form can matter to a reading: digits, signs, comparators, separators, brackets, the ideographic space
# and the letters of units (GB, TB, km, kg). Any other full-width character reads as itself: in the
# core it becomes a character that no comparator word, number or unit holds either, so both read the
# value alike; only two texts that differ by such a character alone may compare unlike (see
# grade_of_row, which then shows 需核对).
_MAPPED_HALF = DIGITS + "%.,;+-<>=():!?/" + " " + "GBTkmg"
FULLWIDTH_MAPPED = [(chr(k), chr(v)) for k, v in sorted(_FULLWIDTH.items()) if chr(v) in _MAPPED_HALF and k != v]
FULLWIDTH_UNMAPPED = [chr(k) for k, v in sorted(_FULLWIDTH.items()) if chr(v) not in _MAPPED_HALF and k != v]
ODD_SPACE = ["\u00a0", "\u1680", *(chr(c) for c in range(0x2000, 0x200B)), "\u2028", "\u2029", "\u202f",
             "\u205f", "\u0085"]
TEXT_STEPS = ("fw", "x", "p", "pre", "w", "r", "t", "num", "mu", "post", "mag", "unit", "kind", "cmp", "val", "dim", "s")


def text_helpers(src: str, ref: dict[str, str]) -> dict[str, str]:
    """Formulas of the helper cells that read the value in ``src``; ``ref[step]`` is each step's cell.

    Steps: ``fw`` whether the text holds a full-width character left as it is; ``x`` the normalised
    text (full-width to half-width, line breaks to spaces, trimmed); ``p`` the first digit's position;
    ``pre`` the text before it; ``w`` the longest comparator word that ends it; ``r`` the rest (a space
    in it makes the value uncertain); ``t`` its tail after the number; ``num`` the number;
    ``mu`` magnitude and unit; ``post`` the code of a trailing comparator word; ``mag``/``unit`` the
    split; ``kind`` M (measure), Q (text), U (unreadable for certain) or ? (not certain);
    ``cmp`` the comparator code; ``val`` the value in base units; ``dim`` ratio or the unit; ``s`` the
    normalised text without spaces (what qualitative rows compare and search for words).
    """
    words = sorted(PREFIX_WORDS, key=len, reverse=True)
    R = ref
    x, p = R["x"], R["p"]
    f: dict[str, str] = {}
    f["fw"] = "=" + contains_any(f'{src}&""', FULLWIDTH_UNMAPPED)
    f["x"] = "=TRIM(" + _subst_chain(f'{src}&""', FULLWIDTH_MAPPED + [("CHAR13", " "), ("CHAR10", " ")]) + ")"
    f["x"] = f["x"].replace('"CHAR13"', "CHAR(13)").replace('"CHAR10"', "CHAR(10)")
    f["p"] = f'=IF({x}="",0,FIND("0",{digits_as_zero(x)}&"0"))'
    has_digit = f"AND({p}>0,{p}<=LEN({x}))"
    f["pre"] = f'=IF(AND({p}>1,{has_digit}),TRIM(LEFT({x},{p}-1)),"")'
    pre = R["pre"]
    longest = '""'
    for n in range(1, max(len(w) for w in words) + 1):
        longest = f"IF({member(f'RIGHT({pre},{n})', words)},RIGHT({pre},{n}),{longest})"
    f["w"] = f'=IF({pre}="","",{longest})'
    f["r"] = f'=IF({has_digit},MID({x},{p},LEN({x})),"")'
    r = R["r"]
    rest1 = f'IF(RIGHT({r},1)=".",LEFT({r},LEN({r})-1),{r})'
    f["t"] = "=" + _strip_chars(rest1, DIGITS + ".")
    t = R["t"]
    numtext = f"LEFT({rest1},LEN({rest1})-LEN({t}))"
    run_ok = (f"AND(EXACT(RIGHT({rest1},LEN({t})),{t}),LEN({numtext})-LEN(SUBSTITUTE({numtext},\".\",\"\"))<=1,"
              f"{has_digit})")
    f["num"] = f'=IF({run_ok},VALUE({numtext}),"")'
    # punctuation: one trailing mark (the "." was taken off above: then no other mark may follow)
    had_dot = f'RIGHT({r},1)="."'
    t1 = f'IF(AND(NOT({had_dot}),LEN({t})>0,ISNUMBER(FIND(RIGHT({t},1),{q("".join(PUNCT))}))),LEFT({t},LEN({t})-1),{t})'
    suffixes = sorted(SUFFIX_WORDS, key=len, reverse=True)
    mu = t1
    post = "0"
    for s in reversed(suffixes):
        cond = f"AND(LEN({t1})>={len(s)},RIGHT({t1},{len(s)})={q(s)})"
        mu = f"IF({cond},LEFT({t1},LEN({t1})-{len(s)}),{mu})"
        post = f"IF({cond},{CMP_CODE[SUFFIX_WORDS[s]]},{post})"
    f["mu"] = "=" + mu
    f["post"] = "=" + post
    m = R["mu"]
    mags2 = [k for k in MAGNITUDES if len(k) == 2]
    mags1 = [k for k in MAGNITUDES if len(k) == 1]
    unit_or_blank = lambda e: f'OR({e}="",{member(e, UNITS)})'  # noqa: E731
    rest2, rest1m = f"MID({m},3,LEN({m}))", f"MID({m},2,LEN({m}))"
    c2 = f"AND(LEN({m})>=2,{member(f'LEFT({m},2)', mags2)},{unit_or_blank(rest2)})"
    c1 = f"AND(LEN({m})>=1,{member(f'LEFT({m},1)', mags1)},{unit_or_blank(rest1m)})"
    c0 = unit_or_blank(m)
    # a unit that begins like a magnitude (千米, 千克) is one unit, as the core's fix says
    f["mag"] = f'=IF({member(m, UNITS)},"",IF({c2},LEFT({m},2),IF({c1},LEFT({m},1),IF({c0},"","#"))))'
    mg = R["mag"]
    f["unit"] = f'=IF({mg}="#","#",MID({m},LEN({mg})+1,LEN({m})))'
    u = R["unit"]
    # kind
    odd = contains_any(f'{src}&""', ODD_SPACE, raw=("CHAR(9)", "CHAR(11)", "CHAR(12)"))
    only_cmp = member(_strip_chars(f'SUBSTITUTE({x}," ","")', "%‰"), words)
    w_, r = R["w"], R["r"]
    sign_before = f'AND({p}>1,ISNUMBER(FIND(MID({x},{p}-1,1),"{SIGNS}")))'
    thousands = f'ISNUMBER(FIND("0,0",{digits_as_zero(x)}))'  # digit, comma, digit: the formula does not guess
    measure_ok = f'AND({R["num"]}<>"",{mg}<>"#",OR({pre}="",{w_}<>""))'
    pre_code = _code_of(w_, words)
    conflict = f"AND({pre_code}>0,{R['post']}>0,{pre_code}<>{R['post']},{pre_code}<>6,{R['post']}<>6)"
    starts_like = f'OR({pre}="",{member(pre, words)})'
    f["kind"] = (f'=IF({x}="","U",IF(OR({odd}),"?",IF(NOT({has_digit}),IF({only_cmp},"?","Q"),'
                 f'IF(OR({sign_before},{thousands},ISNUMBER(FIND("|",{x})),ISNUMBER(FIND(" ",{r}))),"?",'
                 f'IF({measure_ok},IF({conflict},"U","M"),IF({starts_like},IF(LEN({x})>16,"Q","?"),"Q"))))))')
    f["cmp"] = f'=IF(AND({pre_code}>0,{pre_code}<>6),{pre_code},IF({R["post"]}>0,{R["post"]},{pre_code}))'
    mag_factor = "1"
    for k, v in MAGNITUDES.items():
        mag_factor = f"IF({mg}={q(k)},{num(v)},{mag_factor})"
    scale = "1"
    for k, v in RATIO_SCALE.items():
        scale = f"IF({u}={q(k)},{num(v)},{scale})"
    f["val"] = f'=IF({R["kind"]}="M",{R["num"]}*{mag_factor}*{scale},"")'
    ratio = "OR(" + ",".join(f"{u}={q(k)}" for k in RATIO_SCALE) + ")"
    f["dim"] = f'=IF({R["kind"]}="M",IF({ratio},"ratio",{u}),"")'
    f["s"] = f'=SUBSTITUTE({x}," ","")'
    return f


def _code_of(word: str, words: list[str]) -> str:
    """The comparator code of a prefix word (0 for none)."""
    out = "0"
    for cmp, code in sorted(CMP_CODE.items(), key=lambda kv: -kv[1]):
        group = [w for w in words if PREFIX_WORDS[w] is cmp]
        if group:
            out = f"IF({member(word, group)},{code},{out})"
    return f'IF({word}="",0,{out})'


# ---------------------------------------------------------------------------
# An indicator's score


def grade_index(p: Profile, label: str) -> str:
    """The profile's grade a label names (full label, or its first two or more characters); 0 when none."""
    out = "0"
    for i, g in reversed(list(enumerate(p.indicators.grades, start=1))):
        cond = f"OR(EXACT({q(g.label)},{label}),AND(LEN({label})>=2,EXACT(LEFT({q(g.label)},LEN({label})),{label})))"
        out = f"IF({cond},{i},{out})"
    return out


def same_text(ts: str, as_: str) -> str:
    """TRUE when the actual text is the target's (or its 不 written 未); both without spaces (step ``s``)."""
    return f'OR(EXACT({as_},{ts}),EXACT({as_},SUBSTITUTE({ts},"不","未")))'


def inferred_grade(p: Profile, ts: str, as_: str) -> str:
    """The core's guess of a qualitative grade from the texts without spaces (jixiao.deviation.infer_grade)."""
    rule = p.indicators
    n = len(rule.grades)
    out = "1"
    if rule.partly_met_words:
        out = f"IF({contains_any(as_, rule.partly_met_words)},{min(2, n)},{out})"
    if rule.not_met_words:
        out = f"IF({contains_any(as_, rule.not_met_words)},{n},{out})"
    return f"IF({same_text(ts, as_)},1,{out})"


UNPROVEN = -2  # grade index of a row whose actual text says nothing about achievement: the officer's points stand
_RISKY = tuple("=＝+@") + ("月",)
"""Characters (with the letters A–Z, a–z) after which a native formula cannot tell what the core makes
of a text (a formula-like text, a date): such a row shows 需核对 unless its text is the target's."""


def achievement_grade(p: Profile, ts: str, as_: str) -> str:
    """The grade index the core gives a qualitative row without a chosen grade (jixiao.deviation
    shows_achievement, then infer_grade): UNPROVEN when the text says nothing about achievement, 0 where a
    formula cannot be sure (需核对). ``ts``/``as_``: the texts without spaces (step ``s``)."""
    rule = p.indicators
    nothing_happened = (f'AND(OR({as_}="无",{as_}="0",{as_}="零"),OR(LEFT({ts},1)="无",LEFT({ts},1)="零",'
                        f'LEFT({ts},3)="不发生",LEFT({ts},3)="未发生",LEFT({ts},2)="杜绝",LEFT({ts},2)="没有"))')
    says_nothing = f'OR({as_}="",{as_}="无",{as_}="/",{as_}="-",{as_}="—",{as_}="0")'
    risky = f"OR({has_latin_letter(as_)},{contains_any(as_, _RISKY)})"
    words = tuple(rule.met_words or MET_WORDS) + rule.not_met_words + rule.partly_met_words
    shows = (f'OR({same_text(ts, as_)},AND(LEN({as_})>=8,ISNUMBER(FIND("0",{digits_as_zero(as_)}))),'
             f"{contains_any(as_, words)})")
    guess = inferred_grade(p, ts, as_)
    return (f"IF({nothing_happened},{guess},IF({says_nothing},{UNPROVEN},"
            f"IF({risky},IF({same_text(ts, as_)},1,0),IF({shows},{guess},{UNPROVEN}))))")


def says_nothing_happened(s: str) -> str:
    """TRUE when the text without spaces (step ``s``) says none happened (jixiao.deviation.nothing_happened)."""
    starts = ",".join(f"LEFT({s},{len(w)})={q(w)}" for w in NOTHING_HAPPENED)
    other = ",".join(f"LEFT({s},{len(w)})={q(w)}" for w in NOT_NOTHING)
    return f"AND(OR({starts}),NOT(OR({other})))" if NOT_NOTHING else f"OR({starts})"


def quantitative(p: Profile, cmp: str, tv: str, av: str, w: str) -> str:
    """The unrounded score of a quantitative indicator (jixiao.deviation._score_quantitative)."""
    rule = p.indicators
    eps = f"{EPS}*MAX(1,ABS({tv}))"
    positive = f"IF({av}>={tv}-{eps},{w},IF({tv}>0,{w}*{av}/{tv},0))"
    if rule.reverse_miss == "zero":
        reverse = f"IF({av}<={tv}+{eps},{w},0)"
    else:
        reverse = f"IF({av}<={tv}+{eps},{w},IF({tv}<=0,0,MAX(0,{w}*(1-({av}-{tv})/{tv}))))"
    approx_pos = (f"IF({av}>={tv}*(1-{num(rule.approx_tolerance)})-{eps},{w},IF({tv}>0,{w}*{av}/{tv},0))")
    tol = f"IF({cmp}=6,{num(rule.approx_tolerance)},0)"
    miss = "0" if rule.equal_miss == "zero" else f"IF({tv}=0,0,MAX(0,{w}*(1-ABS({av}-{tv})/ABS({tv}))))"
    equal = f"IF(ABS({av}-{tv})<={tol}*ABS({tv})+{eps},{w},{miss})"
    out = f"IF(OR({cmp}=1,{cmp}=2),{positive},IF(OR({cmp}=3,{cmp}=4),{reverse},"
    if rule.approx_as == "positive":
        out += f"IF({cmp}=6,{approx_pos},{equal})))"
    else:
        out += f"{equal}))"
    return out


def target_comparator(p: Profile, c: dict[str, str], t: dict[str, str]) -> str:
    """The comparator code the core scores the row by (its own helper cell, ``c["cmp"]``): the target's, and
    ≥ for a bare rate of an indicator that is a floor by nature, named in ``c["name"]`` (满意度 90%)."""
    floors = p.indicators.floor_names
    if not floors:
        return f"={t['cmp']}"
    floor = f'AND({t["cmp"]}=0,{t["dim"]}="ratio",{contains_any(c["name"] + "&" + q(""), floors)})'
    return f"=IF({floor},1,{t['cmp']})"


def reading(p: Profile, c: dict[str, str], t: dict[str, str], a: dict[str, str]) -> dict[str, str]:
    """The core's reading of a quantitative row (jixiao.deviation): ``cmp`` the comparator of the row's cell
    ``c["cmp"]`` (:func:`target_comparator`); ``av`` the actual in base units (a bare
    number in the target's unit); ``same`` whether both are comparable; ``unsure`` where the core leaves the
    row unscored (a bare fraction under a percentage, an actual written as a bound that does not prove the
    target met: 未达到95%, 低于90%)."""
    tcmp, tv = c["cmp"], t["val"]
    bare = f'AND({a["unit"]}="",{a["mag"]}="",OR({t["unit"]}<>"",{t["mag"]}<>""))'
    av = f'IF({bare},IF({t["num"]}=0,{a["num"]},{a["num"]}*{tv}/{t["num"]}),{a["val"]})'
    fraction = f'AND({bare},{t["dim"]}="ratio",ABS({a["num"]})>0,ABS({a["num"]})<=1,ABS({t["num"]})>1)'
    measured = sorted(w for w in MEASURED_WORDS if w)
    aw, acmp = a["w"], a["cmp"]
    bound = f'OR(AND({aw}<>"",NOT({member(aw, measured)})),AND({a["post"]}>0,OR({a["post"]}<>6,{aw}<>"")))'
    neg = member(aw, NEGATED_WORDS)
    pos, rev = f"OR({tcmp}=1,{tcmp}=2)", f"OR({tcmp}=3,{tcmp}=4)"
    lower, upper = f"OR({acmp}=1,{acmp}=2)", f"OR({acmp}=3,{acmp}=4)"
    eps = f"{EPS}*MAX(1,ABS({tv}))"
    scored = (f"OR(AND({pos},{lower},{av}>={tv}-{eps}),AND({rev},{upper},{av}<={tv}+{eps}),"
              f"AND(NOT({neg}),{pos},{lower}),AND(NOT({neg}),{rev},{upper}))")
    return {"cmp": tcmp, "av": av, "same": f'OR(EXACT({t["dim"]},{a["dim"]}),AND({bare},NOT({fraction})))',
            "unsure": f"OR({fraction},AND({bound},NOT({scored})))"}


def indicator_score(p: Profile, c: dict[str, str], t: dict[str, str], a: dict[str, str]) -> str:
    """得分 of one row. ``c``: the row's cells (target, actual, weight, grade, judged, gi, name);
    ``t``/``a``: the helper cells of target and actual."""
    rule = p.indicators
    E, F, G, K = c["target"], c["actual"], c["weight"], c["judged"]
    r = rule.rounding
    final = lambda s: f"MIN({G},MAX(0,{rounded(s, r)}))"  # noqa: E731
    rd = reading(p, c, t, a)
    # an actual saying none happened under a ceiling ("无上访" under "小于5次") is met, as the core reads it
    none_under_ceiling = f'AND({a["kind"]}="Q",OR({rd["cmp"]}=3,{rd["cmp"]}=4),{says_nothing_happened(a["s"])})'
    quant = (f'IF({a["kind"]}<>"M",IF({none_under_ceiling},{final(G)},"{CHECK}"),IF(NOT({rd["same"]}),"{CHECK}",'
             f'IF({rd["unsure"]},"{CHECK}",{final(quantitative(p, rd["cmp"], t["val"], rd["av"], G))})))')
    gi = c["gi"]
    lo = f"{choose(gi, [g.min for g in rule.grades])}*{G}"
    hi = f"{choose(gi, [g.max for g in rule.grades])}*{G}"
    default = hi if rule.qualitative_default == "upper" else lo
    qual_raw = f'IF(OR({K}="",{K}>{G}+{EPS}),{default},MIN({hi},MAX({lo},{K})))'
    graded = f'IF(OR({gi}=0,AND({K}<>"",NOT(ISNUMBER({K})))),"{CHECK}",{final(qual_raw)})'
    officer = f'IF(ISNUMBER({K}),IF({K}<={G}+{EPS},{final(f"MAX(0,{K})")},"{CHECK}"),"{CHECK}")'
    qual = f"IF({gi}={UNPROVEN},{officer},{graded})"
    return (f'=IF(OR({E}="",{F}="",{G}=""),"",IF(NOT(ISNUMBER({G})),"{CHECK}",'
            f'IF({t["kind"]}="M",{quant},IF({t["kind"]}="Q",{qual},"{CHECK}"))))')


def grade_of_row(p: Profile, c: dict[str, str], t: dict[str, str], a: dict[str, str]) -> str:
    """The qualitative grade's index for a row: the officer's (J) or the one inferred from the texts; 0 unknown."""
    J = c["grade"]
    key = f"TRIM({J}&\"\")"
    given = f'IF(ISNUMBER(FIND("  ",{J}&"")),0,{grade_index(p, key)})'
    ts, as_ = t["s"], a["s"]
    guess = achievement_grade(p, ts, as_)
    words = p.indicators.not_met_words + p.indicators.partly_met_words
    if words:  # full-width letters or brackets the formula leaves as they are may hide an equal text
        # the mapping keeps every length: texts of unequal length cannot become equal
        unsure = (f'AND(OR({t["fw"]},{a["fw"]}),LEN({as_})=LEN({ts}),NOT(EXACT({as_},{ts})),'
                  f'NOT(EXACT({as_},SUBSTITUTE({ts},"不","未"))),{contains_any(as_, words)})')
        guess = f"IF({unsure},0,{guess})"
    inferred = f'IF(OR({a["kind"]}="M",{a["kind"]}="Q"),{guess},0)'
    return f'=IF({t["kind"]}<>"Q",0,IF(TRIM({J}&"")<>"",{given},{inferred}))'


def reason_hint(p: Profile, c: dict[str, str], t: dict[str, str], a: dict[str, str], score: str,
                reason: str) -> str:
    """辅助列: 须填写偏差原因 / 须填写 / 宜说明 (jixiao.deviation.reason_requirement)."""
    rule = p.indicators
    G = c["weight"]
    required = f"{score}<{G}-{EPS}" if rule.reason_required_below_full else "FALSE"
    ratio = num(rule.over_achievement_ratio)
    rd = reading(p, c, t, a)
    tv, av, cmp = t["val"], rd["av"], rd["cmp"]
    # nested IFs, never AND: a spreadsheet's AND evaluates every argument, and av/tv may not be a number
    over_pos = f"IF({tv}>0,{av}/{tv}>={ratio}-{EPS},FALSE)"
    over_eq = f"IF(AND({tv}>0,{av}>{tv}),{av}/{tv}>={ratio}-{EPS},FALSE)"
    pos_codes = "OR({0}=1,{0}=2{1})".format(cmp, f",{cmp}=6" if rule.approx_as == "positive" else "")
    eq_codes = f"OR({cmp}=0,{cmp}=5{'' if rule.approx_as == 'positive' else f',{cmp}=6'})"
    over = (f'IF(AND({t["kind"]}="M",{a["kind"]}="M"),IF({rd["same"]},'
            f"IF({pos_codes},{over_pos},IF({eq_codes},{over_eq},FALSE)),FALSE),FALSE)")
    if not rule.reason_recommended_over_achievement:
        over = "FALSE"
    return (f'=IF(OR({score}="",{score}="{CHECK}"),"",IF({required},IF({reason}="","须填写偏差原因","须填写"),'
            f'IF({over},"宜说明","")))')


def text_cells(src: str, row: int, first_col: int) -> tuple[dict[str, str], dict[str, str]]:
    """Place the helper cells reading ``src`` on ``row`` from column ``first_col`` on.

    Returns (step → cell, cell → formula).
    """
    from ..columns import get_column_letter

    refs = {step: f"{get_column_letter(first_col + i)}{row}" for i, step in enumerate(TEXT_STEPS)}
    places = {"src": src, **refs}
    return refs, {refs[k]: f.format_map(places) for k, f in _helper_formats().items()}


_PLACE = re.compile("\ue000(\\w+)\ue001")  # a placeholder for a cell in the helpers' formulas


@lru_cache(maxsize=1)
def _helper_formats() -> dict[str, str]:
    """The helper formulas written once, as format strings with a field for each cell they read: every
    indicator row has the same formulas, only their cells differ (the formulas do not depend on what the
    cells are)."""
    marks = {step: f"\ue000{step}\ue001" for step in TEXT_STEPS}
    return {k: _PLACE.sub(r"{\1}", f.replace("{", "{{").replace("}", "}}"))
            for k, f in text_helpers("\ue000src\ue001", marks).items()}


# ---------------------------------------------------------------------------
# Control rates of the county rubric (jixiao.control)


def control_rate(key: str, numerator: str, denominator: str) -> str:
    """A control rate from its two cells; 需核对 where the core refuses (denominator not above 0, text)."""
    from ..control import RATE_FORMULAS

    f = RATE_FORMULAS[key]
    n, d = numerator, denominator
    body = f"({n}-{d})/{d}" if f.change else (f"ABS({n})/{d}" if f.absolute else f"{n}/{d}")
    return (f'=IF(OR({n}="",{d}=""),"",IF(OR(NOT(ISNUMBER({n})),NOT(ISNUMBER({d})),{d}<=0),"{CHECK}",{body}))')


def _points(rate: str, threshold: float) -> str:
    """Percentage points from the threshold, as the core counts them (rounded to 9 decimals)."""
    return f"ROUND(({rate}-{num(threshold)})*100,9)"


def control_score_expr(p: Profile, key: str, rate: str, weight: str | None = None) -> str:
    """The score of one control rate (jixiao.control.control_score), between 0 and its weight."""
    rule = p.control(key)
    w = num(rule.weight) if weight is None else f'IF({weight}="",{num(rule.weight)},{weight})'
    if rule.rule == "bands":
        raw = f"{band_share(rule.bands, rate)}*{w}"
    elif rule.rule == "proportional":
        raw = f"{w}*MIN(MAX({rate},0),1)"
    else:
        pts = _points(rate, rule.threshold if rule.threshold is not None else 0.0)
        off = {"ceiling": f"MAX({pts},0)", "floor": f"MAX(-{pts},0)", "target": f"ABS({pts})"}[rule.rule]
        raw = f"{w}-{off}*{num(rule.step)}"
    return f"MIN({w},MAX(0,{rounded(f'MIN({w},MAX(0,{raw}))', rule.rounding)}))"


def payment_score_expr(p: Profile, rates: dict[str, str]) -> str:
    """支付序时进度: one weight, the deductions of every quarter given added up (payment_progress_score)."""
    rule = p.control("payment_progress")
    w = num(rule.weight)
    parts = [f'IF({ref}="",0,MAX(-{_points(ref, rule.thresholds[q])},0)*{num(rule.step)})'
             for q, ref in rates.items()]
    return f"MIN({w},MAX(0,{rounded(f'{w}-(' + '+'.join(parts) + ')', rule.rounding)}))"


def exec_score_expr(p: Profile, rate: str) -> str:
    """执行率得分 with the profile's weight, as an expression (no blank handling)."""
    rule = p.execution
    w = num(rule.weight)
    if rule.method == "bands":
        raw = f"{band_share(rule.bands, rate)}*{w}"
    else:
        raw = f"MIN({rate}*{w},{w})" if rule.cap_at_weight else f"{rate}*{w}"
    return f"MAX(0,{rounded(f'MAX({raw},0)', rule.rounding)})"


def is_check(*refs: str) -> str:
    return "OR(" + ",".join(f'{r}="{CHECK}"' for r in refs) + ")"
