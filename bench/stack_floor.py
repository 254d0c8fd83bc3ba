"""The second cold-start yardstick of bench/cold_start.py: reco's stack with none of reco's code.

What any function built on this architecture pays before its own work: FastAPI and pydantic (the routers and
their validation), Mangum, numpy (the ranking core), boto3, and Powertools' Logger, Metrics and Tracer; the
one route reads one DynamoDB item, as nearly every reco request does. A function's distance above this row is
what reco's own modules and requests add.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import numpy as np
from aws_lambda_powertools import Logger, Metrics, Tracer
from fastapi import FastAPI
from mangum import Mangum

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
tracer = Tracer()
logger = Logger()
metrics = Metrics(namespace="Powertools")
asgi = Mangum(app, lifespan="off")


@app.get("/hello")
def hello() -> dict[str, Any]:
    table = boto3.resource("dynamodb").Table(os.environ["CONFIG_TABLE"])
    found = table.get_item(Key={"pk": "stack-floor", "sk": "stack-floor"}).get("Item")
    return {"message": "hello world", "found": found is not None, "sum": float(np.ones(4, dtype=np.float32).sum())}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(asgi(event, context))
