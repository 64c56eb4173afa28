"""The progress view lists exactly the environments that run, as they report."""

from rich.console import Console

from terrane.engine.cli.progress import ProgressView, changes, summary
from terrane.engine.operations.driver import OperationResult, Progress
from terrane.engine.operations.protocol import PlannedStep


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


def _text(renderable: object) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


VPC = "urn:pulumi:aws-dev::terrane::terrane:aws:Network$aws:ec2/vpc:Vpc::aws-dev-vpc"


def test_a_preview_says_what_would_change_and_nothing_of_what_would_not(capsys) -> None:
    view = ProgressView("preview")
    view(Progress("aws-dev", "done", op="same", urn=VPC, resource_type="aws:ec2/vpc:Vpc"))
    view(Progress("aws-dev", "done", op="update", urn=VPC.replace("vpc:Vpc::aws-dev-vpc", "subnet:Subnet::s0"),
                  resource_type="aws:ec2/subnet:Subnet"))
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["aws-dev: would update aws:ec2/subnet:Subnet s0 (2/2 planned, 0m00s)"]


def test_changes_list_each_resource_with_its_changed_paths() -> None:
    planned = (
        PlannedStep(VPC, "aws:ec2/vpc:Vpc", "update", ("tags.team", "enableDnsSupport")),
        PlannedStep(VPC.replace("aws-dev-vpc", "aws-dev-vpc2"), "aws:ec2/vpc:Vpc", "replace", ("cidrBlock",)),
        PlannedStep(VPC.replace("aws-dev-vpc", "old"), "aws:ec2/vpc:Vpc", "delete"),
    )
    results = [OperationResult("aws-dev", "preview", "succeeded", changes={"update": 1, "replace": 1, "delete": 1},
                               planned=planned),
               OperationResult("gcp-dev", "preview", "succeeded", changes={"same": 4}),
               OperationResult("azure-dev", "preview", "failed", error="boom")]
    text = _text(changes(results))
    assert text.splitlines() == [
        "aws-dev: 1 to update, 1 to replace, 1 to delete",
        "  ~  update   aws:ec2/vpc:Vpc aws-dev-vpc  (tags.team, enableDnsSupport)",
        "  +- replace  aws:ec2/vpc:Vpc aws-dev-vpc2  (cidrBlock)",
        "  -  delete   aws:ec2/vpc:Vpc old",
        "gcp-dev: no changes",
    ]
    table = _text(summary(results))
    assert "TO UPDATE" in table and "CREATED" not in table
    assert all(line == line.rstrip() for line in table.splitlines())  # no row padded to the widest


def test_an_import_the_engine_would_replace_says_so_and_imports_get_a_column() -> None:
    planned = (
        PlannedStep(VPC, "aws:ec2/vpc:Vpc", "import", ("tags.team",)),
        PlannedStep(VPC.replace("aws-dev-vpc", "aws-dev-vpc2"), "aws:ec2/vpc:Vpc", "import", ("cidrBlock",),
                    ("cidrBlock",)),
    )
    previewed = [OperationResult("aws-dev", "preview", "succeeded", changes={"import": 2, "update": 1},
                                 planned=planned)]
    assert _text(changes(previewed)).splitlines() == [
        "aws-dev: 2 to import",
        "  =  import   aws:ec2/vpc:Vpc aws-dev-vpc  (tags.team)",
        "  =  import   aws:ec2/vpc:Vpc aws-dev-vpc2  (cidrBlock)  then replace, forced by cidrBlock",
    ]
    header, row = _text(summary(previewed)).splitlines()[:2]
    assert header.split() == ["ENVIRONMENT", "RESULT", "TO", "CREATE", "TO", "IMPORT", "TO", "UPDATE", "TO", "DELETE",
                              "UNCHANGED", "DURATION"]
    assert row.split()[2:6] == ["0", "2", "1", "0"]
    done = [OperationResult("gcp-dev", "up", "succeeded", changes={"create": 3})]
    assert "IMPORTED" not in _text(summary(done))
