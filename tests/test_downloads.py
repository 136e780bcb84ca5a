"""Downloads built on click (pages.common.tables.lazy_download): a failure is a French file."""

from __future__ import annotations

import logging
import re

from pages.common import tables


def test_a_built_download_is_the_builders_bytes():
    assert tables._built_download(lambda: b"a;b\r\n1;2\r\n", "x.csv") == b"a;b\r\n1;2\r\n"


def test_a_failing_download_is_a_french_message_with_a_reference_in_the_log(caplog):
    def broken() -> bytes:
        raise RuntimeError("échec simulé dans /srv/secret/chemin.py")

    with caplog.at_level(logging.ERROR, logger="ess.pages"):
        text = tables._built_download(broken, "subventions_selection.csv").decode()
    assert text.startswith("Export impossible : une erreur inattendue a empêché de préparer")
    assert "« subventions_selection.csv »" in text
    assert "/srv/secret" not in text and "RuntimeError" not in text
    reference = re.search(r"référence ([0-9a-f]{8})", text).group(1)
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert len(logged) == 1 and "échec simulé" in str(logged[0].exc_info[1])
