"""Helpers shared by tests: imported by test modules, never from conftest.py."""
