"""Land and friches files as they are published (issue 9, item 7): the CNIG Friches standard as
Cartofriches exports it, KML placemarks, and a saved answer of API Recherche d'entreprises found
by `sync --from-dir`. Fixtures are written here; the shared real files are read in place.
"""

from __future__ import annotations

import json
import math

import pytest

from loaders.importer import import_file
from loaders.layers import import_layer
from loaders.sync import candidate_files, sync_layer

CNIG_HEADER = (
    "site_id;site_nom;site_type;site_adresse;site_statut;site_surface;comm_nom;comm_insee;"
    "geompoint;geomsurf\n"
)
# Row 2: a centroid; row 3: an outline (its area: 0.001° x 0.001° at 50.6° N, about 7 900 m²);
# row 4: the CNIG documentation's own habit, POINT(lat lon); row 5: a reconverted friche.
CNIG_ROWS = (
    "59350_1;Filature Le Blan;friche industrielle;rue du Faubourg;friche sans projet;1200;"
    "LILLE;59350;POINT (3.0700 50.6300);NA\n"
    "59350_2;Ancien dépôt;friche logistique;NA;friche avec projet;NA;LILLE;59350;"
    "POINT (3.0905 50.6305);"
    "POLYGON ((3.090 50.630, 3.091 50.630, 3.091 50.631, 3.090 50.631, 3.090 50.630))\n"
    "59350_3;Garage;friche commerciale;NA;friche potentielle;300;LILLE;59350;"
    "POINT (50.6250 3.0500);NA\n"
    "59350_4;Caserne;friche militaire;NA;friche reconvertie;5000;LILLE;59350;"
    "POINT (3.0600 50.6400);NA\n"
)


@pytest.fixture
def cnig_csv(tmp_path):
    path = tmp_path / "friches_standard_lille.csv"
    path.write_text(CNIG_HEADER + CNIG_ROWS, encoding="utf-8")
    return path


def test_cnig_friches_import_as_land_sites(cnig_csv, ess_home):
    report = import_file(cnig_csv, "land", dry_run=True)
    assert (report.read, report.accepted, report.rejected) == (4, 4, 0)
    df = report.accepted_df
    assert df["statut"].tolist() == ["disponible", "à l'étude", "à l'étude", "attribué"]
    assert df["type"].tolist() == ["friche"] * 4
    assert df["nom"].tolist()[0] == "Filature Le Blan"
    assert df.loc[3, "geometry"].startswith("POLYGON ((3.09 50.63")
    assert df.loc[2, "geometry"] == "POINT (3.07 50.63)"
    assert df.loc[4, "geometry"] == "POINT (3.05 50.625)"  # lat/lon put back in order
    assert math.isnan(df.loc[3, "surface_m2"]) and df.loc[2, "surface_m2"] == 1200.0
    warnings = {(w["row"], w["column"], w["message"]) for w in report.warnings}
    assert (2, "statut", "« friche sans projet » (standard CNIG Friches) lu « disponible »") in (
        warnings
    )
    assert (4, "geometry", "latitude et longitude étaient inversées : remises en ordre") in (
        warnings
    )
    assert any(n.startswith("Fichier au standard CNIG Friches") for n in report.notes)


def test_cnig_friches_as_the_friches_layer(cnig_csv, ess_home):
    gdf, meta = import_layer("friches", cnig_csv)
    assert meta.rows == 4
    by_id = gdf.set_index("site_id")
    assert set(by_id.geometry.geom_type) == {"Point"}
    # The outline's area when the file gives none, its point inside the outline.
    assert by_id.loc["59350_2", "surface_m2"] == pytest.approx(7_900, rel=0.01)
    assert by_id.loc["59350_1", "surface_m2"] == 1200.0
    point = by_id.loc["59350_2"].geometry
    assert 3.090 < point.x < 3.091 and 50.630 < point.y < 50.631


def test_shared_cartofriches_extract_still_reads(shared_data, ess_home):
    _, meta = import_layer("friches", shared_data / "activity" / "cartofriches_lille_2023-10.csv")
    assert meta.rows == 139


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>Local rue Pierre Legrand</name><Point><coordinates>3.0900,50.6300,0</coordinates>
</Point></Placemark>
<Placemark><name>Terrain Lomme Délivrance</name><Point><coordinates>2.9870,50.6430,0</coordinates>
</Point></Placemark>
</Document></kml>
"""


def test_kml_placemark_names_are_site_names(tmp_path, ess_home):
    path = tmp_path / "sites_ess.kml"
    path.write_text(KML, encoding="utf-8")
    report = import_file(path, "land", dry_run=True)
    assert report.mapping["name"] == "nom"
    assert report.read == report.accepted + report.rejected == 2
    # Named and numbered: only the type and status, absent from a KML, are missing.
    assert {r["column"] for r in report.rejects} == {"type", "statut"}
    assert report.source_frame["id"].tolist() == ["sites_ess-1", "sites_ess-2"]  # empty in KML
    assert report.source_frame["name"].tolist()[1] == "Terrain Lomme Délivrance"


def _api_answer(lat: str, lon: str) -> dict:
    return {
        "results": [
            {
                "siren": "532101798",
                "nom_complet": "LA BRICOLETTE (ATELIER PARTAGE)",
                "nature_juridique": "9220",
                "complements": {"est_ess": True},
                "matching_etablissements": [
                    {
                        "siret": "53210179800019",
                        "adresse": "12 RUE PIERRE LEGRAND 59800 LILLE",
                        "code_postal": "59800",
                        "commune": "59350",
                        "est_siege": True,
                        "etat_administratif": "A",
                        "latitude": lat,
                        "longitude": lon,
                    }
                ],
            }
        ],
        "total_results": 1,
        "page": 1,
        "per_page": 25,
    }


def test_saved_api_answer_is_found_by_sync_from_dir(tmp_path, ess_home):
    folder = tmp_path / "dossier"
    folder.mkdir()
    (folder / "recherche_entreprises_ess_lille.json").write_text(
        json.dumps(_api_answer("50.6300", "3.0900")), encoding="utf-8"
    )
    report = sync_layer("ess_establishments", candidate_files([folder]), offline=True)
    assert report.action == "imported"
    assert report.rows == 1
    assert "recherche_entreprises_ess_lille.json" in report.message


def test_saved_answer_without_anything_to_keep_says_why(shared_data, ess_home):
    """The recorded 2022 answer (a Paris unit, no matching establishment) is refused with why."""
    from loaders.sources.common import LayerError

    answer = shared_data / "api-samples" / "recherche-entreprises_search_q-siren_recorded-2022.json"
    with pytest.raises(LayerError) as caught:
        import_layer("ess_establishments", answer)
    assert str(caught.value).endswith(
        ": 1 unité(s) lue(s), sans établissement correspondant (« matching_etablissements » "
        "vide) : rien à garder"
    )


def test_saved_answer_outside_the_mel_gives_counts(tmp_path, ess_home):
    from loaders.sources.common import LayerError

    path = tmp_path / "reponse_paris.json"
    path.write_text(json.dumps(_api_answer("48.8709", "2.3059")), encoding="utf-8")
    with pytest.raises(LayerError, match="1 point\\(s\\) sur 1 hors de la Métropole"):
        import_layer("ess_establishments", path)
