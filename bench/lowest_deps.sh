#!/usr/bin/env bash
# Install every dependency at the lower bound pyproject.toml allows, then run the test suite there.
#
#   bash bench/lowest_deps.sh [VENV_DIR] [pytest arguments...]     (default /tmp/lowest, all of tests/)
#
# The `==` pins are made from the `>=` bounds of [project].dependencies and the `test` extra, so a
# bound raised in pyproject.toml is what gets tested next time. A bound that does not install, or
# whose version fails the tests, must be raised (docs/deployment.md, "Dependency ranges").
# PostgreSQL tests need the server at 127.0.0.1:5432, as for the ordinary suite.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${1:-/tmp/lowest}"
shift || true
PYTHON="${PYTHON:-python3.11}"  # the lowest Python pyproject.toml allows

"$PYTHON" -m venv "$VENV"
"$PYTHON" - "$ROOT/pyproject.toml" > "$VENV/lowest.txt" <<'EOF'
import re, sys, tomllib

project = tomllib.load(open(sys.argv[1], "rb"))["project"]
for spec in project["dependencies"] + project["optional-dependencies"]["test"]:
    name, low = re.match(r"^([A-Za-z0-9_.\-]+(?:\[[^\]]*\])?)\s*>=\s*([^,;\s]+)", spec).groups()
    print(f"{name}=={low}")
EOF
echo "lowest versions:" && cat "$VENV/lowest.txt"
"$VENV/bin/pip" install -q -r "$VENV/lowest.txt"
"$VENV/bin/pip" install -q --no-deps -e "$ROOT"
cd "$ROOT"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "${@:-tests}"
