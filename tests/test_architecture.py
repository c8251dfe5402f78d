"""The package's layers, read from the source: imports run one way and never in a loop.

core (pure) <- shell (the edges) <- app (the only layer with database sessions) <- cli, daemon.
Every import counts, function-local ones included, so a loop cannot hide inside a function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mailbot"

# What each layer may import from mailbot; anything else of mailbot is a violation.
ALLOWED: dict[str, tuple[str, ...]] = {
    "mailbot.core": ("mailbot.core",),
    "mailbot.shell": ("mailbot.core", "mailbot.shell"),
    "mailbot.app": ("mailbot.core", "mailbot.shell", "mailbot.app"),
    "mailbot.demo": ("mailbot.core", "mailbot.shell", "mailbot.app", "mailbot.demo"),
    "mailbot.cli": ("mailbot.core", "mailbot.shell", "mailbot.app", "mailbot.cli", "mailbot.demo", "mailbot.daemon"),
    "mailbot.daemon": ("mailbot.core", "mailbot.shell", "mailbot.app"),
}
# The pure core touches no database, server, template engine or scheduler.
CORE_FORBIDDEN = (
    "sqlmodel", "sqlalchemy", "alembic", "imapclient", "aiosmtplib", "aiosmtpd", "jinja2", "markupsafe",
    "apscheduler", "typer", "psycopg",
)
# The entry points hold no database session: they call the application layer, which alone opens one
# (the session factory lives in shell.db.store).
ENTRY_POINTS = ("mailbot.cli", "mailbot.daemon", "mailbot.demo")
ENTRY_FORBIDDEN = ("sqlmodel", "sqlalchemy", "mailbot.shell.db.store")


@dataclass(frozen=True)
class Import:
    """One import statement of a module: what it names, where, and whether it sits in a function."""

    module: str
    target: str
    line: int
    local: bool
    why: str


def module_name(path: Path) -> str:
    """mailbot/core/mail/mime.py -> mailbot.core.mail.mime."""
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package but the Alembic revisions (run by Alembic, not imported)."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "versions" not in p.parts}


def imports_of(name: str, path: Path, known: set[str]) -> list[Import]:
    """The imports of one module, resolved to modules where a `from pkg import mod` names one."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: list[Import] = []

    # A module may give the reason once for all its function-local imports.
    module_reason = next((ln for ln in lines if ln.startswith("# Function-local imports:")), "")

    def why(lineno: int) -> str:
        """The comment on the import's line, or above the block of imports it opens or belongs to."""
        if "#" in lines[lineno - 1]:
            return lines[lineno - 1].partition("#")[2]
        n = lineno - 2
        while n >= 0 and lines[n].strip().startswith(("import ", "from ")):
            n -= 1
        above = lines[n].strip() if n >= 0 else ""
        return above[1:] if above.startswith("#") else module_reason

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: never executed
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(name, alias.name, child.lineno, local, why(child.lineno)))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
                    for _ in range(child.level - 1):
                        pkg = pkg.rpartition(".")[0]
                    base = f"{pkg}.{base}".rstrip(".")
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    found.append(
                        Import(name, target if target in known else base, child.lineno, local, why(child.lineno))
                    )
            visit(child, local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(ast.parse(source), False)
    return found


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    mods = modules()
    return [imp for name, path in mods.items() for imp in imports_of(name, path, set(mods))]


def layer(module: str) -> str | None:
    """The layer a mailbot module belongs to (None for the package root and __main__)."""
    for prefix in sorted(ALLOWED, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return None


def test_every_module_sits_in_a_layer() -> None:
    outside = [m for m in modules() if layer(m) is None and m not in {"mailbot", "mailbot.__main__"}]
    assert not outside, f"modules outside core/shell/app/cli/demo/daemon: {outside}"


def test_imports_run_one_way(graph: list[Import]) -> None:
    bad = []
    for imp in graph:
        own = layer(imp.module)
        if own is None or not imp.target.startswith("mailbot"):
            continue
        if not any(imp.target == a or imp.target.startswith(a + ".") for a in ALLOWED[own]):
            bad.append(f"{imp.module}:{imp.line} imports {imp.target}")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_core_touches_no_database_server_or_template_engine(graph: list[Import]) -> None:
    bad = [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in graph
        if layer(imp.module) == "mailbot.core" and imp.target.split(".")[0] in CORE_FORBIDDEN
    ]
    assert not bad, "the pure core imports I/O libraries:\n" + "\n".join(bad)


def test_entry_points_hold_no_database_session(graph: list[Import]) -> None:
    bad = dict.fromkeys(
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in graph
        if layer(imp.module) in ENTRY_POINTS
        and any(imp.target == f or imp.target.startswith(f + ".") for f in ENTRY_FORBIDDEN)
    )
    assert not bad, "the CLI or the daemon touches the database itself (use mailbot.app):\n" + "\n".join(bad)


def test_no_import_cycle(graph: list[Import]) -> None:
    edges: dict[str, set[str]] = {}
    for imp in graph:
        if imp.target.startswith("mailbot") and imp.target != imp.module:
            edges.setdefault(imp.module, set()).add(imp.target)
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            walk(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_function_local_imports_say_why(graph: list[Import]) -> None:
    silent = [f"{imp.module}:{imp.line} {imp.target}" for imp in graph if imp.local and not imp.why.strip()]
    assert not silent, "function-local imports without a comment saying why:\n" + "\n".join(silent)


def test_scoring_and_queries_load_no_mail_client() -> None:
    """Scores, bulletins and the CLI's read side run without the IMAP and SMTP libraries loaded."""
    import subprocess
    import sys

    probe = (
        "import sys, mailbot.app.scorebook, mailbot.app.publish, mailbot.app.queries;"
        "print(sorted(m for m in ('imapclient', 'aiosmtplib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=PACKAGE.parent)  # fmt: skip
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
