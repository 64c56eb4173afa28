"""Drift: what changed in the cloud behind an environment's back, per resource and per property.

``detect`` reads a preview refresh's engine events (in the worker), ``rules``
drops what the team accepts and picks shards, ``report`` holds the typed
result and its CI renderings, ``history`` records runs, ``notify`` tells a
webhook what changed since it was last told.
"""
