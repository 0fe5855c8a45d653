"""A real S3-compatible server on loopback (moto's), with one bucket, for media tests.

Registered in tests/fakes/__init__.py as the "storage" fake: its env() points the worker at
the bucket, and gives the worker and the test process one shared folder for the local media
backend, so media signed in either backend can be published by the worker.
"""

import shutil
import tempfile
from pathlib import Path

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

BUCKET = "hayon-test-media"
REGION = "us-east-1"
# moto accepts any credentials; these only have to be present and the same everywhere.
ACCESS_KEY = "hayon-test"
SECRET_KEY = "hayon-test-secret"


class S3Server:
    def __init__(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.media_root: Path | None = None
        self.url = ""

    def start(self) -> "S3Server":
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        self.media_root = Path(tempfile.mkdtemp(prefix="hayon-media-"))
        self.client().create_bucket(Bucket=BUCKET)
        return self

    def stop(self) -> None:
        self.server.stop()
        if self.media_root:
            shutil.rmtree(self.media_root, ignore_errors=True)

    def client(self):
        """A boto3 client of the server, for tests to look at the bucket directly."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}),
        )

    def keys(self, prefix: str = "") -> list[str]:
        answer = self.client().list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return [item["Key"] for item in answer.get("Contents", [])]

    def env(self) -> dict[str, str]:
        return {
            "HAYON_S3_BUCKET": BUCKET,
            "HAYON_S3_ENDPOINT_URL": self.url,
            "HAYON_S3_REGION": REGION,
            "HAYON_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "HAYON_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "HAYON_S3_ADDRESSING_STYLE": "path",
            "HAYON_MEDIA_ROOT": str(self.media_root),
        }
