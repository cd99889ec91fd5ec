#!/usr/bin/env python3
"""Checks the deployment files, which no container engine or cluster runs here: they parse, and
they carry what running EvolveAI needs. One check per invocation, each a ctest test (label
`deploy`):

    check_deploy.py --source-dir DIR --binary EVOLVEAI CHECK

CHECK is one of dockerfile, compose, helm, systemd, grafana, config-docs, metrics-docs, route-docs. Exit status 0 when
every expectation holds; otherwise each failed expectation is printed and the status is 1.
"""
import argparse
import importlib.machinery
import importlib.util
import json
import pathlib
import re
import shlex
import subprocess
import sys

import yaml


class Problems:
    """Collects failed expectations."""

    def __init__(self, check):
        self.check = check
        self.items = []

    def expect(self, condition, message):
        if not condition:
            self.items.append(message)
        return bool(condition)

    def finish(self):
        for item in self.items:
            print(f"{self.check}: {item}", file=sys.stderr)
        if not self.items:
            print(f"{self.check}: ok")
        return 1 if self.items else 0


# --- configuration keys, from the binary ---------------------------------------------------

def config_keys(binary):
    """{"section.key": is_secret} as `evolveai config example` lists them."""
    text = subprocess.run([str(binary), "config", "example"], check=True, capture_output=True,
                          text=True).stdout
    keys = {}
    section = None
    secret = False
    for line in text.splitlines():
        header = re.fullmatch(r"\[([a-z_]+)\]", line)
        if header:
            section = header.group(1)
            continue
        if line.startswith("# Secret."):
            secret = True
        entry = re.match(r"([a-z_0-9]+) = ", line)
        if entry and section:
            keys[f"{section}.{entry.group(1)}"] = secret
            secret = False
        if not line:
            secret = False
    return keys


def check_env_names(problems, where, names, keys):
    """Every EVOLVEAI_* variable names a real key; *_FILE only secret ones."""
    for name in names:
        if not name.startswith("EVOLVEAI_"):
            continue
        match = re.fullmatch(r"EVOLVEAI_([A-Z0-9_]+?)__([A-Z0-9_]+?)(_FILE)?", name)
        if not problems.expect(match, f"{where}: {name} is not EVOLVEAI_<SECTION>__<KEY>[_FILE]"):
            continue
        key = f"{match.group(1).lower()}.{match.group(2).lower()}"
        if match.group(3) and key not in keys:
            # A key whose own name ends in _file would read as one without the suffix.
            key = f"{key}_file"
            problems.expect(key in keys, f"{where}: {name} names no configuration key")
            continue
        if problems.expect(key in keys, f"{where}: {name} names no configuration key ({key})"):
            if match.group(3):
                problems.expect(keys[key], f"{where}: {name}: {key} is not a secret, so it has no _FILE form")


# --- Dockerfile ----------------------------------------------------------------------------

def dockerfile_instructions(text):
    """[(INSTRUCTION, arguments)] with continuation lines joined and comments dropped."""
    instructions = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        word, _, rest = current.partition(" ")
        instructions.append((word.upper(), rest.strip()))
        current = ""
    return instructions


def makefile_build_preset(source):
    makefile = (source / "Makefile").read_text()
    match = re.search(r"^BUILD_PRESET\s*\?=\s*(\S+)", makefile, re.M)
    build_rule = re.search(r"^build:.*\n((?:\t.*\n)+)", makefile, re.M)
    return (match.group(1) if match else None), (build_rule.group(1) if build_rule else "")


def check_dockerfile(source, binary):
    problems = Problems("dockerfile")
    instructions = dockerfile_instructions((source / "Dockerfile").read_text())
    stages = []
    for word, rest in instructions:
        if word == "FROM":
            stages.append({"from": rest, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((word, rest))
    if not problems.expect(len(stages) >= 2, "needs a build stage and a run stage"):
        return problems.finish()
    build, run = stages[0], stages[-1]
    problems.expect(re.fullmatch(r"debian:12\s+AS\s+\S+", build["from"], re.I),
                    f"the build stage is FROM debian:12 AS <name>, not '{build['from']}'")
    problems.expect(re.match(r"debian:12-slim\b", run["from"]), f"the run stage is FROM debian:12-slim, not '{run['from']}'")

    preset, build_rule = makefile_build_preset(source)
    problems.expect(preset, "Makefile: no BUILD_PRESET")
    problems.expect("--preset $(BUILD_PRESET)" in build_rule and "--target evolveai" in build_rule,
                    "Makefile: `make build` no longer builds `--preset $(BUILD_PRESET) --target evolveai`")
    presets = json.loads((source / "CMakePresets.json").read_text())
    problems.expect(any(p["name"] == preset for p in presets["configurePresets"]),
                    f"CMakePresets.json has no configure preset '{preset}'")
    build_runs = " ".join(rest for word, rest in build["instructions"] if word == "RUN")
    problems.expect(re.search(rf"cmake --preset {preset}(\s|$)", build_runs),
                    f"the build stage configures with `cmake --preset {preset}` as `make build` does")
    problems.expect(re.search(rf"cmake --build --preset {preset} --target evolveai", build_runs),
                    f"the build stage builds `cmake --build --preset {preset} --target evolveai`")
    problems.expect("scripts/setup-deps" in build_runs, "the build stage installs packages with scripts/setup-deps")

    users = [rest for word, rest in run["instructions"] if word == "USER"]
    if problems.expect(users, "the run stage sets USER"):
        user = users[-1].split(":")[0]
        problems.expect(user not in ("root", "0"), f"the run stage runs as root ({users[-1]})")
    checks = [rest for word, rest in run["instructions"] if word == "HEALTHCHECK"]
    problems.expect(checks and "/healthz" in checks[-1], "the run stage has a HEALTHCHECK on /healthz")
    copies = [rest for word, rest in run["instructions"] if word == "COPY"]
    problems.expect(any("--from=" in c and "build/" + preset + "/src/evolveai" in c for c in copies),
                    f"the run stage copies build/{preset}/src/evolveai from the build stage")
    problems.expect(any("--from=" in c and "web/dist" in c for c in copies), "the run stage copies web/dist")
    entry = " ".join(rest for word, rest in run["instructions"] if word in ("ENTRYPOINT", "CMD"))
    problems.expect("evolveai" in entry and "serve" in entry, "the image runs `evolveai serve` by default")
    problems.expect(not any(re.search(r"-dev\b", rest) for word, rest in run["instructions"] if word == "RUN"),
                    "the run stage installs no -dev packages")
    envs = " ".join(rest for word, rest in run["instructions"] if word == "ENV")
    check_env_names(problems, "Dockerfile ENV", re.findall(r"(EVOLVEAI_[A-Z0-9_]+)=", envs), config_keys(binary))

    ignore = source / ".dockerignore"
    if problems.expect(ignore.exists(), ".dockerignore is missing"):
        patterns = [line.strip() for line in ignore.read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
        for needed in ("build", ".git", "web/node_modules"):
            problems.expect(needed in patterns, f".dockerignore should leave out {needed}")
        for kept in ("src", "scripts", "CMakeLists.txt", "CMakePresets.json", "web", "config", "cmake", "tests"):
            problems.expect(kept not in patterns, f".dockerignore leaves out {kept}, which the build needs")
    # Every file copied from the context exists.
    for word, rest in build["instructions"] + run["instructions"]:
        if word != "COPY" or "--from=" in rest:
            continue
        sources = [part for part in shlex.split(rest) if not part.startswith("--")][:-1]
        for path in sources:
            problems.expect(path == "." or (source / path).exists(), f"COPY {path}: no such file in the repository")
    return problems.finish()


# --- docker compose ------------------------------------------------------------------------

def env_names(environment):
    if isinstance(environment, dict):
        return list(environment)
    return [item.split("=", 1)[0] for item in environment or []]


def env_value(environment, name):
    if isinstance(environment, dict):
        return environment.get(name)
    for item in environment or []:
        key, _, value = item.partition("=")
        if key == name:
            return value
    return None


def command_text(service):
    command = service.get("command", [])
    return " ".join(command) if isinstance(command, list) else str(command)


def check_compose(source, binary):
    problems = Problems("compose")
    compose = yaml.safe_load((source / "deploy" / "docker-compose.yml").read_text())
    services = compose.get("services", {})
    for name in ("postgres", "redis", "api", "bot-worker", "backup"):
        problems.expect(name in services, f"no service '{name}'")
    for name, service in services.items():
        problems.expect("healthcheck" in service and service["healthcheck"].get("test"),
                        f"service '{name}' has no healthcheck")
    postgres = services.get("postgres", {})
    problems.expect(str(postgres.get("image", "")).startswith("postgres:15"), "postgres runs PostgreSQL 15")
    volumes = compose.get("volumes", {}) or {}
    data_mounts = [v for v in postgres.get("volumes", []) if str(v).endswith(":/var/lib/postgresql/data")]
    problems.expect(data_mounts and data_mounts[0].split(":")[0] in volumes,
                    "postgres keeps /var/lib/postgresql/data in a named volume")
    problems.expect(env_value(postgres.get("environment"), "POSTGRES_PASSWORD_FILE"),
                    "postgres reads its password from a secret (POSTGRES_PASSWORD_FILE)")
    problems.expect(str(services.get("redis", {}).get("image", "")).startswith("redis:7"), "redis runs Redis 7")

    api = command_text(services.get("api", {}))
    bot = command_text(services.get("bot-worker", {}))
    problems.expect(re.search(r"\bserve\b.*--roles api\b", api), "api runs `serve --roles api`")
    problems.expect(re.search(r"\bserve\b.*--roles bot,worker\b", bot), "bot-worker runs `serve --roles bot,worker`")
    backup = services.get("backup", {})
    backup_script = " ".join(str(part) for part in backup.get("entrypoint", []) or [])
    problems.expect("evolveai backup create" in backup_script and "sleep" in backup_script,
                    "backup runs `evolveai backup create` on a schedule")

    declared = compose.get("secrets", {}) or {}
    problems.expect(declared, "no top-level secrets")
    keys = config_keys(binary)
    for name in ("api", "bot-worker", "backup"):
        service = services.get(name, {})
        environment = service.get("environment", {})
        problems.expect(env_value(environment, "EVOLVEAI_DATABASE__URL", ).startswith("postgresql://")
                        if env_value(environment, "EVOLVEAI_DATABASE__URL") else False,
                        f"{name}: EVOLVEAI_DATABASE__URL names the postgres service")
        problems.expect(env_value(environment, "EVOLVEAI_REDIS__URL"), f"{name}: EVOLVEAI_REDIS__URL is set")
        problems.expect(env_value(environment, "EVOLVEAI_AUTH__JWT_SECRET_FILE"),
                        f"{name}: every node shares one JWT secret (EVOLVEAI_AUTH__JWT_SECRET_FILE)")
        used = [s if isinstance(s, str) else s.get("source") for s in service.get("secrets", [])]
        for secret in used:
            problems.expect(secret in declared, f"{name}: secret '{secret}' is not declared")
        check_env_names(problems, name, env_names(environment), keys)
        for variable in env_names(environment):
            if variable.endswith("_FILE"):
                path = str(env_value(environment, variable))
                match = re.fullmatch(r"/run/secrets/([a-z_]+)", path)
                if problems.expect(match, f"{name}: {variable} should name a Docker secret under /run/secrets"):
                    problems.expect(match.group(1) in used, f"{name}: {variable} names a secret it is not given")
        for dependency in ("postgres", "redis"):
            condition = (service.get("depends_on", {}) or {}).get(dependency, {})
            problems.expect(isinstance(condition, dict) and condition.get("condition") == "service_healthy",
                            f"{name}: waits for {dependency} to be healthy")
    problems.expect(services.get("api", {}).get("ports"), "api publishes its port")
    return problems.finish()


# --- Helm ----------------------------------------------------------------------------------

CONTROL = re.compile(r"^\s*\{\{-?\s*(if|else|end|range|with|define|template|/\*|\$[a-zA-Z_]+\s*:=)\b.*\}\}\s*$")
BLOCK = re.compile(r"^(\s*)\{\{-?\s*(include|toYaml)\b.*?(?:nindent\s+(\d+))?\s*-?\}\}\s*$")
INLINE = re.compile(r"\{\{-?.*?-?\}\}")


def render_template(text):
    """A Helm template made plain YAML: control lines dropped, block includes become one
    placeholder entry at their indentation, inline expressions become a placeholder scalar."""
    lines = []
    for line in text.splitlines():
        if CONTROL.match(line):
            continue
        block = BLOCK.match(line)
        if block:
            indent = int(block.group(3)) if block.group(3) else len(block.group(1))
            lines.append(" " * indent + "x-rendered: placeholder")
            continue
        lines.append(INLINE.sub("placeholder", line))
    return "\n".join(lines)


def find_all(node, key):
    """Every value stored under `key` anywhere in `node`."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            found.extend(find_all(v, key))
    elif isinstance(node, list):
        for item in node:
            found.extend(find_all(item, key))
    return found


def check_helm(source, binary):
    problems = Problems("helm")
    chart_dir = source / "deploy" / "helm" / "evolveai"
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    problems.expect(chart.get("apiVersion") == "v2", "Chart.yaml: apiVersion v2")
    problems.expect(chart.get("name") == "evolveai", "Chart.yaml: name evolveai")
    problems.expect(re.fullmatch(r"\d+\.\d+\.\d+", str(chart.get("version", ""))), "Chart.yaml: semantic version")
    values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    roles = values.get("roles", {})
    problems.expect("api" in roles, "values.yaml: an api role")
    problems.expect(any("bot" in str(r.get("roles")) for r in roles.values()), "values.yaml: a role runs the bot")
    problems.expect(any("worker" in str(r.get("roles")) for r in roles.values()), "values.yaml: a role runs the worker")
    problems.expect(roles.get("api", {}).get("autoscaling", {}).get("enabled") is True,
                    "values.yaml: the api role autoscales")
    check_env_names(problems, "values.yaml config", list(values.get("config", {})), config_keys(binary))
    check_env_names(problems, "values.yaml secrets", list(values.get("secrets", {}).get("files", {}).values()),
                    config_keys(binary))

    documents = []
    for template in sorted((chart_dir / "templates").glob("*.yaml")):
        try:
            for document in yaml.safe_load_all(render_template(template.read_text())):
                if document:
                    documents.append((template.name, document))
        except yaml.YAMLError as error:
            problems.expect(False, f"{template.name}: does not parse once rendered: {error}")
    kinds = {}
    for name, document in documents:
        kinds.setdefault(document.get("kind"), []).append((name, document))
    for kind in ("Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        problems.expect(kind in kinds, f"no {kind} template")
    for name, deployment in kinds.get("Deployment", []):
        containers = find_all(deployment, "containers")
        container = containers[0][0] if containers and containers[0] else {}
        liveness = container.get("livenessProbe", {}).get("httpGet", {}).get("path", "")
        readiness = container.get("readinessProbe", {}).get("httpGet", {}).get("path", "")
        # The paths come from values.yaml; follow the placeholder to it.
        problems.expect(liveness and values.get("probes", {}).get("liveness", {}).get("path") == "/healthz",
                        f"{name}: liveness probe on /healthz")
        problems.expect(readiness and values.get("probes", {}).get("readiness", {}).get("path") == "/readyz",
                        f"{name}: readiness probe on /readyz")
        strategy = deployment.get("spec", {}).get("strategy", {})
        problems.expect(strategy.get("type") == "RollingUpdate", f"{name}: rolling updates")
        problems.expect(values.get("rollout", {}).get("maxUnavailable") == 0,
                        "values.yaml: rollout.maxUnavailable 0 (a pod leaves only once its successor is ready)")
        problems.expect("readinessGates" in deployment.get("spec", {}).get("template", {}).get("spec", {}),
                        f"{name}: pod readiness gates can be set")
        problems.expect(find_all(deployment, "secretKeyRef") or find_all(deployment, "secretName"),
                        f"{name}: secrets are referenced")
        problems.expect(find_all(deployment, "configMapRef"), f"{name}: configuration from the ConfigMap")
        problems.expect("serve" in str(container.get("args")), f"{name}: runs `evolveai serve`")
    for name, hpa in kinds.get("HorizontalPodAutoscaler", []):
        metrics = hpa.get("spec", {}).get("metrics", [])
        problems.expect(any(m.get("resource", {}).get("name") == "cpu" for m in metrics), f"{name}: scales on CPU")
        problems.expect(hpa.get("spec", {}).get("scaleTargetRef", {}).get("kind") == "Deployment",
                        f"{name}: scales a Deployment")
    for name, pdb in kinds.get("PodDisruptionBudget", []):
        spec = pdb.get("spec", {})
        problems.expect("minAvailable" in spec or "maxUnavailable" in spec, f"{name}: a disruption budget")
    notes = chart_dir / "templates" / "NOTES.txt"
    problems.expect(notes.exists() and "blue-green" in notes.read_text().lower(), "NOTES.txt explains blue-green")
    return problems.finish()


# --- systemd -------------------------------------------------------------------------------

def parse_unit(text):
    """{section: {key: [values]}} (keys may repeat)."""
    sections = {}
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(";"):
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            current = sections.setdefault(header.group(1), {})
            continue
        key, sep, value = line.partition("=")
        if current is None or not sep:
            raise ValueError(f"not a unit file line: {raw}")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def check_systemd(source, binary):
    problems = Problems("systemd")
    unit = parse_unit((source / "deploy" / "systemd" / "evolveai.service").read_text())
    for section in ("Unit", "Service", "Install"):
        problems.expect(section in unit, f"no [{section}] section")
    service = unit.get("Service", {})
    problems.expect(any("evolveai serve" in v for v in service.get("ExecStart", [])), "ExecStart runs `evolveai serve`")
    required = {
        "DynamicUser": "yes", "ProtectSystem": "strict", "NoNewPrivileges": "yes", "ProtectHome": "yes",
        "PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
        "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes", "RestrictRealtime": "yes", "RestrictNamespaces": "yes",
    }
    for key, value in required.items():
        problems.expect(service.get(key, [None])[-1] == value, f"[Service] {key}={value}")
    for key in ("StateDirectory", "RestrictAddressFamilies", "SystemCallFilter", "CapabilityBoundingSet",
                "KillSignal", "TimeoutStopSec"):
        problems.expect(key in service, f"[Service] sets {key}")
    problems.expect(service.get("CapabilityBoundingSet", ["x"])[-1] == "", "[Service] no capabilities")
    problems.expect(unit.get("Install", {}).get("WantedBy"), "[Install] WantedBy")
    environment = []
    for value in service.get("Environment", []):
        environment.extend(item.split("=", 1)[0] for item in shlex.split(value))
    check_env_names(problems, "evolveai.service", environment, config_keys(binary))
    return problems.finish()


# --- Grafana -------------------------------------------------------------------------------

def exported_metrics(source):
    """Every metric name the server registers: string literals in src/ naming one."""
    names = set()
    for path in list((source / "src").rglob("*.cpp")) + list((source / "src").rglob("*.hpp")):
        names.update(re.findall(r'"((?:evolveai|process)_[a-z0-9_]*[a-z0-9])"', path.read_text(errors="replace")))
    return names


def check_grafana(source, binary):
    problems = Problems("grafana")
    dashboard = json.loads((source / "deploy" / "grafana" / "evolveai.json").read_text())
    problems.expect(dashboard.get("title") and dashboard.get("uid"), "the dashboard has a title and a uid")
    known = exported_metrics(source)
    expressions = find_all(dashboard.get("panels", []), "expr")
    expressions += [str(v) for v in find_all(dashboard.get("templating", {}), "definition")]
    problems.expect(len(expressions) >= 20, f"only {len(expressions)} queries")
    used = set()
    for expression in expressions:
        for name in re.findall(r"\b((?:evolveai|process)_[a-z0-9_]+)\b", expression):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            problems.expect(name in known or base in known,
                            f"queries {name}, which the server does not export (query: {expression})")
            used.add(base if base in known else name)
    for family in ("evolveai_http_requests_total", "evolveai_http_request_duration_seconds",
                   "evolveai_db_statement_duration_seconds", "evolveai_circuit_breaker_state",
                   "evolveai_chat_model_duration_seconds", "evolveai_model_tokens_total",
                   "evolveai_cache_requests_total", "evolveai_tts_requests_total", "evolveai_telegram_updates_total",
                   "evolveai_scheduler_runs_total"):
        problems.expect(family in used, f"no panel shows {family}")
    ids = find_all(dashboard.get("panels", []), "id")
    problems.expect(len(ids) == len(set(ids)), "panel ids repeat")
    return problems.finish()


def load_script(source, name):
    """Imports scripts/<name> (a Python script without a .py suffix) as a module."""
    sys.dont_write_bytecode = True
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(source / "scripts" / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


# --- docs/CONFIG.md ------------------------------------------------------------------------

def check_config_docs(source, binary):
    problems = Problems("config-docs")
    generator = load_script(source, "gen-config-doc")
    doc_path = source / "docs" / "CONFIG.md"
    committed = doc_path.read_text() if doc_path.exists() else ""
    for key in config_keys(binary):
        problems.expect(f"`{key}`" in committed, f"docs/CONFIG.md does not document {key}")
    expected = generator.render(generator.example_from(binary))
    problems.expect(committed == expected,
                    "docs/CONFIG.md is out of date with `evolveai config example`: run scripts/gen-config-doc")
    return problems.finish()


# --- docs/METRICS.md and the route documentation --------------------------------------------

def check_metrics_docs(source, binary):
    problems = Problems("metrics-docs")
    generator = load_script(source, "gen-metrics-doc")
    found = generator.families(source)
    problems.expect(len(found) >= 30, f"only {len(found)} metric families found in src/: is the pattern stale?")
    for name, (_, _, help_text, path) in sorted(found.items()):
        problems.expect(help_text.strip() != "", f"{name} ({path}) has no help text")
    doc_path = source / "docs" / "METRICS.md"
    committed = doc_path.read_text() if doc_path.exists() else ""
    for name in found:
        problems.expect(f"`{name}`" in committed, f"docs/METRICS.md does not document {name}")
    problems.expect(committed == generator.render(found),
                    "docs/METRICS.md is out of date with the source: run scripts/gen-metrics-doc")
    return problems.finish()


def check_route_docs(source, binary):
    """Every operation of the served OpenAPI document (which a C++ test holds equal to the routes
    the server registers) says what it does, what answers it gives, and who may call it."""
    problems = Problems("route-docs")
    document = json.loads((source / "src" / "api" / "openapi.json").read_text())
    operations = 0
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operations += 1
            where = f"{method.upper()} {path}"
            problems.expect(operation.get("summary", "").strip() != "", f"{where} has no summary")
            problems.expect(bool(operation.get("responses")), f"{where} documents no responses")
            problems.expect("security" in operation or "security" in document,
                            f"{where} does not say who may call it (security)")
    problems.expect(operations >= 30, f"only {operations} operations documented")
    return problems.finish()


CHECKS = {
    "dockerfile": check_dockerfile,
    "compose": check_compose,
    "helm": check_helm,
    "systemd": check_systemd,
    "grafana": check_grafana,
    "config-docs": check_config_docs,
    "metrics-docs": check_metrics_docs,
    "route-docs": check_route_docs,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-dir", type=pathlib.Path, required=True)
    parser.add_argument("--binary", type=pathlib.Path, required=True, help="the evolveai binary")
    parser.add_argument("check", choices=sorted(CHECKS))
    args = parser.parse_args()
    return CHECKS[args.check](args.source_dir.resolve(), args.binary)


if __name__ == "__main__":
    sys.exit(main())
