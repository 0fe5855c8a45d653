"""The errors every platform module raises, and nothing else.

The worker maps each class to one outcome in posts/publishing.py: a publisher never decides
about retries itself. `message` is written for the person who made the post and is stored on
the delivery; `code` is stable for API clients and admins.
"""


class PublishError(Exception):
    """A platform call did not publish. Subclasses say what to do next."""

    default_code = "platform_error"

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.http_status = http_status


class TransientError(PublishError):
    """Worth retrying later: a timeout before the request was sent, a 5xx on a read, a blip."""

    default_code = "transient"


class RateLimited(TransientError):
    """The platform asked us to wait `retry_after` seconds before the next call."""

    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = max(0.0, float(retry_after))


class AuthExpired(PublishError):
    """The access token is no longer accepted; refreshing the credentials may fix it."""

    default_code = "auth_expired"


class ReconnectRequired(PublishError):
    """The credentials cannot be refreshed: a person must reconnect the account."""

    default_code = "reconnect_required"


class PermanentError(PublishError):
    """The platform refused the post for a reason that retrying will not change."""

    default_code = "rejected"


class Unconfirmed(PublishError):
    """A create call may or may not have published: reconcile before doing anything else."""

    default_code = "unconfirmed"

    # Set by the worker when reconciling could not tell: then a person must decide.
    from_reconcile = False
