"""A RabbitMQ virtual host of its own for each test run, so runs and leftovers never meet."""

import subprocess
import uuid


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


class VirtualHost:
    def __init__(self, host: str = "127.0.0.1", port: int = 5672):
        self.name = f"hayon-test-{uuid.uuid4().hex[:10]}"
        self.url = f"amqp://guest:guest@{host}:{port}/{self.name}"

    def create(self) -> "VirtualHost":
        rabbitmqctl("add_vhost", self.name)
        rabbitmqctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")
        return self

    def delete(self) -> None:
        rabbitmqctl("delete_vhost", self.name)
