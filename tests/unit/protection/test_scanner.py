"""Each recogniser, its checksum, and the false alarms context must not cause."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from patrimoine.protection import detectors as d
from patrimoine.protection.scanner import Finding, ScanOptions, scan_rows, scan_samples
from tests.support.personal_data import Generator

TODAY = date(2026, 11, 25)
OPTIONS = ScanOptions(today=TODAY)


def kinds(samples: dict[str, list[object]]) -> dict[str, set[str]]:
    return {c: k for c, k in scan_samples(samples, OPTIONS).kinds_by_column().items()}


def finding(samples: dict[str, list[object]], column: str, kind: str) -> Finding:
    result = scan_samples(samples, OPTIONS)
    return next(f for f in result.findings if f.key == (column, kind))


@pytest.fixture
def gen() -> Generator:
    return Generator(42)


# --- checksums -----------------------------------------------------------------------------

def test_nir_key_is_97_minus_the_number_mod_97() -> None:
    body = "1850578006084"
    assert d.nir_key(body) == 97 - int(body) % 97
    assert d.nir_is_valid(f"{body}{d.nir_key(body):02d}")
    assert not d.nir_is_valid(f"{body}{(d.nir_key(body) % 97) + 1:02d}")
    assert d.nir_is_valid(f"1 85 05 78 006 084 {d.nir_key(body):02d}")


def test_nir_corsica_counts_2a_as_19_and_2b_as_18() -> None:
    # The official rule: A or B read as 0, then 1 000 000 (2A) or 2 000 000 (2B) subtracted.
    body_a, body_b = "290012A004123", "175112B033012"
    key_a = 97 - (int(body_a.replace("A", "0")) - 1_000_000) % 97
    key_b = 97 - (int(body_b.replace("B", "0")) - 2_000_000) % 97
    assert d.nir_key(body_a) == key_a and d.nir_key(body_b) == key_b
    assert d.nir_is_valid(f"{body_a}{key_a:02d}") and d.nir_is_valid(f"{body_b}{key_b:02d}")
    assert not d.nir_is_valid(f"{body_a}{(key_a % 97) + 1:02d}")


def test_iban_mod_97_for_france_and_other_countries(gen: Generator) -> None:
    assert d.iban_is_valid("FR76 3000 6000 0112 3456 7890 189")
    assert d.iban_is_valid("DE89370400440532013000")
    assert d.iban_is_valid("BE68539007547034")
    assert not d.iban_is_valid("FR76 3000 6000 0112 3456 7890 188")
    assert not d.iban_is_valid("FR76300060000112345678901")  # wrong length for FR
    assert all(d.iban_is_valid(gen.iban()) for _ in range(200))


def test_masks_hide_the_values() -> None:
    assert d.mask_email("jean.dupont@exemple.fr") == "j***@e***.fr"
    assert d.mask_phone("+33 6 12 34 56 12") == "06 ** ** ** 12"
    assert d.mask_phone("06.12.34.56.12") == "06 ** ** ** 12"
    assert d.mask_iban("FR7630006000011234567890189") == "FR76 **** **** 189"
    assert d.mask_nir("185057800608436") == "1 ** ** ** *** *** 36"
    assert d.mask_plate("AB-123-CD") == "A*-***-*D"


# --- one detector at a time ----------------------------------------------------------------

def test_emails_including_service_mailboxes_with_low_severity() -> None:
    found = finding({"courriel": ["jean.dupont@exemple.fr", "m.durand@orange.fr"] * 10},
                    "courriel", "email")
    assert found.share == 1.0 and found.severity == "medium"
    assert found.examples[0] == "j***@e***.fr"
    service = finding({"contact": ["contact@mairie-olivet.fr", "accueil@ville-troyes.fr"] * 5},
                      "contact", "email")
    assert service.severity == "low"


def test_french_phones_in_every_writing(gen: Generator) -> None:
    values = ["06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "0612345678",
              "+33 6 12 34 56 78", "+33612345678", "0033 1 45 67 89 01", "+33 (0)4 15 39 15 00"]
    found = finding({"numero": values}, "numero", "phone")
    assert found.count == len(values)
    assert found.examples[0] == "06 ** ** ** 78"
    assert "phone" in kinds({"x": [gen.phone() for _ in range(50)]})["x"]
    landlines = {"telephone": ["02 38 79 22 22", "01 45 67 89 01"] * 5}
    assert finding(landlines, "telephone", "phone").severity == "low"
    homes = {**landlines, "prenom": ["Marie", "Jean"] * 5}
    assert finding(homes, "telephone", "phone").severity == "medium"
    # Stored as integers the leading zero is lost; the column name makes them phones.
    assert kinds({"telephone": [612345678, 145678901, 789012345]})["telephone"] == {"phone"}


def test_nir_valid_keys_found_invalid_keys_not(gen: Generator) -> None:
    nirs = [gen.nir() for _ in range(50)]
    found = finding({"identifiant": nirs}, "identifiant", "nir")
    assert found.count == 50 and found.severity == "high"
    broken = [n[:-2] + f"{(int(n[-2:]) % 97) + 1:02d}" for n in nirs]
    assert "nir" not in kinds({"identifiant": broken})["identifiant"]


def test_iban_column(gen: Generator) -> None:
    assert kinds({"rib": [gen.iban() for _ in range(30)]})["rib"] == {"iban"}


def test_plates_new_and_old_formats() -> None:
    values = ["AB-123-CD", "GH 621 ZS", "KL456MN", "123 ABC 75", "1234 AB 2A", "449-QVG-78"]
    assert finding({"plaque": values}, "plaque", "plate").count == 6
    # I, O and U never appear on plates: these are not plates.
    assert "plate" not in kinds({"code": ["IO-123-OU", "UI-456-IO"] * 5})["code"]


def test_addresses_with_and_without_postcode() -> None:
    values = ["12 rue de la Paix, 75002 Paris", "8, avenue Manon Gillet", "3 bis bd Victor Hugo",
              "rue Josette Valette 91600 Savigny", "45 allée des Tilleuls",
              "7 impasse du Moulin 45160 Olivet", "2 place du Martroi"]
    assert finding({"adresse": values}, "adresse", "address").count == len(values)


def test_an_address_split_over_columns() -> None:
    table = {"prenom": ["Marie", "Jean", "Luc", "Anne"] * 5,
             "numero_voie": ["12", "3 bis", "145", "7"] * 5,
             "libelle_voie": ["rue des Lilas", "avenue Jean Jaurès", "chemin du Moulin",
                              "allée des Tilleuls"] * 5,
             "code_postal": ["45000", "45160", "44000", "13001"] * 5}
    found = finding(table, "libelle_voie", "address")
    assert "numero_voie" in found.reason and found.severity == "medium"
    assert kinds(table)["numero_voie"] == set() and kinds(table)["code_postal"] == set()
    # Without house numbers, a street is a place, not an address.
    del table["numero_voie"]
    assert kinds(table)["libelle_voie"] == set()


def test_birth_dates_need_a_birth_column_name() -> None:
    dob = ["12/05/1985", "1950-01-31", "03.07.2001", "29/02/1960"]
    assert kinds({"date_naissance": dob})["date_naissance"] == {"birth_date"}
    assert kinds({"né le": dob})["né le"] == {"birth_date"}
    assert kinds({"dob": [datetime(1985, 5, 12), date(1972, 1, 3)]})["dob"] == {"birth_date"}
    assert kinds({"date_evenement": dob})["date_evenement"] == set()
    # Not plausible birth dates: in the future or before 1900.
    assert kinds({"date_naissance": ["12/05/2030", "01/01/1850"] * 3})["date_naissance"] == set()


def test_years_of_birth_and_nirs_without_key_need_their_column_name(gen: Generator) -> None:
    years = [1950, 1985, 2001, 1972] * 5
    found = finding({"annee_naissance": years}, "annee_naissance", "birth_date")
    assert found.severity == "medium" and found.examples[0] == "195*"
    assert kinds({"annee": years})["annee"] == set()
    bodies = [gen.nir(spaced=False)[:13] for _ in range(20)]
    assert kinds({"nir": bodies})["nir"] == {"nir"}
    assert kinds({"reference": bodies})["reference"] == set()


def test_names_by_value_evidence_and_by_column_name() -> None:
    first = ["Marie", "Jean", "Nathalie", "Pierre", "Sophie", "Thierry", "Émilie", "Jérôme"]
    assert kinds({"col_3": first * 3})["col_3"] == {"name"}
    full = ["Jean Dupont", "DURAND Marie", "Mme Sophie Martin", "M. Pierre Lefèvre",
            "Claire Fontaine-Rousseau"]
    assert kinds({"responsable": full * 4})["responsable"] == {"name"}
    assert kinds({"titulaire_x": full * 4})["titulaire_x"] == {"name"}
    surnames = ["Dupont", "Lefèvre", "Garnier", "Kowalski", "Nguyen", "Martin", "Moreau"]
    assert kinds({"nom": surnames * 3})["nom"] == {"name"}
    # Names no list holds: a column name that can only mean a person is then enough.
    rare = ["Mamadou Diallo", "Aïssatou N'Diaye", "Thanh Nguyen", "Kenza Benali",
            "Oumar Traoré", "Svetlana Ivanova", "Yusuf Demir", "Ngozi Okafor"]
    assert kinds({"nom_complet": rare * 3})["nom_complet"] == {"name"}
    assert kinds({"Prénom": ["Mamadou", "Aïssatou", "Thanh", "Kenza", "Yusuf"] * 4}) == {
        "Prénom": {"name"}}
    found = finding({"nom": full}, "nom", "name")
    assert found.examples[0] == "J*** D***"


# --- false alarms --------------------------------------------------------------------------

def test_code_columns_holding_years_or_insee_codes_are_not_identifiers() -> None:
    assert kinds({"code_annee": [1999, 2005, 2012, 2024] * 10})["code_annee"] == set()
    insee = ["45234", "2A004", "2B033", "97411", "06088"] * 10
    assert kinds({"code_insee": insee})["code_insee"] == set()
    assert kinds({"code_compte": ["0123456789", "0987654321"] * 10})["code_compte"] == set()


def test_postcodes_amounts_siret_are_not_phones_ibans_nirs(gen: Generator) -> None:
    assert kinds({"code_postal": ["75002", "45000", "13001", "06000"] * 10})["code_postal"] == set()
    amounts = ["1 234,56", "12345.67", "1234567,89", "99,90", "1 000 000,00"] * 10
    assert kinds({"montant": amounts})["montant"] == set()
    sirets = [gen.siret(spaced=i % 2 == 0) for i in range(50)]
    assert kinds({"siret": sirets})["siret"] == set()
    assert kinds({"siren": [s[:9] for s in sirets]})["siren"] == set()


def test_random_fifteen_digit_lot_numbers_are_not_nirs(gen: Generator) -> None:
    lots = [str(gen.rng.randint(10**14, 10**15 - 1)) for _ in range(2000)]
    assert kinds({"numero_lot": lots})["numero_lot"] == set()


def test_facility_names_communes_and_street_names_are_not_persons() -> None:
    facilities = ["Piscine Jean Bouin", "École élémentaire Jules Ferry", "Gymnase Pierre de "
                  "Coubertin", "Médiathèque Louise Michel", "Stade Marcel Picot"] * 4
    communes = ["Orléans", "Saint-Étienne", "Aix-en-Provence", "Les Ulis", "Sainte-Savine",
                "Nantes"] * 4
    streets = ["rue Victor Hugo", "avenue Jean Jaurès", "place du Martroi"] * 5
    found = kinds({"nom": facilities, "commune": communes, "nom_voie": streets})
    assert found == {"nom": set(), "commune": set(), "nom_voie": set()}


def test_facility_coordinates_are_not_home_positions() -> None:
    lat = [47.902912, 47.21841, 43.296532, 48.297301] * 5
    lon = [1.909321, -1.553621, 5.369812, 4.074421] * 5
    facilities = {"nom_equipement": ["Piscine du Lac", "Stade Nord", "Salle des fêtes",
                                     "Gymnase Sud"] * 5, "latitude": lat, "longitude": lon,
                  "geo_point_2d": [f"{a}, {b}" for a, b in zip(lat, lon, strict=True)]}
    assert not scan_samples(facilities, OPTIONS).findings
    # The same coordinates in a table of persons, or named as a home, are personal.
    persons = {"prenom": ["Marie", "Jean", "Sophie", "Luc"] * 5, "latitude": lat,
               "longitude": lon}
    assert {f.kind for f in scan_samples(persons, OPTIONS).findings} == {"name", "position"}
    assert kinds({"coord_domicile": [f"{a}, {b}" for a, b in zip(lat, lon, strict=True)]}) == {
        "coord_domicile": {"position"}}
    # Two decimals (about a kilometre) are not a precise position.
    coarse = {"prenom": ["Marie", "Jean"] * 10, "latitude": [47.90, 43.29] * 10}
    assert kinds(coarse)["latitude"] == set()


def test_unnamed_neighbouring_coordinate_columns(gen: Generator) -> None:
    homes = [gen.home() for _ in range(30)]
    persons = {"c1": [gen.full_name() for _ in range(30)], "c2": [h[0] for h in homes],
               "c3": [h[1] for h in homes]}
    assert kinds(persons) == {"c1": {"name"}, "c2": {"position"}, "c3": {"position"}}
    places = {"c1": ["Piscine", "Stade", "Mairie"] * 10, "c2": [h[0] for h in homes],
              "c3": [h[1] for h in homes]}
    assert kinds(places) == {"c1": set(), "c2": set(), "c3": set()}


def test_free_text_with_contact_details() -> None:
    comments = ["Rappeler Mme Durand au 06 12 34 56 78 après 18 h, merci.",
                "Réponse envoyée à jean.dupont@exemple.fr le 12 mars, en attente de retour.",
                "Rien à signaler sur ce dossier, instruction terminée par le service.",
                "Rappeler au 07 98 76 54 32 pour fixer un rendez-vous sur place."] * 5
    assert kinds({"observations": comments})["observations"] == {"phone", "email", "name"}
    found = finding({"observations": comments}, "observations", "name")
    assert found.count == 5 and found.examples == ("M*** D***",)
    plain = [c for c in comments if "Mme" not in c]
    assert kinds({"observations": plain})["observations"] == {"phone", "email"}


# --- the scan itself -----------------------------------------------------------------------

def test_findings_have_a_stable_key_and_shares_of_rows(gen: Generator) -> None:
    rows = [[gen.nir() if i % 2 else "", "x"] for i in range(100)]
    first = scan_rows(["nir", "autre"], rows, OPTIONS)
    again = scan_rows(["nir", "autre"], rows, OPTIONS)
    assert [f.key for f in first.findings] == [f.key for f in again.findings] == [("nir", "nir")]
    f = first.findings[0]
    assert f.count == 50 and f.share == 0.5 and f.sampled == 100
    assert set(f.to_dict()) >= {"column", "kind", "share", "count", "examples"}


def test_sampling_bounds_the_rows_looked_at(gen: Generator) -> None:
    rows = [[gen.phone()] for _ in range(5000)]
    result = scan_rows(["tel"], rows, ScanOptions(sample_rows=500))
    assert result.sampled_rows == 500 and result.total_rows == 5000
    streamed = scan_rows(["tel"], iter(rows), ScanOptions(sample_rows=500))
    assert streamed.sampled_rows == 500 and streamed.total_rows == 5000
    assert streamed.findings[0].kind == "phone"


def test_empty_and_odd_values_do_not_break_the_scan() -> None:
    rows = [[None, float("nan"), "", True], [" ", 3.5, "\n", False]]
    result = scan_rows(["a", "b", "c", "d"], rows, OPTIONS)
    assert result.findings == ()
    with pytest.raises(ValueError):
        ScanOptions(sample_rows=0)
