"""The deployable layout `sam build` would make, from one cargo-lambda workspace build.

    python dev/package.py template.yaml target/lambda .aws-sam/build

For each AWS::Serverless::Function built by rust-cargolambda (Metadata.BuildProperties.Binary =
the function's binary), the function's directory under the output holds its `bootstrap` and the
output template's CodeUri names that directory (no Metadata: nothing is left to build). Nested
applications' templates are copied beside it. `sam deploy` reads <out>/template.yaml by default.
"""

import shutil
import sys
import zipfile
from pathlib import Path

from samcli.yamlhelper import yaml_dump, yaml_parse


def package(template_path: Path, lambda_dir: Path, out: Path) -> dict:
    template = yaml_parse(template_path.read_text())
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            binary = resource["Metadata"]["BuildProperties"]["Binary"]
            built = lambda_dir / binary / "bootstrap.zip"
            if not built.is_file():
                raise SystemExit(f"{name}: {built} is missing (was `{binary}` built?)")
            with zipfile.ZipFile(built) as archive:
                archive.extract("bootstrap", out / name)
            # zipfile drops the mode bits: Lambda runs `bootstrap`, so it must be executable.
            (out / name / "bootstrap").chmod(0o755)
            del resource["Metadata"]
            resource["Properties"]["CodeUri"] = name
        elif resource["Type"] == "AWS::Serverless::Application":
            location = resource["Properties"]["Location"]
            (out / name).mkdir()
            shutil.copy(template_path.parent / location, out / name / "template.yaml")
            resource["Properties"]["Location"] = f"{name}/template.yaml"
    (out / "template.yaml").write_text(yaml_dump(template))
    return template


if __name__ == "__main__":
    source, built, destination = (Path(a) for a in sys.argv[1:4])
    package(source, built, destination)
    print(f"{destination}/template.yaml: ready for `sam deploy`")
