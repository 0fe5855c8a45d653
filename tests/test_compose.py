"""compose.yaml, the production profile: valid, watched, secret-free, and in step with the docs.

Docker's daemon is not available here, so the file is checked by `docker-compose config`
(the Compose schema and interpolation, no daemon needed; scripts/test installs it) and by
reading it as data.
"""

import copy
import operator
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from functools import reduce
from pathlib import Path

import pytest
import yaml

from hayon import topology
from hayon.health import build_parser
from tests.conftest import ROOT

COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
OPERATIONS = ROOT / "docs" / "operations.md"
RUN_SCRIPT = ROOT / "scripts" / "run"  # what the README's run command starts

SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEYS?$|_KEY_ID$|BASIC_AUTH|BROKER_API|_URL$")
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
# How each process is started, as the README's run command (scripts/run) starts it.
RUN_ENTRIES = (
    "gunicorn hayon.wsgi",
    "celery -A hayon worker --pool threads",
    "celery -A hayon beat",
    "manage.py migrate --noinput",
)
DATA_DIRS = {
    "postgres": "/var/lib/postgresql/data",
    "rabbitmq": "/var/lib/rabbitmq",
    "s3": "/data",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def is_one_off(service: dict) -> bool:
    return service.get("restart") == "no"


def hayon_services(services: dict) -> dict:
    return {name: s for name, s in services.items() if s.get("image", "").startswith("${HAYON")}


def command_line(service: dict) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else shlex.join(command)


def queues_of(service: dict) -> set[str]:
    command = service["command"]
    return set(command[command.index("--queues") + 1].split(","))


def env_example() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {name: value for name, value in pairs}


def compose_tool() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    pytest.fail(
        "docker-compose is missing: scripts/test installs it (apt-get install docker-compose)"
    )


def compose_config(
    tmp_path: Path, compose_text: str, env_text: str
) -> subprocess.CompletedProcess:
    """Run `config --quiet` on a copy of a compose file with its .env beside it."""
    (tmp_path / "compose.yaml").write_text(compose_text)
    (tmp_path / ".env").write_text(env_text)

    return subprocess.run(
        [*compose_tool(), "--file", "compose.yaml", "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def filled_env() -> str:
    return ENV_EXAMPLE.read_text().replace("change-me", "not-secret")


def test_it_is_a_valid_compose_file_for_docker_compose(tmp_path):
    result = compose_config(tmp_path, COMPOSE.read_text(), filled_env())

    assert result.returncode == 0, result.stderr


# A copy of compose.yaml broken in one place each, and what docker-compose must say about it.
BROKEN = {
    "misspelt key": (("services", "web", "healthchek"), {"test": ["CMD", "true"]}, "healthchek"),
    "wrong type": (("services", "web", "ports"), "8000:8000", "services.web.ports"),
    "unknown service": (
        ("services", "beat", "depends_on", "cache"),
        {"condition": "service_healthy"},
        "service 'cache' which is undefined",
    ),
    "undeclared volume": (("volumes",), {}, "no declaration was found in the volumes section"),
}


@pytest.mark.parametrize(("where", "value", "complaint"), BROKEN.values(), ids=BROKEN.keys())
def test_it_rejects_a_broken_copy_of_the_compose_file(tmp_path, compose, where, value, complaint):
    broken = copy.deepcopy(compose)
    *parents, key = where
    reduce(operator.getitem, parents, broken)[key] = value

    result = compose_config(tmp_path, yaml.safe_dump(broken), filled_env())

    assert result.returncode != 0
    assert complaint in result.stderr


def test_it_refuses_to_start_without_the_secrets(tmp_path):
    result = compose_config(tmp_path, COMPOSE.read_text(), "")

    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_it_has_the_production_services(services):
    assert {"postgres", "rabbitmq", "s3", "web", "worker", "beat", "flower"} <= set(services)
    assert services["rabbitmq"]["image"].endswith("-management")


def test_it_gives_every_long_running_service_a_healthcheck(services):
    for name, service in services.items():
        if is_one_off(service):
            continue
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert len(check["test"]) > 1, name


def test_its_hayon_healthchecks_are_commands_hayon_health_understands(services):
    for name, service in hayon_services(services).items():
        if is_one_off(service):
            continue
        argv = service["healthcheck"]["test"][1:]
        assert argv[:3] == ["python", "-m", "hayon.health"], name
        build_parser().parse_args(argv[3:])


def test_it_takes_every_secret_from_the_env_file(services):
    documented = env_example()
    for name, service in services.items():
        environment = service.get("environment") or {}
        for variable, value in environment.items():
            if not SECRET_NAME.search(variable) or variable.endswith("ENDPOINT_URL"):
                continue
            used = INTERPOLATION.findall(str(value))
            assert used, f"{name}: {variable} is written into compose.yaml instead of .env"
            for source in used:
                assert source in documented, f"{name}: {source} is missing from .env.example"

    for name, service in hayon_services(services).items():
        assert service["env_file"] == ".env", name


def test_it_documents_every_value_it_interpolates():
    documented = env_example()
    used = set(INTERPOLATION.findall(COMPOSE.read_text()))

    assert used - {"HAYON_IMAGE"} <= set(documented)


def test_its_example_env_holds_placeholders_not_secrets():
    values = env_example()
    for name in ("SECRET_KEY", "HAYON_CREDENTIALS_KEYS", "POSTGRES_PASSWORD", "RABBITMQ_PASSWORD"):
        assert values[name] == "change-me", name
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_it_keeps_data_in_named_volumes(compose, services):
    declared = set(compose["volumes"])
    for name, path in DATA_DIRS.items():
        mounts = [v.split(":") for v in services[name]["volumes"]]
        assert [m for m in mounts if m[0] in declared and m[1] == path], f"{name}: {path}"

    # RabbitMQ stores data under its node name, taken from the host name.
    assert services["rabbitmq"]["hostname"] == "rabbitmq"


def test_it_runs_exactly_one_beat(services):
    beats = [s for s in services.values() if " beat" in command_line(s)]

    assert len(beats) == 1
    assert beats[0]["deploy"]["replicas"] == 1


def test_its_workers_consume_every_queue_but_the_parking_lot(services):
    workers = [s for s in hayon_services(services).values() if " worker " in command_line(s)]
    consumed = set().union(*(queues_of(w) for w in workers))

    assert consumed == {q.name for q in topology.task_queues()}
    assert topology.PARKING_QUEUE_NAME not in consumed
    assert any(queues_of(w) == {"posts.instagram"} for w in workers), "no dedicated example"


def test_it_runs_the_commands_docs_operations_gives(services):
    operations = " ".join(OPERATIONS.read_text().split())
    for name, service in hayon_services(services).items():
        assert command_line(service) in operations, f"{name}'s command is not in the docs"


def test_it_runs_the_programs_the_readme_run_command_runs(services):
    run_script = RUN_SCRIPT.read_text().replace(".venv/bin/", "")
    for name, service in hayon_services(services).items():
        line = command_line(service).replace("python manage.py", "manage.py")
        if " flower" in line:
            continue  # a production-only watcher: the laptop run has no use for it
        entries = [entry for entry in RUN_ENTRIES if entry in line]
        assert entries, f"{name} runs something the README's run command does not: {line}"
        assert entries[0] in run_script, f"{name}: {entries[0]} is not in {RUN_SCRIPT.name}"


def test_its_image_starts_the_web_command_by_default(services):
    dockerfile = (ROOT / "Dockerfile").read_text()
    default = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)

    assert default
    assert yaml.safe_load(default.group(1)) == services["web"]["command"]


def test_its_image_leaves_secrets_and_local_data_out():
    ignored = (ROOT / ".dockerignore").read_text().split()

    assert {".env", ".git", ".venv", "data"} <= set(ignored)
    assert Path(ROOT / "Dockerfile").read_text().count("USER hayon") == 1


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_this_machine(argv: list[str], ports: dict[str, str], tmp_path) -> list[str]:
    """Return a compose command as it runs here: loopback ports, state under tmp_path."""
    replaced = []
    for arg in argv:
        for old, new in ports.items():
            arg = arg.replace(old, new)
        replaced.append(arg.replace("/var/lib/hayon/beat", str(tmp_path)))
    return replaced


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_its_services_start_in_production_mode_and_pass_their_healthchecks(
    services, worker_env, tmp_path
):
    from cryptography.fernet import Fernet

    from tests.support.rabbitmq import VirtualHost

    vhost = VirtualHost().create()
    web_port, flower_port = str(free_port()), str(free_port())
    ports = {
        "0.0.0.0:8000": f"127.0.0.1:{web_port}",
        "127.0.0.1:8000": f"127.0.0.1:{web_port}",
        "--port=5555": f"--port={flower_port}",
        "127.0.0.1:5555": f"127.0.0.1:{flower_port}",
    }
    # compose.yaml's own settings, less those it fills in from .env.
    fixed = {k: v for k, v in services["web"]["environment"].items() if "${" not in v}
    env = {
        **worker_env,
        **fixed,
        "CELERY_BROKER_URL": vhost.url,
        "HAYON_ENV": "production",
        "SECRET_KEY": "a-production-secret-key-of-more-than-32-characters",
        "HAYON_CREDENTIALS_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "HAYON_HEARTBEAT_DIR": str(tmp_path),
        "HAYON_DISPATCH_INTERVAL": "2",
        "HAYON_FETCH_ALLOW_PRIVATE": "false",  # production refuses it; worker_env turns it on
        # The image has its programs on PATH; here they are in the virtualenv running pytest.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    names = ["web", "worker", "beat", "flower"]
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in names}
    processes: dict[str, subprocess.Popen] = {}

    def healthy(name: str) -> bool:
        argv = on_this_machine(services[name]["healthcheck"]["test"][1:], ports, tmp_path)
        check = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, timeout=60)
        return check.returncode == 0

    try:
        for name in names:
            processes[name] = subprocess.Popen(
                on_this_machine(services[name]["command"], ports, tmp_path),
                cwd=ROOT, env=env, stdout=logs[name], stderr=subprocess.STDOUT,
            )  # fmt: skip
        for name in names:
            deadline = time.monotonic() + 60
            while not healthy(name):
                log = (tmp_path / f"{name}.log").read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, f"{name} never became healthy:\n{log}"
                time.sleep(1)
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs.values():
            log.close()
        vhost.delete()
