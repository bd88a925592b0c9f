"""Running the CLI in-process as a test does: ``run`` gives ``(exit code, stdout, stderr)``,
``run_json`` the same with ``--json`` and stdout parsed."""
from __future__ import annotations

import json

from cli.main import main as cli


def run(capsys, *argv):
    try:
        code = cli(list(argv))
    except SystemExit as exc:  # argparse: usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    return code, json.loads(out), err
