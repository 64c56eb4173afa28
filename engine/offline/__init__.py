"""Offline plans: a program rendered under Pulumi's mock runtime (``render``), against fake clouds (``fakes``)."""
