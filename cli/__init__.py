"""Melograph's command-line interface: ``python main.py <command> [options]`` (see :mod:`cli.main`)."""
