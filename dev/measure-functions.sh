#!/usr/bin/env bash
# `make measure`: what each Lambda function ships and how fast it starts, so a change meant to
# shrink the packages or the cold start is judged against the commit before it.
#
#   1. What ships: `make package` (one arm64 release build with cargo-lambda, zipped); its sizes.
#   2. Start-up: the same functions built natively (arm64 binaries don't run on an x86_64 host),
#      each spawned RUNS times against a fake Runtime API on 127.0.0.1; the time from spawn to its
#      first GET /2018-06-01/runtime/invocation/next is the cold start the code itself costs
#      (config, SDK clients, routers, metrics), without Lambda's own sandbox and download time.
#
# Env: RUNS (20) spawns per function. Run it under `nice -n 19` on a shared machine.
set -euo pipefail

RUNS="${RUNS:-20}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash dev/package.sh

source dev/functions.sh

# The release profile (panic=abort included), for this host.
start=$(date +%s)
cargo build --release "${packages[@]}"
native_secs=$(( $(date +%s) - start ))

echo
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (dirty)')," \
    "$(rustc --version | cut -d' ' -f1-2), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

.venv/bin/python - "$target_dir" "$RUNS" "$native_secs" "${functions[@]}" <<'EOF'
import os, select, signal, socket, statistics, subprocess, sys, tempfile, time, zipfile

target_dir, runs, native_secs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
functions = sys.argv[4:]
NEXT = b"/2018-06-01/runtime/invocation/next"
TIMEOUT_S = 10.0

print("arm64 release, zipped (make package)")
print(f"{'function':<16}{'zip bytes':>12}{'zip MB':>9}{'bootstrap bytes':>17}{'bootstrap MB':>14}")
for name in functions:
    path = os.path.join(target_dir, "lambda", name, "bootstrap.zip")
    with zipfile.ZipFile(path) as z:
        unzipped = z.getinfo("bootstrap").file_size
    zipped = os.path.getsize(path)
    print(f"{name:<16}{zipped:>12}{zipped / 1e6:>9.2f}{unzipped:>17}{unzipped / 1e6:>14.2f}")
print("(MB = 10^6 bytes)")
print()

# What each function reads at cold start, with values that need no AWS: Config::from_env
# (crates/runtime/src/config.rs), lambda_runtime::Config::from_env (which panics without the
# AWS_LAMBDA_FUNCTION_* trio), and the SDK's env credentials and region (so it never asks IMDS).
# TRACKSES_ADMIN_TOKEN stands in for the deployed TRACKSES_ADMIN_TOKEN_PARAMETER, whose SSM read
# at start-up would need AWS. A clean environment: nothing of this shell's leaks in.
base_env = {
    "PATH": "/usr/bin:/bin",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_SESSION_TOKEN": "x",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "TRACKSES_TABLE": "t",
    "TRACKSES_ACCOUNT_ID": "123456789012",
    "TRACKSES_CALLBACK_TOPIC": "trackses-cfn-callback",
    "TRACKSES_PUBLIC_URL": "https://example.com",
    "TRACKSES_WIRING_FUNCTION": "wiring",
    "TRACKSES_KMS_KEY_ID": "k",
    "TRACKSES_ADMIN_TOKEN": "x",
    "TRACKSES_ROLE_TEMPLATE_URL": "https://example.com/customer-role.yaml",
    "TRACKSES_DELIVERIES_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/deliveries",
    "TRACKSES_ALERT_SENDER": "alerts@example.com",
}

def one_start(name, binary):
    """Milliseconds from spawn to the first request line on .../invocation/next."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    env = dict(base_env, AWS_LAMBDA_FUNCTION_NAME=name,
               AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{srv.getsockname()[1]}")
    log = tempfile.TemporaryFile()
    conn = None
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen([binary], env=env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        # Wake on the connection or every 50 ms to notice a process that died (a config error).
        deadline = time.monotonic() + TIMEOUT_S
        while not select.select([srv], [], [], 0.05)[0]:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                sys.exit(f"{name}: no Runtime API call (exit {proc.poll()}):\n{tail}")
        conn, _ = srv.accept()
        buf = b""
        while b"\r\n" not in buf:
            chunk = conn.recv(4096)
            if not chunk:
                break
            buf += chunk
        t1 = time.perf_counter_ns()
        line = buf.split(b"\r\n", 1)[0].split()
        if len(line) < 2 or line[0] != b"GET" or line[1] != NEXT:
            sys.exit(f"{name}: first Runtime API call was {buf[:200]!r}, not GET next")
        return (t1 - t0) / 1e6
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if conn:
            conn.close()
        srv.close()
        log.close()

print(f"start-up to first /invocation/next, x86_64 native release (cargo build, {native_secs} s),"
      f" {runs} runs each")
print(f"{'function':<16}{'median ms':>11}{'min ms':>9}{'max ms':>9}")
for name in functions:
    times = [one_start(name, os.path.join(target_dir, "release", name)) for _ in range(runs)]
    print(f"{name:<16}{statistics.median(times):>11.2f}{min(times):>9.2f}{max(times):>9.2f}")
EOF
