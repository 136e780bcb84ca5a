"""What a page says when a reference layer is missing, with, for staff, its download and import."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import streamlit as st

from geo.formatting import fmt_int
from loaders.layers import fetch_layer, import_layer
from loaders.pipeline import warm
from loaders.provenance import LAYER_LABELS
from pages.common.access import staff_can_write
from pages.common.document import presentation_mode
from pages.shared import Bundle, escape_markdown

_log = logging.getLogger("ess.pages")


def missing_layer(name: str, data: Bundle) -> None:
    """Says which layer is missing; staff also get the download and the file import.

    In presentation mode the audience only gets a discreet line (no box, no command).
    """
    meta = data.metas.get(name)
    reason = meta.reason if meta and meta.reason else "couche non chargée"
    label = LAYER_LABELS.get(name, name)
    if presentation_mode():
        not_loaded([name])
        return
    if not staff_can_write():
        st.info(
            f"**{label} : non disponible.** Un agent de la Ville peut la charger depuis la page "
            "« Données et sources ».",
            icon=":material/layers_clear:",
        )
        return
    st.info(
        f"**{label} : non disponible.** {escape_markdown(reason)}\n\n"
        "Téléchargez-la depuis la source officielle (accès Internet), ou importez le fichier "
        "ci-dessous (GeoJSON, GeoPackage, Shapefile zippé, KML).",
        icon=":material/layers_clear:",
    )
    fetch_button(name, key=f"fetch_{name}")
    layer_upload(name, key=f"upload_{name}")


def missing_layers(names: list[str], data: Bundle) -> None:
    """The missing ones among `names`, folded in one expander to put under the map.

    The map stays on the first screen; the expander's title says what is missing, its content
    is missing_layer's (the reason, and for staff the download and the file import).
    """
    absent = [n for n in dict.fromkeys(names) if data.layer(n) is None]
    if not absent:
        return
    if presentation_mode():
        not_loaded(absent)
        return
    labels = ", ".join(LAYER_LABELS.get(n, n) for n in absent)
    with st.expander(f"Non disponible : {labels}", icon=":material/layers_clear:"):
        for name in absent:
            missing_layer(name, data)


def not_loaded(names: list[str]) -> None:
    """One discreet line naming the layers that are not loaded (presentation mode)."""
    if names:
        labels = ", ".join(LAYER_LABELS.get(n, n) for n in names)
        st.caption(f"Non chargé : {labels}.")


def fetch_button(name: str, key: str) -> None:
    """Button fetching one layer from its official source; a stale fallback counts as failure."""
    if not staff_can_write() or not st.button("Télécharger depuis la source officielle", key=key):
        return
    with st.spinner("Téléchargement…"):
        try:
            _, meta = fetch_layer(name)
        except Exception as exc:  # noqa: BLE001 - the message is shown, nothing is lost
            _log.exception("fetch of layer %s failed", name)
            st.error(f"Échec du téléchargement : {escape_markdown(str(exc))}")
            return
    if meta.rows and not meta.warning:
        warm()  # the enrichment for the new layer, built now rather than on the next page
        st.rerun()
    st.error(escape_markdown(meta.warning or meta.reason or "Source officielle injoignable."))


def layer_upload(name: str, key: str) -> None:
    """File importer for one reference layer (staff only); the file is parsed, never executed."""
    if not staff_can_write():
        return
    upload = st.file_uploader(
        f"Importer la couche « {LAYER_LABELS.get(name, name)} »",
        type=["geojson", "json", "gpkg", "zip", "kml", "csv"],
        key=key,
    )
    if upload is None:
        return
    suffix = Path(upload.name).suffix
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{Path(upload.name).stem}{suffix}"
        path.write_bytes(upload.getvalue())
        try:
            _, meta = import_layer(name, path)
        except Exception as exc:  # noqa: BLE001 - the message is shown to the user
            _log.info("layer upload %s refused: %s", name, exc)
            st.error(
                f"Import impossible de « {escape_markdown(upload.name)} » : "
                f"{escape_markdown(str(exc))}"
            )
            return
        warm()  # the enrichment for the new layer, built now rather than on the next page
    st.success(
        f"Couche importée : {fmt_int(meta.rows)} entités depuis « {escape_markdown(upload.name)} »."
    )
    st.rerun()
