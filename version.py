"""The package version, on the bottom floor: saved artifacts and the tools record it."""

__version__ = "0.1.0"  # keep equal to pyproject.toml's `version`
