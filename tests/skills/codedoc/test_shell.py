"""Shell scripts: inventory, documentation pages and a comment-only patch."""

from __future__ import annotations

from pathlib import Path

from skills.codedoc import docs, skeletons
from skills.codedoc.inventory import build
from skills.codedoc.patch import build as build_patch
from skills.codedoc.secrets import Redactor
from skills.codedoc.sources import Sources, from_folder, from_snippet, from_text_file, from_zip
from skills.codedoc.syntax import Parsers
from skills.codedoc.verify import same_code, verify
from tests.skills.codedoc.helpers import (
    FIXTURES,
    fixture_sources,
    inventory_of,
    source_named,
    unit_named,
    zipped,
)

SHELL = FIXTURES / "shell"


def test_scripts_functions_calls_files_and_exports() -> None:
    inventory = build(fixture_sources())
    script = source_named(inventory, "shell/nightly_load.sh")
    assert script.language == "shell" and script.parse_errors == 0
    assert script.entry_points == ["nightly_load.sh"]
    assert script.doc.startswith("Nightly load of the billing warehouse")
    assert script.exports == ["ORACLE_SID", "NLS_LANG"]
    assert "file /var/log/billing/sqlplus.log" in script.writes  # « >> "$LOG_DIR/…" »
    assert "file /var/log/billing/load_report.txt" in script.writes  # $REPORT resolved
    assert "file /data/archive/" in script.writes  # cp's target
    assert "file /var/log/billing/export.log" in script.writes  # tee -a
    assert script.imports == ["purge_old.sh", "rotate_logs", "java", "sqlplus"]
    load = unit_named(inventory, "shell/nightly_load.sh:load_invoices")
    assert load.kind == "function" and load.doc.startswith("Loads one day of invoices")
    assert load.calls == ("sqlplus",) and load.slot is None
    archive = unit_named(inventory, "shell/nightly_load.sh:archive_input")
    assert archive.doc == "" and archive.slot is not None
    assert archive.writes == ("file /data/archive/", "file /var/log/billing/load_report.txt")
    assert archive.reads == ()  # « $1 » is whatever the caller passes: no file named
    main = "shell/nightly_load.sh:nightly_load.sh"
    assert inventory.callees[main] == [
        "shell/purge_old.sh:purge_old.sh", "shell/nightly_load.sh:load_invoices",
        "shell/nightly_load.sh:archive_input", "shell/rotate_logs:rotate_logs"]
    assert unit_named(inventory, main).exports == ("ORACLE_SID", "NLS_LANG")
    assert inventory.callers["shell/rotate_logs:compress_logs"] == ["shell/rotate_logs:rotate_logs"]


def test_extensionless_scripts_are_read_by_their_shebang_only(tmp_path: Path) -> None:
    (tmp_path / "deploy").write_text("#!/bin/sh\necho hi > out.txt\n", encoding="utf-8")
    (tmp_path / "LICENSE").write_text("MIT License\n", encoding="utf-8")
    (tmp_path / "run").write_text("#!/usr/bin/python3\nprint(1)\n", encoding="utf-8")
    assert from_folder(tmp_path).languages == {"deploy": "shell"}
    sources = from_zip("scripts.zip", zipped({
        "bin/deploy": b"#!/usr/bin/env bash\nexit 0\n", "bin/notes": b"just text\n",
        "etc/job.ksh": b"print ok\n"}))
    assert sources.languages == {"bin/deploy": "shell", "etc/job.ksh": "shell"}
    assert ("bin/notes", "unsupported") in sources.skipped
    assert from_folder(SHELL).languages["rotate_logs"] == "shell"


def test_snippets_and_text_files_with_a_shebang_are_shell() -> None:
    assert from_snippet("```bash\nls -l > list.txt\n```").languages == {"snippet.sh": "shell"}
    assert from_snippet("#!/bin/ksh\nprint hello\n").languages == {"snippet.sh": "shell"}
    assert from_text_file("job.txt", b"#!/bin/bash\ncp a b\n").languages == {"job.txt": "shell"}


def test_the_patch_adds_comments_only_and_is_verified() -> None:
    sources = from_folder(SHELL)
    inventory = build(sources)
    patch = build_patch(inventory, "en")
    assert sorted(patch.diffs) == ["nightly_load.sh", "rotate_logs"]
    assert ("+# archive_input: Writes file `/data/archive/`, file `/var/log/billing/load_report.txt`;\n"
            "+# called by `nightly_load.sh`.\n") in (
        patch.diffs["nightly_load.sh"])
    rotate = patch.texts["rotate_logs"].split("\n")
    assert rotate[0] == "#!/usr/bin/env ksh"  # the header goes below the #! line
    assert rotate[1] == "# rotate_logs: Calls `compress_logs`; called by `nightly_load.sh`."
    assert rotate[2] == "" and rotate[3].startswith("# compress_logs: Calls `gzip`")
    assert all(line.startswith(("+#", "+\n")) or line == "+" for line in
               patch.diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    result = verify(sources, patch)
    assert result.ok and result.git_checked
    assert sorted(result.preserved) == ["nightly_load.sh", "rotate_logs"]
    reread = Sources()  # the patched scripts, re-read: the comments are now their docs
    for path, text in patch.texts.items():
        reread.add(path, text.encode("utf-8"), "shell")
    patched = build(reread)
    assert [u.qualified for u in patched.units if not u.doc] == []
    assert len(patched.units) == len([u for u in inventory.units if u.path in patch.texts])


def test_a_code_change_in_a_script_is_caught() -> None:
    before = "#!/bin/sh\nrun() {\n  cp a b\n}\n"
    parsers = Parsers()
    assert same_code("shell", "x.sh", before, "#!/bin/sh\n# run: copies\nrun() {\n  cp a b\n}\n",
                     parsers) == ""
    assert same_code("shell", "x.sh", before, "#!/bin/sh\nrun() {\n  cp a c\n}\n",
                     parsers) == "syntax tree differs"


def test_the_module_page_names_the_files_written_and_no_skeleton_is_made() -> None:
    inventory = build(from_folder(SHELL))
    pages = docs.render(inventory, "en", {}, [], Redactor())
    page = pages["modules/nightly_load.sh.md"]
    assert "`file /var/log/billing/sqlplus.log`" in page
    assert "- **Environment variables exported**: `ORACLE_SID`, `NLS_LANG`" in page
    assert "- **Entry points**: `nightly_load.sh`" in page
    assert "### function `load_invoices`" in page
    french = docs.render(inventory, "fr", {}, [], Redactor())["modules/nightly_load.sh.md"]
    assert "Variables d'environnement exportées" in french and "exporte `ORACLE_SID`" in french
    overview = pages["overview.md"]
    assert "n_nightly_load_sh" in overview and "sqlplus" in overview
    assert "load_invoices\"])" not in overview  # a function is not drawn as a program
    assert skeletons.build(inventory, "en") == {}  # no test framework for shell


def test_a_header_before_a_blank_line_adds_no_second_one_and_keywords_are_no_programs() -> None:
    sources = Sources()
    text = ("#!/bin/sh\n\nfor f in *.csv; do\n  gzip \"$f\"\ndone\n"
            "psql -f load.sql > \"$(date +%F).log\"\n")
    sources.add("bin/pack", text.encode("utf-8"), "shell")
    inventory = build(sources)
    source = inventory.files[0]
    assert source.imports == ["gzip", "psql"] and source.writes == []  # « $(…) »: no name
    patch = build_patch(inventory, "fr")
    assert patch.texts["bin/pack"].startswith(
        "#!/bin/sh\n# pack: Appelle `gzip`, `psql`.\n\nfor f in *.csv")
    assert verify(sources, patch).ok


def test_a_function_defined_twice_gives_two_units() -> None:
    inventory = inventory_of({"lib.sh": "if [ -n \"$DEBUG\" ]; then\n  log() { echo \"$1\" >> debug.log; }\n"
                              "else\n  log() { :; }\nfi\nlog start\n"})
    assert [u.qualified for u in inventory.units] == ["lib.sh:lib.sh", "lib.sh:log",
                                                      "lib.sh:log@4"]
    assert inventory.index["lib.sh:log"].writes == ("file debug.log",)
    assert inventory.index["lib.sh:log@4"].writes == ()
    assert inventory.callees["lib.sh:lib.sh"] == ["lib.sh:log"]
