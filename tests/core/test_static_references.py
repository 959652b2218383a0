"""Every static file a template names exists (a moved file must not leave a page without it)."""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parents[2]
STATIC_TAG = re.compile(r"""{%\s*static\s+['"]([^'"]+)['"]\s*%}""")


def test_every_static_file_named_in_a_template_is_found():
    templates = [p for p in ROOT.rglob("*.html")
                 if not {".venv", "var", "test-artifacts", "node_modules"} & set(p.parts)]
    named = {(path.relative_to(ROOT), name) for path in templates
             for name in STATIC_TAG.findall(path.read_text(encoding="utf-8"))}
    assert len(named) > 5  # the scan still sees the templates' references

    missing = sorted(f"{path}: {name}" for path, name in named if not finders.find(name))
    assert missing == []
