"""Batch geocoding against a local server speaking the BAN /search/csv protocol.

tests/httpserver.py does not read request bodies, so this file runs its own small server that
parses the multipart upload and answers a CSV built from the recorded Géoplateforme row.
"""

from __future__ import annotations

import csv
import io
import json
import math
import threading
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from loaders.geocode import (
    STATUS_FAILED,
    STATUS_MANUAL,
    STATUS_OK,
    STATUS_TO_FIX,
    apply_manual_fix,
    geocode_missing,
    lille_citycode,
)
from tests.httpserver import refused_url


def _recorded(shared_data) -> dict:
    path = shared_data / "api-samples" / "geoplateforme_search-csv_row_lille_recorded.json"
    return json.loads(path.read_text(encoding="utf-8"))


class GeocoderServer:
    """Answers POST /search/csv like the Géoplateforme: input columns + result columns."""

    def __init__(self, answers: dict[str, dict], script: list[tuple[int, dict]] | None = None):
        self.answers = answers  # adresse -> result columns (missing: result_status skipped)
        self.script = list(script or [])  # (status, headers) answered before normal replies
        self.uploads: list[dict] = []  # one per request: form fields and uploaded rows
        self._lock = threading.Lock()

    def __enter__(self) -> GeocoderServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, headers, payload = server._reply(self.headers["Content-Type"], body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/search/csv"
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _reply(self, content_type: str, body: bytes) -> tuple[int, dict, bytes]:
        message = BytesParser(policy=policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields: dict[str, list[str]] = {}
        rows: list[dict] = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True)
            if name == "data":
                rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
            else:
                fields.setdefault(name, []).append(content.decode("utf-8"))
        with self._lock:
            self.uploads.append({"fields": fields, "rows": rows})
            if self.script:
                status, headers = self.script.pop(0)
                return status, headers, b"trop de requetes"
        out = io.StringIO()
        result_names = list(next(iter(self.answers.values())).keys()) if self.answers else []
        names = [*rows[0].keys(), *[n for n in result_names if n != "id"]] if rows else ["id"]
        writer = csv.DictWriter(out, fieldnames=names, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            answer = self.answers.get(row["adresse"], {"result_status": "skipped"})
            writer.writerow({**row, **{k: ("" if v is None else v) for k, v in answer.items()}})
        return 200, {"Content-Type": "text/csv"}, out.getvalue().encode("utf-8")

    def rows_received(self) -> int:
        return sum(len(u["rows"]) for u in self.uploads)


def _answer(recorded: dict, **changes) -> dict:
    row = dict(recorded["output_row"])
    row.pop("id")
    row.update(changes)
    return row


def _answers(shared_data) -> dict[str, dict]:
    recorded = _recorded(shared_data)
    return {
        "17 rue Malus": _answer(recorded, latitude=50.6311, longitude=3.0631, result_score=0.97),
        "3 rue Imaginaire": _answer(
            recorded,
            latitude=50.64,
            longitude=3.07,
            result_score=0.42,
            result_label="Rue Imaginée 59000 Lille",
            result_type="street",
        ),
        "Lille": _answer(
            recorded, latitude=50.63, longitude=3.06, result_score=0.9, result_type="municipality"
        ),
    }


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "nom": ["Ressourcerie", "Atelier", "Café", "Déjà placé", "Sans adresse", "Centre"],
            "adresse": ["17 rue Malus", "3 rue Imaginaire", "??", "1 place", None, "Lille"],
            "code_postal": ["59000", "59000", "59260", "59000", "59000", "59000"],
            "commune": ["Lille", "Lille", "Lezennes", "Lille", "Lille", "Lille"],
            "lat": [None, None, None, 50.1, None, None],
            "lon": [None, None, None, 3.1, None, None],
        },
        index=[10, 11, 12, 13, 14, 15],
    )


def _no_sleep(calls: list[float]):
    return calls.append


def test_geocode_fills_good_matches_and_warns_on_the_rest(ess_home, shared_data):
    with GeocoderServer(_answers(shared_data)) as server:
        out, warnings = geocode_missing(_frame(), base_urls=[server.url], sleep=_no_sleep([]))
    upload = server.uploads[0]
    assert [r["adresse"] for r in upload["rows"]] == [
        "17 rue Malus",
        "3 rue Imaginaire",
        "??",
        "Lille",
    ]
    assert [r["citycode"] for r in upload["rows"]] == ["59350", "59350", "", "59350"]
    assert upload["fields"]["columns"] == ["adresse", "code_postal", "commune"]
    assert upload["fields"]["citycode"] == ["citycode"]

    assert (out.at[10, "lat"], out.at[10, "lon"]) == (50.6311, 3.0631)
    assert out.at[10, "geocodage_score"] == 0.97
    assert out.at[10, "geocodage_label"] == "17 Rue Malus 59000 Lille"
    assert out.at[10, "geocodage_statut"] == STATUS_OK
    for row_id in (11, 12, 14, 15):
        assert math.isnan(out.at[row_id, "lat"]) and math.isnan(out.at[row_id, "lon"])
    assert out.at[11, "geocodage_score"] == 0.42
    assert out.at[11, "geocodage_statut"] == STATUS_TO_FIX
    assert out.at[12, "geocodage_statut"] == STATUS_TO_FIX
    assert (out.at[13, "lat"], out.at[13, "lon"]) == (50.1, 3.1)
    assert out.at[14, "geocodage_statut"] is None
    assert warnings == [
        "Ligne 11 (Atelier, 3 rue Imaginaire) : score faible (0,42) : corriger à la main",
        "Ligne 12 (Café, ??) : adresse non traitée par le géocodeur (statut « skipped ») : "
        "corriger à la main",
        "Ligne 15 (Centre, Lille) : seule la commune a été reconnue, pas l'adresse : "
        "corriger à la main",
    ]


def test_score_threshold_is_a_parameter(ess_home, shared_data):
    with GeocoderServer(_answers(shared_data)) as server:
        out, _ = geocode_missing(
            _frame().loc[[11]], score_min=0.4, base_urls=[server.url], sleep=_no_sleep([])
        )
    assert (out.at[11, "lat"], out.at[11, "lon"]) == (50.64, 3.07)


def test_retry_after_is_honoured_then_rows_are_geocoded(ess_home, shared_data):
    sleeps: list[float] = []
    script = [(429, {"Retry-After": "3"})]
    with GeocoderServer(_answers(shared_data), script) as server:
        out, warnings = geocode_missing(
            _frame().loc[[10]], base_urls=[server.url], sleep=_no_sleep(sleeps)
        )
    assert len(server.uploads) == 2
    assert sleeps == [3.0]
    assert out.at[10, "lat"] == 50.6311
    assert warnings == []


def test_server_down_leaves_rows_unlocated_with_one_warning(ess_home):
    out, warnings = geocode_missing(
        _frame(), base_urls=[refused_url("/search/csv")], sleep=_no_sleep([])
    )
    assert out["lat"].isna().sum() == 5
    assert out.loc[[10, 11, 12, 15], "geocodage_statut"].tolist() == [STATUS_FAILED] * 4
    assert len(warnings) == 1
    assert warnings[0].startswith("Géocodage impossible (")
    assert "4 adresse(s) restent sans coordonnées" in warnings[0]


def test_fallback_url_is_used_when_the_primary_fails(ess_home, shared_data):
    with GeocoderServer(_answers(shared_data)) as server:
        out, warnings = geocode_missing(
            _frame().loc[[10]],
            base_urls=[refused_url("/search/csv"), server.url],
            sleep=_no_sleep([]),
        )
    assert out.at[10, "lat"] == 50.6311
    assert warnings == []


def test_second_call_is_answered_from_the_disk_cache(ess_home, shared_data):
    with GeocoderServer(_answers(shared_data)) as server:
        first, _ = geocode_missing(_frame(), base_urls=[server.url], sleep=_no_sleep([]))
        assert len(server.uploads) == 1
        again = _frame().rename(index={10: 20})
        again.loc[20, "adresse"] = "  17  RUE   Malus "  # same address once normalised
        second, warnings = geocode_missing(again, base_urls=[server.url], sleep=_no_sleep([]))
        # only the skipped row is asked again: skipped answers are not cached
        assert len(server.uploads) == 2
        assert [r["adresse"] for r in server.uploads[1]["rows"]] == ["??"]
    assert (ess_home / "geocode_cache").is_dir()
    assert second.at[20, "lat"] == first.at[10, "lat"] == 50.6311
    assert second.at[11, "geocodage_score"] == 0.42
    assert len(warnings) == 3


def test_cache_can_be_disabled(ess_home, shared_data):
    with GeocoderServer(_answers(shared_data)) as server:
        geocode_missing(
            _frame().loc[[10]], base_urls=[server.url], cache=False, sleep=_no_sleep([])
        )
        geocode_missing(
            _frame().loc[[10]], base_urls=[server.url], cache=False, sleep=_no_sleep([])
        )
        assert server.rows_received() == 2


def test_manual_fix_sets_coordinates():
    fixed = apply_manual_fix(_frame(), 11, "50.6275", 3.0584)
    assert (fixed.at[11, "lat"], fixed.at[11, "lon"]) == (50.6275, 3.0584)
    assert fixed.at[11, "geocodage_statut"] == STATUS_MANUAL
    assert fixed.at[11, "geocodage_label"] == "saisie manuelle"
    assert math.isnan(_frame().at[11, "lat"])  # the input is not modified
    with pytest.raises(ValueError, match="Latitude invalide"):
        apply_manual_fix(_frame(), 11, 95, 3.0)
    with pytest.raises(KeyError):
        apply_manual_fix(_frame(), 99, 50.6, 3.0)


@pytest.mark.parametrize(
    ("postcode", "commune", "expected"),
    [
        ("59000", "", "59350"),
        ("59800", "LILLE", "59350"),
        ("59260", "Hellemmes-Lille", "59350"),
        ("59260", "Lezennes", ""),
        ("59160", "Lomme", "59350"),
        ("59160", "Capinghem", ""),
        ("59100", "Roubaix", ""),
    ],
)
def test_lille_citycode_hint(postcode, commune, expected):
    assert lille_citycode(postcode, commune) == expected


def test_manual_fixes_apply_inside_the_mel_and_name_the_refused_rows():
    from geo.crs import MEL_BBOX
    from loaders.geocode import apply_manual_fixes

    stored = pd.DataFrame(
        {"nom": ["A", "B", "C"], "lat": [None, None, 50.6], "lon": [None, None, 3.0]},
        index=[10, 11, 12],
    )
    typed = pd.DataFrame(
        {"nom": ["A", "B"], "lat": [50.63, 48.85], "lon": [3.06, 2.35]}, index=[10, 11]
    )
    fixed, problems = apply_manual_fixes(stored, typed, MEL_BBOX)
    assert (fixed.at[10, "lat"], fixed.at[10, "lon"]) == (50.63, 3.06)
    assert fixed.at[10, "geocodage_statut"] == "manuel"
    assert pd.isna(fixed.at[11, "lat"])  # Paris is refused
    assert problems == ["« B » : coordonnées hors de la Métropole Européenne de Lille"]
    assert (fixed.at[12, "lat"], fixed.at[12, "lon"]) == (50.6, 3.0)
