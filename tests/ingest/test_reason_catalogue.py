"""Every reason the import can give is a catalogue template with Chinese words.

Read from the source: each `RowError(`, `FileRejected(` and `UploadRejected(` (and each
`Reason(template=...)`) names its template as a marked literal, never an f-string or a
joined text, and that template has a Chinese translation that is not fuzzy.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from tests.core.test_translations import LC_MESSAGES, _po_entries

ROOT = Path(settings.BASE_DIR)
SOURCES = sorted((ROOT / "ingest" / "pipeline").glob("*.py")) + [
    ROOT / "ingest" / "services" / "event_imports.py",
    ROOT / "ingest" / "services" / "loading.py",
]
RAISED = {"RowError", "FileRejected", "UploadRejected"}


def _marked(node: ast.AST) -> str | None:
    """The msgid of `gettext_noop("...")` (implicitly joined literals included)."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "gettext_noop" and len(node.args) == 1
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


def _module_words(trees: dict[Path, ast.Module]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Module-level names bound to a marked msgid, and dicts whose values all are."""
    names: dict[str, str] = {}
    tables: dict[str, list[str]] = {}
    for tree in trees.values():
        for statement in tree.body:
            if isinstance(statement, ast.Assign | ast.AnnAssign):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                value = statement.value
                for target in targets:
                    if not isinstance(target, ast.Name) or value is None:
                        continue
                    if (msgid := _marked(value)) is not None:
                        names[target.id] = msgid
                    elif isinstance(value, ast.Dict):
                        values = [_marked(v) for v in value.values]
                        if values and all(v is not None for v in values):
                            tables[target.id] = values  # type: ignore[assignment]
    return names, tables


def _templates(node: ast.AST | None, names: dict[str, str],
               tables: dict[str, list[str]]) -> list[str] | None:
    """The msgids a template argument can be; None if it is not a marked literal."""
    if node is None:
        return None
    if (msgid := _marked(node)) is not None:
        return [msgid]
    if isinstance(node, ast.Name) and node.id == "SENTENCES":
        return []  # several reasons, each its own template (ingest.pipeline.errors.joined)
    if isinstance(node, ast.Name) and node.id in names:
        return [names[node.id]]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
            and node.value.id in tables:
        return tables[node.value.id]
    return None


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def reason_sites(sources: list[Path]) -> tuple[dict[str, list[str]], list[str]]:
    """(msgid -> where it is given, the sites whose template is not a marked literal)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sources}
    names, tables = _module_words(trees)
    found: dict[str, list[str]] = {}
    unmarked: list[str] = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            where = f"{path.name}:{getattr(node, 'lineno', '?')}"
            if msgid := _marked(node):  # labels and kinds of file: words too
                found.setdefault(msgid, []).append(where)
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            if name in RAISED:
                template = node.args[0] if node.args else None
            elif name == "Reason":
                template = next((k.value for k in node.keywords if k.arg == "template"), None)
            else:
                continue
            msgids = _templates(template, names, tables)
            if msgids is None:
                unmarked.append(f"{where} {name}({ast.unparse(template) if template else ''})")
                continue
            for msgid in msgids:
                found.setdefault(msgid, []).append(where)
    return found, unmarked


def _chinese() -> dict[str, str]:
    return {e["msgid"]: e["msgstr"].get(0, "") for e in _po_entries(LC_MESSAGES / "django.po")
            if "fuzzy" not in e["flags"] and not e.get("msgctxt")}


def test_every_reason_the_import_gives_is_a_marked_template() -> None:
    found, unmarked = reason_sites(SOURCES)
    assert unmarked == []
    assert len(found) > 80  # the scan reads the raise sites (about 90 reasons and words)


def test_every_reason_the_import_gives_has_chinese_words() -> None:
    found, _unmarked = reason_sites(SOURCES)
    chinese = _chinese()
    missing = {msgid: where for msgid, where in found.items() if not chinese.get(msgid)}
    assert missing == {}


def test_an_f_string_reason_fails_the_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('def f(x):\n    raise RowError(f"quantity {x!r} is odd")\n'
                   'def g(x):\n    raise FileRejected("The file " + x)\n'
                   'def h():\n    raise UploadRejected(gettext_noop("A reason nobody translated."))\n')
    found, unmarked = reason_sites([*SOURCES[:1], bad])
    assert [site.split(" ", 1)[1] for site in unmarked] == [
        "RowError(f'quantity {x!r} is odd')", "FileRejected('The file ' + x)"]
    assert "A reason nobody translated." in found
    assert not _chinese().get("A reason nobody translated.")
