"""The inventory of a code base: files, their units (classes, functions, paragraphs…), links."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DocSlot:
    """Where documentation for a unit can be inserted: before line ``line`` (0-based)."""

    line: int
    indent: str
    style: str  # python | javadoc | jsdoc | xmldoc | cobol-fixed | cobol-free | sql | jcl | shell(-header)


@dataclass(slots=True)
class Unit:
    """One documentable thing in a file: a class, a function, a COBOL paragraph, a table…"""

    kind: str  # class | function | method | program | section | paragraph | table | view …
    name: str
    qualified: str  # unique in the inventory: « payroll.py:Payroll.run », « PAYROLL.MAIN-PARA »
    path: str
    line: int  # 1-based
    end_line: int
    signature: str = ""
    doc: str = ""  # the existing docstring or comment block (may be empty)
    public: bool = True
    params: tuple[str, ...] = ()
    returns: str = ""  # the declared return type
    returned: tuple[str, ...] = ()  # what its return statements give, when no type says it
    sets: tuple[str, ...] = ()  # the object's attributes it assigns (« self.resilie »)
    raises: tuple[str, ...] = ()
    # exception → the conditions it is raised under (« errors != "strict" »), when the code says
    raised_when: dict[str, list[str]] = field(default_factory=dict)
    calls: tuple[str, ...] = ()  # names as written in the code (resolved in the graph)
    reads: tuple[str, ...] = ()  # « table X », « file Y » this unit reads
    writes: tuple[str, ...] = ()
    exports: tuple[str, ...] = ()  # environment variables it exports (shell)
    slot: DocSlot | None = None  # None: no safe place to add documentation
    route: str = ""  # an HTTP route it serves, when decorated/annotated so


@dataclass(slots=True)
class Access:
    """Tables and files a piece of code reads and writes, in order, without repeats."""

    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)

    def add(self, reads: list[str], writes: list[str]) -> None:
        """Record what was read and written."""
        self.reads += [name for name in reads if name not in self.reads]
        self.writes += [name for name in writes if name not in self.writes]

    def give(self, unit: Unit, source: SourceFile) -> None:
        """Hand the findings to ``unit`` and to its file."""
        unit.reads, unit.writes = tuple(self.reads), tuple(self.writes)
        source.access(self.reads, self.writes)


@dataclass(slots=True)
class SourceFile:
    """One source file, as parsed."""

    path: str
    language: str
    text: str
    name: str  # module or program name
    doc: str = ""
    units: list[Unit] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # imports, COPY books, JCL programs
    entry_points: list[str] = field(default_factory=list)  # main, JCL steps, HTTP routes
    reads: list[str] = field(default_factory=list)  # files and tables read
    writes: list[str] = field(default_factory=list)  # files and tables written
    exports: list[str] = field(default_factory=list)  # environment variables exported (shell)
    parse_errors: int = 0  # syntax errors the parser recovered from
    first_error: int = 0  # the line of the first one (0: none)

    def access(self, reads: list[str], writes: list[str]) -> None:
        """Add tables and files the file reads and writes."""
        self.reads += [name for name in reads if name not in self.reads]
        self.writes += [name for name in writes if name not in self.writes]

    @property
    def lines(self) -> int:
        """Lines of text."""
        return self.text.count("\n") + (0 if self.text.endswith("\n") or not self.text else 1)

    @property
    def is_test(self) -> bool:
        """A test file (its calls tell which functions are tested)."""
        lowered = self.path.lower()
        base = lowered.rsplit("/", 1)[-1]
        return (base.startswith("test_") or base.endswith(("_test.py", "test.java", ".test.js",
                                                           ".spec.js", ".test.ts"))
                or "/tests/" in f"/{lowered}" or "/test/" in f"/{lowered}")


@dataclass(slots=True)
class Inventory:
    """Every parsed file, what was skipped, and who calls whom."""

    files: list[SourceFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    callers: dict[str, list[str]] = field(default_factory=dict)  # qualified → callers
    callees: dict[str, list[str]] = field(default_factory=dict)  # qualified → callees
    index: dict[str, Unit] = field(default_factory=dict)  # qualified → unit
    members: dict[str, list[str]] = field(default_factory=dict)  # class → its members' names

    @property
    def units(self) -> list[Unit]:
        """Every unit of every file."""
        return [unit for source in self.files for unit in source.units]

    @property
    def lines(self) -> int:
        """Lines parsed."""
        return sum(source.lines for source in self.files)
