#!/usr/bin/env bash
# `make package`: every Lambda function built for arm64 in ONE cargo-lambda workspace build (shared
# dependencies compile once, features unified once), zipped, and laid out as `sam build` would lay
# it out, so `sam deploy` deploys exactly these bytes:
#   target/lambda/<function>/bootstrap.zip     what each function ships (sizes printed)
#   .aws-sam/build/template.yaml               template.yaml, each CodeUri pointing at its build
# Then: `sam deploy --guided` (it reads .aws-sam/build/template.yaml by default).
set -euo pipefail

# Pinned, like dev/venv.sh pins its tools: the same packager gives the same bytes.
CARGO_LAMBDA_VERSION=1.9.2
ARM64_TARGET=aarch64-unknown-linux-gnu

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash dev/venv.sh

# `pip install cargo-lambda` brings cargo-lambda and zig (the cross linker): no C cross toolchain.
# Another cargo-lambda on the PATH is used only at the pinned version.
if ! cargo lambda --version 2>/dev/null | grep -q " $CARGO_LAMBDA_VERSION"; then
    if [ ! -x .venv/bin/cargo-lambda ]; then
        .venv/bin/python -m pip install -q --disable-pip-version-check \
            "cargo-lambda==$CARGO_LAMBDA_VERSION"
    fi
    export PATH="$root/.venv/bin:$PATH"
fi
# Asking for the arm64 standard library first keeps cargo-lambda's prompt out of a batch run.
if ! rustup target list --installed | grep -qx "$ARM64_TARGET"; then
    rustup target add "$ARM64_TARGET"
fi

source dev/functions.sh

start=$(date +%s)
cargo lambda build --release --arm64 --output-format zip "${packages[@]}"
echo "one arm64 release build of ${#functions[@]} functions: $(( $(date +%s) - start )) s"

.venv/bin/python dev/package.py template.yaml "$target_dir/lambda" .aws-sam/build
SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template .aws-sam/build/template.yaml \
    --region "${AWS_REGION:-eu-west-1}"
for f in "${functions[@]}"; do
    printf '%-16s %8d bytes zipped\n' "$f" "$(stat -c %s "$target_dir/lambda/$f/bootstrap.zip")"
done
