"""Grants outside the strategy period: kept on import, flagged, out of the envelope by default.

Acceptance of issue 9: a 2017 grant in a valid SCDL file is accepted, flagged « hors période de
la stratégie », and absent from the envelope figures until the period filter includes 2017.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from geo import filters as geo_filters
from geo.indicators import envelope_consumption, key_figures
from loaders.importer import import_file

ROW_2017 = {
    "nomAttribuant": "Ville de Lille",
    "idAttribuant": "21590350100017",
    "dateConvention": "2017-06-27",
    "referenceDecision": "17/245",
    "nomBeneficiaire": "Association Les Jardins de Fives",
    "idBeneficiaire": "73282932000074",
    "rnaBeneficiaire": "",
    "objet": "Jardin partagé rue Pierre Legrand",
    "montant": "12000",
    "nature": "aide en numéraire",
    "conditionsVersement": "unique",
    "datesPeriodeVersement": "2017-07-01",
    "idRAE": "",
    "notificationUE": "non",
    "pourcentageSubvention": "0.5",
    "dispositifAide": "",
}
ROW_2023 = ROW_2017 | {
    "dateConvention": "2023-03-14",
    "referenceDecision": "23/118",
    "objet": "Épicerie solidaire de Wazemmes",
    "montant": "30000",
    "datesPeriodeVersement": "2023-04-01/2023-12-31",
}


@pytest.fixture
def scdl_file(tmp_path, shared_data):
    """A valid SCDL 2.1.1 file, header in the schema's field order (read from the schema)."""
    schema = json.loads(
        (shared_data / "activity" / "scdl_subventions_schema_v2.1.1.json").read_text("utf-8")
    )
    names = [f["name"] for f in schema["fields"]]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows([ROW_2017, ROW_2023])
    path = tmp_path / "subventions_lille.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_2017_grant_accepted_flagged_and_out_of_the_envelope_by_default(scdl_file, ess_home):
    report = import_file(scdl_file, "grants", dry_run=True)
    assert report.scdl_version == "2.1.1" and report.conformity == []
    assert (report.read, report.accepted, report.rejected) == (2, 2, 0)
    grants = report.accepted_df
    assert grants.loc[2, "annee"] == 2017 and bool(grants.loc[2, "hors_periode"]) is True
    assert grants.loc[3, "annee"] == 2023 and bool(grants.loc[3, "hors_periode"]) is False
    assert {
        "row": 2,
        "column": "annee",
        "message": "année 2017 hors période de la stratégie (2021-2026) : subvention gardée et "
        "signalée",
    } in report.warnings

    def committed(filters):
        kept = geo_filters.apply(grants, None, filters)
        return key_figures(kept, None, None, envelope=700000)["montant_engage"]

    # Default: the strategy 2021-2026 only; 30 000 / 700 000 of the envelope.
    default = geo_filters.Filters()
    assert committed(default) == 30000.0
    kept = geo_filters.apply(grants, None, default)
    assert key_figures(kept, None, None)["part_enveloppe_engagee"] == pytest.approx(30000 / 700000)
    # The year slider alone cannot bring 2017 in: the period bounds it.
    assert committed(geo_filters.Filters(years=(2016, 2026))) == 30000.0
    # The previous plan 2016-2020 shows the 2017 grant alone; "tout" shows both.
    assert committed(geo_filters.Filters(period="precedent")) == 12000.0
    assert committed(geo_filters.Filters(period="tout")) == 42000.0
    # The envelope consumption per year never counts 2017.
    table = envelope_consumption(grants, 700000)
    assert list(table.index) == [2021, 2022, 2023, 2024, 2025, 2026]
    assert table["engage_cumule"].iloc[-1] == 30000.0


def test_period_in_the_url_and_in_words():
    assert geo_filters.to_query_params(geo_filters.Filters()) == {}
    assert geo_filters.Filters().is_default()
    previous = geo_filters.Filters(period="precedent")
    assert geo_filters.to_query_params(previous) == {"periode": "precedent"}
    assert geo_filters.from_query_params({"periode": "precedent"}) == previous
    assert geo_filters.from_query_params({"periode": "tout"}).period == "tout"
    assert geo_filters.from_query_params({"periode": "1999"}).period == "strategie"
    # Intersected with the roadmap: 2021-2023 inside the previous plan keeps nothing.
    both = geo_filters.Filters(period="precedent", roadmap="2021-2023")
    first, last = both.year_bounds()
    assert first > last
