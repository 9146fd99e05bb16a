#!/usr/bin/env bash
# Writes poetry.lock for a Poetry project (a connector) with the Poetry of base image 1.1.0, resolved
# through the PyPI proxy on loopback, and makes it exactly the lock PyPI would give: Poetry resolves
# from PyPI's JSON API, which this machine's PyPI route does not serve, so the proxy is declared as a
# temporary primary source in a copy of the project, and the lock is then rid of that source (the
# files and their hashes are PyPI's own) and given the content hash of the real pyproject.toml.
#   usage: scripts/poetry-lock.sh <project-dir>      (needs scripts/env/setup.sh to have run)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$(cd "${1:?usage: scripts/poetry-lock.sh <project-dir>}" && pwd)"
[ -f "$project/pyproject.toml" ] || { echo "poetry-lock: $project/pyproject.toml does not exist" >&2; exit 2; }
index="${AIRBYTE_CI_PIP_INDEX_URL:-$(cat "$ROOT/.local/env/pip-index-url" 2>/dev/null || true)}"
[ -n "$index" ] || { echo "poetry-lock: no PyPI proxy URL: run scripts/env/setup.sh (or set AIRBYTE_CI_PIP_INDEX_URL)" >&2; exit 2; }

POETRY_VERSION=2.2.1
venv="/opt/airbyte-ci/poetry-$POETRY_VERSION"
if [ ! -e "$venv/.installed" ]; then
  echo "poetry-lock: installing Poetry $POETRY_VERSION into $venv" >&2
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  PIP_CERT=/etc/ssl/certs/ca-certificates.crt "$venv/bin/python" -m pip install -q --disable-pip-version-check "poetry==$POETRY_VERSION"
  touch "$venv/.installed"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$project/pyproject.toml" "$work/"
[ -f "$project/poetry.lock" ] && cp "$project/poetry.lock" "$work/"
cat >>"$work/pyproject.toml" <<EOF

[[tool.poetry.source]]
name = "airbyte-ci-pypi-proxy"
url = "$index"
priority = "primary"
EOF
# No package is built: a lock needs the dependencies only.
(cd "$work" && POETRY_VIRTUALENVS_CREATE=false "$venv/bin/poetry" lock --no-interaction >&2)
PROJECT="$project" WORK="$work" "$venv/bin/python" - <<'PY'
import os, re
from pathlib import Path
from poetry.factory import Factory

project, work = Path(os.environ["PROJECT"]), Path(os.environ["WORK"])
lock = (work / "poetry.lock").read_text()
lock = re.sub(r'\n\[package\.source\]\ntype = "legacy"\nurl = "[^"]*"\nreference = "airbyte-ci-pypi-proxy"\n', "", lock)
if "airbyte-ci-pypi-proxy" in lock:
    raise SystemExit("poetry-lock: the lock still names the temporary source")
content_hash = Factory().create_poetry(project).locker._get_content_hash()
lock = re.sub(r'content-hash = "[0-9a-f]+"', f'content-hash = "{content_hash}"', lock)
(project / "poetry.lock").write_text(lock)
PY
(cd "$project" && "$venv/bin/poetry" check --lock >/dev/null)
echo "poetry-lock: wrote $project/poetry.lock" >&2
