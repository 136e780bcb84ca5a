"""The strategy's two roadmaps as a shared filter: in the URL, intersected with the years."""

from __future__ import annotations

import pandas as pd

from geo.filters import ROADMAPS, Filters, apply, from_query_params, to_query_params


def grants() -> pd.DataFrame:
    return pd.DataFrame({"annee": [2021, 2023, 2024, 2026], "montant": [1.0, 2.0, 3.0, 4.0]})


def kept(filters: Filters) -> list[int]:
    return apply(grants(), None, filters)["annee"].tolist()


def test_the_two_roadmaps_of_the_deliberation():
    assert ROADMAPS == {"2021-2023": (2021, 2023), "2024-2026": (2024, 2026)}


def test_roadmap_keeps_its_years_and_intersects_the_year_filter():
    assert kept(Filters(roadmap="2021-2023")) == [2021, 2023]
    assert kept(Filters(roadmap="2024-2026")) == [2024, 2026]
    assert kept(Filters(roadmap="2024-2026", years=(2023, 2024))) == [2024]
    assert kept(Filters(roadmap="2021-2023", years=(2025, 2026))) == []
    assert kept(Filters()) == [2021, 2023, 2024, 2026]


def test_roadmap_in_the_url_round_trips_and_bad_values_are_ignored():
    f = from_query_params({"feuille": "2021-2023"})
    assert f.roadmap == "2021-2023"
    assert to_query_params(f) == {"feuille": "2021-2023"}
    assert from_query_params(to_query_params(f)) == f
    assert from_query_params({"feuille": "2019-2020"}) == Filters()
    assert Filters(roadmap="x").is_default()
    both = Filters(roadmap="2024-2026", years=(2024, 2025))
    assert to_query_params(both) == {"annees": "2024-2025", "feuille": "2024-2026"}
    assert from_query_params(to_query_params(both)) == both
