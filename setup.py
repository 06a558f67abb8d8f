"""Installs the ``autodl`` package from ``lib/``; metadata lives in pyproject.toml."""
from setuptools import setup

setup()
