"""Model artifacts in S3: one immutable object per version (``<tenant>/models/<model_id>/v<n>.npz``)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from reco.errors import ModelNotReady
from reco.settings import get_settings
from reco.stores.aws import cached_store, s3_client


class S3ArtifactStorage:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType="application/x-npz")

    def get(self, key: str) -> bytes:
        try:
            return bytes(self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
            # The registry names a version whose object is gone (deleted by hand, a failed copy):
            # the model cannot serve until it is retrained.
            raise ModelNotReady(
                f"the artifact of this model version is missing ({key}): retrain the model", data={"key": key}
            ) from None


@cached_store
def artifact_storage() -> S3ArtifactStorage:
    return S3ArtifactStorage(s3_client(), get_settings().artifacts_bucket)
