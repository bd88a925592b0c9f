"""CLI command modules for the models (see core/cli.py)."""
