# Sourced by dev/package.sh and dev/measure-functions.sh: the Lambda functions of the workspace.
# Every package under functions/ is one function, its binary named like the package. Sets
# `functions` (names), `packages` (cargo's `-p name` arguments) and `target_dir` (where cargo
# builds, CARGO_TARGET_DIR and .cargo/config included), from one `cargo metadata`.
read -r target_dir names < <(cargo metadata --no-deps --format-version 1 | .venv/bin/python -c '
import json, os, sys
meta = json.load(sys.stdin)
fdir = os.path.join(meta["workspace_root"], "functions") + os.sep
names = sorted(p["name"] for p in meta["packages"] if p["manifest_path"].startswith(fdir))
print(meta["target_directory"], ",".join(names))
')
IFS=, read -r -a functions <<<"$names"
packages=()
for f in "${functions[@]}"; do packages+=(-p "$f"); done
