"""SIRET enrichment against a local server answering like API Recherche d'entreprises."""

from __future__ import annotations

import copy
import json
import math

import pandas as pd
import pytest

from loaders.sirene import enrich_sirets, extract_record, legal_form
from tests.httpserver import LocalServer, Reply, Request, refused_url

RECORDED_SIRET = "88087814500015"  # the recorded unit's head office (closed, SAS, Paris 8e)
ESS_SIRET = "33258780700022"
PARTIAL_SIRET = "34818235300030"
UNKNOWN_SIRET = "35273350500031"


def _recorded(shared_data) -> dict:
    path = shared_data / "api-samples" / "recherche-entreprises_search_q-siren_recorded-2022.json"
    return json.loads(path.read_text(encoding="utf-8"))["response"]


def _for_siret(response: dict, siret: str, **unit_changes) -> dict:
    """The recorded answer, re-keyed so that its unit and head office carry `siret`."""
    answer = copy.deepcopy(response)
    unit = answer["results"][0]
    unit["siren"] = siret[:9]
    unit["siege"]["siret"] = siret
    siege_changes = unit_changes.pop("siege", {})
    unit["siege"].update(siege_changes)
    complements = unit_changes.pop("complements", {})
    unit["complements"].update(complements)
    unit.update(unit_changes)
    return answer


def _bodies(shared_data) -> dict[str, dict]:
    recorded = _recorded(shared_data)
    return {
        RECORDED_SIRET: recorded,
        ESS_SIRET: _for_siret(
            recorded,
            ESS_SIRET,
            nature_juridique="9220",
            statut_diffusion="O",
            complements={"est_ess": True},
            siege={"latitude": "50.6311", "longitude": "3.0631", "etat_administratif": "A"},
        ),
        PARTIAL_SIRET: _for_siret(
            recorded,
            PARTIAL_SIRET,
            nom_complet="NOM A NE PAS DIFFUSER",
            nature_juridique="5458",
            statut_diffusion="P",
            complements={"est_ess": True},
            siege={
                "latitude": "50.6400",
                "longitude": "3.0700",
                "adresse": "ADRESSE A NE PAS DIFFUSER",
                "statut_diffusion_etablissement": "P",
                "etat_administratif": "A",
            },
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


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "siret": [
                RECORDED_SIRET,
                "332 587 807 00022",
                PARTIAL_SIRET,
                UNKNOWN_SIRET,
                ESS_SIRET,
                "12345678901234",
            ],
            "nom": ["Ganymède", "Ressourcerie", None, "Inconnue", "Ressourcerie bis", "Faux"],
            "adresse": [None] * 6,
            "forme_juridique": [None, None, None, None, "SCIC", None],
            "lat": [None, None, None, None, 50.7, None],
            "lon": [None, None, None, None, 3.1, None],
        }
    )


def _no_sleep(calls: list[float]):
    return calls.append


def test_enrichment_fills_gaps_from_the_api(ess_home, shared_data):
    with LocalServer() as server:
        server.handle("/search", _serve(_bodies(shared_data)))
        out, warnings = enrich_sirets(_frame(), base_url=server.url(""), sleep=_no_sleep([]))
        queries = [r.query["q"][0] for r in server.hits("/search")]
    assert sorted(queries) == sorted([RECORDED_SIRET, ESS_SIRET, PARTIAL_SIRET, UNKNOWN_SIRET])

    # recorded 2022 answer: SAS (code kept), not ESS, head office coordinates, no diffusion field
    assert out.at[0, "est_ess"] == False  # noqa: E712
    assert out.at[0, "forme_juridique"] == "5710"
    assert (out.at[0, "lat"], out.at[0, "lon"]) == (48.870938, 2.305916)
    assert out.at[0, "statut_diffusion"] is None
    # an association: label of the model, ESS flag, "O"
    assert out.at[1, "forme_juridique"] == "Association"
    assert out.at[1, "est_ess"] == True  # noqa: E712
    assert out.at[1, "statut_diffusion"] == "O"
    assert (out.at[1, "lat"], out.at[1, "lon"]) == (50.6311, 3.0631)
    # what the file says is kept: legal form and position of the second row of the same SIRET
    assert out.at[4, "forme_juridique"] == "SCIC"
    assert (out.at[4, "lat"], out.at[4, "lon"]) == (50.7, 3.1)
    assert out.at[4, "est_ess"] == True  # noqa: E712

    assert warnings == [
        "SIRET 12345678901234 invalide : non recherché.",
        f"SIRET {UNKNOWN_SIRET} introuvable dans la base Sirene (erroné, ou unité non diffusible).",
        f"SIRET {RECORDED_SIRET} : établissement fermé selon Sirene.",
    ]


def test_partial_diffusion_keeps_nothing_identifying(ess_home, shared_data):
    with LocalServer() as server:
        server.handle("/search", _serve(_bodies(shared_data)))
        out, _ = enrich_sirets(_frame().loc[[2]], base_url=server.url(""), sleep=_no_sleep([]))
    assert out.at[2, "statut_diffusion"] == "P"
    assert pd.isna(out.at[2, "nom"])
    assert pd.isna(out.at[2, "adresse"])
    assert math.isnan(out.at[2, "lat"]) and math.isnan(out.at[2, "lon"])
    assert "NE PAS DIFFUSER" not in out.to_csv()
    cached = (ess_home / "sirene_cache" / "siret.sqlite").read_bytes()
    assert b"NE PAS DIFFUSER" not in cached
    assert b"50.64" not in cached


def test_partial_establishment_of_a_public_unit_is_partial(shared_data):
    body = _bodies(shared_data)[ESS_SIRET]
    body["results"][0]["siege"]["statut_diffusion_etablissement"] = "P"
    record = extract_record(body, ESS_SIRET)
    assert record["statut_diffusion"] == "P"
    assert record["lat"] is None and record["lon"] is None


def test_second_run_is_served_from_the_cache(ess_home, shared_data):
    with LocalServer() as server:
        server.handle("/search", _serve(_bodies(shared_data)))
        enrich_sirets(_frame(), base_url=server.url(""), sleep=_no_sleep([]))
        first = len(server.hits("/search"))
        out, _ = enrich_sirets(_frame(), base_url=server.url(""), sleep=_no_sleep([]))
        # found SIRETs come from the cache; the unknown one is asked again
        assert [r.query["q"][0] for r in server.hits("/search")[first:]] == [UNKNOWN_SIRET]
    assert out.at[1, "forme_juridique"] == "Association"


def test_retry_after_then_success(ess_home, shared_data):
    sleeps: list[float] = []
    body = json.dumps(_bodies(shared_data)[ESS_SIRET]).encode()
    with LocalServer() as server:
        server.script("/search", Reply(429, b"", {"Retry-After": "2"}), Reply(200, body))
        out, warnings = enrich_sirets(
            _frame().loc[[1]], base_url=server.url(""), sleep=_no_sleep(sleeps)
        )
        assert len(server.hits("/search")) == 2
    assert sleeps == [2.0]
    assert out.at[1, "forme_juridique"] == "Association"
    assert warnings == []


def test_server_down_gives_one_warning_and_no_change(ess_home):
    frame = _frame()
    out, warnings = enrich_sirets(frame, base_url=refused_url(""), sleep=_no_sleep([]))
    assert out["forme_juridique"].tolist() == frame["forme_juridique"].tolist()
    assert out["lat"].isna().sum() == 5
    assert len(warnings) == 2  # the invalid SIRET, then the unreachable service
    assert warnings[1].startswith("API Recherche d'entreprises injoignable")
    assert "4 SIRET non enrichi(s)" in warnings[1]


@pytest.mark.parametrize(
    ("code", "label"),
    [("9220", "Association"), ("5458", "SCOP"), ("5560", "Coopérative"), ("8210", "Mutuelle"),
     ("9300", "Fondation"), ("5710", "5710"), (None, None)],
)  # fmt: skip
def test_legal_form_labels(code, label):
    assert legal_form(code) == label
