"""terrane's copy of Pulumi's wire signatures is the SDK's."""

from pulumi.runtime import rpc

from terrane.engine import wire


def test_the_signatures_are_pulumis() -> None:
    assert (wire.SIG_KEY, wire.SECRET_SIG, wire.RESOURCE_SIG, wire.ASSET_SIG, wire.ARCHIVE_SIG,
            wire.OUTPUT_VALUE_SIG) == (rpc._special_sig_key, rpc._special_secret_sig, rpc._special_resource_sig,
                                      rpc._special_asset_sig, rpc._special_archive_sig, rpc._special_output_value_sig)
