"""Every subcommand explains itself: `--help` opens with what it does and what it changes,
and every option says what it is, its format and its default. The parsers are walked, so
a subcommand or option added later without help fails here."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from consumers.cli.main import build_parser
from tests.cli_process import run_cli

pytestmark = pytest.mark.integration

# What a command changes: "changes nothing", "a permanent change", "appends", "writes".
CHANGES = re.compile(r"\b(chang|append|writ)", re.IGNORECASE)


def subcommands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """(the words after `sla-ledger`, the parser, its one-line summary), depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                yield (*path, name), child, summaries.get(name)
                yield from subcommands(child, (*path, name))


def leaves() -> list[tuple[str, ...]]:
    return [path for path, parser, _ in subcommands(build_parser()) if not has_children(parser)]


def has_children(parser: argparse.ArgumentParser) -> bool:
    return any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)


def first_sentence(text: str) -> str:
    words = " ".join(text.split())
    return re.split(r"(?<=\.)\s", words, maxsplit=1)[0]


def options(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            yield action


def test_the_walk_reaches_every_subcommand() -> None:
    assert {" ".join(path) for path in leaves()} >= {
        "ingest",
        "publish",
        "close",
        "report",
        "credits",
        "rejections",
        "incidents",
        "explain",
        "diff",
        "audit verify",
        "audit rebuild",
        "audit export",
        "audit check",
        "demo",
    }


def test_every_subcommand_has_a_summary_and_says_what_it_changes() -> None:
    for path, parser, summary in subcommands(build_parser()):
        name = " ".join(path)
        assert summary, f"{name}: no one-line summary for the listing"
        assert summary.strip(), f"{name}: empty summary"
        assert parser.description, f"{name}: no description"
        # The opening sentence says what the command does and what it changes.
        assert CHANGES.search(first_sentence(parser.description)), (name, parser.description)


def test_every_option_has_help_with_its_default() -> None:
    for path, parser, _ in subcommands(build_parser()):
        for action in options(parser):
            name = f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}"
            assert action.help, f"{name}: no help"
            assert action.help != argparse.SUPPRESS, f"{name}: help suppressed"
            assert action.help.strip(), f"{name}: empty help"
            takes_a_value = action.nargs != 0 and not isinstance(action, argparse._AppendAction)
            if action.option_strings and takes_a_value and action.default is not None:
                assert "%(default)s" in action.help, f"{name}: default not shown"


def test_moments_and_stores_name_their_formats() -> None:
    for path, parser, _ in subcommands(build_parser()):
        for action in options(parser):
            assert action.help is not None
            if action.dest in ("as_of", "t1"):
                assert "YYYY-MM-DD" in action.help, path
                assert "RFC 3339" in action.help, path
            if action.dest == "store":
                for form in ("sqlite:///rel/", "sqlite:////abs/", "postgresql://"):
                    assert form in action.help, (path, form)
            if action.dest == "store" and path != ("demo",):
                assert "$SLA_LEDGER_STORE" in action.help, path
                assert "sqlite:///sla-ledger.db" in action.help, path
    demo = {p: parser for p, parser, _ in subcommands(build_parser())}[("demo",)]
    assert demo.description is not None
    assert "D/ledger.db" in demo.description


@pytest.mark.parametrize("path", leaves(), ids=" ".join)
def test_help_of_each_subcommand_exits_0_and_opens_with_its_description(
    path: tuple[str, ...],
) -> None:
    parser = {p: parser for p, parser, _ in subcommands(build_parser())}[path]
    result = run_cli(*path, "--help", env={"COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    # usage, then the description: its first sentence opens the text.
    paragraphs = result.stdout.split("\n\n")
    assert paragraphs[0].startswith(f"usage: sla-ledger {' '.join(path)}")
    assert parser.description is not None
    assert " ".join(paragraphs[1].split()).startswith(first_sentence(parser.description))


def test_top_level_help_lists_every_subcommand_with_its_summary() -> None:
    result = run_cli("--help", env={"COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for path, _, summary in subcommands(build_parser()):
        if len(path) == 1:
            assert summary is not None
            assert f"{path[0]} {' '.join(summary.split())}" in text, path
