"""The import rule of docs/architecture.md, checked on the source tree.

- pipeline.transforms imports nothing of the project outside pipeline.transforms;
- pipeline.lake imports only pipeline (PipelineError) and pipeline.lake;
- pipeline.quality imports only pipeline and pipeline.runtime.config;
- no module of the pipeline package imports jobs or tools;
- no job imports another job (the steps live in pipeline.steps, which every job may import);
- pipeline.steps imports no job and nothing of pipeline.runtime but the audit rows, the crash points and the config;
- a job is an argument shim: it defines `cli` (its options) and at most `main` (what runs in the session), no
  other function or class: the logic lives in the package, where it can be imported and tested.
"""

import ast
from pathlib import Path

from pipeline.runtime.config import REPO_ROOT
import pytest

pytestmark = pytest.mark.unit

PROJECT = ("pipeline", "jobs", "tools")
ALLOWED = {  # module prefix -> the project modules it may import (prefixes)
    "pipeline.transforms": ("pipeline.transforms",),
    "pipeline.lake": ("pipeline.lake", "pipeline"),
    "pipeline.quality": ("pipeline.runtime.config", "pipeline"),
    "pipeline.steps": ("pipeline.steps", "pipeline.lake", "pipeline.transforms", "pipeline.quality",
                       "pipeline.runtime.audit", "pipeline.runtime.faults", "pipeline.runtime.config", "pipeline"),
    "pipeline": ("pipeline",),
}


def root_names() -> set[str]:
    """`pipeline` and the names its __init__.py defines (PipelineError, root_cause)."""
    tree = ast.parse((REPO_ROOT / "pipeline" / "__init__.py").read_text())
    defined = {node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    return {"pipeline", *(f"pipeline.{name}" for name in defined)}


PACKAGE_ROOT = root_names()


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(source: str) -> set[str]:
    """Every project module a source imports (`from pipeline import x` counts as pipeline.x)."""
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in imported if name.split(".")[0] in PROJECT}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(sources: dict[str, str]) -> list[str]:
    """`module imports other` for every import that breaks the rule."""
    found = []
    for module, source in sorted(sources.items()):
        for other in sorted(project_imports(source)):
            if module.startswith("jobs.") and within(other, "jobs"):
                found.append(f"{module} imports {other}")
                continue
            rule = next((prefix for prefix in ALLOWED if within(module, prefix)), None)
            if rule is None:
                continue
            allowed = ALLOWED[rule]
            # `from pipeline import PipelineError` is allowed where `pipeline` is; a submodule is not.
            ok = any(within(other, prefix) if prefix != "pipeline" else other in PACKAGE_ROOT
                     for prefix in allowed) or (rule == "pipeline" and within(other, "pipeline"))
            if not ok:
                found.append(f"{module} imports {other}")
    return found


JOB_FUNCTIONS = {"cli", "main"}


def thick_jobs(sources: dict[str, str]) -> list[str]:
    """`job defines name` for every function or class of a job beyond cli and main."""
    found = []
    for module, source in sorted(sources.items()):
        if module.startswith("jobs."):
            for node in ast.parse(source).body:
                defined = isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                if defined and node.name not in JOB_FUNCTIONS:
                    found.append(f"{module} defines {node.name}")
    return found


def tree_sources() -> dict[str, str]:
    files = [*(REPO_ROOT / "pipeline").rglob("*.py"), *(REPO_ROOT / "jobs").glob("*.py")]
    return {module_name(path): path.read_text() for path in files}


def test_the_source_tree_keeps_the_import_rule():
    sources = tree_sources()
    assert "pipeline.transforms.messages" in sources and "jobs.gold" in sources
    assert violations(sources) == []
    assert thick_jobs(sources) == []


def test_a_job_with_logic_of_its_own_is_reported():
    jobs = {
        "jobs.status": "def cli(argv):\n    pass\ndef main(spark, config, args):\n    pass\n",
        "jobs.sql": "def cli(argv):\n    pass\ndef without_timings(lines):\n    pass\nclass Shell:\n    pass\n",
        "pipeline.outputs.sql_shell": "def without_timings(lines):\n    pass\n",
    }
    assert thick_jobs(jobs) == ["jobs.sql defines without_timings", "jobs.sql defines Shell"]


def test_a_forbidden_import_is_reported():
    forbidden = {
        "pipeline.transforms.messages": "from pipeline.lake import tables\nimport pyspark\n",
        "pipeline.transforms.orders": "from pipeline.transforms.records import to_id\nfrom pipeline import PipelineError\n",
        "pipeline.lake.tables": "from pipeline.runtime.config import Config\n",
        "pipeline.outputs.report": "from jobs import kpis\n",
        "pipeline.quality": "from pipeline.runtime.audit import RunStats\n",
        "jobs.report": "from jobs.kpis import WATERMARK\n",
        "pipeline.steps.gold": "from pipeline.runtime.runner import run_job\nfrom pipeline.steps.kpis import run\n",
        "jobs.all": "import jobs.gold\n",
    }
    assert violations(forbidden) == [
        "jobs.all imports jobs.gold",
        "jobs.report imports jobs.kpis",
        "jobs.report imports jobs.kpis.WATERMARK",
        "pipeline.lake.tables imports pipeline.runtime.config",
        "pipeline.lake.tables imports pipeline.runtime.config.Config",
        "pipeline.outputs.report imports jobs",
        "pipeline.outputs.report imports jobs.kpis",
        "pipeline.quality imports pipeline.runtime.audit",
        "pipeline.quality imports pipeline.runtime.audit.RunStats",
        "pipeline.steps.gold imports pipeline.runtime.runner",
        "pipeline.steps.gold imports pipeline.runtime.runner.run_job",
        "pipeline.transforms.messages imports pipeline.lake",
        "pipeline.transforms.messages imports pipeline.lake.tables",
        "pipeline.transforms.orders imports pipeline",
        "pipeline.transforms.orders imports pipeline.PipelineError",
    ]


def test_jobs_and_steps_are_those_of_conf_jobs_txt():
    """conf/jobs.txt is the one list (spark-submit.sh, the Makefile and the DAG read it)."""
    from pipeline.steps import STEPS

    rows = [line.split()[:2] for line in (REPO_ROOT / "conf" / "jobs.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert sorted(name for name, _ in rows) == sorted(p.stem for p in (REPO_ROOT / "jobs").glob("*.py")
                                                       if p.stem != "__init__")
    assert [name for name, kind in rows if kind == "step"] == list(STEPS)
    assert {kind for _, kind in rows} == {"job", "step"}
