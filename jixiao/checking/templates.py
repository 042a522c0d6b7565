"""jixiao's shipped templates as the checker knows them: their formulas, compiled once per process,
and which template a submitted workbook was made from.

A native template's formulas are written from a rule profile, so the same kind made with another profile
has other formulas. The default templates (each kind with its own profile) are always known; the native
templates of any other profile (shipped, or a custom TOML the check is given) are generated on demand, once
per profile and process, for the profiles that matter to one workbook: the one it names (its 规则配置 cell)
and the one the check uses.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .. import vocabulary as v
from ..excel.compiler import Compiled, compile_sheets
from ..excel.syntax import FormulaError, relative_form
from ..errors import JixiaoError
from ..layouts.model import FormModel
from ..profile import Profile, load_profile
from ..textcache import per_text
from .xlsx import Book

Key = tuple[str, str]  # (sheet, "A1")
_ADDIN_PREFIX = re.compile(r"\[\d+\]!(?=JX_)", re.I)


SCORED_FIELDS = (v.FUNDS_RATE, v.FUNDS_SCORE, v.SUM_ROW_SCORE, v.TOTAL_SCORE)
"""Formula cells whose value the rules give directly (with every ``ind.<n>.score``)."""
FORM_KINDS = ("project", "dept-province", "dept-city", "dept-county")


@dataclass
class TemplateCalc:
    """One template (of an engine: ``udf`` calls jixiao's functions, ``native`` only built-in ones): its model,
    its formulas by cell, and the compiled calculation of what the rules do not already give."""

    kind: str
    model: FormModel
    formulas: dict[Key, str]
    engine: str = "udf"
    profile: Profile | None = None  # the profile it was made with; None: its kind's default
    _compiled: Compiled | None = None
    _whole: Compiled | None = None
    _relative: dict[Key, str | None] = field(default_factory=dict)
    _signatures: dict[Key, frozenset[str]] = field(default_factory=dict)
    _fingerprint: int | None = None
    _header: tuple[dict[str, str], str | None] | None = None

    @property
    def fingerprint(self) -> int:
        """A hash of every (cell, formula): equal fingerprints are worth comparing the formulas themselves."""
        if self._fingerprint is None:
            self._fingerprint = fingerprint(self.formulas)
        return self._fingerprint

    @property
    def indicator_header(self) -> tuple[dict[str, str], str | None]:
        """The main sheet's indicator header (column → its text) and the label of the row below the marker."""
        if self._header is None:
            self._header = _indicator_header(self.model.main)
        return self._header

    @property
    def scores_form(self) -> bool:
        """A 部门整体/项目 form: the rules score it, so their results stand in for the score cells."""
        return self.model.kind in FORM_KINDS

    def scored_cells(self) -> set[Key]:
        """Cells whose value comes from the rules' result (scores, 执行率, 合计, 总分)."""
        if not self.scores_form:
            return set()
        keys = [k for k in self.field_cells() if k in SCORED_FIELDS or k.endswith(".score") and k.startswith("ind.")]
        return {self.field_cells()[k] for k in keys}

    @property
    def compiled(self) -> Compiled:
        """The calculation of every formula cell except the rules' results and the hint columns.

        Raises :class:`FormulaError` when a remaining formula uses a function the compiler does not know.
        """
        if self._compiled is None:
            skip = self.scored_cells() | self.helper_cells() if self.scores_form else set()
            self._compiled = _compiled_by_text({k: f for k, f in self.formulas.items() if k not in skip})
        return self._compiled

    @property
    def whole(self) -> Compiled:
        """The calculation of every formula cell, as a spreadsheet with jixiao's functions computes it."""
        if self._whole is None:
            self._whole = _compiled_by_text(self.formulas)
        return self._whole

    def signature(self, key: Key) -> frozenset[str]:
        if key not in self._signatures:
            self._signatures[key] = _signature(self.formulas[key])
        return self._signatures[key]

    def relative(self, key: Key) -> str | None:
        """The formula in relative form; None when jixiao's parser cannot read it (then only its text matches)."""
        if key not in self._relative:
            try:
                self._relative[key] = relative_form(self.formulas[key], key[1])
            except FormulaError:
                self._relative[key] = None
        return self._relative[key]

    def field_cells(self) -> dict[str, Key]:
        """Field key → cell, for the formula cells whose value a rule gives (scores, totals, grade …)."""
        out = {}
        for s in self.model.sheets:
            for key, ref in s.fields.items():
                if (s.name, ref) in self.formulas:
                    out[key] = (s.name, ref)
        return out

    def helper_cells(self) -> set[Key]:
        """Formula cells of the helper columns (hints for the officer on screen, never printed or scored)."""
        return {(s.name, ref) for s in self.model.sheets for ref, c in s.cells.items()
                if c.style == "helper" and (s.name, ref) in self.formulas}

    @property
    def level(self) -> str | None:
        """省级/市级/县级 for the department variants, whose formulas are the same."""
        return v.LEVELS.get(self.kind.removeprefix("dept-")) if self.kind.startswith("dept-") else None


_COMPILED: dict[str, Compiled] = {}


def _compiled_by_text(formulas: dict[Key, str]) -> Compiled:
    digest = hashlib.sha1(repr(sorted(formulas.items())).encode("utf-8")).hexdigest()
    if digest not in _COMPILED:
        _COMPILED[digest] = compile_sheets(formulas)
    return _COMPILED[digest]


_TEMPLATES: list[TemplateCalc] = []


def _calc(kind: str, engine: str, profile: Profile | None = None) -> TemplateCalc:
    from ..layouts.shipped import template_model

    model = template_model(kind, profile=profile, engine=engine)  # type: ignore[arg-type]  # a Profile is accepted
    forms = {(s.name, ref): f for s in model.sheets for ref, f in s.formulas().items()}
    return TemplateCalc(kind, model, forms, engine, profile)


def templates() -> list[TemplateCalc]:
    """jixiao's shipped templates, with their formulas (compiled lazily, on first match)."""
    if not _TEMPLATES:
        from ..layouts.shipped import ENGINES, TEMPLATES

        for engine in ENGINES:
            for kind in TEMPLATES:
                _TEMPLATES.append(_calc(kind, engine))
    return _TEMPLATES


_BY_PROFILE: dict[tuple[str, str], list[TemplateCalc]] = {}
MAX_PROFILES = 16  # profiles whose native templates are kept per process (a batch meets a handful)


def native_templates(profile: Profile) -> list[TemplateCalc]:
    """The native templates generated with ``profile``: every kind the profile may score, made once per profile
    and process. (Add-in templates take their profile from a cell; their formulas are the same for any.)"""
    key = _profile_key(profile)
    if key not in _BY_PROFILE:
        from ..layouts.shipped import TEMPLATES

        made = []
        for kind in TEMPLATES:
            try:
                made.append(_calc(kind, "native", profile))
            except (JixiaoError, ValueError, KeyError):
                continue  # a kind this profile cannot make (a rubric without its control rates …)
        if len(_BY_PROFILE) >= MAX_PROFILES:
            _BY_PROFILE.pop(next(iter(_BY_PROFILE)))
        _BY_PROFILE[key] = made
    return _BY_PROFILE[key]


_KEYS: dict[int, tuple[Profile, tuple[str, str]]] = {}
_UNSEEN: dict[tuple[str, str], list[TemplateCalc]] = {}


def _profile_key(profile: Profile) -> tuple[str, str]:
    """(id, content) of a profile: a custom TOML may reuse an id with other rules, so the content decides.
    Kept per profile object (profiles are loaded once and never change)."""
    kept = _KEYS.get(id(profile))
    if kept is None or kept[0] is not profile:
        if len(_KEYS) >= MAX_PROFILES:
            _KEYS.pop(next(iter(_KEYS)))
        kept = _KEYS[id(profile)] = (profile, (profile.id, repr(profile)))
    return kept[1]


def _unseen_natives(profile: Profile) -> list[TemplateCalc]:
    """The native templates of ``profile`` whose formulas no default template of their kind and engine has."""
    key = _profile_key(profile)
    if key not in _UNSEEN:
        defaults: dict[tuple[str, str, int], list[dict[Key, str]]] = {}
        for k in templates():
            defaults.setdefault((k.kind, k.engine, k.fingerprint), []).append(k.formulas)
        if len(_UNSEEN) >= MAX_PROFILES:
            _UNSEEN.pop(next(iter(_UNSEEN)))
        _UNSEEN[key] = [t for t in native_templates(profile)
                        if not any(f == t.formulas for f in defaults.get((t.kind, t.engine, t.fingerprint), ()))]
    return _UNSEEN[key]


def named_profiles(book: Book) -> list[str]:
    """The profile names a workbook made from a template states in its 规则配置 cell (where each template has it)."""
    out: list[str] = []
    for t in templates():
        for s in t.model.sheets:
            ref = s.fields.get(v.PROFILE)
            sheet = book.sheets.get(s.name)
            if ref and sheet is not None:
                x = sheet.values.get(ref)
                if isinstance(x, str) and x.strip() and x.strip() not in out:
                    out.append(x.strip())
    return out


def candidate_profiles(book: Book, bureau: Profile | None) -> list[Profile]:
    """The profiles whose native templates a workbook may come from: the one the check uses, and the ones the
    workbook names that can be loaded (shipped ones by name; a custom one only as the check's own)."""
    out: list[Profile] = [bureau] if bureau is not None else []
    for name in named_profiles(book):
        if any(p.id == name for p in out):
            continue
        try:
            out.append(load_profile(name))
        except JixiaoError:
            continue  # a profile this check does not have: the profile choice reports it
    return out


@dataclass
class Match:
    template: TemplateCalc
    overwritten: list[Key]  # template formula cells holding a typed value
    changed: list[Key]  # cells whose formula differs
    extra: list[Key]  # formulas the template does not have

    @property
    def exact(self) -> bool:
        return not self.changed and not self.extra


def fingerprint(formulas: dict[Key, str]) -> int:
    """One number for a set of (cell, formula): a template is recognised by it, not formula by formula."""
    return hash(frozenset(formulas.items()))


def book_formulas(book: Book) -> dict[Key, str]:
    """The workbook's formulas, with Excel's add-in references ``[1]!JX_…`` read as ``JX_…``."""
    return {(s.name, ref): _ADDIN_PREFIX.sub("", f) if "!" in f else f for s in book.sheets.values()
            for ref, f in s.formulas.items()}


def match_template(book: Book, bureau: Profile | None = None) -> Match | None:
    """The template whose formulas the workbook has; None when no template's sheets are all present.

    Known templates: the default ones, and the native ones of the profiles the workbook names and of
    ``bureau`` (the profile the check uses), generated on demand. A department or project form whose officer
    inserted or deleted 年度总体目标 or indicator rows is compared with its template made with that many rows
    (:func:`resized_templates`)."""
    formulas = book_formulas(book)
    fp = fingerprint(formulas)
    resized = resized_templates(book, templates())
    known = templates() + resized
    exact = [t for t in known if t.fingerprint == fp and t.formulas == formulas]
    if not exact:
        known = list(known)
        later = resized  # known templates other than the defaults (which _unseen_natives has left out)
        for p in candidate_profiles(book, bureau):
            seen: dict[tuple[str, str, int], list[dict[Key, str]]] = {}
            for k in later:
                seen.setdefault((k.kind, k.engine, k.fingerprint), []).append(k.formulas)
            mine = [t for t in _unseen_natives(p)
                    if not any(f == t.formulas for f in seen.get((t.kind, t.engine, t.fingerprint), ()))]
            added = mine + resized_templates(book, mine)
            known += added
            later = later + added
        exact = [t for t in known if t.fingerprint == fp and t.formulas == formulas]
    if exact:  # the usual case: an untouched template, compared as a whole
        return Match(min(exact, key=lambda t: _level_mismatch(t, book)), [], [], [])
    candidates: list[tuple[int, int, Match]] = []
    signatures = {k: _signature(f) for k, f in formulas.items()}
    relative: dict[Key, str | None] = {}  # the workbook's formulas in relative form, parsed once for all templates
    named = named_profiles(book)
    # the templates of the profile the workbook names first: the likely one, and a perfect match ends the search
    for t in sorted(known, key=lambda t: (t.model.profile not in named, _level_mismatch(t, book))):
        sheets = {s.name for s in t.model.sheets}
        if not sheets <= set(book.sheets) or not _alike(t, signatures):
            continue
        overwritten, changed = _compare(t, formulas, relative)
        if len(overwritten) > len(t.formulas) // 2:
            continue  # not this template: most of its formulas are missing
        extra = [k for k in formulas if k[0] in sheets and k not in t.formulas]
        candidates.append((len(changed) + len(extra) + len(overwritten), _level_mismatch(t, book),
                           Match(t, overwritten, changed, extra)))
        if candidates[-1][:2] == (0, 0):
            break  # every formula of this template, as written by another program: no other can do better
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c[0], c[1]))[2]


MAX_ROWS = 500  # indicator or goal rows a resized template may have (a form, not a data dump)
MAX_RESIZED = 64  # resized templates kept per process
_RESIZED: dict[tuple, TemplateCalc | None] = {}


def resized_templates(book: Book, base: list[TemplateCalc]) -> list[TemplateCalc]:
    """The department and project templates of ``base`` remade with the workbook's numbers of goal and indicator
    rows, where these differ from the template's: rows inserted or deleted the way officers do (copied rows
    carry their formulas, and the totals' ranges run from the indicator header to the marker row below the
    last indicator row, so they stay those of the template made with that many rows)."""
    out = []
    blocks: dict[tuple, tuple[int, int] | None] = {}  # templates of one layout share their labels: found once
    for t in base:
        s = t.model.main
        if s.indicator_block is None or s.name not in book.sheets:
            continue
        header, after = t.indicator_header
        place = (s.name, s.indicator_block[0], tuple(sorted(header.items())), after)
        if place not in blocks:
            blocks[place] = _indicator_block(book.sheets[s.name].values, header, after)
        found = blocks[place]
        if found is None or found == s.indicator_block:
            continue
        (top, marker), (head, _) = found, s.indicator_block
        goals = sum(1 for k in s.fields if k.startswith("goals.") and k.endswith(".target")) + top - head
        rows = marker - top - 1
        if not (1 <= goals <= MAX_ROWS and 1 <= rows <= MAX_ROWS):
            continue
        key = (t.kind, t.engine, t.model.profile, None if t.profile is None else repr(t.profile), goals, rows)
        if key not in _RESIZED:
            if len(_RESIZED) >= MAX_RESIZED:
                _RESIZED.pop(next(iter(_RESIZED)))
            _RESIZED[key] = _resized(t, goals, rows)
        made = _RESIZED[key]
        if made is not None:
            out.append(made)
    return out


def _indicator_header(s) -> tuple[dict[str, str], str | None]:
    """A template sheet's indicator header row (column → text) and the text of the row below its marker row
    (合计, 总分); None for that text when there is none."""
    head, marker = s.indicator_block
    header = {_DIGITS.sub("", ref): c.value for ref, c in s.cells.items()
              if _COLUMN_ROW.fullmatch(ref) and ref[len(ref.rstrip("0123456789")):] == str(head)
              and isinstance(c.value, str)}
    after = s.cells.get(f"A{marker + 1}")
    return header, after.value if after is not None and isinstance(after.value, str) else None


_DIGITS = re.compile(r"\d+")
_COLUMN_ROW = re.compile(r"[A-Z]+\d+")
_COLUMN_A = re.compile(r"A(\d+)")


def _indicator_block(values: dict, header: dict[str, str], after: str | None) -> tuple[int, int] | None:
    """(header row, marker row) of the indicator table in a sheet's values, found by the template's labels:
    the header row's texts, and the label of the row below the marker (合计, 总分)."""
    if not header or after is None:
        return None
    rows = sorted({int(m.group(1)) for ref in values if ref[0] == "A" and (m := _COLUMN_A.fullmatch(ref))})
    top = next((r for r in rows if all(values.get(f"{col}{r}") == text for col, text in header.items())), None)
    if top is None:
        return None
    end = next((r for r in rows if r > top and values.get(f"A{r}") == after), None)
    return None if end is None else (top, end - 1)


def _resized(t: TemplateCalc, goals: int, rows: int) -> TemplateCalc | None:
    from ..errors import JixiaoError
    from ..layouts.shipped import template_model

    default_goals = sum(1 for k in t.model.main.fields if k.startswith("goals.") and k.endswith(".target"))
    try:
        model = template_model(t.kind, t.profile, t.engine, indicator_rows=rows,  # type: ignore[arg-type]
                               goal_rows=None if goals == default_goals else goals)
    except JixiaoError:
        return None
    forms = {(s.name, ref): f for s in model.sheets for ref, f in s.formulas().items()}
    return TemplateCalc(t.kind, model, forms, t.engine, t.profile)


def _compare(t: TemplateCalc, formulas: dict[Key, str], relative: dict[Key, str | None]
             ) -> tuple[list[Key], list[Key]]:
    """Template formula cells missing from the workbook, and those whose formula differs (filled-down copies
    that differ only in their row are the same formula)."""
    overwritten, changed = [], []
    for key, f in t.formulas.items():
        got = formulas.get(key)
        if got is None:
            overwritten.append(key)
        elif got != f and _canonical(got) != _canonical(f):
            if key not in relative:
                try:
                    relative[key] = relative_form(got, key[1])
                except FormulaError:
                    relative[key] = None
            if relative[key] is None or relative[key] != t.relative(key):
                changed.append(key)
    return overwritten, changed


_FUNCTION = re.compile(r"([A-Z_][A-Z0-9_.]*)\(")


@per_text
def _signature(formula: str) -> frozenset[str]:
    """The functions a formula calls: cheap to compare, and what tells the templates (add-in or native) apart."""
    text = _STRING.sub('""', formula).replace("TRUE()", "TRUE").replace("FALSE()", "FALSE")
    return frozenset(name.removeprefix("_XLUDF.").removeprefix("_XLFN.") for name in set(_FUNCTION.findall(text.upper())))


def _alike(t: TemplateCalc, signatures: dict[Key, frozenset[str]]) -> bool:
    """At least half of the template's formula cells call the same functions in the workbook: worth comparing.

    Only the cells the workbook has can agree: the template's other formulas are never read here."""
    if 2 * len(signatures) < len(t.formulas):
        return False
    same = sum(1 for key, sig in signatures.items() if key in t.formulas and t.signature(key) == sig)
    return 2 * same >= len(t.formulas)


_STRING = re.compile(r'"(?:[^"]|"")*"')
_NUMBER = re.compile(r"(?<![A-Za-z$\d.])(\d+\.?\d*(?:[Ee][+-]?\d+)?)(?![\d(])")


def _canonical(formula: str) -> str:
    """A formula written one way: LibreOffice saves 1E-9 as 0.000000001 and FALSE as FALSE()."""
    parts = _STRING.split(formula)
    strings = _STRING.findall(formula)
    out = [_NUMBER.sub(lambda m: repr(float(m.group(1))), p).replace("TRUE()", "TRUE").replace("FALSE()", "FALSE")
           for p in parts]
    return "".join(x + (strings[i] if i < len(strings) else "") for i, x in enumerate(out))


def _level_mismatch(t: TemplateCalc, book: Book) -> int:
    """1 when a department template's level (省级/市级/县级) is not the one the workbook's header names."""
    level = t.level
    header = str(book.sheets[t.model.main.name].values.get("A3", "")) if t.model.main.name in book.sheets else ""
    return int(level is not None and level not in header)
