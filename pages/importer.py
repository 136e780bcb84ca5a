"""Import the City's own grants, structures and land sites; every row accepted or reported."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from geo.crs import MEL_BBOX
from geo.formatting import fmt_date, fmt_int
from geo.tables import rejects_table, warnings_summary
from loaders import mapping as mapping_mod
from loaders import store
from loaders.geocode import apply_manual_fixes
from loaders.importer import import_file, rejects_csv, warnings_csv
from loaders.model import SCHEMAS
from loaders.pipeline import warm
from loaders.readers_tabular import ImportFileError, read_tabular
from pages import shared
from pages.common import access, tables

MAX_UPLOAD_MB = 50

data = shared.bundle()
shared.page_header(
    "Importer des données",
    "Subventions, structures et sites fonciers depuis un tableur (CSV, XLSX), un fichier SCDL "
    "ou, pour le foncier, un GeoJSON ou un GeoPackage. Chaque ligne est acceptée ou signalée "
    "avec sa ligne, sa colonne et le motif.",
    data,
)
if not access.require_staff():
    st.stop()

kinds = {"grants": "Subventions", "structures": "Structures", "land": "Sites fonciers"}
kind = st.radio(
    "Type de données", list(kinds), format_func=kinds.get, horizontal=True, key="import_kind"
)
types = ["csv", "xlsx", "txt"] + (["geojson", "json", "gpkg"] if kind == "land" else [])
upload = st.file_uploader("Fichier à importer", type=types, key=f"import_file_{kind}")

if upload is not None:
    if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
        st.error(
            f"Fichier trop volumineux ({fmt_int(upload.size // 1024 // 1024)} Mo) : "
            f"la limite est de {MAX_UPLOAD_MB} Mo."
        )
        st.stop()
    # The upload is written to a private temporary folder, removed when the block ends (the
    # st.stop() calls inside end it too); every rerun starts from the uploaded bytes again.
    with tempfile.TemporaryDirectory(prefix="ess_import_") as tmp_dir:
        path = Path(tmp_dir) / Path(upload.name).name
        path.write_bytes(upload.getvalue())

        mapping: dict[str, str | None] | None = None
        fix_mojibake = False
        if path.suffix.lower() in (".csv", ".txt", ".xlsx"):
            try:
                raw = read_tabular(
                    path, header_score=lambda cells: mapping_mod.recognised_count(cells, kind)
                )
            except ImportFileError as exc:
                st.error(shared.escape_markdown(exc))
                st.stop()
            # Values that look like UTF-8 read as Windows-1252: say so, offer the repair.
            garbled = [w for w in raw.warnings if "mal encodée" in w["message"]]
            if garbled:
                st.warning(
                    "Certaines valeurs semblent mal encodées :\n\n"
                    + "\n".join(
                        f"- colonne « {shared.escape_markdown(w['column'])} » : "
                        f"{shared.escape_markdown(w['message'])}"
                        for w in garbled
                    )
                )
                fix_mojibake = st.checkbox(
                    "Réparer l'encodage de ces valeurs à l'import", key="import_fix_mojibake"
                )
            with st.expander("Correspondance des colonnes", expanded=False):
                saved = mapping_mod.list_mappings()
                chosen = st.selectbox(
                    "Correspondance enregistrée",
                    ["(automatique)", *saved],
                    key="import_saved_mapping",
                )
                base = (
                    mapping_mod.load_mapping(chosen)
                    if chosen != "(automatique)"
                    else mapping_mod.suggest_mapping(raw.columns, kind)
                )
                targets = [None] + [c.name for c in SCHEMAS[kind]]
                mapping = {}
                for column in raw.columns:
                    current = base.get(column)
                    mapping[column] = st.selectbox(
                        f"« {shared.escape_markdown(column)} »",
                        targets,
                        index=targets.index(current) if current in targets else 0,
                        format_func=lambda t: "— ignorer —" if t is None else t,
                        key=f"map_{kind}_{column}",
                    )
                name = st.text_input("Enregistrer cette correspondance sous le nom", key="map_name")
                if st.button("Enregistrer la correspondance", key="map_save") and name.strip():
                    mapping_mod.save_mapping(name.strip(), mapping, kind)
                    st.success(
                        f"Correspondance « {shared.escape_markdown(name.strip())} » enregistrée."
                    )

        geocode = st.checkbox(
            "Géocoder les adresses sans coordonnées (API Adresse, accès Internet requis)",
            key="import_geocode",
        )
        c1, c2 = st.columns(2)
        dry = c1.button("Vérifier sans enregistrer", key="import_dry")
        real = c2.button("Importer", type="primary", key="import_go")
        if dry or real:
            try:
                report = import_file(
                    path,
                    kind,
                    mapping=mapping,
                    dry_run=dry,
                    geocode=geocode,
                    file_name=upload.name,
                    fix_mojibake=fix_mojibake,
                )
            except ImportFileError as exc:
                st.error(shared.escape_markdown(exc))
                st.stop()
            st.session_state["import_report"] = report
            if report.stored:
                st.rerun()

report = st.session_state.get("import_report")
if report is not None:
    st.subheader(f"Rapport : {shared.escape_markdown(report.file)}")
    r1, r2, r3 = st.columns(3)
    r1.metric("Lignes lues", fmt_int(report.read))
    r2.metric("Acceptées", fmt_int(report.accepted))
    r3.metric("Rejetées", fmt_int(report.rejected))
    st.text(report.summary_fr())
    if report.rejects:
        tables.paged_table(
            pd.DataFrame(report.rejects, columns=["row", "column", "reason"]),
            rejects_table,
            key="rejects_table",
            note="toutes les lignes rejetées sont dans le téléchargement",
        )
        tables.lazy_download(
            st,
            "Télécharger les lignes rejetées (CSV)",
            lambda: rejects_csv(report),
            file_name=f"rejets_{Path(report.file).stem}.csv",
            mime="text/csv",
            key="rejects_download",
        )
    if report.warnings:
        # One line per kind of warning, built once opened; every warning is in the download.
        box = tables.folded(
            f"{fmt_int(len(report.warnings))} avertissement(s)", key="warnings_open"
        )
        if box is not None:
            with box:
                summary = shared.memo(  # 0.4 s for 84 000 warnings: once per report
                    "import_warnings",
                    (hash(tuple(tuple(w.values()) for w in report.warnings)),),
                    lambda: warnings_summary(report.warnings),
                )
                st.dataframe(
                    summary,
                    hide_index=True,
                    width="stretch",
                    key="warnings_table",
                )
                tables.lazy_download(
                    st,
                    "Télécharger tous les avertissements (CSV)",
                    lambda: warnings_csv(report),
                    file_name=f"avertissements_{Path(report.file).stem}.csv",
                    mime="text/csv",
                    key="warnings_download",
                )

st.subheader("Lieux à corriger à la main")
st.caption(
    "Structures et sites importés sans coordonnées (adresse introuvable ou score de géocodage "
    "trop faible) : saisissez la latitude et la longitude (WGS84, en degrés décimaux)."
)
for fix_kind in ("structures", "land"):
    stored = store.read_kind(fix_kind)
    if stored is None or not {"lat", "lon"} <= set(stored.columns):
        continue
    todo = stored[stored["lat"].isna() | stored["lon"].isna()]
    if fix_kind == "land" and "geometry" in stored.columns:
        todo = todo[todo["geometry"].isna()]
    if todo.empty:
        continue
    shown = todo[[c for c in ("nom", "adresse", "code_postal", "lat", "lon") if c in todo]]
    edited = st.data_editor(
        shown,
        disabled=[c for c in shown.columns if c not in ("lat", "lon")],
        column_config={
            "nom": "Nom",
            "adresse": "Adresse",
            "code_postal": "Code postal",
            "lat": st.column_config.NumberColumn("Latitude", format="%.5f"),
            "lon": st.column_config.NumberColumn("Longitude", format="%.5f"),
        },
        key=f"fix_{fix_kind}",
    )
    if st.button(
        f"Enregistrer les coordonnées ({kinds[fix_kind].lower()})", key=f"fix_save_{fix_kind}"
    ):
        fixed, problems = apply_manual_fixes(stored, edited, MEL_BBOX)
        for problem in problems:
            st.error(shared.escape_markdown(problem))
        if fixed is not stored:
            store.write_import(
                fix_kind,
                fixed,
                {
                    "file": "correction manuelle des coordonnées",
                    "sha256": "",
                    "read": len(fixed),
                    "accepted": len(fixed),
                    "rejected": 0,
                },
            )
            warm()  # the enrichment of the fixed places, built now rather than on the next page
            st.success("Coordonnées enregistrées (annulables avec « Annuler le dernier import »).")
            st.rerun()

st.subheader("Historique des imports")
log = store.import_log()
if log:
    st.dataframe(
        pd.DataFrame(
            {
                "Date": [fmt_date(e.get("imported_at", "")) for e in log],
                "Fichier": [e.get("file", "") for e in log],
                "Type": [kinds.get(e.get("kind"), e.get("kind")) for e in log],
                "Lues": [e.get("read") for e in log],
                "Acceptées": [e.get("accepted") for e in log],
                "Rejetées": [e.get("rejected") for e in log],
            }
        ),
        hide_index=True,
        width="stretch",
        key="import_log_table",
    )
    if st.button("Annuler le dernier import", key="import_undo"):
        undone = store.undo_last()
        warm()
        st.session_state.pop("import_report", None)
        if undone:
            st.success(f"Import de « {shared.escape_markdown(undone.get('file', ''))} » annulé.")
        st.rerun()
else:
    st.caption("Aucun import pour l'instant : le tableau de bord affiche les données fictives.")
shared.sources_footer(data, [])
