"""Print the composed app's OpenAPI document (``make openapi`` writes it to docs/openapi.json)."""

from __future__ import annotations

import json
import os

from local.aws import local_resource_names, use_fake_credentials
from local.template import function_environment


def openapi_document() -> str:
    use_fake_credentials()
    os.environ.update(function_environment(local_resource_names()))
    from local.composed import compose_app

    return json.dumps(compose_app().openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(openapi_document(), end="")
