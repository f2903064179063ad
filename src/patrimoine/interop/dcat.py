"""The public catalog as DCAT-AP (valid against the SEMIC shapes of 3.0.1 and 2.1.1, but for
the checksum's datatype, see below).

URIs never change when a title or a slug does: they are built from the dataset's `uid`
(`{base}/datasets/uid/{uid}#dataset`, its distributions `…#csv`, `…#xlsx`…) and from the
organisation's id; `dct:identifier` is the uid written as a UUID, the id the CKAN API gives the
same dataset, so that a harvester switching from one to the other finds the same datasets.
Only public datasets with data are exported (interop/public.py says why). Every object of a
property is typed with the class DCAT-AP expects (foaf:Document, dct:LicenseDocument,
dct:Frequency…), so that the range shapes hold without loading the EU vocabularies. Values
come from the EU controlled vocabularies where one fits: file types, data themes, frequencies,
languages, access rights; IANA media types, written `https://www.iana.org/assignments/
media-types/…` as data.gouv.fr's harvester recognises them.

What data.gouv.fr's DCAT harvester (udata) reads is filled wherever the data exists: each
distribution's `dcat:byteSize` and `spdx:checksum` (sha256 of the very bytes the download
serves; the value is a plain literal, not xsd:hexBinary, which udata cannot read), the
declared Table Schema as `dct:conformsTo` (on the dataset and its distributions), and the
spatial coverage as a `dct:Location` carrying a geometry (`dcat:bbox` and `locn:geometry`, in
WKT and GeoJSON literals, and `dcat:centroid` in GML): the extent of the data's positions,
else the publisher's territory (interop/geography.py).

Large catalogs are paged with Hydra, the way data.gouv.fr's harvester follows them: each page
carries a `hydra:PartialCollectionView` (`hydra:next`…) that is also a `hydra:PagedCollection`
(`hydra:nextPage`…, the older vocabulary).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote, urlencode

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node
from sqlalchemy.orm import Session

from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.core.text import key, slugify
from patrimoine.interop import geography, public
from patrimoine.interop.public import FORMAT_LABELS, PublicDataset
from patrimoine.inventory.licences import LICENCE_OUVERTE, ODBL, Licence, licence
from patrimoine.inventory.models import Dataset, Organisation, OrganisationKind, UpdateFrequency

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = Namespace(EU + "file-type/")
DATA_THEME = Namespace(EU + "data-theme/")
FREQUENCY = Namespace(EU + "frequency/")
LANGUAGE = Namespace(EU + "language/")
ACCESS_RIGHT = Namespace(EU + "access-right/")
PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
IANA = "https://www.iana.org/assignments/media-types/"

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class RdfFormat:
    extension: str
    rdflib_name: str
    media_type: str


RDF_FORMATS = {
    "ttl": RdfFormat("ttl", "turtle", "text/turtle"),
    "rdf": RdfFormat("rdf", "xml", "application/rdf+xml"),
    "jsonld": RdfFormat("jsonld", "json-ld", "application/ld+json"),
}

FREQUENCIES = {
    UpdateFrequency.CONTINUOUS: "UPDATE_CONT",
    UpdateFrequency.DAILY: "DAILY",
    UpdateFrequency.WEEKLY: "WEEKLY",
    UpdateFrequency.MONTHLY: "MONTHLY",
    UpdateFrequency.QUARTERLY: "QUARTERLY",
    UpdateFrequency.SEMIANNUAL: "ANNUAL_2",
    UpdateFrequency.ANNUAL: "ANNUAL",
    UpdateFrequency.IRREGULAR: "IRREG",
    UpdateFrequency.PUNCTUAL: "NEVER",
    UpdateFrequency.UNKNOWN: "UNKNOWN",
}
# EU file types and IANA media types of the export formats. NDJSON is in neither vocabulary:
# its distributions say no format rather than one outside the vocabulary (the title and the
# download's name say NDJSON).
FILE_TYPES = {"csv": "CSV", "json": "JSON", "geojson": "GEOJSON", "parquet": "PARQUET",
              "xlsx": "XLSX"}
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json",
               "parquet": "application/vnd.apache.parquet",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# EU data themes, with the words (folded) of local themes that point to them.
THEMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "AGRI": ("Agriculture, pêche, sylviculture et alimentation",
             ("agricult", "peche", "foret", "sylvicult", "aliment")),
    "ECON": ("Économie et finances", ("econom", "financ", "budget", "emploi", "commerce",
                                      "fiscal", "marche public", "entreprise")),
    "EDUC": ("Éducation, culture et sport", ("educat", "enfance", "enseignement", "ecole",
                                             "scolaire", "culture", "patrimoine", "sport",
                                             "loisir", "tourisme", "bibliothe", "musee")),
    "ENER": ("Énergie", ("energie", "electric", "chauffage")),
    "ENVI": ("Environnement", ("environnement", "eau", "assainissement", "hydraul", "climat",
                               "developpement durable", "dechet", "nature", "biodiversit",
                               "qualite de l air", "bruit", "arbre", "espace vert")),
    "GOVE": ("Gouvernement et secteur public", ("administration", "gouvern", "election",
                                                "citoyen", "deliber", "ressources humaines",
                                                "institution", "collectivit")),
    "HEAL": ("Santé", ("sante", "medic", "hopital", "soin")),
    "INTR": ("Questions internationales", ("international", "jumelage", "europe")),
    "JUST": ("Justice, système juridique et sécurité publique",
             ("securite", "justice", "police", "prevention", "secours", "incendie")),
    "REGI": ("Régions et villes", ("urbanisme", "habitat", "logement", "espace public",
                                   "amenagement", "territoire", "cadastre", "voirie",
                                   "foncier", "batiment")),
    "SOCI": ("Population et société", ("societe", "social", "solidarit", "population",
                                       "demograph", "associat", "famille", "senior",
                                       "handicap")),
    "TECH": ("Science et technologie", ("science", "technolog", "numerique", "recherche",
                                        "superieur", "informati", "innovation")),
    "TRAN": ("Transports", ("transport", "mobilit", "velo", "stationnement", "circulation",
                            "deplacement", "route", "parking")),
}
PUBLISHER_TYPES = {kind: "LocalAuthority" for kind in OrganisationKind}
LICENCE_TYPES = {"etalab-2.0": "Attribution", ODBL.id: "ShareAlike"}


_EMAIL = re.compile(r"^[^@\s<>\"{}|\\^`]+@[^@\s<>\"{}|\\^`]+$")
_WEB = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


def _web_address(text: str | None) -> str | None:
    """A web address usable as an IRI, or None (free text typed by people may not be)."""
    text = (text or "").strip()
    return text if _WEB.match(text) else None


def eu_themes(theme: str | None) -> list[str]:
    """EU data-theme codes a local theme name points to (several, or none)."""
    if not theme:
        return []
    words = f" {key(theme)} "
    return [code for code, (_, stems) in THEMES.items()
            if any(f" {stem}" in words for stem in stems)]


@dataclass(frozen=True)
class Uris:
    """The public URIs, all under `base` (settings.public_url)."""

    base: str

    @classmethod
    def of(cls, public_url: str) -> Uris:
        return cls(public_url.rstrip("/"))

    @property
    def catalog(self) -> URIRef:
        return URIRef(f"{self.base}/catalog")

    @property
    def local_themes(self) -> URIRef:
        return URIRef(f"{self.base}/catalog#themes")

    def document(self, dataset: Dataset) -> str:
        return f"{self.base}/datasets/uid/{dataset.uid}"

    def dataset(self, dataset: Dataset) -> URIRef:
        return URIRef(self.document(dataset) + "#dataset")

    def distribution(self, dataset: Dataset, fmt: str) -> URIRef:
        return URIRef(f"{self.document(dataset)}#{fmt}")

    def download(self, dataset: Dataset, fmt: str) -> str:
        return f"{self.document(dataset)}/export.{fmt}"

    def landing_page(self, dataset: Dataset) -> str:
        return f"{self.base}/datasets/{dataset.slug}"

    def organisation(self, org: Organisation) -> URIRef:
        return URIRef(f"{self.base}/organisations/id/{org.id}")

    def organisation_page(self, org: Organisation) -> str:
        return f"{self.base}/organisations/{org.slug}"

    def theme(self, name: str) -> URIRef:
        return URIRef(f"{self.base}/datasets?theme={quote(name, safe='')}")

    def catalog_page(self, ext: str, page: int, page_size: int) -> URIRef:
        params: dict[str, int] = {"page": page}
        if page_size != PAGE_SIZE:
            params["page_size"] = page_size
        return URIRef(f"{self.base}/catalog.{ext}?{urlencode(params)}")


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("vcard", VCARD),
                       ("skos", SKOS), ("hydra", HYDRA), ("locn", LOCN), ("xsd", XSD),
                       ("dcatap", DCATAP), ("spdx", SPDX), ("gsp", GSP)):
        g.bind(prefix, ns)
    return g


def _date(value: date) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.date)


def _datetime(value: datetime) -> Literal:
    return Literal(public.aware(value).replace(microsecond=0).isoformat(),
                   datatype=XSD.dateTime)


class _Builder:
    """Adds nodes to one graph; shared nodes (licences, concepts…) are described once."""

    def __init__(self, g: Graph, uris: Uris) -> None:
        self.g = g
        self.uris = uris
        self.done: set[Node] = set()

    def add(self, s: Node, p: URIRef, o: Node) -> None:
        self.g.add((s, p, o))

    def once(self, node: Node) -> bool:
        if node in self.done:
            return False
        self.done.add(node)
        return True

    def typed(self, iri: str, cls: URIRef) -> URIRef:
        node = URIRef(iri)
        self.add(node, RDF.type, cls)
        return node

    def concept(self, iri: URIRef, label: str, scheme: URIRef, scheme_title: str) -> URIRef:
        if self.once(iri):
            self.add(iri, RDF.type, SKOS.Concept)
            self.add(iri, SKOS.prefLabel, Literal(label, lang="fr"))
            self.add(iri, SKOS.inScheme, scheme)
            self.scheme(scheme, scheme_title)
        return iri

    def scheme(self, iri: URIRef, title: str) -> URIRef:
        if self.once(iri):
            self.add(iri, RDF.type, SKOS.ConceptScheme)
            self.add(iri, DCTERMS.title, Literal(title, lang="fr"))
        return iri

    def language(self) -> URIRef:
        return self.typed(str(LANGUAGE.FRA), DCTERMS.LinguisticSystem)

    def agent(self, org: Organisation) -> URIRef:
        node = self.uris.organisation(org)
        if self.once(node):
            self.add(node, RDF.type, FOAF.Agent)
            self.add(node, RDF.type, FOAF.Organization)
            self.add(node, FOAF.name, Literal(org.name, lang="fr"))
            kind = PUBLISHER_TYPES[org.kind]
            self.add(node, DCTERMS.type, self.concept(
                PUBLISHER_TYPE[kind], "Collectivité territoriale", URIRef(str(PUBLISHER_TYPE)),
                "Types d'éditeurs (ADMS)"))
            page = self.typed(self.uris.organisation_page(org), FOAF.Document)
            self.add(node, FOAF.page, page)
            website = _web_address(org.website)
            if website:
                self.add(node, FOAF.homepage, self.typed(website, FOAF.Document))
        return node

    def licence(self, found: Licence) -> Node:
        node: Node = URIRef(found.url) if found.url else BNode("licence-" + slugify(found.id))
        if self.once(node):
            self.add(node, RDF.type, DCTERMS.LicenseDocument)
            self.add(node, DCTERMS.title, Literal(found.title))
            self.add(node, DCTERMS.identifier, Literal(found.id))
            if found.id in LICENCE_TYPES:
                self.add(node, DCTERMS.type, self.concept(
                    URIRef("http://purl.org/adms/licencetype/" + LICENCE_TYPES[found.id]),
                    "Attribution" if LICENCE_TYPES[found.id] == "Attribution"
                    else "Partage à l'identique", URIRef("http://purl.org/adms/licencetype/"),
                    "Types de licences (ADMS)"))
        return node

    def dataset(self, entry: PublicDataset) -> URIRef:
        d, version = entry.dataset, entry.version
        node = self.uris.dataset(d)
        g, add = self.g, self.add
        add(node, RDF.type, DCAT.Dataset)
        add(node, DCTERMS.identifier, Literal(public.dataset_uuid(d)))
        add(node, DCTERMS.title, Literal(d.title, lang="fr"))
        add(node, DCTERMS.description, Literal(description(d), lang="fr"))
        add(node, DCAT.landingPage, self.typed(self.uris.landing_page(d), FOAF.Document))
        add(node, DCTERMS.publisher, self.agent(d.organisation))
        add(node, DCTERMS.issued, _datetime(d.created_at))
        add(node, DCTERMS.modified, _datetime(entry.modified))
        add(node, DCTERMS.language, self.language())
        add(node, DCTERMS.accessRights, self.typed(str(ACCESS_RIGHT.PUBLIC),
                                                   DCTERMS.RightsStatement))
        for word in d.keywords or []:
            if word.strip():
                add(node, DCAT.keyword, Literal(word.strip(), lang="fr"))
        if d.theme:
            for code in eu_themes(d.theme):
                add(node, DCAT.theme, self.concept(DATA_THEME[code], THEMES[code][0],
                                                   URIRef(EU + "data-theme"),
                                                   "Thèmes des données (UE)"))
            add(node, DCAT.theme, self.concept(self.uris.theme(d.theme), d.theme,
                                               self.uris.local_themes, "Thématiques du portail"))
        freq = FREQUENCY[FREQUENCIES[d.update_frequency]]
        add(node, DCTERMS.accrualPeriodicity, self.typed(str(freq), DCTERMS.Frequency))
        if d.temporal_start or d.temporal_end:
            period = BNode(f"period-{d.uid}")
            add(node, DCTERMS.temporal, period)
            add(period, RDF.type, DCTERMS.PeriodOfTime)
            if d.temporal_start:
                add(period, DCAT.startDate, _date(d.temporal_start))
            if d.temporal_end:
                add(period, DCAT.endDate, _date(d.temporal_end))
        name = (d.spatial_coverage or "").strip()
        if name or entry.extent is not None:
            add(node, DCTERMS.spatial, self.place(BNode(f"place-{d.uid}"), name, entry.extent))
        if d.contact_name or d.contact_email:
            contact = BNode(f"contact-{d.uid}")
            add(node, DCAT.contactPoint, contact)
            add(contact, RDF.type, VCARD.Kind)
            add(contact, RDF.type, VCARD.Organization)
            add(contact, VCARD.fn, Literal(d.contact_name or d.organisation.name))
            if d.contact_email and _EMAIL.match(d.contact_email.strip()):
                add(contact, VCARD.hasEmail, URIRef(f"mailto:{d.contact_email.strip()}"))
        found = licence(d.licence)
        licence_node = self.licence(found) if found else None
        if licence_node is not None:
            add(node, DCTERMS.license, licence_node)
        standard = self.standard(entry)
        if standard is not None:
            add(node, DCTERMS.conformsTo, standard)
        if version is not None:
            for fmt in entry.formats:
                add(node, DCAT.distribution,
                    self.distribution(entry, fmt, licence_node, standard))
        g.add((node, FOAF.isPrimaryTopicOf, URIRef(self.uris.document(d))))
        return node

    def place(self, node: BNode, name: str, box: geography.Box | None) -> BNode:
        """A `dct:Location`: its name, and its box as udata and GeoDCAT-AP read it."""
        add = self.add
        add(node, RDF.type, DCTERMS.Location)
        if name:
            add(node, SKOS.prefLabel, Literal(name, lang="fr"))
            add(node, LOCN.geographicName, Literal(name, lang="fr"))
        if box is not None:
            add(node, DCAT.bbox, Literal(box.wkt(), datatype=GSP.wktLiteral))
            add(node, LOCN.geometry, Literal(box.geojson(), datatype=GSP.geoJSONLiteral))
            # GML, which udata passes over (it warns on a WKT or GeoJSON point).
            add(node, DCAT.centroid, Literal(box.centroid_gml(), datatype=GSP.gmlLiteral))
            add(node, RDFS.comment, Literal(f"Emprise : {box.source}.", lang="fr"))
        return node

    def standard(self, entry: PublicDataset) -> URIRef | None:
        """The declared Table Schema, as a `dct:Standard` named by its published URL."""
        if entry.schema is None:
            return None
        node = URIRef(entry.schema.url)
        if self.once(node):
            self.add(node, RDF.type, DCTERMS.Standard)
            self.add(node, DCTERMS.title, Literal(entry.schema.title))
            if entry.schema.version:
                self.add(node, OWL.versionInfo, Literal(entry.schema.version))
        return node

    def distribution(self, entry: PublicDataset, fmt: str, licence_node: Node | None,
                     standard: URIRef | None) -> URIRef:
        d, version = entry.dataset, entry.version
        assert version is not None
        node = self.uris.distribution(d, fmt)
        add = self.add
        label = FORMAT_LABELS.get(fmt, fmt.upper())
        add(node, RDF.type, DCAT.Distribution)
        add(node, DCTERMS.title, Literal(f"{d.title} ({label})", lang="fr"))
        add(node, DCTERMS.description, Literal(
            f"Dernière version publiée (n° {version.number}, {version.row_count} lignes) "
            f"au format {label}.", lang="fr"))
        url = URIRef(self.uris.download(d, fmt))
        add(node, DCAT.accessURL, url)
        add(node, DCAT.downloadURL, url)
        if fmt in FILE_TYPES:
            add(node, DCTERMS.format, self.typed(str(FILE_TYPE[FILE_TYPES[fmt]]),
                                                 DCTERMS.MediaTypeOrExtent))
        if fmt in MEDIA_TYPES:
            add(node, DCAT.mediaType, self.typed(IANA + MEDIA_TYPES[fmt], DCTERMS.MediaType))
        facts = entry.files.get(fmt)
        if facts is not None:
            add(node, DCAT.byteSize, Literal(facts.size, datatype=XSD.nonNegativeInteger))
            checksum = BNode(f"checksum-{d.uid}-{fmt}")
            add(node, SPDX.checksum, checksum)
            add(checksum, RDF.type, SPDX.Checksum)
            add(checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256)
            # A plain literal, not the xsd:hexBinary DCAT-AP 3 asks for: udata reads the value
            # with rdflib's toPython(), which turns hexBinary into bytes, and then refuses the
            # whole dataset ("StringField only accepts string values"). udata writes its own
            # checksums this way too.
            add(checksum, SPDX.checksumValue, Literal(facts.sha256))
        if standard is not None:
            add(node, DCTERMS.conformsTo, standard)
        if licence_node is not None:
            add(node, DCTERMS.license, licence_node)
        # Published versions are immutable and kept: the downloads are stable.
        add(node, DCATAP.availability, self.concept(
            URIRef(EU + "planned-availability/STABLE"), "Stable",
            URIRef(EU + "planned-availability"), "Disponibilité prévue (UE)"))
        add(node, DCTERMS.issued, _datetime(version.created_at))
        add(node, DCTERMS.modified, _datetime(version.created_at))
        return node

    def catalog(self, session: Session, entries: Iterable[PublicDataset]) -> URIRef:
        node = self.uris.catalog
        add = self.add
        root = public.root_organisation(session)
        add(node, RDF.type, DCAT.Catalog)
        title = "Catalogue des données ouvertes" + (f" — {root.name}" if root else "")
        add(node, DCTERMS.title, Literal(title, lang="fr"))
        add(node, DCTERMS.description, Literal(
            "Les jeux de données ouverts du territoire, publiés sous licence ouverte, avec "
            "leurs téléchargements dans des formats ouverts.", lang="fr"))
        if root is not None:
            add(node, DCTERMS.publisher, self.agent(root))
            territory = geography.organisation_territory(root)
            if territory is not None:
                add(node, DCTERMS.spatial, self.place(BNode("place-catalog"), "", territory))
        else:
            agent = BNode("publisher")
            add(agent, RDF.type, FOAF.Agent)
            add(agent, FOAF.name, Literal("Patrimoine"))
            add(node, DCTERMS.publisher, agent)
        add(node, FOAF.homepage, self.typed(f"{self.uris.base}/", FOAF.Document))
        add(node, DCTERMS.language, self.language())
        modified = public.last_modified(session)
        if modified is not None:
            add(node, DCTERMS.modified, _datetime(modified))
        issued = public.first_issued(session)
        if issued is not None:
            add(node, DCTERMS.issued, _datetime(issued))
        # The catalog's own metadata is published under the Licence Ouverte.
        add(node, DCTERMS.license, self.licence(LICENCE_OUVERTE))
        add(node, DCAT.themeTaxonomy, self.scheme(URIRef(EU + "data-theme"),
                                                  "Thèmes des données (UE)"))
        add(node, DCAT.themeTaxonomy, self.scheme(self.uris.local_themes,
                                                  "Thématiques du portail"))
        for entry in entries:
            add(node, DCAT.dataset, self.dataset(entry))
        return node


def description(d: Dataset) -> str:
    """The dataset's description, or a sentence saying what it is when it has none."""
    text = (d.description or "").strip()
    if text:
        return text
    return f"{d.title} : jeu de données publié par {d.organisation.name}."


@dataclass
class CatalogPage:
    graph: Graph
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def parse_paging(page: str | int | None, page_size: str | int | None) -> tuple[int, int]:
    try:
        number = int(page) if page not in (None, "") else 1
        size = int(page_size) if page_size not in (None, "") else PAGE_SIZE
    except (TypeError, ValueError) as exc:
        raise Invalid("Les paramètres page et page_size doivent être des nombres entiers.") \
            from exc
    if number < 1:
        raise Invalid("Le numéro de page commence à 1.")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise Invalid(f"La taille de page (page_size) doit être comprise entre 1 et "
                      f"{MAX_PAGE_SIZE}.")
    return number, size


def catalog_page(session: Session, public_url: str, ext: str, page: int = 1,
                 page_size: int = PAGE_SIZE, settings: Settings | None = None) -> CatalogPage:
    """One page of the public catalog, with its Hydra paging links. Distributions are
    those of the newest version the public may read (protection's gate; with `settings`, a
    version never scanned is scanned first)."""
    uris = Uris.of(public_url)
    total = public.count(session, settings)
    entries = public.page(session, (page - 1) * page_size, page_size, settings)
    g = new_graph()
    _Builder(g, uris).catalog(session, entries)
    result = CatalogPage(g, page, page_size, total)
    _hydra(g, uris, ext, result)
    return result


def _hydra(g: Graph, uris: Uris, ext: str, result: CatalogPage) -> None:
    view = uris.catalog_page(ext, result.page, result.page_size)
    last = result.pages

    def link(number: int) -> URIRef:
        return uris.catalog_page(ext, number, result.page_size)

    g.add((view, RDF.type, HYDRA.PartialCollectionView))
    g.add((view, RDF.type, HYDRA.PagedCollection))
    g.add((view, HYDRA.totalItems, Literal(result.total, datatype=XSD.integer)))
    g.add((view, HYDRA.itemsPerPage, Literal(result.page_size, datatype=XSD.integer)))
    g.add((view, HYDRA.first, link(1)))
    g.add((view, HYDRA.firstPage, link(1)))
    g.add((view, HYDRA.last, link(last)))
    g.add((view, HYDRA.lastPage, link(last)))
    if result.page < last:
        g.add((view, HYDRA.next, link(result.page + 1)))
        g.add((view, HYDRA.nextPage, link(result.page + 1)))
    if result.page > 1:
        g.add((view, HYDRA.previous, link(min(result.page - 1, last))))
        g.add((view, HYDRA.previousPage, link(min(result.page - 1, last))))


def full_catalog(session: Session, public_url: str, settings: Settings | None = None) -> Graph:
    """The whole public catalog in one graph (no paging)."""
    g = new_graph()
    _Builder(g, Uris.of(public_url)).catalog(session, public.everything(session, settings))
    return g


def dataset_document(public_url: str, entry: PublicDataset) -> Graph:
    """The RDF document of one public dataset."""
    g = new_graph()
    _Builder(g, Uris.of(public_url)).dataset(entry)
    return g


JSONLD_CONTEXT = {"dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF),
                  "vcard": str(VCARD), "skos": str(SKOS), "hydra": str(HYDRA),
                  "locn": str(LOCN), "xsd": str(XSD), "rdfs": str(RDFS), "spdx": str(SPDX),
                  "gsp": str(GSP), "owl": str(OWL), "dcatap": str(DCATAP)}


def serialize(g: Graph, ext: str) -> tuple[bytes, str]:
    """The graph in one of RDF_FORMATS: (bytes, media type with charset)."""
    fmt = RDF_FORMATS[ext]
    if ext == "jsonld":
        data = g.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True)
    else:
        data = g.serialize(format=fmt.rdflib_name)
    return data.encode("utf-8"), f"{fmt.media_type}; charset=utf-8"


def negotiate(accept: str) -> str | None:
    """The RDF format an Accept header asks for, if any (None: it wants a page)."""
    wanted = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media in wanted:
        for ext, fmt in RDF_FORMATS.items():
            if media == fmt.media_type or (ext == "jsonld" and media == "application/json+ld"):
                return ext
        if media in ("application/x-turtle", "text/n3"):
            return "ttl"
        if media == "application/xml":
            return "rdf"
    return None
