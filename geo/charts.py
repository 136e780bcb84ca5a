"""Altair charts of grants: French labels and euro formats that do not depend on the browser.

Two layers of French formatting, so nothing shows "12,345":
- every chart carries a French Vega number locale (``config.locale``: decimal comma, non-breaking
  space as thousands separator, "€" suffix), so axis labels formatted with ``$,.0f``/``,.0f`` read
  "12 345 €";
- tooltips show pre-computed strings (``format_eur``), exact whatever the renderer's locale.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from geo.maps import format_eur

NBSP = "\u00a0"
FR_LOCALE = {
    "number": {
        "decimal": ",",
        "thousands": NBSP,
        "grouping": [3],
        "currency": ["", f"{NBSP}€"],
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


def _french(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return chart.configure(locale=FR_LOCALE).configure_axis(labelFontSize=12, titleFontSize=12)


def bar_by(df: pd.DataFrame, category_col: str, value_col: str, title: str) -> alt.Chart:
    """Total of `value_col` (euros) by category, horizontal bars sorted from largest."""
    totals = (
        df.groupby(category_col, dropna=False)[value_col]
        .sum()
        .reset_index()
        .sort_values([value_col, category_col], ascending=[False, True])
    )
    totals[category_col] = totals[category_col].fillna("Non renseigné").astype(str)
    totals["montant_txt"] = totals[value_col].map(format_eur)
    chart = (
        alt.Chart(totals, title=title)
        .mark_bar(color=AXIS_COLORS[0])
        .encode(
            y=alt.Y(f"{category_col}:N", sort=None, title=None),
            x=alt.X(f"{value_col}:Q", title="Montant", axis=alt.Axis(format=EURO_AXIS)),
            tooltip=[
                alt.Tooltip(f"{category_col}:N", title="Catégorie"),
                alt.Tooltip("montant_txt:N", title="Montant"),
            ],
        )
    )
    return _french(chart)


def envelope_by_year(
    consumption_df: pd.DataFrame,
    *,
    year_col: str = "annee",
    committed_col: str = "montant",
    paid_col: str = "montant_verse",
    years: range | None = None,
) -> pd.DataFrame:
    """Cumulative committed and paid euros per year (grant rows or yearly rows both work).

    Every year of `years` (default: first to last year present) appears, so the curve stays flat
    through a year without grants. Long format: annee, serie, cumul, cumul_txt.
    """
    yearly = consumption_df.groupby(year_col)[[committed_col, paid_col]].sum()
    if years is None:
        years = (
            range(int(yearly.index.min()), int(yearly.index.max()) + 1) if len(yearly) else range(0)
        )
    yearly = yearly.reindex(list(years), fill_value=0.0).cumsum()
    long = pd.concat(
        [
            pd.DataFrame(
                {
                    "annee": yearly.index,
                    "serie": "Engagé (cumul)",
                    "cumul": yearly[committed_col].to_numpy(),
                }
            ),
            pd.DataFrame(
                {
                    "annee": yearly.index,
                    "serie": "Versé (cumul)",
                    "cumul": yearly[paid_col].to_numpy(),
                }
            ),
        ],
        ignore_index=True,
    )
    long["cumul_txt"] = long["cumul"].map(format_eur)
    return long


def envelope_chart(
    consumption_df: pd.DataFrame,
    envelope_eur: float | None = None,
    *,
    years: range | None = None,
) -> alt.LayerChart:
    """Cumulative committed and paid amounts by year against the strategy's envelope line.

    `consumption_df` has annee, montant (committed) and montant_verse (paid) columns: the grants
    themselves or one row per year. `envelope_eur` (data/strategy.json) draws a dashed rule.
    Committed and paid differ by line style and point shape too, not by colour alone.
    """
    long = envelope_by_year(consumption_df, years=years)
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
        rule = pd.DataFrame({"enveloppe": [float(envelope_eur)], "txt": [format_eur(envelope_eur)]})
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
            .mark_text(align="left", dx=4, dy=-8, color="#D55E00")
            .encode(
                y="enveloppe:Q",
                x=alt.value(0),
                text=alt.value(f"Enveloppe : {format_eur(envelope_eur)}"),
            )
        )
        layers += [line, label]
    chart = alt.layer(*layers).properties(title="Consommation de l'enveloppe")
    return _french(chart)


def stacked_by_axis(
    df: pd.DataFrame,
    axis_labels: Mapping[int, str] | None = None,
    *,
    year_col: str = "annee",
    axis_col: str = "axe",
    value_col: str = "montant",
) -> alt.Chart:
    """Euros per year stacked by strategy axis ("Axe 1 – Financer" with `axis_labels`)."""
    totals = df.groupby([year_col, axis_col])[value_col].sum().reset_index()
    labels = dict(axis_labels or {})
    totals["axe_label"] = [
        f"Axe {int(a)} – {labels[int(a)]}" if int(a) in labels else f"Axe {int(a)}"
        for a in totals[axis_col]
    ]
    totals["montant_txt"] = totals[value_col].map(format_eur)
    order = sorted(totals["axe_label"].unique(), key=lambda s: int(s.split()[1]))
    chart = (
        alt.Chart(totals, title="Montants par année et par axe")
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
            order=alt.Order(f"{axis_col}:Q"),
            tooltip=[
                alt.Tooltip(f"{year_col}:O", title="Année"),
                alt.Tooltip("axe_label:N", title="Axe"),
                alt.Tooltip("montant_txt:N", title="Montant"),
            ],
        )
    )
    return _french(chart)
