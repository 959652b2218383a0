import re
import shutil
from pathlib import Path

import pytest

from tests.support import BASE_DIR

# What must never reach the image: secrets, the owner's data, local tooling.
SECRET_OR_DATA = [
    ".env",
    ".env.production",
    "var/pgdata/base/1/1259",
    "var/uploads/2026/orders.csv",
    "var/log/web.log",
    "var/local-secret-key",
    "var/backups/profiler-2026.dump",
    ".venv/bin/python",
    ".git/config",
    "test-artifacts/shot.png",
    "profiler_site/__pycache__/urls.cpython-311.pyc",
    "ingest/.env",
]


def _pattern_regex(pattern: str) -> re.Pattern:
    """Docker's .dockerignore rule (Go filepath.Match plus `**`), as a regex on a relative path."""
    pattern = pattern.strip().lstrip("/").rstrip("/")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3  # `**/x` also matches `x` at the top
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + "$")


def build_context(root: Path) -> set[str]:
    """Relative paths of the files `docker build root` sends, after root/.dockerignore."""
    rules = []
    ignore = root / ".dockerignore"
    if ignore.exists():
        for line in ignore.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            rules.append((negate, _pattern_regex(line[1:] if negate else line)))
    kept = set()
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for negate, regex in rules:
            # A pattern that matches a folder excludes everything inside it.
            if any(regex.match(prefix) for prefix in prefixes):
                excluded = not negate
        if not excluded:
            kept.add(rel)
    return kept


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The project's tracked files plus the secrets and data a working checkout holds."""
    root = tmp_path / "checkout"
    for name in ["Dockerfile", ".dockerignore", "manage.py", "pyproject.toml", "README.md"]:
        if (BASE_DIR / name).exists():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(BASE_DIR / name, root / name)
    for folder in ["profiler_site", "ingest", "segments", "campaigns", "flows", "templates", "static",
                   "locale"]:
        shutil.copytree(BASE_DIR / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for rel in SECRET_OR_DATA:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("secret\n")
    return root


def test_the_build_context_holds_no_secrets_data_virtualenv_or_git(checkout):
    sent = build_context(checkout)

    assert sorted(rel for rel in SECRET_OR_DATA if rel in sent) == []


def test_the_build_context_still_holds_everything_the_image_needs(checkout):
    sent = build_context(checkout)

    for needed in ["manage.py", "pyproject.toml", "profiler_site/settings/production.py",
                   "ingest/models.py", "templates/base.html", "locale/zh_Hans/LC_MESSAGES/django.po"]:
        assert needed in sent, needed


def test_the_dockerfile_copies_named_folders_not_the_whole_checkout():
    copies = [line.split()[1:] for line in (BASE_DIR / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY")]

    assert copies and all(sources[0] != "." for sources in copies), copies
