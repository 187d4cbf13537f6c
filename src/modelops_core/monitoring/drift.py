"""Drift between a reference and a current data set: one method per column, chosen by
Evidently's documented rule unless named, with what Evidently lacks: an effect-size floor for
p-value tests on large samples, Benjamini-Hochberg across columns, seeded results, notes where a
test has little power, and schema drift (missing, new, retyped columns) as findings.

The automatic rule (as Evidently's ``DataDriftPreset``): with at most 1,000 reference values,
KS for numeric columns (chi-square for 3-5 distinct values, Z for 2), chi-square for
categorical columns (Z when binary), drift when p < 0.05; with more, the Wasserstein distance
normed by the reference's standard deviation for numeric columns (Jensen-Shannon for at most 5
distinct values) and the Jensen-Shannon distance for categorical ones, drift when >= 0.1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from modelops_core.monitoring.errors import DriftMethodError
from modelops_core.monitoring.methods import (
    BUILTIN,
    DriftMethod,
    Statistic,
    integer_categories,
    mmd_test,
)
from modelops_core.monitoring.profile import CATEGORICAL, EMPTY, NUMERIC, ColumnProfile, Profile
from modelops_core.monitoring.sketches import DEFAULT_SAMPLE_ROWS

if TYPE_CHECKING:
    from modelops_core.monitoring.alerts import AlertManager
    from modelops_core.runtime import Runtime

#: fewer values than this on a side: the note says a test has little power.
LOW_POWER = 30
#: reference values up to which the automatic rule uses p-value tests (Evidently's rule).
SMALL_REFERENCE = 1000


@attrs.frozen
class ColumnDrift:
    """The drift finding of one column.

    :param method: the method's name, or ``"schema"`` (missing, new or retyped column),
        ``"values"`` (values on one side only) and ``"none"`` (no value on either side).
    :param value: the p-value or distance (None for schema findings).
    :param effect: the effect size of p-value tests (KS D, total variation, |p1 - p2|).
    :param p_adjusted: the Benjamini-Hochberg adjusted p-value when that correction is on.
    :param notes: why a result deserves care (little power, sketched values, overflow ...).
    """

    column: str
    kind: str
    method: str
    value: float | None
    threshold: float | None
    drifted: bool
    effect: float | None = None
    p_adjusted: float | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        def number(value: float | None) -> float | None:
            return None if value is None or not math.isfinite(value) else value

        return {
            "column": self.column,
            "kind": self.kind,
            "method": self.method,
            "value": number(self.value),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "effect": number(self.effect),
            "p_adjusted": number(self.p_adjusted),
            "notes": list(self.notes),
        }


@attrs.frozen(eq=False)
class DriftReport:
    """Per-column findings, the share of drifted columns and the data-set verdict (drifted
    when the share reaches ``drift_share``, 0.5 by default as in Evidently)."""

    columns: tuple[ColumnDrift, ...]
    reference: Profile
    current: Profile
    drift_share: float = 0.5
    #: the multivariate finding over sampled rows (``Monitor(..., multivariate="mmd")``):
    #: reported beside the columns, not counted in ``share_drifted``.
    rows: ColumnDrift | None = None

    @property
    def share_drifted(self) -> float:
        if not self.columns:
            return 0.0
        return sum(column.drifted for column in self.columns) / len(self.columns)

    @property
    def drifted(self) -> bool:
        return any(c.drifted for c in self.columns) and self.share_drifted >= self.drift_share

    def __getitem__(self, column: str) -> ColumnDrift:
        for finding in self.columns:
            if finding.column == column:
                return finding
        raise KeyError(column)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "columns": [column.to_dict() for column in self.columns],
            "share_drifted": self.share_drifted,
            "drifted": self.drifted,
        }
        if self.rows is not None:
            result["multivariate"] = self.rows.to_dict()
        return result

    def _repr_html_(self) -> str:
        """The summary table for Jupyter: one escaped row per column, the verdict first (the
        full report with the distributions is :meth:`write_html`)."""
        import html

        def shown(value: float | None) -> str:
            return "" if value is None else f"{value:.4g}"

        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(cell)}</td>"
                for cell in (
                    column.column,
                    column.kind,
                    column.method,
                    shown(column.value),
                    shown(column.threshold),
                    "yes" if column.drifted else "no",
                )
            )
            + "</tr>"
            for column in self.columns
        )
        verdict = "drifted" if self.drifted else "no drift"
        return (
            f"<p><b>{verdict}</b>: {self.share_drifted:.0%} of {len(self.columns)} columns "
            "drifted</p><table><thead><tr><th>column</th><th>kind</th><th>method</th>"
            "<th>value</th><th>threshold</th><th>drifted</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )

    def write_html(self, path: str | Path, *, title: str = "Drift report") -> Path:
        """The self-contained HTML report (summary table first, then each column)."""
        from modelops_core.monitoring.report import render_drift_report

        target = Path(path)
        target.write_text(render_drift_report(self, title=title), encoding="utf-8")
        return target


def _union_distinct(reference: ColumnProfile, current: ColumnProfile) -> float:
    if reference.frequent.overflowed or current.frequent.overflowed:
        return (
            math.inf
            if reference.kind == NUMERIC
            else reference.distinct.merge(current.distinct).estimate()
        )
    return float(len(set(reference.frequent.counts) | set(current.frequent.counts)))


def _untested(name: str, kind: str, why: str) -> ColumnDrift:
    """The finding of a column that is not tested (not drifted), and why."""
    return ColumnDrift(name, kind, "none", None, None, False, notes=(why,))


#: the share of distinct values over which Evidently types a column of strings as text.
TEXT_DISTINCT_SHARE = 0.5


def _text_like(column: ColumnProfile) -> bool:
    """A categorical column with more distinct values than half its values (Evidently's rule
    for text: free text, identifiers), whose categories never repeat enough to be compared."""
    return (
        column.kind == CATEGORICAL
        and column.values > 1
        and column.distinct_count() > TEXT_DISTINCT_SHARE * column.values
    )


def automatic_method(reference: ColumnProfile, current: ColumnProfile) -> str:
    """The method Evidently's rule picks for this pair of columns (an integer column with at
    most 10 distinct values in the current data counted as categorical, as Evidently types
    it: :func:`~modelops_core.monitoring.methods.integer_categories`)."""
    distinct = _union_distinct(reference, current)
    numeric = reference.kind == NUMERIC and not integer_categories(reference, current)
    if reference.values <= SMALL_REFERENCE:
        if numeric and distinct > 5:
            return "ks"
        return "chisquare" if distinct > 2 else "z"
    if numeric and distinct > 5:
        return "wasserstein"
    return "jensenshannon"


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (step-up, monotone, capped at 1)."""
    count = len(p_values)
    order = np.argsort(p_values)
    ranked = np.asarray(p_values, dtype=np.float64)[order] * count / np.arange(1, count + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(count)
    result[order] = np.minimum(adjusted, 1.0)
    return [float(v) for v in result]


class Monitor:
    """Drift of current data against a reference.

    :param reference: a :class:`Profile`, or data to profile (a path, a DataFrame ...).
    :param method: ``"auto"`` (Evidently's rule) or a method name (``ks``, ``chisquare``, ``z``,
        ``psi``, ``wasserstein``, ``jensenshannon``, ``hellinger``, ``anderson``, ``mmd``, or a
        ``drift_tests`` component of a plugin); a column it cannot test falls back to ``auto``.
    :param thresholds: method name -> threshold, replacing the method's default.
    :param drift_share: the share of drifted columns that makes the data set drifted.
    :param correction: ``"bh"`` adjusts the p-values of all columns (Benjamini-Hochberg).
    :param min_effect: p-value tests on more than 1,000 values a side flag drift only when the
        effect size reaches this (0 turns the floor off).
    :param seed: the seed of sampled methods (MMD) and of the sketches.
    :param runtime: the runtime whose ``modelops_on_alert`` hooks hear of drifted columns, and
        whose ``drift_tests`` components supply methods the core does not have.
    :param lengths: text columns (model outputs such as an LLM's answers) whose length in
        characters is tested too, as ``<column>.length`` (a reference given as data; a
        reference profile carries its own).
    :param multivariate: ``"mmd"``: also test the rows of all numeric columns together
        (Gaussian-kernel MMD on seeded samples of at most ``sample_rows`` rows a side), as
        ``DriftReport.rows``.
    :param sample_rows: rows sampled per side for ``multivariate`` (a reference given as data).
    :param alerts: the :class:`~modelops_core.monitoring.alerts.AlertManager` drifted columns
        fire through (its runtime's hooks hear them; another window, state file or clock);
        default: one on ``<home>/monitoring/alerts.json`` of ``runtime``, made at the first
        drift found.
    """

    def __init__(
        self,
        reference: Profile | Any,
        *,
        method: str = "auto",
        thresholds: Mapping[str, float] | None = None,
        drift_share: float = 0.5,
        correction: str | None = None,
        min_effect: float = 0.05,
        seed: int = 0,
        runtime: Runtime | None = None,
        lengths: Sequence[str] = (),
        multivariate: str | None = None,
        sample_rows: int = DEFAULT_SAMPLE_ROWS,
        alerts: AlertManager | None = None,
    ) -> None:
        if correction not in (None, "bh"):
            raise DriftMethodError(f"correction={correction!r}: use None or 'bh'")
        if not 0 < drift_share <= 1:
            raise DriftMethodError(f"drift_share={drift_share}: use a share in (0, 1]")
        if isinstance(reference, Profile):
            missing = [name for name in lengths if name not in reference.lengths]
            if missing:
                raise DriftMethodError(
                    f"lengths={missing}: the reference profile has no text lengths of these "
                    "columns; build it with Profile.build(data, lengths=[...])"
                )
            self.reference = reference
        else:
            self.reference = Profile.build(
                reference,
                seed=seed,
                lengths=lengths,
                sample_rows=sample_rows if multivariate else 0,
            )
        if multivariate not in (None, "mmd"):
            raise DriftMethodError(
                f"multivariate={multivariate!r}: the multivariate method is 'mmd' (or None)"
            )
        if multivariate and self.reference.sample is None:
            raise DriftMethodError(
                "multivariate='mmd' needs a sample of rows and the reference profile has none; "
                "build it with Profile.build(data, sample_rows=500) or `modelops monitor profile "
                "DATA --sample-rows 500`"
            )
        self.multivariate = multivariate
        self.method = method
        self.thresholds = dict(thresholds or {})
        self.drift_share = drift_share
        self.correction = correction
        self.min_effect = min_effect
        self.seed = seed
        self.runtime = runtime if runtime is not None or alerts is None else alerts.runtime
        self.alerts = alerts
        self._methods: dict[str, DriftMethod] = {}
        if method != "auto":
            self._method(method)  # an unknown name fails now, not after reading the data

    def _method(self, name: str) -> DriftMethod:
        if name in self._methods:
            return self._methods[name]
        options: dict[str, Any] = {}
        if name in self.thresholds:
            options["threshold"] = self.thresholds[name]
        if name == "mmd":
            options["seed"] = self.seed
        built: DriftMethod
        if name in BUILTIN and self.runtime is None:
            built = BUILTIN[name](**options)
        else:
            from modelops_core.errors import UnknownComponentError
            from modelops_core.plugins.kinds import Kind
            from modelops_core.runtime import Runtime

            runtime = self.runtime or Runtime()
            try:
                built = runtime.create(Kind.DRIFT_TEST, name, **options)
            except UnknownComponentError as exc:
                known = ", ".join(["auto", *sorted(runtime.components[Kind.DRIFT_TEST].names())])
                raise DriftMethodError(
                    f"unknown drift method {name!r}; use one of: {known}"
                ) from exc
        self._methods[name] = built
        return built

    def drift(self, current: Profile | Any) -> DriftReport:
        """Compare ``current`` (a :class:`Profile` or data) with the reference."""
        if not isinstance(current, Profile):
            current = Profile.build(current, reference=self.reference, seed=self.seed)
        reference = self.reference
        findings: list[ColumnDrift] = []
        for name, ref in reference.columns.items():
            cur = current.columns.get(name)
            if cur is None:
                findings.append(
                    ColumnDrift(
                        name,
                        ref.kind,
                        "schema",
                        None,
                        None,
                        True,
                        notes=("missing from the current data",),
                    )
                )
                continue
            findings.append(self._column(ref, cur))
        for name, cur in current.columns.items():
            if name not in reference.columns:
                findings.append(
                    ColumnDrift(
                        name,
                        cur.kind,
                        "schema",
                        None,
                        None,
                        True,
                        notes=("a new column: not in the reference",),
                    )
                )
        findings = self._correct(findings)
        rows = self._rows(reference, current) if self.multivariate else None
        report = DriftReport(tuple(findings), reference, current, self.drift_share, rows)
        self._alert(report)
        return report

    def _rows(self, reference: Profile, current: Profile) -> ColumnDrift:
        """MMD between the sampled rows of both sides (complete rows only)."""
        assert reference.sample is not None
        names = ", ".join(reference.sample.columns)
        where = f"rows of {names}"
        if current.sample is None or current.sample.columns != reference.sample.columns:
            return ColumnDrift(
                where, NUMERIC, "schema", None, None, True,
                notes=("the current data has no row sample of the reference's numeric columns",),
            )  # fmt: skip
        ref_rows = reference.sample.complete_rows()
        cur_rows = current.sample.complete_rows()
        if len(ref_rows) < 2 or len(cur_rows) < 2:
            return ColumnDrift(
                where, NUMERIC, "none", None, None, False,
                notes=(f"{len(ref_rows)} and {len(cur_rows)} complete rows: not tested",),
            )  # fmt: skip
        method = self._method("mmd")
        p_value, statistic = mmd_test(ref_rows, cur_rows, seed=self.seed)
        notes = [f"MMD^2 = {statistic:.4g} on {len(ref_rows)} and {len(cur_rows)} sampled rows"]
        if min(len(ref_rows), len(cur_rows)) < LOW_POWER:
            notes.append("fewer than 30 rows on a side: the test has little power")
        return ColumnDrift(
            where, NUMERIC, "mmd", p_value, method.threshold, method.drifted(p_value),
            notes=tuple(notes),
        )  # fmt: skip

    def _column(self, ref: ColumnProfile, cur: ColumnProfile) -> ColumnDrift:
        name = ref.name
        if ref.kind != cur.kind and EMPTY not in (ref.kind, cur.kind):
            return ColumnDrift(
                name,
                cur.kind,
                "schema",
                None,
                None,
                True,
                notes=(f"{ref.kind} in the reference, {cur.kind} now",),
            )
        if ref.kind == NUMERIC and cur.invalid > cur.values:
            return ColumnDrift(
                name,
                CATEGORICAL,
                "schema",
                None,
                None,
                True,
                notes=(
                    f"numeric in the reference, categorical now ({cur.invalid} of "
                    f"{cur.count} values are not numbers)",
                ),
            )
        if ref.values == 0 or cur.values == 0:
            if ref.values == cur.values:
                return _untested(name, ref.kind, "no values on either side: not tested")
            side = "current" if cur.values == 0 else "reference"
            return ColumnDrift(
                name,
                ref.kind if ref.kind != EMPTY else cur.kind,
                "values",
                None,
                None,
                True,
                notes=(f"no values in the {side} data (all missing or not finite)",),
            )
        if self.method == "auto" and _text_like(ref) and _text_like(cur):
            return _untested(
                name,
                ref.kind,
                f"text or identifiers: about {cur.distinct_count():.0f} distinct of "
                f"{cur.values} values in the current data, {ref.distinct_count():.0f} of "
                f"{ref.values} in the reference (over half: text, as Evidently types it); a "
                "test of categories would flag every window, so not tested: test its lengths "
                f"(--length {name}) or name a method",
            )
        notes = list(self._data_notes(ref, "reference") + self._data_notes(cur, "current"))
        chosen = automatic_method(ref, cur) if self.method == "auto" else self.method
        method = self._method(chosen)
        if self.method != "auto" and ref.kind not in method.kinds:
            fallback = automatic_method(ref, cur)
            notes.append(f"{chosen} does not test {ref.kind} columns: {fallback} used")
            method = self._method(fallback)
        statistic: Statistic = method.compute(ref, cur)
        drifted = method.drifted(statistic.value)
        notes.extend(statistic.notes)
        if (
            drifted
            and method.direction == "p_value"
            and self.min_effect > 0
            and min(ref.values, cur.values) > SMALL_REFERENCE
            and statistic.effect is not None
            and statistic.effect < self.min_effect
        ):
            drifted = False
            notes.append(
                f"p = {statistic.value:.3g} but the effect {statistic.effect:.3g} is below "
                f"min_effect {self.min_effect}: not flagged (a large sample makes tiny "
                "differences significant)"
            )
        return ColumnDrift(
            name,
            ref.kind,
            method.name,
            statistic.value,
            method.threshold,
            drifted,
            effect=statistic.effect,
            notes=tuple(notes),
        )

    @staticmethod
    def _data_notes(column: ColumnProfile, side: str) -> tuple[str, ...]:
        notes = []
        if column.values < LOW_POWER:
            notes.append(
                f"only {column.values} values in the {side} data: the test has little power"
            )
        if column.infinite:
            notes.append(f"{column.infinite} infinite values in the {side} data were left out")
        if column.invalid:
            notes.append(f"{column.invalid} values in the {side} data are not numbers (left out)")
        if column.frequent.overflowed and column.kind == CATEGORICAL:
            notes.append(
                f"about {column.distinct.estimate():.0f} distinct values in the {side} data: "
                f"tested on the {len(column.frequent.counts)} most frequent (an identifier?)"
            )
        return tuple(notes)

    def _correct(self, findings: list[ColumnDrift]) -> list[ColumnDrift]:
        if self.correction != "bh":
            return findings
        tested = [
            index
            for index, finding in enumerate(findings)
            if finding.value is not None
            and finding.method in self._methods
            and self._methods[finding.method].direction == "p_value"
        ]
        if not tested:
            return findings
        adjusted = benjamini_hochberg([findings[i].value or 0.0 for i in tested])
        result = list(findings)
        for index, p_adjusted in zip(tested, adjusted, strict=True):
            finding = findings[index]
            threshold = finding.threshold or 0.0
            drifted = p_adjusted < threshold and (
                finding.drifted or not any("min_effect" in note for note in finding.notes)
            )
            result[index] = attrs.evolve(finding, p_adjusted=p_adjusted, drifted=drifted)
        return result

    def _alert(self, report: DriftReport) -> None:
        """An alert per drifted column, and for drifted rows (multivariate), named
        ``drift.<method>`` and about the column, fired through ``self.alerts``: an
        :class:`AlertManager` on ``<home>/monitoring/alerts.json`` unless one was given, so a
        column drifting again in the same window alerts once."""
        if self.runtime is None:
            return
        findings = [*report.columns, *([] if report.rows is None else [report.rows])]
        drifted = [finding for finding in findings if finding.drifted]
        if not drifted:
            return
        from modelops_core.monitoring.alerts import Alert, AlertManager, home_state

        manager = self.alerts
        if manager is None:
            manager = self.alerts = AlertManager(self.runtime, state=home_state(self.runtime))
        manager.fire(
            Alert(
                f"drift.{finding.method}",
                "warning",
                f"drift in column {finding.column!r}: {finding.method}"
                + ("" if finding.value is None else f" = {finding.value:.4g}")
                + ("" if finding.threshold is None else f" (threshold {finding.threshold})"),
                subject=finding.column,
                details=finding.to_dict(),
            )
            for finding in drifted
        )


def drift(reference: Profile | Any, current: Profile | Any, **options: Any) -> DriftReport:
    """``Monitor(reference, **options).drift(current)``."""
    return Monitor(reference, **options).drift(current)
