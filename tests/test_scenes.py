"""The presentation's scene sequence, its keys and its URL (geo/scenes.py), and the builders a
page and a scene share (geo/views.py, geo/charts.priority_rows)."""

from __future__ import annotations

import pandas as pd
import pytest

from geo import scenes, views
from geo.charts import bar_by, priority_labels, priority_rows


def test_the_sequence_has_the_six_subjects_of_the_issue_in_order():
    kinds = [s.kind for s in scenes.SCENES]
    assert kinds == [
        "figures",
        "funded_map",
        "qpv",
        "territories",
        "priorities",
        "land",
        "compare",
    ]
    assert len({s.slug for s in scenes.SCENES}) == len(scenes.SCENES)


@pytest.mark.parametrize(
    "index,move,expected",
    [
        (0, "next", 1),
        (5, "next", 6),
        (6, "next", 6),  # the last scene stays (no wrap to the first in front of an audience)
        (3, "previous", 2),
        (0, "previous", 0),
        (4, "first", 0),
        (2, "last", 6),
        (2, "dance", 2),
        (42, "previous", 5),  # an index out of range is clamped first
        (-3, "next", 1),
    ],
)
def test_step(index, move, expected):
    assert scenes.step(index, move, 7) == expected


def test_every_key_of_a_presentation_clicker_moves():
    assert scenes.KEY_MOVES["PageDown"] == scenes.KEY_MOVES["ArrowRight"] == "next"
    assert scenes.KEY_MOVES["PageUp"] == scenes.KEY_MOVES["ArrowLeft"] == "previous"
    assert scenes.KEY_MOVES["Home"] == "first" and scenes.KEY_MOVES["End"] == "last"
    assert set(scenes.KEY_MOVES.values()) <= set(scenes.MOVES)


@pytest.mark.parametrize(
    "params,expected",
    [
        ({}, 0),
        ({"scene": "3"}, 2),
        ({"scene": ["1", "4"]}, 3),  # repeated key: the last one
        ({"scene": "foncier"}, 5),  # a slug works too
        ({"scene": "99"}, 6),
        ({"scene": "0"}, 0),
        ({"scene": "trois"}, 0),
        ({"scene": ""}, 0),
    ],
)
def test_index_from_params(params, expected):
    assert scenes.index_from_params(params, 7) == expected


def test_scene_params_round_trip_and_counter():
    for index in range(len(scenes.SCENES)):
        params = scenes.scene_params(index)
        assert params["presentation"] == "1"
        assert scenes.index_from_params(params) == index
    assert scenes.counter(2, 7) == "3 / 7"


def test_compared_ids_url_first_then_defaults_then_first_two():
    ids = ["commune:1", "quartier:2", "quartier:5", "quartier:9", "qpv_2024:A", "qpv_2024:B"]
    assert views.compared_ids(ids, "quartier:9,inconnu,commune:1") == ["quartier:9", "commune:1"]
    assert views.compared_ids(ids, ",".join(ids)) == ids[:4]  # at most 4
    assert views.compared_ids(ids, None) == ["quartier:2", "quartier:5"]
    assert views.compared_ids(["a", "b", "c"], "") == ["a", "b"]


STRATEGY = {
    "axes": [
        {"numero": 1, "priorites": [{"numero": 1, "titre": "Financer"}]},
        {"numero": 2, "priorites": [{"numero": 4, "titre": "Consolider les projets"}]},
    ]
}


def test_every_priority_is_named_and_others_kept():
    assert priority_labels(STRATEGY) == {1: "P1 · Financer", 4: "P4 · Consolider les projets"}
    totals = pd.DataFrame(
        {"priorite": [4, 1.0, 9, "Non localisé"], "montant_engage": [10.0, 20.0, 5.0, 1.0]}
    )
    named = priority_rows(totals, STRATEGY)
    assert list(named["priorite"]) == [
        "P4 · Consolider les projets",
        "P1 · Financer",
        9,
        "Non localisé",
    ]


def test_bar_chart_keeps_every_label_and_scales_its_text():
    totals = pd.DataFrame(
        {"priorite": [f"P{i} · priorité {i}" for i in range(1, 21)], "montant_engage": range(20)}
    )
    page = bar_by(totals, "priorite", "montant_engage", "Par priorité").to_dict()
    scene = bar_by(
        totals, "priorite", "montant_engage", "Par priorité", text_scale=2.0, height=600
    ).to_dict()
    y_axis = page["encoding"]["y"]["axis"]
    assert y_axis["labelOverlap"] is False  # Vega would otherwise drop every other label
    assert page["height"] == {"step": 22}  # one band per label at 12 px
    assert page["config"]["axis"]["labelFontSize"] == 12
    assert scene["config"]["axis"]["labelFontSize"] == 24
    assert scene["config"]["title"]["fontSize"] == 28
    assert scene["height"] == 600
    assert scene["encoding"]["y"]["axis"]["labelLimit"] == 2 * y_axis["labelLimit"]
