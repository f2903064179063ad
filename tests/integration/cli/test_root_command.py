"""The root `patrimoine` command: every command listed, each module imported only when used;
the installed command itself (entry point, exit codes, no stdin)."""

from __future__ import annotations

import subprocess
import sys

from patrimoine.cli.main import COMMANDS
from tests.conftest import Cli


def test_help_lists_every_command(cli: Cli) -> None:
    shown = cli("--help")
    assert shown.returncode == 0, shown.stderr
    for name, _target in COMMANDS:
        assert name in shown.stdout


def test_the_installed_command_exits_with_its_codes(installed_cli: Cli) -> None:
    """Through the entry point of the installed script, stdin closed: help (0), a bad command
    line (2), a domain error (3), each in French and without a trace."""
    shown = installed_cli("--help")
    assert shown.returncode == 0, shown.stderr
    assert "Commandes" in shown.stdout and "datastore" in shown.stdout
    typo = installed_cli("datastore", "lod")
    assert typo.returncode == 2
    assert "Commande inconnue : « lod ». Vouliez-vous dire 'load' ?" in typo.stderr
    assert "Aide : patrimoine datastore --help" in typo.stderr
    missing = installed_cli("datastore", "versions", "absent")
    assert missing.returncode == 3, missing.stderr
    assert missing.stderr.startswith("Erreur :")
    for done in (typo, missing):
        assert "Traceback" not in done.stderr


def test_a_command_imports_only_its_own_module() -> None:
    code = ("import sys; from patrimoine.cli import main; sys.argv = ['patrimoine', 'datastore', "
            "'--help']\ntry:\n    main.main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('patrimoine.cli.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    loaded = done.stdout.strip().splitlines()[-1]
    assert "'patrimoine.cli.datastore'" in loaded
    for other in ("protection", "retention", "inventory", "demo", "reversibility"):
        assert f"'patrimoine.cli.{other}'" not in loaded


def test_a_mistyped_command_gets_a_french_suggestion(cli: Cli) -> None:
    typo = cli("datastore", "lod")
    assert typo.returncode == 2
    assert "Commande inconnue : « lod ». Vouliez-vous dire 'load' ?" in typo.stderr
    assert "Traceback" not in typo.stderr


def test_help_pages_speak_french(cli: Cli) -> None:
    for args in (("--help",), ("datastore", "load", "--help"), ("inventory", "--help")):
        shown = cli(*args)
        assert shown.returncode == 0, shown.stderr
        text = shown.stdout
        assert "Afficher cette aide et quitter." in text
        for english in ("Show this message", "Install completion", "Commands", "[required]"):
            assert english not in text, (args, english)
    assert "Commandes" in cli("--help").stdout
    assert "[obligatoire]" in cli("datastore", "load", "--help").stdout
