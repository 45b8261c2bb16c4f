"""The documentation patch: each language's convention, and proof that it changes no code."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import CodeType

from skills.codedoc.inventory import build
from skills.codedoc.patch import Patch, python_style
from skills.codedoc.patch import build as build_patch
from skills.codedoc.sources import Sources
from skills.codedoc.syntax import Parsers, errors_in
from skills.codedoc.verify import same_code, verify
from tests.skills.codedoc.helpers import fixture_sources, inventory_of


def test_the_fixtures_patch_applies_and_preserves_every_syntax_tree(tmp_path: Path) -> None:
    sources = fixture_sources()
    inventory = build(sources)
    patch = build_patch(inventory, "en")
    result = verify(sources, patch)
    assert result.ok and result.git_checked
    assert sorted(result.preserved) == sorted(patch.diffs)
    assert len(patch.diffs) == 11  # every file with an undocumented unit
    for path, text in sources.texts.items():  # git apply on a real copy, as a developer would
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (tmp_path / "doc.patch").write_text(patch.diff, encoding="utf-8")
    git = shutil.which("git")
    assert git is not None
    subprocess.run([git, "apply", "doc.patch"], cwd=tmp_path, check=True)  # noqa: S603
    applied = (tmp_path / "python/billing/invoices.py").read_text(encoding="utf-8")
    assert applied == patch.texts["python/billing/invoices.py"]
    compile(applied, "invoices.py", "exec")


def test_each_language_gets_its_own_convention() -> None:
    patch = build_patch(build(fixture_sources()), "en")
    python = patch.diffs["python/billing/invoices.py"]
    assert ('+    """Takes `connection`, `customer`; returns `list[Invoice]`; calls `Invoice`,\n'
            "+    `connection.execute`; reads table `INVOICES`; called by `main`.\n"
            '+    """\n') in python
    java = patch.diffs["java/OrderService.java"]
    assert "+    /**\n" in java and "+     * @param id {@code String}\n" in java
    assert "+     * @throws SQLException\n" in java and "+     * @return {@code Order}\n" in java
    javascript = patch.diffs["javascript/cart.js"]
    assert "+ * @throws {RangeError}\n" in javascript
    cobol = patch.diffs["cobol/PAYROLL.cbl"]
    assert "+      * PROCESS-PARA: Performs `WRITE-SLIP`, `READ-PARA`; calls\n" in cobol
    assert all(len(line) <= 73 for line in cobol.splitlines() if line.startswith("+"))
    assert "+-- table invoices: Columns: `number`, `customer`, `amount`.\n" in (
        patch.diffs["sql/schema.sql"])
    assert ("+//* STEP01: Runs program `PAYROLL`; reads `dataset\n"
            "+//* PROD.EMPLOYEE.MASTER`; writes `dataset PROD.PAYSLIPS.MONTHLY`.\n") in (
        patch.diffs["cobol/PAYJOB.jcl"])
    # documented units are left alone
    assert "save_invoice" not in python.split("def save_invoice")[0].rsplit("@@", 1)[-1]
    assert "Insert one invoice" not in python


def test_a_job_s_comment_goes_after_its_job_statement() -> None:
    jcl = ("//RUNPRM   JOB (ACCT),'PRIMES',CLASS=A,\n//             MSGCLASS=X\n"
           "//STEP01   EXEC PGM=PRMCALC\n")
    patch = build_patch(inventory_of({"RUNPRM.jcl": jcl}), "en")
    patched = patch.texts["RUNPRM.jcl"].splitlines()
    assert patched[0].startswith("//RUNPRM   JOB") and patched[1] == "//             MSGCLASS=X"
    assert patched[2].startswith("//* RUNPRM:")


def test_french_documentation_when_asked() -> None:
    patch = build_patch(build(fixture_sources()), "fr")
    assert "Exécute `WRITE-SLIP`, `READ-PARA` ; appelle" in patch.diffs["cobol/PAYROLL.cbl"]


def test_model_text_cannot_break_out_of_a_docstring_or_comment() -> None:
    inventory = inventory_of({"m.py": "def f(x):\n    return x\n",
                              "A.java": "public class A {\n    public int g() { return 1; }\n}\n"})
    hostile = {"m:f": 'Ends here """; import os\\ ', "A.java:A.g": "Closes */ int x = 1;"}
    sources = Sources()
    for source in inventory.files:
        sources.add(source.path, source.text.encode())
    patch = build_patch(inventory, "en", hostile)
    assert patch.texts["m.py"].startswith(
        'def f(x):\n    """Ends here \'\'; import os/\n\n    Takes `x`; returns `x`.\n    """\n')
    assert "Closes * / int x = 1;" in patch.texts["A.java"]
    assert verify(sources, patch).ok


def test_project_docstring_style_is_followed() -> None:
    google = '''def documented(a: int) -> int:
    """Double it.

    Args:
        a: the value.
    """
    return a * 2


def bare(path: str, strict: bool = False) -> None:
    open(path)
'''
    inventory = inventory_of({"g.py": google})
    assert python_style(inventory).sections == "google"
    patched = build_patch(inventory, "en").texts["g.py"]
    assert "    Args:\n        path: ``str``.\n        strict: ``bool``.\n" in patched


def test_line_endings_missing_final_newline_and_windows_1252_are_kept(tmp_path: Path) -> None:
    sources = Sources()
    sources.add("crlf.py", b"def f():\r\n    return 1\r\n")
    sources.add("last.py", b"def g():\n    return 2")
    sources.add("LEGACY.cbl", "       IDENTIFICATION DIVISION.\n       PROGRAM-ID. LEGACY.\n"
                "       PROCEDURE DIVISION.\n       MAIN-PARA.\n           DISPLAY 'Été'.\n"
                .encode("cp1252"))
    assert sources.encodings["LEGACY.cbl"] == "cp1252"
    patch = build_patch(build(sources), "fr")
    assert patch.texts["crlf.py"].startswith('def f():\r\n    """')
    assert "\\ No newline at end of file" in patch.diffs["last.py"]
    result = verify(sources, patch)
    assert result.ok and result.git_checked, result.failed


def test_verification_catches_a_patch_that_changes_code() -> None:
    parsers = Parsers()
    before = "def f(x):\n    return x\n"
    assert same_code("python", "f.py", before, 'def f(x):\n    """Doc."""\n    return x\n',
                     parsers) == ""
    assert same_code("python", "f.py", before, "def f(x):\n    return x + 1\n", parsers) == (
        "syntax tree differs")
    assert same_code("python", "f.py", before, 'def f(x):\n    """Doc."""\n    "x"\n'
                     "    return x\n", parsers) == "syntax tree differs"
    cobol = "       PROCEDURE DIVISION.\n       A.\n           DISPLAY 'X'.\n"
    assert same_code("cobol", "a.cbl", cobol, "      * note\n" + cobol, parsers) == ""
    assert same_code("cobol", "a.cbl", cobol, cobol.replace("'X'", "'Y'"), parsers)
    assert same_code("java", "A.java", "class A { int f() { return 1; } }",
                     "class A { /** d */ int f() { return 2; } }", parsers)
    sources = Sources()
    sources.add("f.py", before.encode())
    forged = Patch(texts={"f.py": "def f(x):\n    return x + 1\n"},
                   diffs={"f.py": "--- a/f.py\n+++ b/f.py\n@@ -1,2 +1,2 @@\n def f(x):\n"
                                  "-    return x\n+    return x + 1\n"})
    result = verify(sources, forged)
    assert result.failed == {"f.py": "syntax tree differs"}


def test_python_bytecode_is_compared_without_docstrings() -> None:
    from skills.codedoc.verify import same_bytecode

    def code(text: str) -> CodeType:
        return compile(text, "m.py", "exec", dont_inherit=True, optimize=2)

    plain = "class A:\n    def f(self, x):\n        while x:\n            x -= 1\n        return x\n"
    documented = ('"""Module."""\nclass A:\n    """A."""\n    def f(self, x):\n'
                  '        """F."""\n        while x:\n            x -= 1\n        return x\n')
    assert same_bytecode(code(plain), code(documented))
    assert not same_bytecode(code(plain), code(plain.replace("x -= 1", "x -= 2")))


def test_cobol_the_grammar_reads_is_also_compared_by_syntax_tree() -> None:
    parsers = Parsers()
    program = ("       IDENTIFICATION DIVISION.\n       PROGRAM-ID. SIMPLE.\n"
               "       PROCEDURE DIVISION.\n       MAIN-PARA.\n"
               "           PERFORM WORK-PARA 3 TIMES\n           STOP RUN.\n"
               "       WORK-PARA.\n           DISPLAY 'X'.\n")
    assert not errors_in(parsers.parse("cobol", program))
    patch = build_patch(inventory_of({"SIMPLE.cbl": program}), "en")
    after = patch.texts["SIMPLE.cbl"]
    assert "      * WORK-PARA: Called by `MAIN-PARA`.\n" in after
    assert same_code("cobol", "SIMPLE.cbl", program, after, parsers) == ""
    # a change the line check cannot see (code moved into the sequence area) is still caught
    moved = after.replace("           STOP RUN.", "      -    STOP RUN.")
    assert same_code("cobol", "SIMPLE.cbl", program, moved, parsers)


def test_multi_line_types_stay_on_one_comment_line() -> None:
    code = ("export class Page {\n  viewportSize(): null|{\n    /** width */\n    width: number;\n"
            "  } {\n    return null;\n  }\n}\n")
    sources = Sources()
    sources.add("page.ts", code.encode())
    patch = build_patch(build(sources), "en")
    assert "+   * @returns {null|{ /** width * / width: number; }}\n" in patch.diffs["page.ts"]
    assert verify(sources, patch).ok


def test_one_refused_part_costs_only_its_own_file() -> None:
    sources = Sources()
    sources.add("good.py", b"def f():\n    return 1\n")
    sources.add("bad.py", b"def g():\n    return 2\n")
    patch = build_patch(build(sources), "en")
    patch.diffs["bad.py"] = patch.diffs["bad.py"].replace(" def g():", " def h():")
    result = verify(sources, patch)
    assert result.preserved == ["good.py"]
    assert result.failed == {"bad.py": "git apply --check refused the patch"}


def test_an_empty_or_concatenated_docstring_is_never_doubled() -> None:
    code = ('def f():\n    """ """\n    return 1\n\n\ndef g():\n    "a" "b"\n    return 2\n\n\n'
            'def h():\n    return 3\n')
    sources = Sources()
    sources.add("m.py", code.encode())
    patch = build_patch(build(sources), "en")
    assert patch.documented == ["m:h"]
    assert verify(sources, patch).ok


def test_csharp_gets_xml_documentation_comments() -> None:
    code = ("public class Rates\n{\n    [HttpGet(\"/rate\")]\n"
            "    public decimal Rate(decimal amount, int years)\n    {\n"
            "        if (years < 0) throw new ArgumentException(\"years\");\n"
            "        return amount * years;\n    }\n}\n")
    sources = Sources()
    sources.add("Rates.cs", code.encode())
    patch = build_patch(build(sources), "en")
    diff = patch.diffs["Rates.cs"]
    assert "+    /// <summary>\n" in diff and '+    /// <param name="years">int</param>\n' in diff
    assert "+    /// <returns>decimal</returns>\n" in diff
    assert '+    /// <exception cref="ArgumentException"/>\n     [HttpGet("/rate")]\n' in diff
    assert verify(sources, patch).ok


def test_python_2_code_is_documented_on_the_syntax_tree_alone() -> None:
    code = 'def greet(name):\n    print "Bonjour", name\n    return name\n'
    sources = Sources()
    sources.add("legacy.py", code.encode())
    patch = build_patch(build(sources), "fr")
    assert patch.documented == ["legacy:greet"]
    assert verify(sources, patch).ok


def test_javadoc_text_is_escaped_html() -> None:
    inventory = inventory_of({"Pay.java": (
        "public class Pay {\n"
        "    public java.util.List<String> run(int amount) {\n"
        "        if (amount < 0) { throw new IllegalArgumentException(\"neg\"); }\n"
        "        return null;\n"
        "    }\n"
        "}\n")})
    patch = build_patch(inventory, "en")
    assert "(if `amount &lt; 0`)" in patch.texts["Pay.java"]
    assert "amount < 0`" not in patch.texts["Pay.java"].split("public java")[0]
