"""``replay ui``'s refusals, before anything listens or is written."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from replay._cli import main


def test_binding_beyond_loopback_without_a_token_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    result = CliRunner().invoke(main, ["ui", "--db", str(db), "--host", "0.0.0.0"],
                                env={"REPLAY_UI_TOKEN": ""})
    assert result.exit_code == 1
    assert "[RPL-UI01] refusing to serve the UI on '0.0.0.0' without a token" in result.output
    assert "Traceback" not in result.output
    assert not db.exists()


def test_a_missing_store_file_is_an_error_not_a_new_store(tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    result = CliRunner().invoke(main, ["ui", "--db", str(db)])
    assert result.exit_code == 1
    assert "no database at" in result.output
    assert not db.exists()
