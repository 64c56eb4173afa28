"""The progress view lists exactly the environments that run, as they report."""

from rich.console import Console

from terrane.engine.cli.progress import ProgressView
from terrane.engine.operations.driver import Progress


def _rows(view: ProgressView) -> str:
    console = Console(width=200, record=True)
    console.print(view.table())
    return console.export_text()


def test_rows_appear_only_for_environments_that_report() -> None:
    view = ProgressView("drift")
    assert "aws-dev" not in _rows(view)
    view(Progress("gcp-dev", "start", op="refresh", urn="urn:pulumi:gcp-dev::terrane::gcp:compute/network:Network::net",
                  resource_type="gcp:compute/network:Network"))
    view(Progress("gcp-dev", "finished", message="succeeded"))
    rows = _rows(view)
    assert "gcp-dev" in rows and "succeeded" in rows
    assert "aws-dev" not in rows and "azure-dev" not in rows
