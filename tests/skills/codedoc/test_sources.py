"""Sources from a folder, a ZIP (upload checks, nothing extracted) or pasted code."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.files.intake import FileRejected
from skills.codedoc.sources import Sources, from_folder, from_snippet, from_zip
from tests.skills.codedoc.helpers import zipped


def test_folders_skip_dependencies_binaries_and_unknown_files(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print(1)\n")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "index.js").write_text("module.exports = 1;\n")
    (tmp_path / "app" / "logo.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "app" / "blob.py").write_bytes(b"\x00\x01")
    sources = from_folder(tmp_path)
    assert list(sources.texts) == ["app/main.py"]
    assert sources.skipped == [("app/blob.py", "binary")]


def test_a_zip_is_read_in_memory_and_unsafe_archives_are_refused() -> None:
    sources = from_zip("code.zip", zipped({"src/a.py": b"x = 1\n", "README.md": b"# x\n",
                                           "lib/Old.cbl": "* é\n".encode("cp1252")}))
    assert sources.texts == {"src/a.py": "x = 1\n", "lib/Old.cbl": "* é\n"}
    assert sources.encodings["lib/Old.cbl"] == "cp1252"
    assert sources.skipped == [("README.md", "unsupported")]
    with pytest.raises(FileRejected) as refused:
        from_zip("evil.zip", zipped({"../../etc/cron.py": b"x = 1\n"}))
    assert refused.value.code == "zip_path"
    with pytest.raises(FileRejected) as nested:
        from_zip("nested.zip", zipped({"inner.zip": zipped({"a.py": b"x"})}))
    assert nested.value.code == "zip_nested"


def test_a_zip_of_one_folder_gives_paths_from_inside_it() -> None:
    sources = from_zip("sinistres.zip", zipped({"sinistres/py/calcul.py": b"x = 1\n",
                                                "sinistres/deploy.sh": b"echo ok\n"}))
    assert sorted(sources.texts) == ["deploy.sh", "py/calcul.py"]  # git apply at its root


@pytest.mark.parametrize(("text", "path"), [
    ("```python\ndef f():\n    return 1\n```", "snippet.py"),
    ("def total(items):\n    return sum(items)", "snippet.py"),
    ("public int total(int[] items) {\n  return 0;\n}", "snippet.java"),
    ("       PROCEDURE DIVISION.\n       MAIN-PARA.\n           PERFORM X.", "snippet.cbl"),
    ("//PAY JOB (A)\n//S1 EXEC PGM=PAYROLL", "snippet.jcl"),
    ("SELECT * FROM invoices WHERE paid = 0", "snippet.sql"),
    ("const total = (items) => items.length;", "snippet.js"),
])
def test_pasted_code_is_recognised(text: str, path: str) -> None:
    assert list(from_snippet(text).texts) == [path]


def test_prose_is_not_code() -> None:
    assert not from_snippet("peux-tu documenter notre application de paie ?").texts


def test_minified_scripts_are_set_aside() -> None:
    sources = Sources()
    sources.add("app.min.js", b"function a(){}\n")
    sources.add("chunk.js", b"var a=1;" * 200)
    sources.add("cart.js", b"function total(items) {\n  return items.length;\n}\n")
    assert list(sources.texts) == ["cart.js"]
    assert sources.skipped == [("app.min.js", "minified or generated"),
                               ("chunk.js", "minified or generated")]
