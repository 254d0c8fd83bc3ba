"""Run the SAM transform offline (in .venv-tools) and print the CloudFormation it generates.

.venv-tools/bin/python tests/tools/sam_transform.py template.yaml '{"JwtIssuer": "https://x"}'
"""

from __future__ import annotations

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicies:
    """The managed policies SAM attaches to functions, without asking IAM for the list."""

    def load(self) -> dict[str, str]:
        return {
            "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        }


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # pseudo parameters need a region, nothing more
    with open(sys.argv[1]) as source:
        template = yaml_parse(source.read())
    for resource in template["Resources"].values():  # as `sam package` leaves it: code in S3
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://artifacts/code.zip"
    parameters = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    print(json.dumps(transform(template, parameters, OfflinePolicies()), default=str))
