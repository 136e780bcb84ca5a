"""Altair charts of grants: French labels and euro formats that do not depend on the browser.

Charts draw tables that geo.indicators has already computed (``distribution``,
``envelope_consumption``): no sum is done twice, so a chart always matches the table beside it.

Two layers of French formatting, so nothing shows "12,345":
- every chart carries a French Vega number locale (``config.locale``: decimal comma, U+202F as
  thousands separator and before "€", as geo.formatting), so axis labels formatted with
  ``$,.0f``/``,.0f`` read "12 345 €";
- tooltips show pre-computed strings (``geo.formatting.fmt_eur``), exact whatever the renderer's
  locale.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from geo.formatting import NNBSP, fmt_eur

FR_LOCALE = {
    "number": {
        "decimal": ",",
        "thousands": NNBSP,
        "grouping": [3],
        "currency": ["", f"{NNBSP}€"],
    },
    "time": {
        "dateTime": "%A %e %B %Y à %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        "shortMonths": [
            "janv.",
            "févr.",
            "mars",
            "avr.",
            "mai",
            "juin",
            "juil.",
            "août",
            "sept.",
            "oct.",
            "nov.",
            "déc.",
        ],
    },
}
EURO_AXIS = "$,.0f"  # with FR_LOCALE: 12 345 €

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
AXIS_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]


# Text sizes at scale 1 (a page); the presentation's scenes pass a larger ``text_scale`` so that
# the back of the room reads the labels too.
BASE_FONT_PX = 12
TITLE_FONT_PX = 14


def _french(chart: alt.TopLevelMixin, text_scale: float = 1.0) -> alt.TopLevelMixin:
    """French number locale and text sizes (``text_scale`` × the page sizes)."""
    size = round(BASE_FONT_PX * text_scale)
    return (
        chart.configure(locale=FR_LOCALE)
        .configure_axis(labelFontSize=size, titleFontSize=size)
        .configure_legend(labelFontSize=size, titleFontSize=size, symbolSize=60 * text_scale)
        .configure_title(fontSize=round(TITLE_FONT_PX * text_scale))
    )


def priority_labels(strategy: Mapping) -> dict[int, str]:
    """'P4 · Appuyer la consolidation…' for priority 4, from data/strategy.json's axes."""
    return {
        int(p["numero"]): f"P{int(p['numero'])} · {p['titre']}"
        for axis in strategy["axes"]
        for p in axis["priorites"]
    }


def priority_rows(totals: pd.DataFrame, strategy: Mapping, col: str = "priorite") -> pd.DataFrame:
    """A distribution by priority with each priority named ('P4 · …'); others as they are."""
    labels = priority_labels(strategy)

    def name(value: object) -> object:
        try:
            return labels.get(int(float(value)), value)
        except (TypeError, ValueError):
            return value

    return totals.assign(**{col: totals[col].map(name)})


def _single_rows(df: pd.DataFrame, keys: list[str]) -> None:
    """Refuse tables with several rows per key: the chart would stack them silently."""
    duplicated = df.duplicated(subset=keys, keep=False)
    if duplicated.any():
        shown = ", ".join(sorted({str(v) for v in df.loc[duplicated, keys[-1]]})[:5])
        raise ValueError(
            f"Une ligne par {' et '.join(keys)} est attendue (table déjà agrégée, par exemple "
            f"geo.indicators.distribution) ; valeurs répétées : {shown}."
        )


def _category_text(value: object) -> str:
    """A category as text: 2021.0 (a column with a gap turns to floats) reads 2021."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "Non renseigné"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def bar_by(
    totals: pd.DataFrame,
    category_col: str,
    value_col: str,
    title: str,
    *,
    sort_by_value: bool = True,
    text_scale: float = 1.0,
    height: int | None = None,
    label_limit: int = 420,
    value_title: str = "Montant",
) -> alt.Chart:
    """Euros by category as horizontal bars, largest first (or in the table's order).

    ``totals`` has one row per category, already summed: typically
    ``geo.indicators.distribution(grants, key).reset_index()``. ``sort_by_value=False`` keeps the
    rows' order (years in chronological order, say). A missing category reads "Non renseigné".
    Every category keeps its label (no label is dropped for lack of room: the bars get taller
    instead); a label longer than ``label_limit`` pixels ends with "…", the tooltip has it whole.
    ``height`` (pixels) fixes the chart's height, e.g. to fit a scene's screen.
    """
    _single_rows(totals, [category_col])
    rows = totals[[category_col, value_col]].copy()
    rows[value_col] = pd.to_numeric(rows[value_col], errors="coerce").fillna(0.0).astype(float)
    if sort_by_value:
        rows = rows.sort_values(value_col, ascending=False, kind="stable")
    rows[category_col] = [_category_text(v) for v in rows[category_col]]
    rows["montant_txt"] = rows[value_col].map(fmt_eur)
    band = round((BASE_FONT_PX + 10) * text_scale)  # one label line and its margin
    chart = (
        alt.Chart(rows, title=title)
        .mark_bar(color=AXIS_COLORS[0])
        .encode(
            y=alt.Y(
                f"{category_col}:N",
                sort=None,
                title=None,
                axis=alt.Axis(labelOverlap=False, labelLimit=round(label_limit * text_scale)),
            ),
            x=alt.X(
                f"{value_col}:Q",
                title=value_title,
                axis=alt.Axis(format=EURO_AXIS, tickCount=5),
            ),
            tooltip=[
                alt.Tooltip(f"{category_col}:N", title="Catégorie"),
                alt.Tooltip("montant_txt:N", title=value_title),
            ],
        )
        .properties(height=height if height else alt.Step(band))
    )
    return _french(chart, text_scale)


ENVELOPE_SERIES = {"engage_cumule": "Engagé (cumul)", "verse_cumule": "Versé (cumul)"}


def envelope_chart(
    consumption: pd.DataFrame,
    envelope_eur: float | None = None,
    *,
    title: str = "Consommation de l'enveloppe",
    text_scale: float = 1.0,
    height: int | None = None,
) -> alt.LayerChart:
    """Cumulative committed and paid amounts by year against the strategy's envelope line.

    ``consumption`` is ``geo.indicators.envelope_consumption(grants, envelope, years)`` as is
    (indexed by ``annee``, with ``engage_cumule`` and ``verse_cumule``): every year it lists is
    drawn, so the curve stays flat through a year without grants. ``envelope_eur``
    (data/strategy.json) draws a dashed rule. Committed and paid differ by line style and point
    shape too, not by colour alone.
    """
    table = consumption.reset_index() if "annee" not in consumption.columns else consumption
    missing = [c for c in ("annee", *ENVELOPE_SERIES) if c not in table.columns]
    if missing:
        raise KeyError(
            "Colonnes absentes de la consommation de l'enveloppe (attendu : la sortie de "
            f"geo.indicators.envelope_consumption) : {', '.join(missing)}"
        )
    long = table.melt(
        id_vars="annee", value_vars=list(ENVELOPE_SERIES), var_name="serie", value_name="cumul"
    )
    long["serie"] = long["serie"].map(ENVELOPE_SERIES)
    long["cumul_txt"] = long["cumul"].map(fmt_eur)
    base = alt.Chart(long).encode(
        x=alt.X("annee:O", title="Année", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("cumul:Q", title="Montant cumulé", axis=alt.Axis(format=EURO_AXIS)),
        color=alt.Color(
            "serie:N",
            title=None,
            scale=alt.Scale(range=AXIS_COLORS[:2]),
            legend=alt.Legend(orient="bottom"),
        ),
        strokeDash=alt.StrokeDash("serie:N", legend=None, scale=alt.Scale(range=[[1, 0], [6, 3]])),
        shape=alt.Shape("serie:N", legend=None, scale=alt.Scale(range=["circle", "square"])),
        tooltip=[
            alt.Tooltip("annee:O", title="Année"),
            alt.Tooltip("serie:N", title="Série"),
            alt.Tooltip("cumul_txt:N", title="Montant cumulé"),
        ],
    )
    layers = [base.mark_line(), base.mark_point(filled=True, size=60)]
    if envelope_eur is not None:
        rule = pd.DataFrame({"enveloppe": [float(envelope_eur)], "txt": [fmt_eur(envelope_eur)]})
        line = (
            alt.Chart(rule)
            .mark_rule(color="#D55E00", strokeDash=[2, 2], size=2)
            .encode(
                y="enveloppe:Q",
                tooltip=[alt.Tooltip("txt:N", title="Enveloppe de la stratégie")],
            )
        )
        label = (
            alt.Chart(rule)
            .mark_text(
                align="left",
                dx=4,
                dy=-8,
                color="#D55E00",
                fontSize=round(BASE_FONT_PX * text_scale),
            )
            .encode(
                y="enveloppe:Q",
                x=alt.value(0),
                text=alt.value(f"Enveloppe : {fmt_eur(envelope_eur)}"),
            )
        )
        layers += [line, label]
    chart = alt.layer(*layers).properties(title=title)
    if height:
        chart = chart.properties(height=height)
    return _french(chart, text_scale)


def _axis_label(axis: object, labels: Mapping[int, str]) -> str:
    """'Axe 1 – Financer' for 1; other keys (the 'not located' group) as they are."""
    try:
        number = int(axis)
    except (TypeError, ValueError):
        return str(axis)
    return f"Axe {number} – {labels[number]}" if number in labels else f"Axe {number}"


def _axis_order(axis: object) -> float:
    """Axes by number; anything else (the 'not located' group) last."""
    try:
        return float(int(axis))
    except (TypeError, ValueError):
        return float("inf")


def stacked_by_axis(
    totals: pd.DataFrame,
    axis_labels: Mapping[int, str] | None = None,
    *,
    year_col: str = "annee",
    axis_col: str = "axe",
    value_col: str = "montant_engage",
    title: str = "Montants par année et par axe",
    text_scale: float = 1.0,
    height: int | None = None,
) -> alt.Chart:
    """Euros per year stacked by strategy axis ("Axe 1 – Financer" with `axis_labels`).

    ``totals`` has one row per (year, axis), already summed: typically
    ``geo.indicators.distribution(grants, ["annee", "axe"]).reset_index()``.
    """
    _single_rows(totals, [year_col, axis_col])
    labels = dict(axis_labels or {})
    rows = totals[[year_col, axis_col, value_col]].copy()
    rows["axe_label"] = [_axis_label(a, labels) for a in rows[axis_col]]
    rows["ordre"] = [_axis_order(a) for a in rows[axis_col]]
    rows["montant_txt"] = rows[value_col].map(fmt_eur)
    order = list(dict.fromkeys(rows.sort_values("ordre", kind="stable")["axe_label"]))
    chart = (
        alt.Chart(rows, title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{year_col}:O", title="Année", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                f"{value_col}:Q", title="Montant", stack="zero", axis=alt.Axis(format=EURO_AXIS)
            ),
            color=alt.Color(
                "axe_label:N",
                title="Axe",
                sort=order,
                scale=alt.Scale(domain=order, range=AXIS_COLORS[: len(order)]),
                legend=alt.Legend(orient="bottom", columns=2),
            ),
            order=alt.Order("ordre:Q"),
            tooltip=[
                alt.Tooltip(f"{year_col}:O", title="Année"),
                alt.Tooltip("axe_label:N", title="Axe"),
                alt.Tooltip("montant_txt:N", title="Montant"),
            ],
        )
    )
    if height:
        chart = chart.properties(height=height)
    return _french(chart, text_scale)
