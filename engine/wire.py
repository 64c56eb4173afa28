"""Pulumi's wire format: the signatures that mark a property value as a secret, a resource reference,
an asset, an archive or an output value ({SIG_KEY: <signature>, ...}), and the type of a provider.

Literals, so that reading them loads no Pulumi runtime; tests/engine/test_wire.py pins them to the SDK's.
"""

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"

PROVIDER_TYPE_PREFIX = "pulumi:providers:"
"""A provider resource's type is this prefix and its package: ``pulumi:providers:aws``."""
