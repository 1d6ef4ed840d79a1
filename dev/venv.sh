#!/usr/bin/env bash
# Create or refresh the repository's Python virtualenv (<repo>/.venv) with the tools of the
# local AWS emulator (dev/emulator): moto server and cfn-lint, at pinned versions.
# Idempotent: prints nothing and does nothing when the pinned versions are installed.
# Needs python3 (3.11) and access to PyPI; works without Debian's python3-venv package.
set -euo pipefail

MOTO_VERSION=5.2.5
CFN_LINT_VERSION=1.58.0
PYTEST_VERSION=9.0.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
py="$venv/bin/python"
PYTHON="${PYTHON:-python3}"

# True when moto (with its "server" extra) and cfn-lint are installed at the pinned versions.
pinned_installed() {
    [ -x "$py" ] && "$py" - "$MOTO_VERSION" "$CFN_LINT_VERSION" "$PYTEST_VERSION" >/dev/null 2>&1 <<'EOF'
import re, sys
from importlib import metadata as md
if (md.version("moto"), md.version("cfn-lint"), md.version("pytest")) != tuple(sys.argv[1:4]):
    sys.exit(1)
for req in md.requires("moto") or []:
    if re.search(r"""extra\s*==\s*["']server["']""", req):
        md.version(re.match(r"[A-Za-z0-9._-]+", req).group(0))  # raises if missing
EOF
}

create_venv() {
    rm -rf "$venv"
    if "$PYTHON" -m venv "$venv" >/dev/null 2>&1; then
        return
    fi
    # Debian without python3-venv has no ensurepip: bootstrap pip from PyPI instead.
    rm -rf "$venv"
    "$PYTHON" -m venv --without-pip "$venv"
    "$py" - <<'EOF'
import hashlib, json, os, subprocess, sys, tempfile, urllib.parse, urllib.request
api = "https://pypi.org/pypi/pip/json"
info = json.load(urllib.request.urlopen(api, timeout=60))
wheel = next(f for f in info["urls"] if f["packagetype"] == "bdist_wheel")
path = os.path.join(tempfile.mkdtemp(), wheel["filename"])
urllib.request.urlretrieve(urllib.parse.urljoin(api, wheel["url"]), path)
with open(path, "rb") as f:
    if hashlib.sha256(f.read()).hexdigest() != wheel["digests"]["sha256"]:
        sys.exit("venv.sh: pip wheel checksum mismatch")
subprocess.check_call([sys.executable, f"{path}/pip", "install", "-q", "--no-index", path])
EOF
}

if pinned_installed; then
    exit 0
fi

if ! "$py" -m pip --version >/dev/null 2>&1; then
    create_venv
fi
"$py" -m pip install -q --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" "pytest==$PYTEST_VERSION"

if ! pinned_installed; then
    echo "venv.sh: $venv still lacks moto[server]==$MOTO_VERSION / cfn-lint==$CFN_LINT_VERSION / pytest==$PYTEST_VERSION" >&2
    exit 1
fi
