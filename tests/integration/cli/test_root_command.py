"""The root `patrimoine` command: every command listed, each module imported only when used."""

from __future__ import annotations

import subprocess
import sys

from patrimoine.cli.main import COMMANDS


def test_help_lists_every_command(cli) -> None:  # type: ignore[no-untyped-def]
    shown = cli("--help")
    assert shown.returncode == 0, shown.stderr
    for name, _target in COMMANDS:
        assert name in shown.stdout


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


def test_a_mistyped_command_gets_a_french_suggestion(cli) -> None:  # type: ignore[no-untyped-def]
    typo = cli("datastore", "lod")
    assert typo.returncode == 2
    assert "Commande inconnue : « lod ». Vouliez-vous dire 'load' ?" in typo.stderr
    assert "Traceback" not in typo.stderr


def test_help_pages_speak_french(cli) -> None:  # type: ignore[no-untyped-def]
    for args in (("--help",), ("datastore", "load", "--help"), ("inventory", "--help")):
        shown = cli(*args)
        assert shown.returncode == 0, shown.stderr
        text = shown.stdout
        assert "Afficher cette aide et quitter." in text
        for english in ("Show this message", "Install completion", "Commands", "[required]"):
            assert english not in text, (args, english)
    assert "Commandes" in cli("--help").stdout
    assert "[obligatoire]" in cli("datastore", "load", "--help").stdout
