#!/usr/bin/env bash
# The local stack, shared by `make dev`, `make test` and `make emulator`: the Python venv, the
# emulated AWS on 127.0.0.1, the table and key from template.yaml, and the SDK environment.
# Usage: dev/stack.sh emulator | dev | test | bench
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mode="${1:?usage: dev/stack.sh emulator|dev|test|bench}"

bash dev/venv.sh

free_port() {
    .venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [ "$mode" = test ] || [ "$mode" = bench ]; then
    # Tests and the bench get their own emulator and port, so they can run beside `make dev`.
    export TRACKSES_AWS_PORT="${TRACKSES_TEST_AWS_PORT:-$(free_port)}"
    export TRACKSES_SNS_CERT_DIR="$root/.dev/test-sns-certs"
else
    export TRACKSES_AWS_PORT="${TRACKSES_AWS_PORT:-4566}"
    export TRACKSES_SNS_CERT_DIR="${TRACKSES_SNS_CERT_DIR:-$root/.dev/sns-certs}"
fi
export AWS_ENDPOINT_URL="http://127.0.0.1:$TRACKSES_AWS_PORT"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
export AWS_REGION="${AWS_REGION:-eu-west-1}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export TRACKSES_TABLE="${TRACKSES_TABLE:-trackses}"
# bootstrap.py creates this alias from template.yaml's key; the runner serves `wiring` itself.
export TRACKSES_KMS_KEY_ID="${TRACKSES_KMS_KEY_ID:-alias/trackses-secrets}"
export TRACKSES_WIRING_FUNCTION="${TRACKSES_WIRING_FUNCTION:-wiring}"
# Role mode: the emulator's default account is trackses' own; bootstrap.py publishes the
# customer template at this URL in the emulated S3.
export TRACKSES_ACCOUNT_ID="${TRACKSES_ACCOUNT_ID:-123456789012}"
# Alert e-mails come from trackses' own (emulated) SES account; bootstrap verifies its domain.
export TRACKSES_ALERT_SENDER="${TRACKSES_ALERT_SENDER:-alerts@trackses.test}"
export TRACKSES_ROLE_TEMPLATE_URL="${TRACKSES_ROLE_TEMPLATE_URL:-https://trackses-templates.s3.$AWS_REGION.amazonaws.com/customer-role.yaml}"
mkdir -p .dev "$TRACKSES_SNS_CERT_DIR"
# Pin the certificate of the real Amazon-signed samples in events/, as the emulator pins its own.
cp events/sns-real/*.pem "$TRACKSES_SNS_CERT_DIR"/

start_emulator() {
    PYTHONPATH=dev/emulator .venv/bin/python -m trackses_emulator >"$1" 2>&1 &
    emulator_pid=$!
    trap 'kill $emulator_pid 2>/dev/null; wait $emulator_pid 2>/dev/null || true' EXIT
    trap 'exit 130' INT TERM
    for _ in $(seq 1 100); do
        if .venv/bin/python -c "import urllib.request as u; u.urlopen('$AWS_ENDPOINT_URL/moto-api/', timeout=1)" 2>/dev/null; then
            .venv/bin/python dev/bootstrap.py
            return
        fi
        kill -0 $emulator_pid 2>/dev/null || { cat "$1"; echo "the emulator did not start" >&2; exit 1; }
        sleep 0.2
    done
    cat "$1"; echo "the emulator did not answer on $AWS_ENDPOINT_URL" >&2; exit 1
}

case "$mode" in
    emulator)
        exec env PYTHONPATH=dev/emulator .venv/bin/python -m trackses_emulator
        ;;
    dev)
        cargo build -p local --bin local
        # `lambda` subscribers reach ingest-sns through the runner's Lambda Invoke path.
        export TRACKSES_LAMBDA_ENDPOINT="http://127.0.0.1:${TRACKSES_PORT:-3000}"
        start_emulator .dev/emulator.log
        echo "emulated AWS: $AWS_ENDPOINT_URL (log: .dev/emulator.log)"
        target/debug/local
        ;;
    bench)
        # The yardstick of the ingest benchmark's throughput: OpenSSL's own RSA-2048 verify rate
        # on this core, measured in the same run.
        if command -v openssl >/dev/null; then
            openssl speed -seconds 5 rsa2048 2>/dev/null | tail -n 2
        fi
        cargo bench -p store --bench ingest
        cargo build --release -p local --bin load --bin paths
        start_emulator .dev/bench-emulator.log
        target/release/load
        # The two delivery paths end to end: SES to the API through SNS and through EventBridge.
        target/release/paths
        ;;
    test)
        cargo fmt --all -- --check
        cargo clippy --workspace --all-targets -- -D warnings
        .venv/bin/cfn-lint template.yaml
        # The deploy path's own check (SAM's translator and its lint), offline: no credentials
        # or network needed, so the README's `sam build` / `sam deploy` template cannot rot.
        SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template template.yaml --region "$AWS_REGION"
        .venv/bin/cfn-lint cloudformation/*.yaml dev/local/templates/*.yaml
        .venv/bin/python -m pytest -q -p no:cacheprovider dev/emulator/tests | tee .dev/pytest.log
        bash dev/browser.sh
        start_emulator .dev/test-emulator.log
        # Cargo ends on its last (often empty) target; close on the whole run's count instead.
        status=0
        cargo test --workspace --all-targets 2>&1 | tee .dev/test.log || status=$?
        awk '/^test result:/ { p += $4; f += $6 }
             /^[0-9]+ passed/ { p += $1 }
             END { printf "tests: %d passed, %d failed\n", p, f }' .dev/test.log .dev/pytest.log
        exit "$status"
        ;;
    *)
        echo "usage: dev/stack.sh emulator|dev|test|bench" >&2; exit 2
        ;;
esac
