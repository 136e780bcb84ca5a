"""Coordinate reference systems: compute in Lambert-93, display in WGS84."""

COMPUTE_CRS = "EPSG:2154"  # Lambert-93: metres, for distances, areas and buffers
DISPLAY_CRS = "EPSG:4326"  # WGS84: what Leaflet and GeoJSON expect

# Bounding box of the MEL in WGS84 (lon_min, lat_min, lon_max, lat_max), with a small margin.
MEL_BBOX = (2.78, 50.49, 3.28, 50.80)
# Lille, Hellemmes and Lomme.
CITY_BBOX = (2.95, 50.58, 3.13, 50.67)
