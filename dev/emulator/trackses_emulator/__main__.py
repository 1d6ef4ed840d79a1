"""Start moto's server (all services) on 127.0.0.1:$TRACKSES_AWS_PORT with the SNS patches.

Environment:
  TRACKSES_AWS_PORT               port (default 4566)
  TRACKSES_SNS_CERT_DIR           if set, the signing certificate PEM is copied there
  TRACKSES_EMULATOR_AUTOCONFIRM=1 http/https subscriptions are confirmed instantly (test hook)
  TRACKSES_EMULATOR_SNS_TIME_SCALE multiplies every SNS retry delay (default 1; 0.01 turns a
                                  2-minute outage into 1.2 s)
  TRACKSES_LAMBDA_ENDPOINT        base URL of a local Lambda Invoke API for `lambda` subscribers
"""

import logging
import os
import shutil

from . import (
    capacity_meter,
    cfn_custom_resources,
    cfn_patches,
    dynamodb_patches,
    dynamodb_streams_patches,
    events_patches,
    faults,
    lambda_delivery,
    request_log,
    ses_patches,
    signing,
    sns_patches,
    sts_iam_patches,
)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    port = int(os.environ.get("TRACKSES_AWS_PORT") or "4566")
    cert_dir = os.environ.get("TRACKSES_SNS_CERT_DIR")
    if cert_dir:
        os.makedirs(cert_dir, exist_ok=True)
        shutil.copyfile(signing.CERT_PATH, os.path.join(cert_dir, signing.CERT_NAME))
    sns_patches.apply(
        base_url=f"http://127.0.0.1:{port}",
        autoconfirm=os.environ.get("TRACKSES_EMULATOR_AUTOCONFIRM") == "1",
        time_scale=float(os.environ.get("TRACKSES_EMULATOR_SNS_TIME_SCALE") or "1"),
    )
    dynamodb_patches.apply()  # one DynamoDB request at a time, item-level transaction rollback
    dynamodb_streams_patches.apply()  # AWS-shaped stream records, iterators, retention
    capacity_meter.apply()  # units AWS would bill; GET/DELETE /_trackses/dynamodb/capacity
    ses_patches.apply()  # SESv2 event destinations and account, SES event publishing
    events_patches.apply()  # EventBridge forwarding, bus and queue policies, PutEvents rules
    sts_iam_patches.apply()  # AssumeRole trust policies, IAM user and customer role policies
    faults.apply()  # POST/GET/DELETE /_trackses/faults (inside the request log: 500s are logged)
    request_log.apply()  # GET/DELETE /_trackses/requests
    cfn_patches.apply()  # CloudFormation SES/SNS resource types
    cfn_custom_resources.apply(f"http://127.0.0.1:{port}")  # SNS-backed custom resources
    lambda_delivery.apply()  # SNS -> Lambda through a local Invoke API
    logging.getLogger("trackses_emulator").info(
        "AWS emulator on http://127.0.0.1:%d (SNS cert %s)", port, signing.CERT_NAME
    )

    from moto.server import main as moto_main  # installs SIGINT/SIGTERM -> exit(0)

    moto_main(["--host", "127.0.0.1", "--port", str(port)])


if __name__ == "__main__":
    main()
