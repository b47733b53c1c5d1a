"""`truyxuat epcis hash FILE` prints the published hashes, one per event, in document order."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.epcis.test_hashing import EXAMPLES
from truyxuat.epcis.cli import epcis_app

runner = CliRunner()


def _lines(path: Path) -> list[str]:
    """The non-empty lines of a file."""
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line]


def test_hash_prints_one_hash_per_event_in_document_order() -> None:
    """The output is exactly the .hashes file of the example."""
    result = runner.invoke(epcis_app, ["hash", str(EXAMPLES / "SensorDataExamples.xml")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == _lines(EXAMPLES / "SensorDataExamples.hashes")


def test_hash_reads_json_ld_query_documents() -> None:
    """A JSON-LD EPCISQueryDocument is hashed like a capture document."""
    result = runner.invoke(epcis_app, ["hash", str(EXAMPLES / "epcisQueryDocument.jsonld")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == _lines(EXAMPLES / "epcisQueryDocument.hashes")


def test_hash_prehash_prints_the_canonical_prehash_strings() -> None:
    """--prehash prints the strings that are hashed."""
    path = EXAMPLES / "persistentDisposition.xml"
    result = runner.invoke(epcis_app, ["hash", "--prehash", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == _lines(EXAMPLES / "persistentDisposition.prehashes")


def test_hash_refuses_a_file_of_unknown_format(tmp_path: Path) -> None:
    """The format comes from the extension: .jsonld, .json or .xml."""
    path = tmp_path / "events.txt"
    path.write_text("{}")
    result = runner.invoke(epcis_app, ["hash", str(path)])
    assert result.exit_code != 0


def test_hash_reports_a_broken_document(tmp_path: Path) -> None:
    """A document that is not EPCIS fails with a message naming the file."""
    path = tmp_path / "broken.json"
    path.write_text('{"type": "EPCISDocument"}')
    result = runner.invoke(epcis_app, ["hash", str(path)])
    assert result.exit_code == 1
    assert "broken.json" in result.output
