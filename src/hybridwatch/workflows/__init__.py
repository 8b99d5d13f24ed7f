"""Workflows: run an analysis on a store and attach its evidence (events behind each finding).

This is the library face of the CLI and web commands: each function opens nothing itself, takes an
``EventStore`` and parameters, and returns a typed result whose ``to_dict()`` is the JSON contract.
"""
