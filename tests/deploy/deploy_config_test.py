#!/usr/bin/python3
"""Checks of the deployment files in docker/ and deploy/ against each other and the binaries.

The files must parse, and docker-compose, promtool and kubectl kustomize must accept them. Each
tool check is skipped when its tool is not installed. Images must be pinned public images or
ones built here, and Dockerfile COPY sources must exist. Every flag and REFTUNE_ environment
variable given to a reftune binary must appear in that binary's --help. Every declared port,
probe, scrape target and service address must match a port that the service is configured to
listen on. Metric names and labels in the dashboard and alert rules must be those of core/metrics.

Environment: REFTUNE_BUILD_DIR, the CMake build folder with the built binaries (set by CTest;
default build/ in the repository).

Nothing here builds an image or starts a container: no Docker engine is needed.
"""
import functools
import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import unittest

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import deploy_metric_names  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("REFTUNE_BUILD_DIR", REPO_ROOT / "build"))
DOCKER_DIR = REPO_ROOT / "docker"
COMPOSE_FILE = DOCKER_DIR / "compose.yaml"
KUBERNETES_DIR = REPO_ROOT / "deploy" / "kubernetes"
PROMETHEUS_DIR = REPO_ROOT / "deploy" / "prometheus"
GRAFANA_DIR = REPO_ROOT / "deploy" / "grafana"
OPERATIONS_DOC = REPO_ROOT / "docs" / "operations.md"
METRICS_SOURCE = REPO_ROOT / "core" / "metrics" / "metrics.cc"

# The reftune binaries, by the name a container runs them under, and their place in the build.
BINARIES = {
    "reftune-gateway": "services/gateway/reftune-gateway",
    "reftune-filter": "services/filter/reftune-filter",
    "reftune-worker": "services/worker/reftune-worker",
    "reftune": "services/cli/reftune",
}

# Public images that compose and the manifests may run, with the port each one serves.
PUBLIC_IMAGE_PORTS = {"postgres": 5432, "prom/prometheus": 9090, "grafana/grafana": 3000}
# Public images that Dockerfiles may build on.
PUBLIC_BASE_IMAGES = {"debian", "nvidia/cuda"}

# In every build stage the sources are copied to /src and CMake builds into /src/build.
IMAGE_SOURCE_DIR = "/src"
IMAGE_BUILD_DIR = "/src/build"

# Settings whose values are listen addresses, as a flag and its environment variable.
LISTEN_SETTINGS = {
    "--listen": "REFTUNE_LISTEN",
    "--health-listen": "REFTUNE_HEALTH_LISTEN",
    "--metrics-listen": "REFTUNE_METRICS_LISTEN",
}
GRPC_LISTEN_FLAGS = ("--listen", "--health-listen")

# Environment variables read by a library rather than parsed as a flag, with the file that reads
# them.
LIBRARY_ENVIRONMENT = {
    "REFTUNE_SENTENCEPIECE_MODULE": REPO_ROOT / "core" / "model" / "sentencepiece_tokenizer.cc",
}

# Labels of each labelled family (core/metrics/metrics.h and the code that adds the children).
METRIC_LABELS = {
    "reftune_grpc_server_requests_total": {"method", "code"},
    "reftune_grpc_server_request_duration_seconds": {"method"},
    "reftune_jobs": {"state"},
    "reftune_job_duration_seconds": {"kind", "outcome"},
    "reftune_filter_prompts_total": {"decision"},
    "reftune_dataset_rejections_total": {"reason"},
}
# Labels that Prometheus adds to every scraped series.
TARGET_LABELS = {"job", "instance"}
# Values of the labels with a fixed set of values, and the source file that writes them.
LABEL_VALUES = {
    "state": ({"QUEUED", "SCREENING", "TRAINING", "EVALUATING", "EXPORTING", "SUCCEEDED",
               "FAILED", "CANCELLED", "CANCELLING"}, "core/jobs/job_state.cc"),
    "kind": ({"finetune", "teacher"}, "services/worker/worker.cc"),
    "outcome": ({"succeeded", "failed", "cancelled", "released", "lease_lost"},
                "services/worker/worker.cc"),
    "decision": ({"kept", "filtered"}, "services/filter/filter_service_impl.cc"),
    "reason": ({"validation", "size_limit", "quota", "checksum"},
               "services/gateway/dataset_ingest.cc"),
    "code": ({"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
              "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
              "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
              "UNAUTHENTICATED"}, "services/common/metrics_interceptor.cc"),
}

# Shared libraries that every Debian 12 image has before apt-get installs anything.
DEBIAN_BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6"}


# ---------------------------------------------------------------------------------------------
# Loading the files


def load_yaml_documents(path):
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


def interpolate_compose(value):
    """Replace ${NAME:-default} and ${NAME-default} with the default and ${NAME} with ""."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}",
                  lambda match: match.group(1) or "", value)


@functools.lru_cache(maxsize=None)
def compose_services():
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def kubernetes_files():
    return sorted(path for path in KUBERNETES_DIR.glob("*.yaml")
                  if path.name != "kustomization.yaml")


@functools.lru_cache(maxsize=None)
def kubernetes_objects():
    objects = []
    for path in kubernetes_files():
        for document in load_yaml_documents(path):
            objects.append((path.name, document))
    return objects


def objects_of_kind(kind):
    return [document for _, document in kubernetes_objects() if document.get("kind") == kind]


def dockerfiles():
    return sorted(path for path in DOCKER_DIR.glob("Dockerfile.*")
                  if not path.name.endswith(".dockerignore"))


def image_dockerfile(image):
    """Return the docker/Dockerfile.<name> that builds reftune/<name>, or None."""
    name, _ = split_image(image)
    if not name.startswith("reftune/"):
        return None
    return DOCKER_DIR / f"Dockerfile.{name[len('reftune/'):]}"


def split_image(image):
    """Split an image reference into its name and tag ("" when it has none)."""
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = image.rsplit(":", 1)
        return name, tag
    return image, ""


# ---------------------------------------------------------------------------------------------
# Dockerfiles


class Stage:
    def __init__(self, base, name):
        self.base = base
        self.name = name
        self.instructions = []  # (keyword, arguments, line number)

    def all(self, keyword):
        return [(arguments, line) for found, arguments, line in self.instructions
                if found == keyword]

    def run_text(self):
        return "\n".join(arguments for arguments, _ in self.all("RUN"))


def dockerfile_instructions(path):
    """Yield (line number, keyword, arguments), joining continuation lines and dropping comments."""
    pending = ""
    start = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if start is None:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        keyword, _, arguments = pending.strip().partition(" ")
        yield start, keyword.upper(), arguments.strip()
        pending, start = "", None


@functools.lru_cache(maxsize=None)
def parse_dockerfile(path):
    stages = []
    for line, keyword, arguments in dockerfile_instructions(path):
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
            continue
        if not stages:
            continue  # ARG before the first FROM
        stages[-1].instructions.append((keyword, arguments, line))
    return stages


def exec_form(arguments):
    """Parse a JSON array (exec form) or a shell-form command into an argument list."""
    if arguments.startswith("["):
        return json.loads(arguments)
    return shlex.split(arguments)


def env_pairs(arguments):
    words = shlex.split(arguments)
    if all("=" in word for word in words):
        return dict(word.split("=", 1) for word in words)
    return {words[0]: " ".join(words[1:])}


def copy_parts(arguments):
    """Return (options, sources, destination) of a COPY or ADD instruction."""
    words = exec_form(arguments) if arguments.startswith("[") else shlex.split(arguments)
    options = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        options[key] = value
    return options, words[:-1], words[-1]


def healthcheck_command(arguments):
    """Return the command of HEALTHCHECK [options] CMD ..., or None for HEALTHCHECK NONE."""
    match = re.search(r"(^|\s)CMD\s+(.*)$", arguments)
    if not match:
        return None
    return exec_form(match.group(2).strip())


class Image:
    """What the final stage of a Dockerfile sets for the containers that run it."""

    def __init__(self, path):
        self.path = path
        self.stages = parse_dockerfile(path)
        final = self.stages[-1]
        self.environment = {}
        for arguments, _ in final.all("ENV"):
            self.environment.update(env_pairs(arguments))
        entrypoints = final.all("ENTRYPOINT")
        commands = final.all("CMD")
        self.entrypoint = exec_form(entrypoints[-1][0]) if entrypoints else []
        self.command = exec_form(commands[-1][0]) if commands else []
        self.exposed = set()
        for arguments, _ in final.all("EXPOSE"):
            self.exposed |= {int(port.split("/")[0]) for port in arguments.split()}
        healthchecks = final.all("HEALTHCHECK")
        self.healthcheck = healthcheck_command(healthchecks[-1][0]) if healthchecks else None
        users = final.all("USER")
        self.user = users[-1][0] if users else None


@functools.lru_cache(maxsize=None)
def load_image(path):
    return Image(path)


# ---------------------------------------------------------------------------------------------
# Containers: one process configuration from compose, a manifest or an image's defaults


class Container:
    def __init__(self, where, image, argv, environment):
        self.where = where
        self.image = image
        self.argv = argv
        self.environment = environment
        self.declared_ports = []  # (port, origin) that must be listen ports
        self.probe_ports = []  # (port, origin) that must be gRPC listen ports
        self.health_commands = []  # argument lists of health check commands
        self.exact_ports = False  # whether declared ports must cover every listen port

    @property
    def binary(self):
        return pathlib.PurePosixPath(self.argv[0]).name if self.argv else None

    @property
    def subcommand(self):
        """Leading positional arguments: a subcommand such as `migrate`."""
        words = []
        for word in self.argv[1:]:
            if word.startswith("-"):
                break
            words.append(word)
        return words

    def setting(self, flag):
        """Return the value of a flag from the command line or else its environment variable."""
        value = flag_value(self.argv, flag)
        if value is None and flag in LISTEN_SETTINGS:
            value = self.environment.get(LISTEN_SETTINGS[flag])
        return value

    def listen_ports(self):
        """Return {flag: port} for every listen address this container configures."""
        ports = {}
        for flag in LISTEN_SETTINGS:
            value = self.setting(flag)
            if value:
                ports[flag] = address_port(value)
        return ports


def flag_value(argv, flag):
    for index, word in enumerate(argv):
        if word == flag and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None


def address_port(address):
    return int(address.rsplit(":", 1)[1])


def address_host(address):
    return address.rsplit(":", 1)[0]


def is_loopback(host):
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.")


def compose_environment(service):
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: interpolate_compose(str(value)) for key, value in environment.items()}


def compose_command(value):
    if value is None:
        return None
    return shlex.split(value) if isinstance(value, str) else [str(word) for word in value]


def compose_dockerfile(service):
    build = service.get("build")
    if isinstance(build, dict) and build.get("dockerfile"):
        context = (DOCKER_DIR / build.get("context", ".")).resolve()
        return context / build["dockerfile"]
    image = service.get("image")
    return image_dockerfile(interpolate_compose(image)) if image else None


def compose_containers():
    containers = {}
    for name, service in compose_services().items():
        image = interpolate_compose(service.get("image", ""))
        dockerfile = compose_dockerfile(service)
        defaults = load_image(dockerfile) if dockerfile and dockerfile.exists() else None
        entrypoint = compose_command(service.get("entrypoint"))
        command = compose_command(service.get("command"))
        # As in Docker, an entrypoint override also drops the image's CMD.
        if defaults is not None and entrypoint is None:
            entrypoint = defaults.entrypoint
            command = defaults.command if command is None else command
        argv = (entrypoint or []) + (command or [])
        environment = dict(defaults.environment) if defaults else {}
        environment.update(compose_environment(service))
        container = Container(f"compose service {name}", image, argv, environment)
        for port in service.get("ports", []):
            container.declared_ports.append(
                (int(str(port).split(":")[-1].split("/")[0]), f"published port {port}"))
        for port in service.get("expose", []):
            container.declared_ports.append((int(str(port).split("/")[0]), f"expose {port}"))
        healthcheck = service.get("healthcheck") or {}
        if not healthcheck.get("disable"):
            test = healthcheck.get("test")
            if isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
                test = test[1:] if test[0] == "CMD" else shlex.split(test[1])
                container.health_commands.append(test)
            elif defaults is not None and defaults.healthcheck:
                container.health_commands.append(defaults.healthcheck)
        containers[name] = container
    return containers


def kubernetes_pod_specs():
    """Yield (kind, name, pod template) for every Deployment and Job."""
    for _, document in kubernetes_objects():
        if document.get("kind") in ("Deployment", "Job"):
            yield document["kind"], document["metadata"]["name"], document["spec"]["template"]


def configmap_data(name):
    for configmap in objects_of_kind("ConfigMap"):
        if configmap["metadata"]["name"] == name:
            return {key: str(value) for key, value in configmap.get("data", {}).items()}
    raise AssertionError(f"no ConfigMap named {name} in {KUBERNETES_DIR}")


def kubernetes_containers():
    containers = []
    for kind, name, template in kubernetes_pod_specs():
        for spec in template["spec"]["containers"]:
            dockerfile = image_dockerfile(spec["image"])
            defaults = load_image(dockerfile) if dockerfile and dockerfile.exists() else None
            if "command" in spec:
                argv = list(spec["command"]) + list(spec.get("args", []))
            else:
                entrypoint = defaults.entrypoint if defaults else []
                args = spec.get("args", defaults.command if defaults else [])
                argv = list(entrypoint) + list(args)
            environment = dict(defaults.environment) if defaults else {}
            for source in spec.get("envFrom", []):
                if "configMapRef" in source:
                    environment.update(configmap_data(source["configMapRef"]["name"]))
            for variable in spec.get("env", []):
                environment[variable["name"]] = str(variable.get("value", "<from a reference>"))
            where = f"{kind} {name} container {spec['name']}"
            container = Container(where, spec["image"], [str(word) for word in argv], environment)
            container.exact_ports = True
            for port in spec.get("ports", []):
                container.declared_ports.append((port["containerPort"], f"port {port.get('name')}"))
            for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
                probe = spec.get(probe_name)
                if not probe:
                    continue
                if "grpc" in probe:
                    container.probe_ports.append((probe["grpc"]["port"], probe_name))
                if "exec" in probe:
                    container.health_commands.append(probe["exec"]["command"])
            containers.append(container)
    return containers


def image_containers():
    containers = []
    for path in dockerfiles():
        image = load_image(path)
        container = Container(f"{path.name} defaults", path.name, image.entrypoint + image.command,
                              dict(image.environment))
        container.exact_ports = True
        container.declared_ports = [(port, "EXPOSE") for port in sorted(image.exposed)]
        if image.healthcheck:
            container.health_commands.append(image.healthcheck)
        containers.append(container)
    return containers


def health_check_ports(container):
    """Return the --server ports of the container's `reftune health` commands."""
    ports = []
    for command in container.health_commands:
        if pathlib.PurePosixPath(command[0]).name == "reftune" and command[1:2] == ["health"]:
            server = flag_value(command, "--server")
            if server:
                ports.append((address_port(server), f"`{' '.join(command)}`"))
    return ports


# ---------------------------------------------------------------------------------------------
# Binaries


@functools.lru_cache(maxsize=None)
def help_text(binary, subcommand=()):
    """Return the --help output of a built reftune binary or one of its subcommands."""
    path = BUILD_DIR / BINARIES[binary]
    if not path.exists():
        raise AssertionError(f"{path} is missing; build the {binary} target first")
    result = subprocess.run([str(path), *subcommand, "--help"], capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"{binary} {' '.join(subcommand)} --help exited with "
                             f"{result.returncode}: {result.stderr.strip()}")
    return result.stdout + result.stderr


def help_has_flag(text, flag):
    return re.search(r"(?<![\w-])" + re.escape(flag) + r"(?![\w-])", text) is not None


def flags_of(argv):
    return [word.split("=", 1)[0] for word in argv if word.startswith("--")]


# ---------------------------------------------------------------------------------------------
# PromQL


def metric_types():
    """Return {family name: Counter|Gauge|Histogram} from core/metrics/metrics.cc."""
    text = METRICS_SOURCE.read_text()
    return dict((name, kind) for kind, name in
                re.findall(r"Build(Counter|Gauge|Histogram)\(\)\s*\.Name\(\"([^\"]+)\"\)", text))


SELECTOR = re.compile(r"(?<![A-Za-z0-9_:])(reftune_[A-Za-z0-9_]*)\s*(\{[^}]*\})?")
MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*\"((?:[^\"\\]|\\.)*)\"")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def github_anchors(markdown):
    """Return the heading anchors GitHub generates for a Markdown document."""
    anchors = set()
    seen = {}
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip()
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def run_tool(arguments, cwd):
    return subprocess.run(arguments, cwd=cwd, capture_output=True, text=True, timeout=300)


# ---------------------------------------------------------------------------------------------
# Tests


class FilesParseTest(unittest.TestCase):
    def test_compose_parses(self):
        compose = yaml.safe_load(COMPOSE_FILE.read_text())
        self.assertIn("services", compose)
        for name in ("postgres", "gateway", "filter", "worker", "prometheus", "grafana"):
            self.assertIn(name, compose["services"], f"compose has no {name} service")

    def test_manifests_parse(self):
        self.assertTrue(kubernetes_files(), f"no manifests in {KUBERNETES_DIR}")
        for path in kubernetes_files():
            documents = load_yaml_documents(path)
            self.assertTrue(documents, f"{path.name} is empty")
            for document in documents:
                for field in ("apiVersion", "kind", "metadata"):
                    self.assertIn(field, document, f"{path.name}: an object without {field}")
                self.assertIn("name", document["metadata"], f"{path.name}: {document['kind']}")

    def test_every_yaml_file_parses(self):
        for folder in (DOCKER_DIR, PROMETHEUS_DIR, GRAFANA_DIR, KUBERNETES_DIR):
            for path in sorted(folder.rglob("*.y*ml")):
                with self.subTest(path=str(path.relative_to(REPO_ROOT))):
                    self.assertTrue(load_yaml_documents(path))

    def test_dashboard_parses(self):
        dashboards = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))
        self.assertTrue(dashboards)
        for path in dashboards:
            dashboard = json.loads(path.read_text())
            self.assertTrue(dashboard.get("panels"), f"{path.name} has no panels")
            ids = [panel["id"] for panel in dashboard["panels"]]
            self.assertEqual(len(ids), len(set(ids)), f"{path.name} repeats a panel id")


class ExternalToolsTest(unittest.TestCase):
    def require(self, tool):
        path = shutil.which(tool)
        if path is None:
            self.skipTest(f"{tool} is not installed, so this check did not run")
        return path

    def test_docker_compose_config(self):
        tool = self.require("docker-compose")
        result = run_tool([tool, "-f", str(COMPOSE_FILE), "config", "-q"], REPO_ROOT)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_promtool_check_config(self):
        tool = self.require("promtool")
        result = run_tool([tool, "check", "config", "prometheus.yml"], PROMETHEUS_DIR)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_promtool_check_rules(self):
        tool = self.require("promtool")
        result = run_tool([tool, "check", "rules", "alerts.yml"], PROMETHEUS_DIR)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_promtool_test_rules(self):
        tool = self.require("promtool")
        result = run_tool([tool, "test", "rules", "alerts_test.yml"], PROMETHEUS_DIR)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_kubectl_kustomize(self):
        tool = self.require("kubectl")
        result = run_tool([tool, "kustomize", str(KUBERNETES_DIR)], REPO_ROOT)
        self.assertEqual(result.returncode, 0, result.stderr)


class ImagesTest(unittest.TestCase):
    def referenced_images(self):
        for name, service in compose_services().items():
            if service.get("image"):
                yield f"compose service {name}", interpolate_compose(service["image"])
        for kind, name, template in kubernetes_pod_specs():
            for spec in template["spec"]["containers"]:
                yield f"{kind} {name}", spec["image"]

    def test_images_pinned_or_built_here(self):
        for where, image in self.referenced_images():
            with self.subTest(where=where, image=image):
                name, tag = split_image(image)
                if name.startswith("reftune/"):
                    self.assertTrue(image_dockerfile(image).exists(),
                                    f"no {image_dockerfile(image).name} builds {image}")
                else:
                    self.assertIn(name, PUBLIC_IMAGE_PORTS, "not a known public image")
                    self.assertRegex(tag, r"\d", "a public image must be pinned by a version tag")

    def test_compose_builds_tag_their_dockerfile(self):
        for name, service in compose_services().items():
            if "build" not in service:
                continue
            with self.subTest(service=name):
                image = interpolate_compose(service.get("image", ""))
                self.assertEqual(compose_dockerfile(service), image_dockerfile(image),
                                 f"image {image} is built from another Dockerfile")

    def test_kustomization_lists_every_manifest(self):
        kustomization = yaml.safe_load((KUBERNETES_DIR / "kustomization.yaml").read_text())
        self.assertEqual(sorted(kustomization["resources"]),
                         sorted(path.name for path in kubernetes_files()))
        for entry in kustomization.get("images", []):
            self.assertTrue(image_dockerfile(entry["name"]).exists(), entry["name"])


class DockerfileTest(unittest.TestCase):
    def test_every_image_has_a_dockerfile(self):
        names = {path.name for path in dockerfiles()}
        for name in ("Dockerfile.gateway", "Dockerfile.filter", "Dockerfile.worker",
                     "Dockerfile.worker-cuda"):
            self.assertIn(name, names)

    def test_base_images_pinned(self):
        for path in dockerfiles():
            stage_names = set()
            for stage in parse_dockerfile(path):
                with self.subTest(dockerfile=path.name, base=stage.base):
                    if stage.base not in stage_names:
                        name, tag = split_image(stage.base)
                        self.assertIn(name, PUBLIC_BASE_IMAGES)
                        self.assertRegex(tag, r"\d", "base images must be pinned by a version tag")
                if stage.name:
                    stage_names.add(stage.name)

    def test_multi_stage_non_root_with_health_check(self):
        for path in dockerfiles():
            with self.subTest(dockerfile=path.name):
                image = load_image(path)
                self.assertGreaterEqual(len(image.stages), 2, "expected a build and a run stage")
                self.assertIsNotNone(image.user, "the final stage sets no USER")
                self.assertNotIn(image.user.split(":")[0], ("root", "0"))
                self.assertIsNotNone(image.healthcheck, "no HEALTHCHECK")
                self.assertEqual(image.healthcheck[:2], ["reftune", "health"])
                self.assertTrue(image.entrypoint, "no ENTRYPOINT")
                self.assertIn(image.entrypoint[0], BINARIES)

    def test_copy_sources_exist(self):
        for path in dockerfiles():
            stages = parse_dockerfile(path)
            by_name = {stage.name: stage for stage in stages if stage.name}
            ignore = path.with_name(path.name + ".dockerignore")
            allowed = self.context_allowlist(ignore) if ignore.exists() else None
            for stage in stages:
                for keyword in ("COPY", "ADD"):
                    for arguments, line in stage.all(keyword):
                        options, sources, _ = copy_parts(arguments)
                        for source in sources:
                            with self.subTest(dockerfile=path.name, line=line, source=source):
                                if "from" in options:
                                    self.check_stage_source(by_name[options["from"]], source)
                                else:
                                    self.assertTrue((REPO_ROOT / source).exists(),
                                                    f"{source} is not in the repository")
                                    if allowed is not None:
                                        self.assertTrue(
                                            any(source == entry or source.startswith(entry + "/")
                                                for entry in allowed),
                                            f"{ignore.name} leaves {source} out of the context")

    def context_allowlist(self, path):
        lines = [line.strip() for line in path.read_text().splitlines()
                 if line.strip() and not line.startswith("#")]
        self.assertEqual(lines[0], "*", f"{path.name} should start by excluding everything")
        return [line[1:].rstrip("/") for line in lines[1:] if line.startswith("!")]

    def check_stage_source(self, stage, source):
        if source.startswith(IMAGE_BUILD_DIR + "/"):
            relative = source[len(IMAGE_BUILD_DIR) + 1:]
            self.assertTrue((BUILD_DIR / relative).exists(),
                            f"{relative} is not in the build folder {BUILD_DIR}")
            self.assertIn(self.cmake_target(relative), self.built_targets(stage),
                          f"the build stage does not build {relative}")
        elif source.startswith(IMAGE_SOURCE_DIR + "/"):
            self.assertTrue((REPO_ROOT / source[len(IMAGE_SOURCE_DIR) + 1:]).exists(), source)
        else:
            # A file the stage makes itself: a RUN of that stage names it or its folder.
            text = stage.run_text()
            parent = str(pathlib.PurePosixPath(source).parent)
            self.assertTrue(source in text or parent in text,
                            f"no RUN of stage {stage.name} makes {source}")

    @staticmethod
    def cmake_target(relative):
        file_name = pathlib.PurePosixPath(relative).name
        if file_name.startswith("lib") and file_name.endswith(".so"):
            return file_name[3:-3]
        return file_name

    @staticmethod
    def built_targets(stage):
        match = re.search(r"--target\s+((?:[\w-]+\s*)+)", stage.run_text())
        return set(match.group(1).split()) if match else set()

    def test_cpu_runtime_packages_cover_linked_libraries(self):
        for tool in ("readelf", "ldconfig", "dpkg-query"):
            if shutil.which(tool) is None:
                self.skipTest(f"{tool} is not installed, so the linked libraries are unknown")
        for path in dockerfiles():
            if path.name == "Dockerfile.worker-cuda":
                continue  # Its runtime packages are derived from the binaries during the build.
            image = load_image(path)
            installed = self.apt_packages(image.stages[-1].run_text()) | DEBIAN_BASE_PACKAGES
            for arguments, _ in image.stages[-1].all("COPY"):
                _, sources, _ = copy_parts(arguments)
                for source in sources:
                    relative = source[len(IMAGE_BUILD_DIR) + 1:]
                    for library, package in self.linked_packages(BUILD_DIR / relative):
                        with self.subTest(dockerfile=path.name, binary=relative, library=library):
                            self.assertIn(package, installed,
                                          f"{library} comes from {package}, which is not installed")

    @staticmethod
    def apt_packages(run_text):
        packages = set()
        for command in re.findall(r"apt-get install ([^&]*)", run_text):
            packages |= {word for word in command.split() if not word.startswith("-")}
        return packages

    @staticmethod
    def linked_packages(binary):
        """Yield (soname, Debian package) for the libraries a binary needs directly."""
        dynamic = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True,
                                 check=True).stdout
        cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                               check=True).stdout
        for library in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic):
            match = re.search(r"^\s*" + re.escape(library) + r" \(libc6,x86-64[^)]*\) => (\S+)$",
                              cache, re.MULTILINE)
            if match is None:
                continue
            # With merged /usr, dpkg may record the file under /lib or /usr/lib.
            path = match.group(1)
            candidates = {path, os.path.realpath(path)}
            candidates |= {candidate[4:] if candidate.startswith("/usr/") else "/usr" + candidate
                           for candidate in list(candidates)}
            for candidate in sorted(candidates):
                owner = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True,
                                       text=True)
                if owner.returncode == 0:
                    yield library, owner.stdout.split(":")[0].strip()
                    break


class FlagsTest(unittest.TestCase):
    """Every flag and REFTUNE_ variable given to a reftune binary is one that binary has."""

    def all_containers(self):
        return list(compose_containers().values()) + kubernetes_containers() + image_containers()

    def test_flags_in_help(self):
        checked = 0
        for container in self.all_containers():
            commands = [container.argv] + container.health_commands
            for argv in commands:
                if not argv:
                    continue
                binary = pathlib.PurePosixPath(argv[0]).name
                if binary not in BINARIES:
                    continue
                subcommand = Container("", "", argv, {}).subcommand
                text = help_text(binary, tuple(subcommand))
                for flag in flags_of(argv):
                    checked += 1
                    with self.subTest(where=container.where, binary=binary, flag=flag):
                        self.assertTrue(help_has_flag(text, flag),
                                        f"`{binary} {' '.join(subcommand)} --help` lists no {flag}")
        self.assertGreater(checked, 10, "too few flags found; is the parsing broken?")

    def test_environment_variables_in_help(self):
        for container in self.all_containers():
            if container.binary not in BINARIES:
                continue
            texts = [help_text(container.binary), help_text(container.binary,
                                                              tuple(container.subcommand))]
            texts += [help_text("reftune", ("health",))] if container.health_commands else []
            for name in container.environment:
                if not name.startswith("REFTUNE_"):
                    continue
                with self.subTest(where=container.where, variable=name):
                    if name in LIBRARY_ENVIRONMENT:
                        self.assertIn(f'"{name}"', LIBRARY_ENVIRONMENT[name].read_text())
                    else:
                        self.assertTrue(any(f"Env:{name}" in text for text in texts),
                                        f"{container.binary} --help names no Env:{name}")

    def test_plaintext_remote_listen_is_allowed(self):
        # The gateway and the filter reject plaintext on a non-loopback address unless
        # --allow-insecure-remote is set.
        for container in list(compose_containers().values()) + kubernetes_containers():
            if container.binary not in ("reftune-gateway", "reftune-filter") or container.subcommand:
                continue
            listen = container.setting("--listen")
            with self.subTest(where=container.where):
                self.assertIsNotNone(listen, "no --listen or REFTUNE_LISTEN")
                if is_loopback(address_host(listen)):
                    continue
                allowed = ("--allow-insecure-remote" in container.argv
                           or container.environment.get("REFTUNE_ALLOW_INSECURE_REMOTE") == "1"
                           or container.setting("--tls-cert") is not None
                           or "REFTUNE_TLS_CERT" in container.environment)
                self.assertTrue(allowed, f"plaintext on {listen} needs --allow-insecure-remote")


class OperationsReferenceTest(unittest.TestCase):
    """docs/operations.md is the configuration reference: every server flag and variable is there."""

    SERVERS = ("reftune-gateway", "reftune-filter", "reftune-worker")

    def test_every_flag_documented(self):
        document = OPERATIONS_DOC.read_text()
        for binary in self.SERVERS:
            flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", help_text(binary))) - {"--help"}
            self.assertTrue(flags, binary)
            for flag in sorted(flags):
                with self.subTest(binary=binary, flag=flag):
                    self.assertTrue(help_has_flag(document, flag),
                                    f"{binary} {flag} is missing from {OPERATIONS_DOC.name}")

    def test_every_environment_variable_documented(self):
        document = OPERATIONS_DOC.read_text()
        for binary in self.SERVERS:
            for variable in sorted(set(re.findall(r"Env:(REFTUNE_[A-Z_]+)", help_text(binary)))):
                with self.subTest(binary=binary, variable=variable):
                    self.assertIn(f"`{variable}`", document)


class PortsTest(unittest.TestCase):
    """Declared, probed and scraped ports are ports the service listens on."""

    def check_container(self, container):
        listen = container.listen_ports()
        listen_ports = set(listen.values())
        grpc_ports = {listen[flag] for flag in GRPC_LISTEN_FLAGS if flag in listen}
        for port, origin in container.declared_ports:
            with self.subTest(where=container.where, declared=origin):
                self.assertIn(port, listen_ports, f"{origin} is not a listen port {listen}")
        if container.exact_ports:
            with self.subTest(where=container.where, check="every listen port declared"):
                self.assertEqual({port for port, _ in container.declared_ports}, listen_ports)
        for port, origin in container.probe_ports + health_check_ports(container):
            with self.subTest(where=container.where, probe=origin):
                self.assertIn(port, grpc_ports, f"{origin} probes no gRPC listen port {listen}")

    def test_image_defaults(self):
        for container in image_containers():
            self.assertTrue(container.listen_ports(), container.where)
            self.check_container(container)

    def test_compose_services(self):
        for container in compose_containers().values():
            if container.binary in BINARIES and not container.subcommand:
                self.check_container(container)

    def test_kubernetes_containers(self):
        for container in kubernetes_containers():
            if container.binary in BINARIES and not container.subcommand:
                self.check_container(container)

    def compose_service_ports(self, name):
        service = compose_services()[name]
        image_name, _ = split_image(interpolate_compose(service.get("image", "")))
        if image_name in PUBLIC_IMAGE_PORTS:
            return {"public": PUBLIC_IMAGE_PORTS[image_name]}
        return compose_containers()[name].listen_ports()

    def test_compose_addresses_name_listen_ports(self):
        services = compose_services()
        address = re.compile(r"\b([a-z][a-z0-9-]*):(\d+)\b")
        for container in compose_containers().values():
            values = container.argv + list(container.environment.values())
            for value in values:
                for host, port in address.findall(value):
                    if host not in services:
                        continue
                    with self.subTest(where=container.where, address=f"{host}:{port}"):
                        self.assertIn(int(port), self.compose_service_ports(host).values())
                for host, port in re.findall(r"host=(\S+) port=(\d+)", value):
                    with self.subTest(where=container.where, database=f"{host}:{port}"):
                        self.assertIn(host, services)
                        self.assertIn(int(port), self.compose_service_ports(host).values())

    def test_scrape_targets_are_metrics_ports(self):
        config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
        services = compose_services()
        scraped = set()
        for job in config["scrape_configs"]:
            targets = []
            for sd in job.get("dns_sd_configs", []):
                targets += [(name, sd["port"]) for name in sd["names"]]
            for static in job.get("static_configs", []):
                targets += [(address_host(target), address_port(target))
                            for target in static["targets"]]
            for host, port in targets:
                if host == "localhost":
                    continue  # Prometheus itself.
                with self.subTest(job=job["job_name"], target=f"{host}:{port}"):
                    self.assertIn(host, services)
                    self.assertEqual(self.compose_service_ports(host).get("--metrics-listen"), port)
                    scraped.add(host)
        for name, container in compose_containers().items():
            if "--metrics-listen" in container.listen_ports() and not container.subcommand:
                with self.subTest(unscraped=name):
                    self.assertIn(name, scraped, f"{name} serves metrics nobody scrapes")

    def test_grafana_datasource_reaches_prometheus(self):
        path = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"
        for datasource in yaml.safe_load(path.read_text())["datasources"]:
            match = re.match(r"https?://([^:/]+):(\d+)", datasource["url"])
            self.assertIsNotNone(match, datasource["url"])
            host, port = match.group(1), int(match.group(2))
            self.assertIn(host, compose_services())
            self.assertIn(port, self.compose_service_ports(host).values())

    def test_kubernetes_services_reach_container_ports(self):
        pods = [(template["metadata"]["labels"], template["spec"]["containers"])
                for kind, _, template in kubernetes_pod_specs() if kind == "Deployment"]
        for service in objects_of_kind("Service"):
            selector = service["spec"]["selector"]
            matched = [containers for labels, containers in pods
                       if all(labels.get(key) == value for key, value in selector.items())]
            name = service["metadata"]["name"]
            self.assertTrue(matched, f"Service {name} selects no Deployment's pods")
            for containers in matched:
                ports = [port for spec in containers for port in spec.get("ports", [])]
                for service_port in service["spec"]["ports"]:
                    target = service_port.get("targetPort", service_port["port"])
                    with self.subTest(service=name, target=target):
                        self.assertTrue(any(target in (port.get("name"), port["containerPort"])
                                            for port in ports))

    def test_kubernetes_addresses_name_service_ports(self):
        services = {service["metadata"]["name"]: service for service in objects_of_kind("Service")}
        address = re.compile(r"\b(reftune-[a-z0-9-]+)(?:\.[a-z0-9.-]+)?:(\d+)\b")
        for container in kubernetes_containers():
            for value in container.argv + list(container.environment.values()):
                for host, port in address.findall(value):
                    with self.subTest(where=container.where, address=f"{host}:{port}"):
                        self.assertIn(host, services, "no Service of that name")
                        self.assertIn(int(port),
                                      [entry["port"] for entry in services[host]["spec"]["ports"]])

    def test_prometheus_annotations_name_metrics_ports(self):
        containers = {container.where.split(" container ")[0]: container
                      for container in kubernetes_containers()}
        for kind, name, template in kubernetes_pod_specs():
            annotations = template["metadata"].get("annotations", {})
            if "prometheus.io/port" not in annotations:
                continue
            with self.subTest(deployment=name):
                container = containers[f"{kind} {name}"]
                self.assertEqual(int(annotations["prometheus.io/port"]),
                                 container.listen_ports().get("--metrics-listen"))


class ComposeTest(unittest.TestCase):
    def test_postgres_has_health_check(self):
        self.assertIn("test", compose_services()["postgres"].get("healthcheck", {}))

    def test_database_users_wait_for_migrations(self):
        for name in ("gateway", "filter", "worker"):
            with self.subTest(service=name):
                depends_on = compose_services()[name].get("depends_on", {})
                self.assertEqual(depends_on.get("migrate", {}).get("condition"),
                                 "service_completed_successfully")
        self.assertEqual(compose_services()["migrate"]["depends_on"]["postgres"]["condition"],
                         "service_healthy")

    def volume_target(self, service, source):
        for volume in compose_services()[service].get("volumes", []):
            parts = interpolate_compose(volume).split(":")
            if parts[0] == source:
                return parts[1]
        return None

    def test_artifact_volume_shared_at_artifact_root(self):
        containers = compose_containers()
        root = containers["gateway"].environment["REFTUNE_ARTIFACT_ROOT"]
        for name in ("gateway", "worker", "filter"):
            with self.subTest(service=name):
                self.assertEqual(self.volume_target(name, "artifacts"), root)
        self.assertEqual(containers["worker"].environment["REFTUNE_ARTIFACT_ROOT"], root)

    def test_data_folder_mounted_alike(self):
        data_mounts = {}
        for name in ("gateway", "filter", "worker"):
            data_mounts[name] = [volume for volume in compose_services()[name].get("volumes", [])
                                 if volume.endswith(":/var/lib/reftune/data:ro")]
            with self.subTest(service=name):
                self.assertEqual(len(data_mounts[name]), 1, "expected one read-only data mount")
        self.assertEqual(data_mounts["filter"], data_mounts["gateway"])
        self.assertEqual(data_mounts["worker"], data_mounts["gateway"])

    def test_monitoring_mounts(self):
        prometheus = compose_services()["prometheus"]
        self.assertIn("../deploy/prometheus:/etc/prometheus:ro", prometheus["volumes"])
        grafana = compose_services()["grafana"]
        provider = yaml.safe_load(
            (GRAFANA_DIR / "provisioning" / "dashboards" / "reftune.yml").read_text())
        dashboard_path = provider["providers"][0]["options"]["path"]
        self.assertIn(f"../deploy/grafana/dashboards:{dashboard_path}:ro", grafana["volumes"])
        self.assertIn("../deploy/grafana/provisioning:/etc/grafana/provisioning:ro",
                      grafana["volumes"])
        for mount in prometheus["volumes"] + grafana["volumes"]:
            source = mount.split(":")[0]
            if source.startswith("."):
                with self.subTest(mount=mount):
                    self.assertTrue((DOCKER_DIR / source).exists())


class KubernetesTest(unittest.TestCase):
    def deployment(self, component):
        for deployment in objects_of_kind("Deployment"):
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            if labels.get("app.kubernetes.io/component") == component:
                return deployment
        raise AssertionError(f"no Deployment of component {component}")

    def test_expected_objects(self):
        kinds = [document["kind"] for _, document in kubernetes_objects()]
        for kind in ("Namespace", "Secret", "ConfigMap", "Job", "PodDisruptionBudget",
                     "PersistentVolumeClaim", "Service"):
            self.assertIn(kind, kinds)
        self.assertEqual(kinds.count("Deployment"), 3)

    def test_objects_in_the_namespace(self):
        namespace = objects_of_kind("Namespace")[0]["metadata"]["name"]
        for _, document in kubernetes_objects():
            if document["kind"] != "Namespace":
                with self.subTest(kind=document["kind"], name=document["metadata"]["name"]):
                    self.assertEqual(document["metadata"].get("namespace"), namespace)

    def test_secret_is_a_placeholder(self):
        for secret in objects_of_kind("Secret"):
            for key, value in secret.get("stringData", {}).items():
                with self.subTest(secret=secret["metadata"]["name"], key=key):
                    self.assertIn("REPLACE-ME", value)
                    for password in re.findall(r"password=(\S+)", value):
                        self.assertEqual(password, "REPLACE-ME")
            self.assertNotIn("data", secret, "base64 data would hide a real secret")

    def test_grpc_probes_on_api_services(self):
        for component in ("gateway", "filter", "worker"):
            container = self.deployment(component)["spec"]["template"]["spec"]["containers"][0]
            for probe in ("livenessProbe", "readinessProbe"):
                with self.subTest(component=component, probe=probe):
                    self.assertIn("grpc", container.get(probe, {}))
                    self.assertIsInstance(container[probe]["grpc"]["port"], int,
                                          "grpc probes take a port number, not a name")

    def test_worker_scheduling(self):
        spec = self.deployment("worker")["spec"]["template"]["spec"]
        resources = spec["containers"][0]["resources"]
        for kind in ("requests", "limits"):
            self.assertIn("nvidia.com/gpu", resources.get(kind, {}), f"no GPU in {kind}")
        self.assertGreaterEqual(int(resources["requests"]["nvidia.com/gpu"]), 1)
        self.assertEqual(resources["requests"]["nvidia.com/gpu"],
                         resources["limits"]["nvidia.com/gpu"])
        self.assertTrue(spec.get("nodeSelector"))
        # Time for the current step and a checkpoint after SIGTERM.
        self.assertGreaterEqual(spec["terminationGracePeriodSeconds"], 120)

    def test_worker_disruption_budget(self):
        worker_labels = self.deployment("worker")["spec"]["template"]["metadata"]["labels"]
        budgets = objects_of_kind("PodDisruptionBudget")
        self.assertTrue(any(all(worker_labels.get(key) == value for key, value in
                                budget["spec"]["selector"]["matchLabels"].items())
                            for budget in budgets))

    def test_artifact_claim_shared_at_artifact_root(self):
        claims = {claim["metadata"]["name"]: claim
                  for claim in objects_of_kind("PersistentVolumeClaim")}
        self.assertIn("ReadWriteMany", claims["reftune-artifacts"]["spec"]["accessModes"])
        root = configmap_data("reftune-config")["REFTUNE_ARTIFACT_ROOT"]
        for component in ("gateway", "filter", "worker"):
            pod = self.deployment(component)["spec"]["template"]["spec"]
            volume = next(volume["name"] for volume in pod["volumes"]
                          if volume.get("persistentVolumeClaim", {}).get("claimName")
                          == "reftune-artifacts")
            mounts = {mount["name"]: mount for mount in pod["containers"][0]["volumeMounts"]}
            with self.subTest(component=component):
                self.assertEqual(mounts[volume]["mountPath"], root)

    def test_pods_run_as_non_root(self):
        for kind, name, template in kubernetes_pod_specs():
            with self.subTest(object=f"{kind} {name}"):
                self.assertTrue(template["spec"]["securityContext"]["runAsNonRoot"])


class AlertRulesTest(unittest.TestCase):
    def rules(self):
        document = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
        return [rule for group in document["groups"] for rule in group["rules"]]

    def test_alerts_annotated(self):
        for rule in self.rules():
            with self.subTest(alert=rule["alert"]):
                for key in ("summary", "description", "runbook"):
                    self.assertTrue(rule.get("annotations", {}).get(key), f"no {key}")
                self.assertIn(rule.get("labels", {}).get("severity"), ("warning", "critical"))

    def test_runbooks_name_operations_sections(self):
        anchors = github_anchors(OPERATIONS_DOC.read_text())
        for rule in self.rules():
            runbook = rule["annotations"]["runbook"]
            with self.subTest(alert=rule["alert"], runbook=runbook):
                document, _, anchor = runbook.partition("#")
                self.assertEqual(document, "docs/operations.md")
                self.assertIn(anchor, anchors)

    def test_required_alerts_present(self):
        names = {rule["alert"] for rule in self.rules()}
        for name in ("ReftuneQueueWaitHigh", "ReftuneJobsFailing", "ReftuneWorkerHeartbeatsMissing",
                     "ReftuneFilterRejectionRateJump", "ReftuneGrpcErrorRatioHigh"):
            self.assertIn(name, names)


class MetricNamesTest(unittest.TestCase):
    def test_names_used_are_registered(self):
        registered = set(metric_types())
        self.assertTrue(registered, f"no metric names found in {METRICS_SOURCE}")
        used = deploy_metric_names.metric_names_used()
        self.assertTrue(used)
        self.assertEqual(sorted(used - registered), [], "names not in core/metrics/metrics.cc")

    def test_histogram_suffixes_match_types(self):
        types = metric_types()
        for where, expression in deploy_metric_names.all_expressions():
            code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)
            for series, _ in SELECTOR.findall(code):
                family = deploy_metric_names.strip_histogram_suffix(series)
                with self.subTest(where=where, series=series):
                    if types.get(family) == "Histogram":
                        self.assertNotEqual(series, family, "a histogram has no bare series")
                    else:
                        self.assertEqual(series, family, "only histograms have these suffixes")

    def test_label_values_match_sources(self):
        for label, (values, source) in LABEL_VALUES.items():
            text = (REPO_ROOT / source).read_text()
            for value in values:
                with self.subTest(label=label, value=value):
                    self.assertIn(f'"{value}"', text)

    def test_label_matchers_known(self):
        every_label = set().union(*METRIC_LABELS.values()) | TARGET_LABELS | {"le"}
        for where, expression in deploy_metric_names.all_expressions():
            for series, braces in SELECTOR.findall(expression):
                family = deploy_metric_names.strip_histogram_suffix(series)
                allowed = METRIC_LABELS.get(family, set()) | TARGET_LABELS
                for label, operator, value in MATCHER.findall(braces):
                    with self.subTest(where=where, matcher=f"{label}{operator}\"{value}\""):
                        self.assertIn(label, allowed, f"{family} has no label {label}")
                        self.check_value(label, operator, value)
            for labels in GROUPING.findall(expression):
                for label in filter(None, (part.strip() for part in labels.split(","))):
                    with self.subTest(where=where, grouping=label):
                        self.assertIn(label, every_label)

    def check_value(self, label, operator, value):
        if label not in LABEL_VALUES or "$" in value:
            return
        known = LABEL_VALUES[label][0]
        if operator in ("=", "!="):
            self.assertIn(value, known)
        elif re.fullmatch(r"[A-Za-z_|]+", value):
            for alternative in value.split("|"):
                self.assertIn(alternative, known)

    def test_metric_name_parsing(self):
        names = deploy_metric_names.metric_names_in_expression(
            'sum(rate(reftune_a_seconds_bucket{job="reftune_not_a_metric"}[5m])) '
            '/ job:reftune_b:rate5m + up + reftune_c_total  # reftune_comment')
        self.assertEqual(names, {"reftune_a_seconds", "reftune_c_total"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
