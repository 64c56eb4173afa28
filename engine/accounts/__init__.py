"""What accounts.yaml holds, read and written cloud-neutrally: the accounts and container registries a
project links, and the references to their secrets.

``registry`` links, lists and removes accounts and registries; ``secrets``
resolves references when an operation needs them. Everything that knows a
cloud (verification, provider config, bootstraps) lives in ``engine.clouds``.
"""
