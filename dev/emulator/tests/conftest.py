"""Fixtures for the emulator's own tests: one emulator per test session on a free port, boto3
clients pointed at it, and local HTTP receivers that play SNS subscribers."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import Receiver, free_port  # noqa: E402

EMULATOR_DIR = Path(__file__).resolve().parents[1]
# The emulator's pure modules (sns_retries) are unit-tested in this process too.
sys.path.insert(0, str(EMULATOR_DIR))

# SNS retry delays run 200 times faster: SNS's default policy (3 retries, 20 s apart) is over in
# 0.3 s, and a 2-minute outage lasts 0.6 s.
SNS_TIME_SCALE = 0.005

# These tests start their own emulator (or run moto in-process); an endpoint exported by the
# caller (`make test` exports the one the Rust tests use) must not redirect them.
for _name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_name]


@dataclass
class Emulator:
    base: str
    tmp: str
    cert_dir: Path
    time_scale: float  # of SNS retry delays: emulated seconds × time_scale = real seconds

    def client(self, service, region="eu-central-1", key="testing", secret="testing", token=None):
        return boto3.client(
            service, endpoint_url=self.base, region_name=region, aws_access_key_id=key,
            aws_secret_access_key=secret, aws_session_token=token,
        )


@pytest.fixture(scope="session")
def emulator():
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="trackses-emu-")
    env = dict(os.environ, TRACKSES_AWS_PORT=str(port), TRACKSES_SNS_CERT_DIR=f"{tmp}/certs",
               PYTHONPATH=str(EMULATOR_DIR), TRACKSES_EMULATOR_AUTOCONFIRM="",
               TRACKSES_EMULATOR_SNS_TIME_SCALE=str(SNS_TIME_SCALE))
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    log_path = Path(tmp, "emulator.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "trackses_emulator"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(150):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    assert proc.poll() is None, log_path.read_text()[-3000:]
                    time.sleep(0.1)
            yield Emulator(base=f"http://127.0.0.1:{port}", tmp=tmp, cert_dir=Path(tmp, "certs"),
                           time_scale=SNS_TIME_SCALE)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def receiver():
    recv = Receiver()
    yield recv
    recv.stop()
