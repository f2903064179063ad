"""Column meanings on real-looking French values."""

from patrimoine.core.meanings import detect
from patrimoine.protection.scanner import ScanOptions, scan_samples

# SIRET of real establishments (Luhn keys right), La Poste's included (sum of digits rule).
SIRETS = ["73282932000074", "35600000000048", "44306184100047", "55210055400013",
          "21750001600019", "21690123100011"]


def meaning(name, values):
    found = detect(name, values)
    return found.key if found else None


def test_siret_recognised_by_its_key_even_without_a_name_hint():
    assert meaning("identifiant", SIRETS) == "siret"
    assert meaning("siret", ["732 829 320 00074", "356 000 000 00048"]) == "siret"


def test_fourteen_digits_with_wrong_keys_are_not_a_siret():
    wrong = [s[:-1] + str((int(s[-1]) + 1) % 10) for s in SIRETS]
    # Not a SIRET: named as an identifier, they are a code (text); named otherwise, nothing.
    assert meaning("identifiant", wrong) == "identifiant"
    assert meaning("siret", wrong) is None


def test_siren():
    assert meaning("siren_beneficiaire", ["732829320", "552100554", "217500016"]) == "siren"


def test_insee_codes_with_corsica():
    assert meaning("code_insee", ["2A004", "2B033", "75056", "01053"]) == "code_commune_insee"
    assert meaning("codeCommune", ["2A004", "13055"]) == "code_commune_insee"
    # Without a hint, five digits may be anything (a count, a postal code).
    assert meaning("valeur", ["12345", "75056"]) is None


def test_postal_codes_keep_their_leading_zero():
    assert meaning("code_postal", ["01000", "06100", "75001", "97400"]) == "code_postal"
    assert meaning("CP", ["01000", "6100"]) is None  # "6100" lost its zero: not a postal code


def test_departements_and_regions():
    assert meaning("dep", ["01", "2A", "2B", "75", "971"]) == "code_departement"
    assert meaning("dep", ["01", "20"]) is None  # 20 is no longer a département
    assert meaning("code_region", ["11", "84", "93", "94"]) == "code_region"


def test_emails_phones_urls():
    assert meaning("contact", ["mairie@ville-lyon.fr", "jean.dupont@orange.fr"]) == "email"
    assert meaning("tel", ["01 23 45 67 89", "+33 6 12 34 56 78", "04.72.10.30.30"]) \
        == "telephone"
    assert meaning("site", ["https://www.lyon.fr", "www.paris.fr/pages/x"]) == "url"


def test_french_dates():
    assert meaning("date_deliberation", ["12/03/2024", "2024-01-05", "1er janvier 2023"]) == "date"
    assert meaning("jour", ["31/02/2024", "12/03/2024"]) is None  # no 31 February


def test_booleans_and_amounts():
    assert meaning("accessible", ["oui", "non", "Oui"]) == "booleen"
    assert meaning("pmr", ["O", "N"]) == "booleen"
    assert meaning("montant", ["1 234,50", "12", "-", "82 584,28 €"]) == "montant"
    assert meaning("nombre", ["1 234,50", "12"]) is None  # amounts need a name saying so


def test_coordinates_need_a_name_and_a_range():
    assert meaning("latitude", ["45.764043", "48,8566"]) == "latitude"
    assert meaning("lon", ["4.835659", "2.3522"]) == "longitude"
    assert meaning("latitude", ["6279070.6", "6280000.1"]) is None  # Lambert-93, not degrees


def test_share_threshold_and_confidence():
    mostly = ["mairie@ville.fr"] * 1 + [f"agent{i}@ville.fr" for i in range(18)] + ["inconnu"]
    found = detect("courriel", mostly)
    assert found is not None and found.key == "email" and found.confidence == 0.95
    assert detect("courriel", ["a@b.fr", "x", "y"]) is None
    assert detect("vide", ["", "  ", "-"]) is None


def test_a_single_siret_repeated_is_a_siret_but_a_lone_siren_is_not_enough():
    found = detect("idAttribuant", ["21060004500392"] * 10)
    assert found is not None and found.key == "siret" and found.confidence < 0.9
    lone = detect("numero", ["732829320"])
    assert lone is not None and lone.key == "identifiant"  # a number, not taken for a SIREN


def test_the_personal_data_scanner_agrees_on_emails_and_phones():
    samples = {"contact": ["jean.dupont@orange.fr", "marie.curie@free.fr", "l.martin@sfr.fr"],
               "portable": ["06 12 34 56 78", "+33 7 98 76 54 32", "06.11.22.33.44"]}
    found = scan_samples(samples, ScanOptions()).kinds_by_column()
    assert meaning("contact", samples["contact"]) == "email" and "email" in found["contact"]
    assert meaning("portable", samples["portable"]) == "telephone"
    assert "phone" in found["portable"]


def test_a_column_named_as_an_identifier_holding_codes_of_one_width_is_an_identifier() -> None:
    # Etalab's SCDL example: 14 digits whose Luhn key is wrong for one of them.
    found = detect("idBeneficiaire", ["81223113200026", "67895644300011"])
    assert found is not None and found.key == "identifiant"
    assert detect("idBeneficiaire", ["12", "4500", "7"]) is None  # widths differ: quantities
    assert detect("effectif", ["81223", "67895"]) is None  # no identifier in the name
