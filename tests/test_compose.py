"""compose.yaml, the production profile: valid, watched, secret-free, and in step with the docs.

Docker's daemon is not available here, so the file is checked by `docker-compose config`
(the Compose schema, no daemon needed) and by reading it as data.
"""

import re
import shlex
import shutil
import subprocess
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


def compose_tool() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    return None


def test_it_is_a_valid_compose_file_for_docker_compose(tmp_path):
    tool = compose_tool()
    if tool is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    (tmp_path / "compose.yaml").write_text(COMPOSE.read_text())
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text().replace("change-me", "not-secret"))

    result = subprocess.run(
        [*tool, "--file", "compose.yaml", "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr


def test_it_refuses_to_start_without_the_secrets(tmp_path):
    tool = compose_tool()
    if tool is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    (tmp_path / "compose.yaml").write_text(COMPOSE.read_text())
    (tmp_path / ".env").write_text("")

    result = subprocess.run(
        [*tool, "--file", "compose.yaml", "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

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
