from patrimoine.core.text import fold, key, slugify


def test_fold_strips_accents_case_and_ligatures() -> None:
    assert fold("Œuvre d'ÉLÈVE") == "oeuvre d'eleve"
    assert key("  Nom du tableau   de suivi ") == "nom du tableau de suivi"
    assert key("Interne/Externe") == "interne externe"


def test_slugify() -> None:
    assert slugify("Développement durable - Climat - Énergie") \
        == "developpement-durable-climat-energie"
    assert slugify("!!!") == "sans-titre"
