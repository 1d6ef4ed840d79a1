#!/usr/bin/env bash
# Create or refresh the repository's Python virtualenv (<repo>/.venv) with the tools of the
# local AWS emulator (dev/emulator): moto server, cfn-lint, pytest, the SAM CLI (whose
# `sam validate --lint` checks the deploy template in `make test`) and openapi-spec-validator
# (which checks the API's generated OpenAPI document), at pinned versions.
# Idempotent: prints nothing and does nothing when the pinned versions are installed.
# Needs python3 (3.11) and access to the package index; installs Debian's python3-venv when the
# interpreter lacks ensurepip.
set -euo pipefail

MOTO_VERSION=5.2.5
CFN_LINT_VERSION=1.58.0
PYTEST_VERSION=9.0.1
SAM_CLI_VERSION=1.170.0
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
py="$venv/bin/python"
PYTHON="${PYTHON:-python3}"

# True when every tool (moto with its "server" extra) is installed at its pinned version.
pinned_installed() {
    [ -x "$py" ] && "$py" - "$MOTO_VERSION" "$CFN_LINT_VERSION" "$PYTEST_VERSION" "$SAM_CLI_VERSION" \
        "$OPENAPI_SPEC_VALIDATOR_VERSION" >/dev/null 2>&1 <<'EOF'
import re, sys
from importlib import metadata as md
names = ("moto", "cfn-lint", "pytest", "aws-sam-cli", "openapi-spec-validator")
if tuple(md.version(name) for name in names) != tuple(sys.argv[1:6]):
    sys.exit(1)
for req in md.requires("moto") or []:
    if re.search(r"""extra\s*==\s*["']server["']""", req):
        md.version(re.match(r"[A-Za-z0-9._-]+", req).group(0))  # raises if missing
EOF
}

# Debian's python3 has ensurepip only with its python3-venv package: installed by name, like
# dev/browser.sh installs Chromium.
install_debian_venv() {
    command -v apt-get >/dev/null 2>&1 || return 1
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    local install="$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv"
    # A fresh machine's package lists may be stale or empty: refresh only when the install fails.
    $install || { $sudo apt-get update && $install; }
}

create_venv() {
    rm -rf "$venv"
    if "$PYTHON" -m venv "$venv" >/dev/null 2>&1; then
        return
    fi
    rm -rf "$venv"
    if install_debian_venv && "$PYTHON" -m venv "$venv" >/dev/null 2>&1; then
        return
    fi
    # No ensurepip at all (a Python built without it): the interpreter's own pip installs pip,
    # by name from the configured index, into a venv made without one.
    rm -rf "$venv"
    "$PYTHON" -m venv --without-pip "$venv"
    "$PYTHON" -m pip --python "$py" install -q --disable-pip-version-check pip
}

if pinned_installed; then
    exit 0
fi

if ! "$py" -m pip --version >/dev/null 2>&1; then
    create_venv
fi
"$py" -m pip install -q --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" "pytest==$PYTEST_VERSION" \
    "aws-sam-cli==$SAM_CLI_VERSION" "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"

if ! pinned_installed; then
    echo "venv.sh: $venv still lacks moto[server]==$MOTO_VERSION / cfn-lint==$CFN_LINT_VERSION / pytest==$PYTEST_VERSION / aws-sam-cli==$SAM_CLI_VERSION / openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION" >&2
    exit 1
fi
