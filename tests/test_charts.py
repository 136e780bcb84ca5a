"""Charts draw the tables of geo.indicators as they are, in French formats."""

from __future__ import annotations

import pandas as pd
import pytest

from geo import charts
from geo.formatting import NNBSP as S
from geo.indicators import OUTSIDE, distribution, envelope_consumption


@pytest.fixture
def grants() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "annee": [2021, 2021, 2023, 2026],
            "axe": [1, 2, 1, None],
            "montant": [1000.0, 2500.0, 40000.0, 7.0],
            "montant_verse": [1000.0, 0.0, 20000.0, 0.0],
        }
    )


def _rows(spec: dict, column: str) -> list[dict]:
    """The rows of the chart's dataset that has `column`."""
    return next(rows for rows in spec["datasets"].values() if column in rows[0])


def test_envelope_chart_draws_envelope_consumption_as_is(grants):
    consumption = envelope_consumption(grants, 700000, range(2021, 2025))
    spec = charts.envelope_chart(consumption, 700000).to_dict()
    rows = _rows(spec, "cumul")
    engaged = [r for r in rows if r["serie"] == "Engagé (cumul)"]
    paid = [r for r in rows if r["serie"] == "Versé (cumul)"]
    # 2022 has no grant: flat; the 2026 grant lies outside the years asked for.
    assert [(r["annee"], r["cumul"]) for r in engaged] == [
        (2021, 3500.0),
        (2022, 3500.0),
        (2023, 43500.0),
        (2024, 43500.0),
    ]
    assert [r["cumul"] for r in paid] == [1000.0, 1000.0, 21000.0, 21000.0]
    assert paid[-1]["cumul_txt"] == f"21{S}000{S}€"
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert spec["config"]["locale"]["number"]["thousands"] == S
    rule = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "rule")
    assert spec["datasets"][rule["data"]["name"]][0]["txt"] == f"700{S}000{S}€"
    # The same table with annee as a column (reset_index) draws the same rows.
    again = charts.envelope_chart(consumption.reset_index(), 700000).to_dict()
    assert _rows(again, "cumul") == rows


def test_envelope_chart_refuses_raw_grants(grants):
    with pytest.raises(KeyError, match="envelope_consumption"):
        charts.envelope_chart(grants, 700000)


def test_bar_by_draws_distribution_rows_sorted_by_amount(grants):
    by_axis = distribution(grants, "axe").reset_index()
    rows = _rows(charts.bar_by(by_axis, "axe", "montant_engage", "Par axe").to_dict(), "axe")
    assert [(r["axe"], r["montant_engage"], r["montant_txt"]) for r in rows] == [
        ("1", 41000.0, f"41{S}000{S}€"),
        ("2", 2500.0, f"2{S}500{S}€"),
        (OUTSIDE, 7.0, f"7{S}€"),
    ]


def test_bar_by_keeps_the_table_order_and_names_missing_categories():
    totals = pd.DataFrame({"annee": [2021, 2022, None], "montant_engage": [10.0, 300.0, 20.0]})
    spec = charts.bar_by(totals, "annee", "montant_engage", "Par année", sort_by_value=False)
    assert [r["annee"] for r in _rows(spec.to_dict(), "annee")] == ["2021", "2022", "Non renseigné"]
    by_value = charts.bar_by(totals, "annee", "montant_engage", "Par année").to_dict()
    assert [r["annee"] for r in _rows(by_value, "annee")] == ["2022", "Non renseigné", "2021"]


def test_bar_by_refuses_rows_that_are_not_aggregated(grants):
    with pytest.raises(ValueError, match="Une ligne par axe"):
        charts.bar_by(grants, "axe", "montant", "Par axe")


def test_stacked_by_axis_draws_distribution_by_year_and_axis(grants):
    totals = distribution(grants, ["annee", "axe"]).reset_index()
    spec = charts.stacked_by_axis(totals, {1: "Financer", 2: "Accompagner"}).to_dict()
    rows = _rows(spec, "axe_label")
    assert sorted((r["annee"], r["axe_label"], r["montant_txt"]) for r in rows) == [
        (2021, "Axe 1 – Financer", f"1{S}000{S}€"),
        (2021, "Axe 2 – Accompagner", f"2{S}500{S}€"),
        (2023, "Axe 1 – Financer", f"40{S}000{S}€"),
        (2026, OUTSIDE, f"7{S}€"),
    ]
    colour = spec["encoding"]["color"]
    assert colour["scale"]["domain"] == ["Axe 1 – Financer", "Axe 2 – Accompagner", OUTSIDE]
    twice = pd.concat([grants, grants.iloc[[0]]])  # two grants of 2021 on axis 1
    with pytest.raises(ValueError, match="Une ligne par annee et axe"):
        charts.stacked_by_axis(twice, value_col="montant")
