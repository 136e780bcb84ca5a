"""geo.bilan on a hand-computed fixture: key figures, new and renewed beneficiaries, QPV, annex."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from html import unescape

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.bilan import HIDDEN_NAME, BilanInputs, build_bilan
from geo.bilan_render import Figure, blocks, to_html, to_pdf, to_typst
from loaders.config import strategy

HIDDEN = HIDDEN_NAME
TRICKY = 'Coop "Le #1" \\ [test] <b>*gras*</b> $x$ // fin'


def grants() -> gpd.GeoDataFrame:
    rows = [
        # id, year, axis, priority, amount, paid, siret, name, commune, qpv, near, point
        ("G1", 2021, 1, 3, 1000.0, 1000.0, "A", "Alpha", "59350", None, True, (3.06, 50.61)),
        ("G2", 2022, 1, 3, 2000.0, 1000.0, "A", "Alpha", "59350", None, False, (3.07, 50.63)),
        ("G3", 2022, 3, 16, 500.0, 500.0, "B", TRICKY, "59298", "Q1", True, (3.0601, 50.6101)),
        ("G4", 2023, 4, 20, 300.0, 0.0, None, HIDDEN, None, None, False, None),
        ("G5", 2022, 1, 7, 700.0, 0.0, "C", "Gamma", "59355", None, False, (2.99, 50.64)),
    ]
    frame = pd.DataFrame(
        {
            "id_subvention": [r[0] for r in rows],
            "annee": [r[1] for r in rows],
            "axe": [r[2] for r in rows],
            "priorite": [r[3] for r in rows],
            "montant": [r[4] for r in rows],
            "montant_verse": [r[5] for r in rows],
            "idBeneficiaire": [r[6] for r in rows],
            "nomBeneficiaire": [r[7] for r in rows],
            "code_commune": [r[8] for r in rows],
            "code_qpv": [r[9] for r in rows],
            "near_qpv": [r[10] for r in rows],
            "qpv_generation": ["2024" if r[1] >= 2024 else "2015" for r in rows],
            "dateConvention": [f"{r[1]}-0{i + 1}-15" for i, r in enumerate(rows)],
            "objet": ["Objet"] * len(rows),
        }
    )
    points = [Point(*r[11]) if r[11] else None for r in rows]
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


def layers(with_qpv: bool) -> dict:
    communes = gpd.GeoDataFrame(
        {
            "code": ["59350", "59298", "59355"],
            "nom": ["Lille", "Hellemmes", "Lomme"],
            "population": [1000.0, 100.0, None],
        },
        geometry=[
            box(3.0, 50.6, 3.1, 50.65),
            box(3.1, 50.6, 3.13, 50.65),
            box(2.95, 50.6, 3.0, 50.65),
        ],
        crs="EPSG:4326",
    )
    out = {"communes": communes}
    if with_qpv:
        out["qpv_2015"] = gpd.GeoDataFrame(
            {
                "code_qpv": ["Q1"],
                "nom_qpv": ["QPV test"],
                "code_commune": ["59298"],
                "population": [50.0],
            },
            geometry=[box(3.059, 50.609, 3.062, 50.612)],
            crs="EPSG:4326",
        )
    return out


def inputs(with_qpv: bool = True, data=None) -> BilanInputs:
    return BilanInputs(
        grants=grants() if data is None else data,
        structures=None,
        land=None,
        layers=layers(with_qpv),
        strategy=strategy(),
        demo=False,
    )


def test_key_figures_of_a_year():
    key = build_bilan(inputs(), 2022).key
    assert key["engage_annee"] == 3200.0
    assert key["verse_annee"] == 1500.0
    assert key["subventions_annee"] == 3
    assert key["structures_annee"] == 3
    assert key["engage_cumule"] == 4200.0
    assert key["part_enveloppe_engagee"] == pytest.approx(4200 / 700000)
    assert key["reste"] == 700000 - 4200
    assert key["annees_restantes"] == 4
    assert key["rythme_necessaire"] == pytest.approx((700000 - 4200) / 4)
    assert key["evolution"] == pytest.approx((3200 - 1000) / 1000)


def test_first_and_last_year():
    first = build_bilan(inputs(), 2021).key
    assert first["evolution"] is None and first["engage_annee_precedente"] is None
    last = build_bilan(inputs(), 2026).key
    assert last["rythme_necessaire"] is None and last["subventions_annee"] == 0
    assert last["engage_cumule"] == 4500.0
    assert last["evolution"] is None  # nothing in 2025 to compare with


def test_new_and_renewed_beneficiaries():
    bilan = build_bilan(inputs(), 2022)
    pr = bilan.priorities
    assert (pr.loc[3, "structures"], pr.loc[3, "renouvelees"], pr.loc[3, "nouvelles"]) == (1, 1, 0)
    assert (pr.loc[16, "nouvelles"], pr.loc[7, "nouvelles"]) == (1, 1)
    assert pr["sans_activite"].sum() == 17
    assert list(bilan.axes["subventions"]) == [2, 0, 1, 0]
    cumul = build_bilan(inputs(), 2022, cumul=True)
    assert cumul.priorities.loc[3, "subventions"] == 2
    assert cumul.priorities.loc[3, "renouvelees"] == 1
    assert cumul.period == (2021, 2022)


def test_later_grants_are_never_counted():
    bilan = build_bilan(inputs(), 2022, cumul=True)
    assert bilan.priorities.loc[20, "subventions"] == 0
    assert bilan.roadmaps.set_index("feuille").loc["2024-2026", "subventions"] == 0


def test_communes_with_euros_per_inhabitant():
    table = build_bilan(inputs(), 2022).communes.table.set_index("territoire")
    assert table.loc["Lille", "montant_engage"] == 2000.0
    assert table.loc["Lille", "eur_par_habitant"] == pytest.approx(2.0)
    assert table.loc["Hellemmes", "eur_par_habitant"] == pytest.approx(5.0)
    assert pd.isna(table.loc["Lomme", "eur_par_habitant"])  # population unknown


def test_qpv_inside_near_and_missing_list():
    qpv = build_bilan(inputs(), 2022).qpv
    table = qpv.table.set_index("categorie")
    assert table.loc["Dans un QPV", "montant_engage"] == 500.0
    assert table.loc["Ailleurs", "montant_engage"] == 2700.0
    per = qpv.extra["par_qpv"].set_index("code_qpv")
    assert per.loc["Q1", "eur_par_habitant"] == pytest.approx(10.0)
    missing = build_bilan(inputs(with_qpv=False), 2022).qpv
    assert missing.table is None
    assert missing.reason.startswith("Couche QPV non chargée (liste 2015)")
    assert build_bilan(inputs(), 2024).qpv.reason.startswith("Couche QPV non chargée (liste 2024)")


def test_annex_keeps_hidden_names_hidden_and_sorts_by_date():
    annex = build_bilan(inputs(), 2023).annex
    assert list(annex["nomBeneficiaire"]) == [HIDDEN]
    assert annex["idBeneficiaire"].isna().all()
    assert list(build_bilan(inputs(), 2022).annex["dateConvention"]) == sorted(
        ["2022-02-15", "2022-03-15", "2022-05-15"]
    )


def test_empty_data_and_missing_layers_give_sentences_not_errors():
    empty = grants().iloc[0:0]
    bilan = build_bilan(
        BilanInputs(grants=empty, structures=None, land=None, layers={}, strategy=strategy()), 2024
    )
    assert bilan.key["engage_annee"] == 0.0 and bilan.key["evolution"] is None
    assert bilan.communes.reason and bilan.quartiers.reason and bilan.qpv.reason
    assert bilan.land.reason and bilan.p16.reason and bilan.p20.reason
    items = blocks(bilan)
    html = unescape(to_html(items, demo=False, year=2024))
    assert "Aucune subvention n'est enregistrée pour 2024." in html
    assert "pas de carte" in html


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_user_text_is_typeset_literally(tmp_path):
    bilan = build_bilan(inputs(), 2022)
    items = blocks(bilan)
    images = {i: f"f{i}.svg" for i, b in enumerate(items) if isinstance(b, Figure)}
    source = to_typst(items, demo=False, year=2022, images=images)
    assert "#1" in source and '\\"Le' in source  # inside string literals only
    path = tmp_path / "b.pdf"
    path.write_bytes(to_pdf(items, demo=False, year=2022))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    squashed = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", TRICKY.replace('"', "“", 1).replace('"', "”", 1)) in squashed or (
        re.sub(r"\s+", "", TRICKY) in squashed
    )
    assert "Données fictives" not in text  # not the demo: no watermark
    html = to_html(items, demo=False, year=2022)
    assert "<b>*gras*</b>" not in html and "&lt;b&gt;*gras*&lt;/b&gt;" in html
    assert not math.isnan(bilan.key["engage_annee"])
