"""``engine.clouds.kubernetes`` (``kubeconfig``, ``client``): flattening a kubeconfig to one context, and the client, against a real API server."""

from __future__ import annotations

import base64
import json
import ssl
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from terrane.engine.clouds.kubernetes.client import ApiError, Client
from terrane.engine.clouds.kubernetes.kubeconfig import flatten, kubeconfig_of, server_of
from terrane.engine.errors import EngineError, InvalidInputError
from terrane.stacks.spec.accounts import KubernetesAccount
from tests.helpers.kubeconfigs import closed_port, kubeconfig_text, service_account_token
from tests.helpers.real_kubernetes import ApiServer

ORIGIN = "accounts.yaml: accounts.onprem.kubeconfig (file:~/.kube/onprem.yaml)"
TOKEN = "sentinel-token-5d1c9a"
KEY = "sentinel-client-key-8e2f\n"  # stands for a client key: only ever copied, never parsed
WHO_AM_I = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
REVIEW = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


def _two_contexts(**user: Any) -> dict[str, Any]:
    """A kubeconfig as people have them: two clusters and users, files named by relative paths."""
    return {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [
            {"name": "lab", "cluster": {"server": "https://lab.example:6443", "certificate-authority": "certs/lab-ca.crt"}},
            {"name": "prod", "cluster": {"server": "https://prod.example:6443", "certificate-authority": "prod-ca.crt",
                                         "tls-server-name": "kubernetes"}},
        ],
        "users": [
            {"name": "lab-admin", "user": {"token": TOKEN}},
            {"name": "prod-admin", "user": user or {"client-certificate": "certs/prod.crt", "client-key": "certs/prod.key"}},
        ],
        "contexts": [
            {"name": "lab", "context": {"cluster": "lab", "user": "lab-admin"}},
            {"name": "prod", "context": {"cluster": "prod", "user": "prod-admin", "namespace": "apps"}},
        ],
        "current-context": "lab",
        "preferences": {},
    }


@pytest.fixture
def kube_dir(tmp_path: Path) -> Path:
    """A directory like ~/.kube: the files _two_contexts names, at the paths it names them by."""
    directory = tmp_path / "kube"
    (directory / "certs").mkdir(parents=True)
    (directory / "certs" / "lab-ca.crt").write_text("LAB CA\n")
    (directory / "prod-ca.crt").write_text("PROD CA\n")
    (directory / "certs" / "prod.crt").write_text("PROD CERT\n")
    (directory / "certs" / "prod.key").write_text(KEY)
    return directory


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _chain(error: BaseException | None) -> str:
    """Every exception ``error`` carries, as text: what a traceback (``-v``) would show."""
    text = ""
    while error is not None:
        text += repr(error) + str(getattr(error, "args", ""))
        error = error.__cause__ or error.__context__
    return text


def _flat(document: dict[str, Any], context: str | None, base_dir: Path | None) -> dict[str, Any]:
    return yaml.safe_load(flatten(yaml.safe_dump(document), context=context, base_dir=base_dir, origin=ORIGIN))


# --- flatten ----------------------------------------------------------------------------------------------------------


def test_the_named_context_alone_with_its_files_inlined(kube_dir: Path) -> None:
    assert _flat(_two_contexts(), "prod", kube_dir) == {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "prod", "cluster": {"server": "https://prod.example:6443", "tls-server-name": "kubernetes",
                                                  "certificate-authority-data": _b64("PROD CA\n")}}],
        "users": [{"name": "prod-admin", "user": {"client-certificate-data": _b64("PROD CERT\n"),
                                                  "client-key-data": _b64(KEY)}}],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "prod-admin", "namespace": "apps"}}],
        "current-context": "prod",
    }


def test_the_current_context_when_none_is_named(kube_dir: Path) -> None:
    flat = _flat(_two_contexts(), None, kube_dir)
    assert flat["current-context"] == "lab"
    assert flat["clusters"] == [{"name": "lab", "cluster": {"server": "https://lab.example:6443",
                                                            "certificate-authority-data": _b64("LAB CA\n")}}]
    assert flat["users"] == [{"name": "lab-admin", "user": {"token": TOKEN}}]
    assert server_of(flatten(yaml.safe_dump(_two_contexts()), context=None, base_dir=kube_dir, origin=ORIGIN)) == (
        "https://lab.example:6443")


def test_absolute_and_home_paths_need_no_base_dir(kube_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(kube_dir))
    user = {"client-certificate": str(kube_dir / "certs" / "prod.crt"), "client-key": "~/certs/prod.key"}
    document = _two_contexts(**user)
    document["clusters"][1]["cluster"]["certificate-authority"] = "~/prod-ca.crt"
    flat = _flat(document, "prod", None)
    assert flat["users"][0]["user"] == {"client-certificate-data": _b64("PROD CERT\n"), "client-key-data": _b64(KEY)}
    assert flat["clusters"][0]["cluster"]["certificate-authority-data"] == _b64("PROD CA\n")


def test_a_token_file_becomes_the_token(kube_dir: Path) -> None:
    (kube_dir / "token").write_text(TOKEN + "\n")
    assert _flat(_two_contexts(tokenFile="token"), "prod", kube_dir)["users"][0]["user"] == {"token": TOKEN}


def test_inline_content_wins_over_a_file_that_is_not_read(kube_dir: Path) -> None:
    user = {"client-certificate": "missing.crt", "client-certificate-data": _b64("INLINE"),
            "client-key-data": _b64(KEY), "token": TOKEN, "tokenFile": "missing-token"}
    assert _flat(_two_contexts(**user), "prod", kube_dir)["users"][0]["user"] == {
        "client-certificate-data": _b64("INLINE"), "client-key-data": _b64(KEY), "token": TOKEN}


def test_exec_and_auth_provider_are_kept(kube_dir: Path) -> None:
    plugin = {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws",
              "args": ["eks", "get-token", "--cluster-name", "prod"], "env": [{"name": "AWS_PROFILE", "value": "prod"}],
              "interactiveMode": "Never"}
    assert _flat(_two_contexts(exec=plugin), "prod", kube_dir)["users"][0]["user"] == {"exec": plugin}
    provider = {"name": "oidc", "config": {"idp-issuer-url": "https://issuer.example", "client-id": "kube"}}
    assert _flat(_two_contexts(**{"auth-provider": provider}), "prod", kube_dir)["users"][0]["user"] == {
        "auth-provider": provider}


def test_a_relative_exec_command_with_a_slash_is_the_kubeconfigs_as_kubectl_reads_it(kube_dir: Path) -> None:
    plugin = {"apiVersion": "client.authentication.k8s.io/v1", "command": "./bin/get-token"}
    user = _flat(_two_contexts(exec=plugin), "prod", kube_dir)["users"][0]["user"]
    assert user["exec"]["command"] == str(kube_dir / "bin" / "get-token")
    absolute = _two_contexts(exec=plugin)
    absolute["clusters"][1]["cluster"]["certificate-authority"] = str(kube_dir / "prod-ca.crt")
    assert _flat(absolute, "prod", None)["users"][0]["user"]["exec"] == plugin


def test_a_context_without_a_user_is_anonymous(kube_dir: Path) -> None:
    document = _two_contexts()
    del document["contexts"][0]["context"]["user"]
    flat = _flat(document, "lab", kube_dir)
    assert flat["users"] == []
    assert flat["contexts"] == [{"name": "lab", "context": {"cluster": "lab"}}]


def _without_current_context() -> dict[str, Any]:
    document = _two_contexts()
    del document["current-context"]
    return document


def _edited(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    document = _two_contexts()
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


ERRORS: dict[str, tuple[Any, str | None, str]] = {
    "not YAML": (f"users: [{{name: a, user: {{token: {TOKEN}}}\n  - ]", None,
                 "the kubeconfig is not YAML (line 2, column 3)"),
    "not a mapping": (f"- {TOKEN}\n", None, "the kubeconfig is not a kubeconfig: not a YAML mapping"),
    "no such context": (_two_contexts(), "staging", "no context 'staging' in the kubeconfig (it has: lab, prod)"),
    "no current-context": (_without_current_context(), None,
                           ("the kubeconfig has no current-context: name the context to use (context: in "
                            "accounts.yaml, --context when linking)")),
    "missing cluster": (_edited(("clusters", 0, "name"), "other"), "lab",
                        "context 'lab' names cluster 'lab', which the kubeconfig does not have"),
    "context without a cluster": (_edited(("contexts", 0, "context", "cluster"), None), "lab",
                                  "context 'lab' names no cluster"),
    "missing user": (_edited(("users", 0, "name"), "someone"), "lab",
                     "context 'lab' names user 'lab-admin', which the kubeconfig does not have"),
    "no server": (_edited(("clusters", 0, "cluster", "server"), None), "lab", "cluster 'lab' has no server"),
    "unreadable file": (_edited(("clusters", 0, "cluster", "certificate-authority"), "nowhere/ca.crt"), "lab",
                        "cluster 'lab': certificate-authority: cannot read {kube}/nowhere/ca.crt: No such file or directory"),
    "unreadable token file": (_two_contexts(tokenFile="missing-token"), "prod",
                              "user 'prod-admin': tokenFile: cannot read {kube}/missing-token: No such file or directory"),
    "a list that is not one": (_edited(("users",), {"lab-admin": {"token": TOKEN}}), "lab",
                               "the kubeconfig's users is not a list"),
    "an entry without a name": (_edited(("users", 0), {"user": {"token": TOKEN}}), "lab",
                                "the kubeconfig's users[0] is not a name with a user mapping"),
}


@pytest.mark.parametrize("case", ERRORS, ids=list(ERRORS))
def test_every_problem_is_one_line_that_names_the_origin_and_no_secret(case: str, kube_dir: Path) -> None:
    document, context, expected = ERRORS[case]
    text = document if isinstance(document, str) else yaml.safe_dump(document)
    with pytest.raises(InvalidInputError) as raised:
        flatten(text, context=context, base_dir=kube_dir, origin=ORIGIN)
    assert str(raised.value) == f"{ORIGIN}: {expected.format(kube=kube_dir)}"
    assert TOKEN not in _chain(raised.value)


def test_a_relative_path_without_a_file_to_be_relative_to(kube_dir: Path) -> None:
    with pytest.raises(InvalidInputError) as raised:
        flatten(yaml.safe_dump(_two_contexts()), context="prod", base_dir=None, origin=ORIGIN)
    assert str(raised.value) == (f"{ORIGIN}: cluster 'prod': certificate-authority: prod-ca.crt is a relative path, "
                                 "and the kubeconfig is not a file it could be relative to: make the path absolute")


def test_a_key_file_that_cannot_be_read_is_named_not_shown(kube_dir: Path) -> None:
    document = _two_contexts(**{"client-certificate": "certs/prod.crt", "client-key": "certs"})
    with pytest.raises(InvalidInputError) as raised:
        flatten(yaml.safe_dump(document), context="prod", base_dir=kube_dir, origin=ORIGIN)
    assert str(raised.value) == f"{ORIGIN}: user 'prod-admin': client-key: cannot read {kube_dir}/certs: it is a directory, not a regular file"


# --- kubeconfig_of ----------------------------------------------------------------------------------------------------


def test_kubeconfig_of_a_file_reference_reads_paths_relative_to_that_file(kube_dir: Path) -> None:
    (kube_dir / "config").write_text(yaml.safe_dump(_two_contexts()))
    account = KubernetesAccount.model_validate({"cloud": "kubernetes", "kubeconfig": {"file": str(kube_dir / "config")},
                                                "context": "prod"})
    secret = kubeconfig_of(account, "onprem")
    assert repr(secret) == str(secret) == "[secret]"
    flat = yaml.safe_load(secret.reveal())
    assert flat["current-context"] == "prod"
    assert flat["users"][0]["user"]["client-key-data"] == _b64(KEY)


def test_kubeconfig_of_an_environment_variable_needs_absolute_paths(kube_dir: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONPREM_KUBECONFIG", yaml.safe_dump(_two_contexts()))
    account = KubernetesAccount.model_validate({"cloud": "kubernetes", "kubeconfig": {"env": "ONPREM_KUBECONFIG"}})
    with pytest.raises(InvalidInputError) as raised:
        kubeconfig_of(account, "onprem")
    assert str(raised.value).startswith("accounts.yaml: accounts.onprem.kubeconfig (env:ONPREM_KUBECONFIG): "
                                        "cluster 'lab': certificate-authority: certs/lab-ca.crt is a relative path")


def test_kubeconfig_of_an_unresolvable_reference_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONPREM_KUBECONFIG", raising=False)
    account = KubernetesAccount.model_validate({"cloud": "kubernetes", "kubeconfig": {"env": "ONPREM_KUBECONFIG"}})
    with pytest.raises(InvalidInputError) as raised:
        kubeconfig_of(account, "onprem")
    assert str(raised.value) == ("accounts.yaml: accounts.onprem.kubeconfig (env:ONPREM_KUBECONFIG): secret reference "
                                 "env:ONPREM_KUBECONFIG: the environment variable ONPREM_KUBECONFIG is not set")


# --- the client, without a server -------------------------------------------------------------------------------------


def test_an_unreachable_server_is_one_line_naming_it() -> None:
    server = f"https://127.0.0.1:{closed_port()}"
    client = Client.from_kubeconfig(kubeconfig_text(server, {"token": TOKEN}), origin=ORIGIN)
    with pytest.raises(EngineError) as raised:
        client.get("/version")
    assert type(raised.value) is EngineError
    assert str(raised.value) == f"{ORIGIN}: cannot reach the Kubernetes API server {server}: connection refused"
    assert TOKEN not in _chain(raised.value)


@pytest.mark.parametrize(("user", "expected"), [
    ({"client-certificate-data": "not base64!"}, "user 'user': client-certificate-data is not base64"),
    ({"client-certificate-data": _b64("CERT")},
     "the user has a client certificate without its key, or a key without its certificate"),
    ({"client-certificate-data": _b64("CERT"), "client-key-data": _b64(KEY)},
     "the user's client certificate and key are not a PEM certificate and its private key"),
    ({"auth-provider": {"name": "oidc", "config": {"id-token": TOKEN}}},
     ("user 'user': terrane cannot sign in with an auth-provider (oidc); use an exec plugin (kubelogin, or the "
      "cloud's own), or link with --no-verify")),
    ({"exec": {"apiVersion": "client.authentication.k8s.io/v1alpha1", "command": "x"}},
     ("user 'user': exec: apiVersion client.authentication.k8s.io/v1alpha1 is not one terrane runs "
      "(client.authentication.k8s.io/v1, client.authentication.k8s.io/v1beta1)")),
    ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x", "interactiveMode": "Always"}},
     "user 'user': exec: the plugin needs a terminal (interactiveMode: Always), and terrane runs it without one"),
])
def test_credentials_that_cannot_be_used(user: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Client.from_kubeconfig(kubeconfig_text("https://127.0.0.1:1", user), origin=ORIGIN)
    assert str(raised.value) == f"{ORIGIN}: {expected}"
    assert TOKEN not in _chain(raised.value) and "sentinel-key" not in _chain(raised.value)


# --- the client, against a real API server ----------------------------------------------------------------------------


def _admin_kubeconfig(apiserver: ApiServer) -> str:
    return flatten(apiserver.kubeconfig.read_text(), context=None, base_dir=apiserver.kubeconfig.parent,
                   origin="test")


@pytest.mark.kubernetes
def test_a_client_certificate_from_a_private_directory_removed_once_loaded(
        apiserver: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, int] = {}
    load = ssl.SSLContext.load_cert_chain

    def recording(self: ssl.SSLContext, certfile: Any, keyfile: Any = None, password: Any = None) -> None:
        for path in (Path(certfile).parent, Path(certfile), Path(keyfile)):
            seen[str(path)] = stat.S_IMODE(path.stat().st_mode)
        load(self, certfile, keyfile, password)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", recording)
    client = Client.from_kubeconfig(_admin_kubeconfig(apiserver))
    review = client.post(WHO_AM_I, REVIEW)
    assert review["status"]["userInfo"]["username"] == "terrane-admin"
    assert "system:masters" in review["status"]["userInfo"]["groups"]
    assert sorted(seen.values()) == [0o600, 0o600, 0o700]
    directory = next(Path(path) for path, mode in seen.items() if mode == 0o700)
    assert directory.parent == Path(tempfile.gettempdir()) and not directory.exists()


@pytest.mark.kubernetes
def test_a_bearer_token_and_what_it_may_not_do(apiserver: ApiServer) -> None:
    token = service_account_token(apiserver, "kubeconfig-tests", "reader")
    client = Client.from_kubeconfig(kubeconfig_text(apiserver.server, {"token": token},
                                                    ca=apiserver.directory / "ca.crt"), origin=ORIGIN)
    review = client.post(WHO_AM_I, REVIEW)
    assert review["status"]["userInfo"]["username"] == "system:serviceaccount:kubeconfig-tests:reader"
    with pytest.raises(ApiError) as raised:
        client.get("/api/v1/namespaces")
    assert raised.value.status == 403
    assert str(raised.value) == (
        f"{ORIGIN}: the Kubernetes API server {apiserver.server} forbids GET /api/v1/namespaces to the kubeconfig's "
        'user (403 Forbidden): namespaces is forbidden: User "system:serviceaccount:kubeconfig-tests:reader" cannot '
        'list resource "namespaces" in API group "" at the cluster scope')
    assert token not in str(raised.value)


@pytest.mark.kubernetes
def test_a_token_the_server_does_not_accept(apiserver: ApiServer) -> None:
    client = Client.from_kubeconfig(kubeconfig_text(apiserver.server, {"token": TOKEN},
                                                    ca=apiserver.directory / "ca.crt"), origin=ORIGIN)
    with pytest.raises(ApiError) as raised:
        client.post(WHO_AM_I, REVIEW)
    assert raised.value.status == 401
    assert str(raised.value) == (
        f"{ORIGIN}: the Kubernetes API server {apiserver.server} refused the kubeconfig's credentials (401 "
        "Unauthorized): the token, client certificate or exec plugin's credential is not valid for this cluster")
    assert TOKEN not in _chain(raised.value)


@pytest.mark.kubernetes
def test_a_server_whose_certificate_is_not_trusted(apiserver: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    client = Client.from_kubeconfig(kubeconfig_text(apiserver.server, {"token": TOKEN}), origin=ORIGIN)
    with pytest.raises(EngineError, match=r"cannot reach the Kubernetes API server .*: its TLS certificate was not "
                                          r"accepted \(.*\): check the cluster's certificate-authority$"):
        client.get("/version")
    skipping = Client.from_kubeconfig(kubeconfig_text(apiserver.server, None,
                                                      cluster={"insecure-skip-tls-verify": True}))
    assert skipping.get("/version")["major"] == "1"


PLUGIN = """#!{python}
import json, os, sys
record = {{"info": json.loads(os.environ["KUBERNETES_EXEC_INFO"]), "argv": sys.argv[1:],
          "operator_secret": os.environ.get("AWS_SECRET_ACCESS_KEY"), "added": os.environ.get("PLUGIN_ADDED")}}
open(os.environ["PLUGIN_RECORD"], "w").write(json.dumps(record))
if sys.argv[1:] == ["fail"]:
    sys.exit("get-token: the session expired; log in again")
api_version = record["info"]["apiVersion"]
print(json.dumps({{"apiVersion": api_version, "kind": "ExecCredential", "status": {{"token": open(sys.argv[1]).read()}}}}))
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An exec credential plugin that prints the token in the file it is given, and records what it saw."""
    path = tmp_path / "bin" / "get-token"
    path.parent.mkdir()
    path.write_text(PLUGIN.format(python=sys.executable))
    path.chmod(0o755)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator-secret-3e4f")  # terrane's, never the plugin's
    return path


@pytest.mark.kubernetes
@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_an_exec_plugin(apiserver: ApiServer, plugin: Path, tmp_path: Path, version: str) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(service_account_token(apiserver, "kubeconfig-tests", "plugged"))
    record = tmp_path / "record.json"
    exec_ = {"apiVersion": f"client.authentication.k8s.io/{version}", "command": "bin/get-token",
             "args": [str(token_file)], "env": [{"name": "PLUGIN_RECORD", "value": str(record)},
                                                 {"name": "PLUGIN_ADDED", "value": "yes"}],
             "provideClusterInfo": True, "interactiveMode": "IfAvailable"}
    text = kubeconfig_text(apiserver.server, {"exec": exec_}, ca=apiserver.directory / "ca.crt")
    client = Client.from_kubeconfig(flatten(text, context=None, base_dir=tmp_path, origin=ORIGIN), origin=ORIGIN)
    review = client.post(WHO_AM_I, REVIEW)
    assert review["status"]["userInfo"]["username"] == "system:serviceaccount:kubeconfig-tests:plugged"
    seen = json.loads(record.read_text())
    ca_data = base64.b64encode((apiserver.directory / "ca.crt").read_bytes()).decode()
    assert seen == {
        "info": {"apiVersion": f"client.authentication.k8s.io/{version}", "kind": "ExecCredential",
                 "spec": {"interactive": False,
                          "cluster": {"server": apiserver.server, "certificate-authority-data": ca_data}}},
        "argv": [str(token_file)], "operator_secret": None, "added": "yes",
    }


def test_a_failing_exec_plugin_is_one_line(plugin: Path, tmp_path: Path) -> None:
    exec_ = {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin), "args": ["fail"],
             "env": [{"name": "PLUGIN_RECORD", "value": str(tmp_path / "record.json")}]}
    with pytest.raises(EngineError) as raised:
        Client.from_kubeconfig(kubeconfig_text("https://127.0.0.1:1", {"exec": exec_}), origin=ORIGIN)
    assert str(raised.value) == (f"{ORIGIN}: user 'user': exec: {plugin} failed with exit code 1: get-token: the "
                                 "session expired; log in again")
    missing = {**exec_, "command": "terrane-no-such-plugin", "installHint": "install it with:\n  brew install x"}
    with pytest.raises(EngineError) as raised:
        Client.from_kubeconfig(kubeconfig_text("https://127.0.0.1:1", {"exec": missing}), origin=ORIGIN)
    assert str(raised.value) == (f"{ORIGIN}: user 'user': exec: cannot run terrane-no-such-plugin: No such file or "
                                 "directory; install it with: brew install x")
