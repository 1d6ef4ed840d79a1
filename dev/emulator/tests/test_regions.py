"""The regions trackses accepts (crates/model/src/region.rs) are exactly those where the AWS
SDK's endpoint data (botocore's endpoints.json, pinned through moto) gives SES v2 (`email`) an
endpoint in the `aws` partition: a region AWS adds fails this test until the list has it."""

import json
import re
from pathlib import Path

import botocore

ROOT = Path(__file__).resolve().parents[3]


def sdk_regions():
    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    aws = next(p for p in data["partitions"] if p["partition"] == "aws")
    regions = aws["regions"]
    return {name for name in aws["services"]["email"]["endpoints"] if name in regions}


def trackses_regions():
    source = (ROOT / "crates" / "model" / "src" / "region.rs").read_text()
    listed = re.search(r"SES_REGIONS: \[&str; (\d+)\] = \[(.*?)\];", source, re.S)
    names = re.findall(r'"([a-z0-9-]+)"', listed.group(2))
    assert len(names) == int(listed.group(1)) == len(set(names))
    return set(names)


def test_the_accepted_regions_are_the_sdks_ses_regions():
    assert trackses_regions() == sdk_regions()
