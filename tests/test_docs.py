"""The docs keep up with the code: every CLI command, option and setting is documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from truyxuat.cli import app
from truyxuat.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf command of the Typer app, sub-apps included, with its path of names."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        yield path, command
        return
    for name, sub in subcommands.items():
        yield from _commands(sub, (*path, name))


def _section(text: str, heading: str) -> str | None:
    """The text under a `## heading` line, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1) if match else None


def test_the_walk_finds_the_known_commands() -> None:
    paths = {" ".join(p) for p, _ in _commands(typer.main.get_command(app))}
    assert {"db upgrade", "demo load", "serve", "apikey create"} <= paths


def test_every_cli_command_has_a_section_in_cli_md() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    missing = [
        " ".join(path)
        for path, _ in _commands(typer.main.get_command(app))
        if _section(text, f"`truyxuat {' '.join(path)}`") is None
    ]
    assert not missing, f"document these in docs/cli.md: {missing}"


def test_every_cli_option_and_argument_is_described_in_its_command_section() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    missing = []
    for path, command in _commands(typer.main.get_command(app)):
        name = f"truyxuat {' '.join(path)}"
        section = _section(text, f"`{name}`") or ""
        for param in command.params:
            if param.param_type_name == "argument":
                words = [param.name.upper()]
            else:
                words = [o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")]
            missing += [f"{name} {w}" for w in words if w not in section]
    assert not missing, f"document these in docs/cli.md: {missing}"


def test_every_setting_is_documented_as_its_environment_variable() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [
        f"TRUYXUAT_{name.upper()}"
        for name in Settings.model_fields
        if f"`TRUYXUAT_{name.upper()}`" not in text
    ]
    assert not missing, f"document these in docs/configuration.md: {missing}"


def test_configuration_md_names_no_setting_that_does_not_exist() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`TRUYXUAT_([A-Z0-9_]+)`", text))
    test_only = {n for n in documented if n.startswith("TEST_")} | {"SHARED_DATA"}
    fields = {name.upper() for name in Settings.model_fields}
    assert documented - test_only - fields == set()
