"""CLI command modules (see core/cli.py)."""
