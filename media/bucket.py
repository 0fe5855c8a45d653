"""The bucket rules Hayon relies on: CORS for browser uploads, and a 1-day expiry on temp/.

Each rule carries an ID of ours and is merged into the bucket's existing rules, so applying
them again changes nothing and rules others added stay.
"""

from botocore.exceptions import ClientError

from media.storage import S3Backend

CORS_ID = "hayon-browser-uploads"
LIFECYCLE_ID = "hayon-expire-temp-uploads"


def cors_rule(origins: list[str]) -> dict:
    return {
        "ID": CORS_ID,
        "AllowedOrigins": origins,
        # PUT is the upload; GET and HEAD let the compose page show what it sent.
        "AllowedMethods": ["PUT", "GET", "HEAD"],
        "AllowedHeaders": ["content-type"],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 3600,
    }


def lifecycle_rule(days: int) -> dict:
    return {
        "ID": LIFECYCLE_ID,
        "Filter": {"Prefix": "temp/"},
        "Status": "Enabled",
        "Expiration": {"Days": days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
    }


def existing(call, key: str, missing: str) -> list[dict]:
    try:
        return call()[key]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == missing:
            return []
        raise


def apply_rules(backend: S3Backend, origins: list[str], temp_days: int = 1) -> dict:
    """Put our CORS and lifecycle rules on the bucket, keeping everyone else's; return them."""
    client, bucket = backend.client, backend.bucket

    cors = [
        rule
        for rule in existing(
            lambda: client.get_bucket_cors(Bucket=bucket), "CORSRules", "NoSuchCORSConfiguration"
        )
        if rule.get("ID") != CORS_ID
    ]
    cors.append(cors_rule(origins))
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cors})

    lifecycle = [
        rule
        for rule in existing(
            lambda: client.get_bucket_lifecycle_configuration(Bucket=bucket),
            "Rules",
            "NoSuchLifecycleConfiguration",
        )
        if rule.get("ID") != LIFECYCLE_ID
    ]
    lifecycle.append(lifecycle_rule(temp_days))
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle}
    )

    return {"cors": cors, "lifecycle": lifecycle}


def create_bucket(backend: S3Backend, region: str) -> bool:
    """Create the bucket if it does not exist; return whether it was created."""
    try:
        backend.client.head_bucket(Bucket=backend.bucket)
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise

    options = {}
    if region and region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    backend.client.create_bucket(Bucket=backend.bucket, **options)
    return True
