"""``engine.clouds``: every registered cloud provides the whole ``Cloud`` protocol, and the registry knows exactly
the clouds the spec knows."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from collections.abc import Mapping

import pytest

from terrane.engine import clouds
from terrane.engine.clouds.base import Cloud, Fake, Plugin, StateStore
from terrane.stacks.spec.accounts import ACCOUNT_MODELS
from terrane.stacks.spec.registries import REGISTRY_MODELS

# The protocol's data members, and the type each must have.
DATA = {"name": str, "plugin": Plugin, "state_store": StateStore, "fake": Fake}


def _members() -> dict[str, str]:
    """Each member of ``Cloud`` by name: "data" (a property) or "method"."""
    return {name: "data" if isinstance(value, property) else "method" for name, value in vars(Cloud).items()
            if not name.startswith("_") and (isinstance(value, property) or inspect.isfunction(value))}


def test_the_registry_knows_exactly_the_clouds_of_the_spec() -> None:
    assert set(clouds.CLOUDS) == set(ACCOUNT_MODELS)
    assert set(REGISTRY_MODELS) <= set(clouds.CLOUDS)


def test_the_protocol_is_read_whole() -> None:
    assert _members() == {"name": "data", "plugin": "data", "state_store": "data", "fake": "data",
                          "provider_config": "method", "preflight": "method", "sign_in_method": "method",
                          "allowed_environment": "method", "secrets_region": "method", "verify": "method",
                          "provisioner": "method"}


@pytest.mark.parametrize("name", list(clouds.CLOUDS))
def test_every_cloud_provides_every_member_with_the_right_kind(name: str) -> None:
    cloud = clouds.get(name)
    assert cloud.name == name
    for member, kind in _members().items():
        value = getattr(cloud, member)
        if kind == "data":
            assert isinstance(value, DATA[member]), f"{name}: {member} is not a {DATA[member].__name__}"
        else:
            assert inspect.ismethod(value), f"{name}: {member} is not a method"
            expected = inspect.signature(getattr(Cloud, member)).parameters
            assert list(inspect.signature(value).parameters) == list(expected)[1:], f"{name}: {member}'s parameters"


@pytest.mark.parametrize("name", list(clouds.CLOUDS))
def test_every_cloud_fakes_its_own_provider_package(name: str) -> None:
    fake = clouds.get(name).fake
    assert callable(fake.resource) and isinstance(fake.invokes, Mapping)
    assert all(token.startswith(f"{fake.package}:") for token in fake.invokes)


@pytest.mark.parametrize("name", [name for name, model in ACCOUNT_MODELS.items() if "auth" in model.model_fields])
def test_every_sign_in_method_has_the_words_its_provisioner_is_named_by(name: str) -> None:
    auth = ACCOUNT_MODELS[name].model_fields["auth"].annotation
    assert auth is not None
    room_config = importlib.import_module(f"{clouds.CLOUDS[name]}.config")
    assert set(room_config.SIGN_IN) == set(auth.model_fields)


def test_the_state_stores_share_no_url_scheme() -> None:
    schemes = [scheme for cloud in clouds.every() for scheme in cloud.state_store.schemes]
    assert len(schemes) == len(set(schemes))


def test_importing_the_registry_loads_no_room() -> None:
    code = ("import sys, terrane.engine.clouds; "
            "print(sorted(m for m in sys.modules if m.startswith('terrane.engine.clouds.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
