"""Data and sources: state of every reference layer, refresh or import, border checks."""

import pandas as pd
import streamlit as st

from geo.formatting import fmt_date, fmt_eur, fmt_int
from loaders import config
from loaders.export import ExportError, export_dataset, scdl_withheld_text
from loaders.provenance import LAYER_LABELS
from pages import shared
from pages.common import access, layer_notices

data = shared.bundle()
shared.page_header(
    "Données et sources",
    "État des couches de référence, mise à jour depuis les sources officielles ou import d'un "
    "fichier, contrôles de cohérence et référentiel de la stratégie.",
    data,
)

rows = []
for name, label in LAYER_LABELS.items():
    meta = data.metas.get(name)
    rows.append(
        {
            "Couche": label,
            "Entités": fmt_int(meta.rows) if meta and meta.rows else "0",
            "Source": meta.source if meta and meta.rows else "—",
            "Mise à jour (producteur)": fmt_date(meta.updated) if meta and meta.updated else "—",
            "Récupérée le": fmt_date(meta.retrieved) if meta and meta.retrieved else "—",
            "État": "Chargée" if meta and meta.rows else (meta.reason if meta else "Manquante"),
        }
    )
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="layers_table")

st.subheader("Mettre à jour ou importer une couche")
if access.require_staff():
    manifest = config.manifest()
    name = st.selectbox(
        "Couche", list(LAYER_LABELS), format_func=LAYER_LABELS.get, key="layer_pick"
    )
    entry = manifest.get(name, {})
    st.markdown(
        f"Source officielle : **{entry.get('producteur', '—')}** — {entry.get('licence', '')}  \n"
        f"Page du jeu de données : {entry.get('page', '—')}"
    )
    layer_notices.fetch_button(name, key="layer_fetch")
    layer_notices.layer_upload(name, key=f"donnees_upload_{name}")

st.subheader("Contrôle des limites communales")
conflicts = data.data.conflicts
if len(conflicts):
    st.warning(
        f"{fmt_int(len(conflicts))} enregistrement(s) dont le code postal ne correspond pas à la "
        "commune où le point est situé : à vérifier."
    )
    st.dataframe(conflicts, hide_index=True, width="stretch", key="conflicts_table")
else:
    st.success("Aucun désaccord entre code postal et commune.")

st.subheader("Exporter les données")
kinds = {"grants": "Subventions", "structures": "Structures", "land": "Sites fonciers"}
formats = {
    "csv": "CSV pour Excel",
    "xlsx": "Classeur Excel (XLSX)",
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "scdl": "SCDL subventions 2.1.1 (publication open data)",
}
e1, e2 = st.columns(2)
kind = e1.selectbox("Jeu de données", list(kinds), format_func=kinds.get, key="export_kind")
fmt = e2.selectbox("Format", list(formats), format_func=formats.get, key="export_format")
if st.button("Préparer le fichier", key="export_prepare"):
    frame = {"grants": data.data.grants, "structures": data.data.structures, "land": data.data.land}
    try:
        payload = export_dataset(
            frame[kind],
            kind,
            fmt,
            demo=data.demo,
            sources=shared.sources_records(data, list(LAYER_LABELS)),
        )
    except (ExportError, ValueError) as exc:
        st.error(str(exc))
    else:
        if fmt == "scdl" and (withheld := scdl_withheld_text(frame[kind])):
            st.info(withheld)
        suffix = {"scdl": "csv"}.get(fmt, fmt)
        st.download_button(
            f"Télécharger ({formats[fmt]})",
            payload,
            file_name=f"{kinds[kind].lower().replace(' ', '_')}.{suffix}",
            key="export_download",
        )

st.subheader("La stratégie ESS 2021-2026")
strategy = config.strategy()
st.markdown(
    f"{strategy['titre']} — délibération du {fmt_date(strategy['deliberation'])}, enveloppe de "
    f"{fmt_eur(strategy['enveloppe_eur'])} sur {strategy['periode'][0]}-"
    f"{strategy['periode'][1]}."
)
for axis in strategy["axes"]:
    with st.expander(f"Axe {axis['numero']} – {axis['titre']}"):
        for p in axis["priorites"]:
            st.markdown(f"{p['numero']}. {p['titre']}")
shared.sources_footer(data, list(LAYER_LABELS))
