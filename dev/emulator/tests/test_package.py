"""`make package`'s layout (dev/package.py): from one cargo-lambda build's zips, the directory
`sam deploy` deploys, each function pointing at its own binary and nothing left to build."""

import os
import sys
import zipfile
from pathlib import Path

import yaml

from support import TemplateLoader

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "dev"))
from package import package  # noqa: E402


def fake_build(lambda_dir: Path, binaries):
    for binary in binaries:
        (lambda_dir / binary).mkdir(parents=True)
        with zipfile.ZipFile(lambda_dir / binary / "bootstrap.zip", "w") as archive:
            archive.writestr("bootstrap", f"#!{binary}")


def test_every_function_deploys_its_own_binary(tmp_path):
    source = yaml.load((ROOT / "template.yaml").read_text(), Loader=TemplateLoader)["Resources"]
    binaries = {
        name: r["Metadata"]["BuildProperties"]["Binary"]
        for name, r in source.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert set(binaries.values()) == {p.name for p in (ROOT / "functions").iterdir()}
    fake_build(tmp_path / "lambda", binaries.values())

    out = tmp_path / "build"
    package(ROOT / "template.yaml", tmp_path / "lambda", out)

    built = yaml.load((out / "template.yaml").read_text(), Loader=TemplateLoader)["Resources"]
    for name, binary in binaries.items():
        function = built[name]
        assert "Metadata" not in function, name
        bootstrap = out / function["Properties"]["CodeUri"] / "bootstrap"
        assert bootstrap.read_text() == f"#!{binary}", name
        assert os.access(bootstrap, os.X_OK), name
    nested = built["CallbackTopic"]["Properties"]["Location"]
    assert (out / nested).read_text() == (ROOT / "cloudformation/callback-topic.yaml").read_text()
    # Everything else (intrinsics included) is the source template's.
    assert built["Table"] == source["Table"]
    assert built["ApiFunction"]["Properties"]["Policies"] == source["ApiFunction"]["Properties"]["Policies"]


def test_a_function_missing_from_the_build_stops_the_package(tmp_path):
    fake_build(tmp_path / "lambda", ["api"])
    try:
        package(ROOT / "template.yaml", tmp_path / "lambda", tmp_path / "build")
    except SystemExit as stop:
        assert "is missing" in str(stop)
    else:
        raise AssertionError("packaged without every function")
