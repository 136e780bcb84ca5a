"""SIRENE enrichment inside the import: a local server plays API Recherche d'entreprises.

import_file(..., sirene_base_url=...) points loaders.sirene at the local server; the command-line
test points the module's API_ROOT there instead, since the CLI has no URL option.
"""

from __future__ import annotations

import copy
import json
import math

import pandas as pd

from loaders import io_cli, store
from loaders.datasets import load_datasets
from loaders.importer import import_file
from tests.httpserver import LocalServer, Reply, Request, refused_url
from tests.test_geocode import GeocoderServer
from tests.test_geocode import _answer as geocoder_answer
from tests.test_geocode import _recorded as geocoder_recorded

ESS_SIRET = "33258780700022"  # answered as an ESS association with coordinates
PARTIAL_SIRET = "34818235300030"  # answered with diffusion status P
UNKNOWN_SIRET = "35273350500031"  # answered with no result
HEADER = "siret;nom;adresse;code_postal;commune;est_ess\n"
ROWS = {
    ESS_SIRET: f"{ESS_SIRET};Ressourcerie;17 rue Malus;59000;Lille;\n",
    PARTIAL_SIRET: f"{PARTIAL_SIRET};Atelier Caché;5 rue Secrète;59000;Lille;\n",
    UNKNOWN_SIRET: f"{UNKNOWN_SIRET};Café Inconnu;8 rue Nationale;59000;Lille;\n",
    "bad": "12345678901234;Faux SIRET;1 rue Fausse;59000;Lille;\n",
}


def _recorded(shared_data) -> dict:
    path = shared_data / "api-samples" / "recherche-entreprises_search_q-siren_recorded-2022.json"
    return json.loads(path.read_text(encoding="utf-8"))["response"]


def _for_siret(recorded: dict, siret: str, unit: dict, siege: dict, est_ess: bool) -> dict:
    """The recorded /search answer, re-keyed to `siret`, its unit and head office changed."""
    answer = copy.deepcopy(recorded)
    result = answer["results"][0]
    result.update(siren=siret[:9], **unit)
    result["siege"].update(siret=siret, **siege)
    result["complements"]["est_ess"] = est_ess
    return answer


def _bodies(shared_data) -> dict[str, dict]:
    recorded = _recorded(shared_data)
    return {
        ESS_SIRET: _for_siret(
            recorded,
            ESS_SIRET,
            {"nature_juridique": "9220", "statut_diffusion": "O"},
            {"latitude": "50.6311", "longitude": "3.0631", "etat_administratif": "A"},
            est_ess=True,
        ),
        PARTIAL_SIRET: _for_siret(
            recorded,
            PARTIAL_SIRET,
            {"nature_juridique": "5458", "statut_diffusion": "P", "nom_complet": "NE PAS DIFFUSER"},
            {
                "latitude": "50.6400",
                "longitude": "3.0700",
                "adresse": "ADRESSE NE PAS DIFFUSER",
                "statut_diffusion_etablissement": "P",
                "etat_administratif": "A",
            },
            est_ess=True,
        ),
        UNKNOWN_SIRET: {"results": [], "total_results": 0, "page": 1, "per_page": 10},
    }


def _serve(bodies: dict[str, dict]):
    def answer(request: Request) -> Reply:
        query = request.query.get("q", [""])[0]
        if query not in bodies:
            return Reply(400, b'{"erreur": "inconnu"}')
        return Reply(200, json.dumps(bodies[query]).encode(), {"Content-Type": "application/json"})

    return answer


def _csv(tmp_path, *keys: str, est_ess: dict[str, str] | None = None):
    """A structures CSV with the rows of ROWS named by `keys`, est_ess filled where given."""
    flags = est_ess or {}
    lines = [ROWS[k].replace(";\n", f";{flags[k]}\n") if k in flags else ROWS[k] for k in keys]
    path = tmp_path / "structures.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _stored() -> pd.DataFrame:
    return store.read_kind("structures").set_index("siret")


def test_sirene_fills_the_ess_structure_and_marks_the_partial_one(tmp_path, ess_home, shared_data):
    path = _csv(tmp_path, ESS_SIRET, PARTIAL_SIRET, "bad")
    with LocalServer() as server:
        server.handle("/search", _serve(_bodies(shared_data)))
        report = import_file(path, "structures", sirene=True, sirene_base_url=server.url(""))
        asked = sorted(r.query["q"][0] for r in server.hits("/search"))
    assert asked == sorted([ESS_SIRET, PARTIAL_SIRET])  # the rejected row is never looked up

    assert (report.read, report.accepted, report.rejected) == (3, 2, 1)
    assert report.read == report.accepted + report.rejected
    assert report.rejects == [
        {"row": 4, "column": "siret", "reason": "SIRET invalide : « 12345678901234 »"}
    ]
    assert report.stored
    assert [w for w in report.warnings if w["column"] in ("siret", "est_ess")] == []

    stored = _stored()
    assert stored.index.tolist() == [ESS_SIRET, PARTIAL_SIRET]  # the P row is kept in the store
    ess = stored.loc[ESS_SIRET]
    assert ess["est_ess"] == True  # noqa: E712
    assert ess["forme_juridique"] == "Association"
    assert (ess["lat"], ess["lon"]) == (50.6311, 3.0631)
    assert ess["statut_diffusion"] == "O"
    partial = stored.loc[PARTIAL_SIRET]
    assert partial["statut_diffusion"] == "P"
    assert math.isnan(partial["lat"]) and math.isnan(partial["lon"])
    assert partial["nom"] == "Atelier Caché"  # the file's own name, nothing from the API
    assert "NE PAS DIFFUSER" not in stored.to_csv()
    assert str(stored["est_ess"].dtype) == "boolean"
    assert store.import_log()[-1]["accepted"] == 2

    summary = report.summary_fr()
    assert "2 structure(s) complétée(s) sur 2" in summary
    assert "1 structure(s) en diffusion partielle (statut P)" in summary
    json.dumps(report.to_json())  # row numbers are plain ints

    shown = load_datasets()
    assert shown.structures["siret"].tolist() == [ESS_SIRET]
    assert shown.meta["structures"]["non_diffusible"] == 1


def test_sirene_warnings_are_pinned_to_their_rows(tmp_path, ess_home, shared_data):
    path = _csv(tmp_path, ESS_SIRET, UNKNOWN_SIRET, est_ess={ESS_SIRET: "non"})
    with LocalServer() as server:
        server.handle("/search", _serve(_bodies(shared_data)))
        report = import_file(
            path, "structures", sirene=True, sirene_base_url=server.url(""), dry_run=True
        )
    sirene_warnings = [w for w in report.warnings if w["column"] in ("siret", "est_ess")]
    assert sirene_warnings == [
        {
            "row": 2,
            "column": "est_ess",
            "message": f"SIRET {ESS_SIRET} : non marqué ESS dans le fichier, l'inverse selon ESS "
            "France/INSEE (valeur du fichier conservée).",
        },
        {
            "row": 3,
            "column": "siret",
            "message": f"SIRET {UNKNOWN_SIRET} introuvable dans la base Sirene (erroné, ou unité "
            "non diffusible).",
        },
    ]
    df = report.accepted_df
    assert df.loc[2, "est_ess"] == False  # noqa: E712 - the file's value wins
    assert df.loc[2, "forme_juridique"] == "Association"
    assert pd.isna(df.loc[3, "forme_juridique"]) and math.isnan(df.loc[3, "lat"])
    assert "1 structure(s) complétée(s) sur 2" in report.summary_fr()
    assert "diffusion partielle" not in report.summary_fr()
    assert store.read_kind("structures") is None  # dry run


def test_network_down_still_imports_with_a_warning(tmp_path, ess_home, monkeypatch):
    monkeypatch.setattr("loaders.http.BACKOFF_BASE_S", 0.0)  # no real waits between retries
    path = _csv(tmp_path, ESS_SIRET, PARTIAL_SIRET, "bad")
    report = import_file(path, "structures", sirene=True, sirene_base_url=refused_url(""))
    assert (report.read, report.accepted, report.rejected) == (3, 2, 1)
    assert report.stored
    down = [w for w in report.warnings if w["column"] == "siret"]
    assert len(down) == 1
    assert down[0]["row"] is None
    assert down[0]["message"].startswith("API Recherche d'entreprises injoignable")
    assert "2 SIRET non enrichi(s)" in down[0]["message"]
    assert report.to_json()["warnings"] == report.warnings

    stored = _stored()
    assert stored.index.tolist() == [ESS_SIRET, PARTIAL_SIRET]
    assert stored["statut_diffusion"].isna().all()
    assert stored["lat"].isna().all() and stored["forme_juridique"].isna().all()
    assert "0 structure(s) complétée(s) sur 2" in report.summary_fr()


def test_geocoding_after_sirene_skips_partial_rows(tmp_path, ess_home, shared_data, monkeypatch):
    path = _csv(tmp_path, ESS_SIRET, PARTIAL_SIRET, UNKNOWN_SIRET)
    answers = {
        "8 rue Nationale": geocoder_answer(
            geocoder_recorded(shared_data), latitude=50.6365, longitude=3.0580, result_score=0.95
        )
    }
    with LocalServer() as server, GeocoderServer(answers) as geocoder:
        server.handle("/search", _serve(_bodies(shared_data)))
        monkeypatch.setattr("loaders.geocode.GEOCODE_URLS", (geocoder.url,))
        report = import_file(
            path, "structures", sirene=True, sirene_base_url=server.url(""), geocode=True
        )
        sent = [row["adresse"] for upload in geocoder.uploads for row in upload["rows"]]
    # the ESS row is placed by SIRENE, the P row is never sent: only the unknown SIRET is geocoded
    assert sent == ["8 rue Nationale"]
    assert (report.read, report.accepted, report.rejected) == (3, 3, 0)
    stored = _stored()
    assert stored.index.tolist() == [ESS_SIRET, PARTIAL_SIRET, UNKNOWN_SIRET]
    assert (stored.at[ESS_SIRET, "lat"], stored.at[ESS_SIRET, "lon"]) == (50.6311, 3.0631)
    assert (stored.at[UNKNOWN_SIRET, "lat"], stored.at[UNKNOWN_SIRET, "lon"]) == (50.6365, 3.058)
    assert stored.at[UNKNOWN_SIRET, "geocodage_statut"] == "ok"
    assert math.isnan(stored.at[PARTIAL_SIRET, "lat"])
    assert stored.at[PARTIAL_SIRET, "statut_diffusion"] == "P"


def test_sirene_does_not_apply_to_grants(tmp_path, ess_home):
    path = tmp_path / "subventions.csv"
    path.write_text(
        "Nom du bénéficiaire;SIRET;Montant;Date de convention;Axe;Priorité\n"
        f"Régie;{ESS_SIRET};1500;2023-05-02;1;3\n",
        encoding="utf-8",
    )
    with LocalServer() as server:
        report = import_file(
            path, "grants", sirene=True, sirene_base_url=server.url(""), dry_run=True
        )
        assert server.requests == []
    assert report.accepted == 1
    assert {
        "row": None,
        "column": "",
        "message": "enrichissement SIRENE non appliqué : il ne concerne que les structures",
    } in report.warnings


def _run(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m loaders")
    io_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_sirene_option(tmp_path, ess_home, shared_data, monkeypatch, capsys):
    path = _csv(tmp_path, ESS_SIRET, PARTIAL_SIRET)
    report_path = tmp_path / "rapport.json"
    with LocalServer() as server:
        server.handle("/search", _serve(_bodies(shared_data)))
        monkeypatch.setattr("loaders.sirene.API_ROOT", server.url(""))
        argv = ["import", str(path), "--kind", "structures", "--sirene"]
        assert _run([*argv, "--report", str(report_path)]) == 0
        assert len(server.hits("/search")) == 2
    out = capsys.readouterr().out
    assert "2 acceptée(s), 0 rejetée(s)" in out
    assert "1 structure(s) en diffusion partielle (statut P)" in out
    saved = json.loads(report_path.read_text(encoding="utf-8"))
    assert (saved["read"], saved["accepted"], saved["rejected"]) == (2, 2, 0)
    assert _stored().at[ESS_SIRET, "forme_juridique"] == "Association"

    assert _run(["import", str(path), "--kind", "grants", "--sirene"]) == 2
    assert "--sirene ne s'applique qu'aux structures" in capsys.readouterr().err
