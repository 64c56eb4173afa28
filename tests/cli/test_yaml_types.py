"""What YAML reads loosely, terrane takes strictly: booleans are booleans and integers are integers, and a value
that YAML turned into a number or a boolean on the way is refused with a hint to quote it, as the file wrote it.
An unknown key is named with the key it was likely meant to be. Each is one line, exit 3, and nothing runs."""

from __future__ import annotations

import pytest

from tests.helpers.project import SampleProject

ENV = "environments/aws-dev.yaml"
A_SECRET_NUMBER = "918273645546372819"


def _replace(sample: SampleProject, path: str, old: str, new: str) -> None:
    file = sample.root / path
    text = file.read_text()
    assert text.count(old) == 1, old
    file.write_text(text.replace(old, new))


def _refused(sample: SampleProject, cli, *verb: str) -> str:
    result = cli("--project", sample.root, *(verb or ("plan",)), "aws-dev")
    assert result.code == 3, result
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert not (sample.root / ".terrane" / "state").exists()
    return line


LOOSE_ENVIRONMENTS = {
    "yes for zones": ("zones: 3", "zones: yes", ("network.zones: must be a whole number, not true or false "
                                                "(YAML read yes as true)")),
    "zones in quotes": ("zones: 3", 'zones: "3"', "network.zones: must be a whole number, without quotes"),
    "zones as a float": ("zones: 3", "zones: 3.0", "network.zones: must be a whole number"),
    "protect in quotes": ("protect: false", 'protect: "yes"', "protect: must be true or false, without quotes"),
    "protect as 1": ("protect: false", "protect: 1", "protect: must be true or false, not a number"),
    "flow logs in quotes": ("flow_logs: true", "flow_logs: 'true'", ("network.flow_logs: must be true or false, "
                                                                    "without quotes")),
    "pool size in quotes": ("min: 2", 'min: "2"', "cluster.node_pools[0].min: must be a whole number, without quotes"),
    "recovery days empty": ("recovery_days: 7", "recovery_days:", ("secrets.recovery_days: is empty: give it a value, "
                                                                  "or remove it")),
    "version as a float": ('kubernetes_version: "1.31"', "kubernetes_version: 1.30",
                           ("cluster.kubernetes_version: must be text, but YAML read 1.30 as the number 1.3: write it "
                           "in quotes: '1.30'")),
    "yes for a tag": ("team: platform", "team: yes", ("tags.team: must be text, but YAML read yes as true: write it "
                                                     "in quotes: 'yes'")),
    "octal tag": ('cost-center: "1234"', "cost-center: 0123", ("tags.cost-center: must be text, but YAML read 0123 as "
                                                              "the number 83: write it in quotes: '0123'")),
    "on for an endpoint": ("endpoint: private", "endpoint: on", ("cluster.endpoint: must be 'private' or 'public' "
                                                                "(YAML read on as true)")),
    "a typo of network": ("network:\n", "netwrok:\n", "netwrok: unknown field; did you mean network?"),
    "a typo in the cluster": ("node_pools:", "nodepools:", ("cluster.nodepools: unknown field; did you mean "
                                                           "node_pools?")),
    "a typo in a pool": ("      min: 2", "      mins: 2", ("cluster.node_pools[0].mins: unknown field; did you mean "
                                                         "min?")),
}


@pytest.mark.parametrize("case", LOOSE_ENVIRONMENTS, ids=list(LOOSE_ENVIRONMENTS))
def test_an_environment_is_read_strictly(sample: SampleProject, cli, case: str) -> None:
    old, new, expected = LOOSE_ENVIRONMENTS[case]
    _replace(sample, ENV, old, new)
    assert _refused(sample, cli, "envs", "validate") == f"error: {ENV}: {expected}"


def test_a_typo_of_network_is_one_line_with_no_other_problem_of_the_file(sample: SampleProject, cli) -> None:
    """The misspelt section is its only problem: the rules that need a network wait until it is named right."""
    _replace(sample, ENV, "network:\n", "netwrok:\n")
    assert _refused(sample, cli) == f"error: {ENV}: netwrok: unknown field; did you mean network?"


def test_a_strict_value_written_right_plans(sample: SampleProject, cli) -> None:
    _replace(sample, ENV, "zones: 3", "zones: 2")
    _replace(sample, ENV, "protect: false", "protect: no")  # YAML's boolean, unquoted: a boolean
    assert cli("--project", sample.root, "envs", "validate", "aws-dev").code == 0


LOOSE_ACCOUNTS = {
    "an account id with leading zeros": (
        ('account_id: "123456789012"\n    region: us-east-1\n    auth:\n      assume_role:\n        role_arn: '
        'arn:aws:iam::123456789012:role/terrane-provisioner'),
        ("account_id: 001234567012\n    region: us-east-1\n    auth:\n      assume_role:\n        role_arn: "
        "arn:aws:iam::123456789012:role/terrane-provisioner"),
        ("accounts.aws-sandbox.account_id: must be text, but YAML read 001234567012 as the number 175304202: write "
        "it in quotes: '001234567012'"),
    ),
    "a typo of accounts": ("accounts:\n", "acounts:\n", "acounts: unknown field; did you mean accounts?"),
    "a typo in an account": ("    location: westeurope", "    locaton: westeurope",
                             "accounts.azure-sandbox.locaton: unknown field; did you mean location?"),
}


@pytest.mark.parametrize("case", LOOSE_ACCOUNTS, ids=list(LOOSE_ACCOUNTS))
def test_accounts_yaml_is_read_strictly(sample: SampleProject, cli, case: str) -> None:
    old, new, expected = LOOSE_ACCOUNTS[case]
    _replace(sample, "accounts.yaml", old, new)
    line = _refused(sample, cli, "envs", "validate")
    assert line.startswith(f"error: accounts.yaml: {expected}")


def test_a_number_where_a_secret_may_be_is_never_shown(sample: SampleProject, cli) -> None:
    _replace(sample, "accounts.yaml", "external_id: {env: TERRANE_AWS_EXTERNAL_ID}\n        session_name",
             f"external_id: {A_SECRET_NUMBER}\n        session_name")
    line = _refused(sample, cli)
    assert line == ("error: accounts.yaml: accounts.aws-sandbox.auth.assume_role.external_id: YAML read it as a number "
                    "or true/false: write the value in quotes, or give a reference; the value was not shown")
    assert A_SECRET_NUMBER not in line
