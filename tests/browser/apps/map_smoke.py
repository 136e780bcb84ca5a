"""Smallest map page: 3 known points (one with a hostile name) and one polygon, no tiles.

Rendered exactly as the product pages do (geo.maps builders + st_folium), for test_map_smoke.py.
"""

import geopandas as gpd
import streamlit as st
from shapely.geometry import Point, box
from streamlit_folium import st_folium

from geo.maps import base_map, choropleth_layer, layer_control, points_layer

HOSTILE = "<script>window.pwned=1</script>{{ x }}"

points = gpd.GeoDataFrame(
    {
        "nom": ["Atelier l'Échoppe", HOSTILE, 'Café "Le `Relais`"'],
        "forme": ["Association", "SCOP", "SCIC"],
    },
    geometry=[Point(3.030, 50.640), Point(3.060, 50.615), Point(3.075, 50.640)],
    crs="EPSG:4326",
)
area = gpd.GeoDataFrame(
    {"nom_iris": ["IRIS d'essai"], "montant": [12345.0]},
    geometry=[box(3.085, 50.620, 3.105, 50.634)],
    crs="EPSG:4326",
)

st.title("Carte de test")
m = base_map(center=(50.628, 3.065), zoom=13, tiles=None)
choropleth_layer(
    area,
    "montant",
    [0, 10000, 50000],
    name="Montants par IRIS",
    legend_title="Montant attribué",
    tooltip_fields={"nom_iris": "IRIS"},
).add_to(m)
points_layer(
    points,
    name="Structures",
    popup_fields={"nom": "Nom", "forme": "Forme juridique"},
    tooltip_field="nom",
    color="#d95f02",
    cluster=True,
).add_to(m)
layer_control(m)
st_folium(m, height=520, use_container_width=True, returned_objects=[], key="carte")
