"""The inventory reads each language's structure: units, docs, calls, entry points, data."""

from __future__ import annotations

from pathlib import Path

from skills.codedoc import skeletons
from skills.codedoc.describe import facts
from skills.codedoc.inventory import build
from skills.codedoc.sources import from_folder
from tests.skills.codedoc.helpers import (
    fixture_sources,
    inventory_of,
    source_named,
    unit_named,
)


def test_python_units_signatures_docstrings_calls_and_data() -> None:
    inventory = build(fixture_sources())
    module = source_named(inventory, "python/billing/invoices.py")
    assert module.name == "python.billing.invoices"
    assert module.doc == "Invoices read from and written to the billing database."
    assert "sqlite3" in module.imports and module.entry_points == ["main()", "__main__"]
    assert module.reads == ["table INVOICES"]
    assert module.writes == ["table INVOICES", "file path"]
    save = unit_named(inventory, "python.billing.invoices:save_invoice")
    assert save.doc == "Insert one invoice." and save.raises == ("ValueError",)
    assert save.params == ("connection: sqlite3.Connection", "invoice: Invoice")
    assert save.signature.startswith("def save_invoice(")
    audit = unit_named(inventory, "python.billing.invoices:Invoice._audit")
    assert audit.kind == "method" and not audit.public
    assert inventory.callers["python.billing.invoices:grand_total"] == [
        "python.billing.invoices:main", "python.tests.test_invoices:test_grand_total_adds_vat"]
    assert inventory.callees["python.billing.invoices:grand_total"] == [
        "python.billing.invoices:Invoice.total"]


def test_java_visibility_javadoc_routes_and_throws() -> None:
    inventory = build(fixture_sources())
    service = source_named(inventory, "java/OrderService.java")
    assert "java.sql.Connection" in service.imports
    assert service.entry_points == ["GET /orders/{id} → OrderService.find", "OrderService.main()"]
    assert service.reads == ["table ORDERS"]
    top = unit_named(inventory, "java/OrderService.java:OrderService")
    assert top.doc == "Orders: placing and cancelling them." and top.public
    find = unit_named(inventory, "java/OrderService.java:OrderService.find")
    assert find.returns == "Order" and find.raises == ("SQLException",)
    assert find.route == "GET /orders/{id}" and find.params == ("String id",)
    assert not unit_named(inventory, "java/OrderService.java:OrderService.audit").public
    assert inventory.callers["java/OrderService.java:OrderService.audit"] == [
        "java/OrderService.java:OrderService.cancel"]


def test_javascript_exports_arrow_functions_classes_and_routes() -> None:
    inventory = build(fixture_sources())
    cart = source_named(inventory, "javascript/cart.js")
    assert cart.imports == ["express"] and cart.entry_points == ["GET /cart/total"]
    names = [(u.kind, u.name) for u in cart.units]
    assert names == [("function", "addItem"), ("function", "cartTotal"), ("function", "price"),
                     ("class", "Cart"), ("constructor", "constructor"), ("method", "clear")]
    assert unit_named(inventory, "javascript/cart.js:addItem").doc == "Adds an item to the cart."
    assert unit_named(inventory, "javascript/cart.js:price").raises == ("RangeError",)
    assert inventory.callers["javascript/cart.js:price"] == ["javascript/cart.js:cartTotal"]


def test_typescript_is_read_with_its_own_grammar() -> None:
    inventory = inventory_of({"src/rates.ts": (
        "export function rate(amount: number, years: number): number {\n"
        "  return amount * years;\n}\n")})
    unit = unit_named(inventory, "src/rates.ts:rate")
    assert unit.returns == "number" and unit.params == ("amount: number", "years: number")
    assert source_named(inventory, "src/rates.ts").parse_errors == 0


def test_sql_objects_columns_and_comments() -> None:
    inventory = build(fixture_sources())
    schema = source_named(inventory, "sql/schema.sql")
    assert [(u.kind, u.name) for u in schema.units] == [
        ("table", "customers"), ("table", "invoices"), ("view", "unpaid_invoices")]
    customers = unit_named(inventory, "sql/schema.sql:customers")
    assert customers.doc == "Customers of the billing system."
    assert customers.params == ("id INTEGER PRIMARY KEY", "name VARCHAR(100) NOT NULL")
    assert schema.reads == ["table INVOICES", "table CUSTOMERS"]


def test_cobol_program_paragraphs_perform_call_copy_files_and_sql() -> None:
    inventory = build(fixture_sources())
    payroll = source_named(inventory, "cobol/PAYROLL.cbl")
    assert payroll.name == "PAYROLL" and payroll.imports == ["EMPREC", "TAXAREA"]
    assert payroll.doc.startswith("PAYROLL: monthly payroll batch.")
    assert payroll.reads == ["file EMPIN"]
    assert payroll.writes == ["file SLIPOUT", "table PAY_HISTORY"]
    assert [u.name for u in payroll.units] == ["PAYROLL", "MAIN-PARA", "INIT-PARA",
                                               "PROCESS-PARA", "READ-PARA", "WRITE-SLIP",
                                               "CLOSE-PARA"]
    # PERFORM … UNTIL keeps its target; PERFORM VARYING (inline) is no call
    assert unit_named(inventory, "PAYROLL.MAIN-PARA").calls == (
        "INIT-PARA", "PROCESS-PARA", "CLOSE-PARA")
    assert unit_named(inventory, "PAYROLL.CLOSE-PARA").calls == ()
    assert unit_named(inventory, "PAYROLL.INIT-PARA").doc == (
        "Opens the files and reads the first employee.")
    assert inventory.callees["PAYROLL.PROCESS-PARA"] == [
        "TAXCALC", "PAYROLL.WRITE-SLIP", "PAYROLL.READ-PARA"]
    taxcalc = source_named(inventory, "cobol/TAXCALC.cbl")
    assert taxcalc.reads == ["table TAX_RATES"]
    assert unit_named(inventory, "TAXCALC").params == ("TAX-AREA",)
    assert [u.kind for u in taxcalc.units] == ["program", "section", "paragraph", "paragraph"]


def test_copybooks_give_their_records_and_fields() -> None:
    inventory = build(fixture_sources())
    record = unit_named(inventory, "EMPREC.EMP-REC")
    assert record.kind == "record" and record.doc == "Employee record of the EMPIN file."
    assert record.params == ("05 EMP-ID PIC 9(6)", "05 EMP-NAME PIC X(30)",
                             "05 EMP-SALARY PIC 9(7)V99")


def test_jcl_steps_run_programs_and_use_datasets() -> None:
    inventory = build(fixture_sources())
    job = source_named(inventory, "cobol/PAYJOB.jcl")
    assert job.entry_points == ["STEP01 → PAYROLL", "STEP02 → IEBGENER"]
    assert job.doc == "Monthly payroll: pay slips from the employee master file."
    assert job.writes == ["dataset PROD.PAYSLIPS.MONTHLY"]
    assert inventory.callers["PAYROLL"] == ["PAYJOB.STEP01"]


def test_free_format_cobol_is_read_too() -> None:
    inventory = inventory_of({"free.cbl": (
        "*> Free-format sample\nIDENTIFICATION DIVISION.\nPROGRAM-ID. FREEPROG.\n"
        "PROCEDURE DIVISION.\nSTART-UP.\n    PERFORM WORK-PARA 3 TIMES\n"
        "    PERFORM WORK-PARA\n    GOBACK.\nWORK-PARA.\n    DISPLAY 'HI'.\n")})
    assert [u.name for u in inventory.units] == ["FREEPROG", "START-UP", "WORK-PARA"]
    assert inventory.callees["FREEPROG.START-UP"] == ["FREEPROG.WORK-PARA"]


def test_java_enum_methods_and_interface_members() -> None:
    inventory = inventory_of({"Status.java": (
        "public enum Status {\n    OPEN, CLOSED;\n\n"
        "    public boolean isFinal() {\n        return this == CLOSED;\n    }\n}\n"),
        "Repo.java": "public interface Repo {\n    Order find(String id);\n}\n"})
    assert unit_named(inventory, "Status.java:Status.isFinal").returns == "boolean"
    assert unit_named(inventory, "Repo.java:Repo.find").public


def test_a_package_folder_names_its_modules_and_docstrings_are_dedented(tmp_path: Path) -> None:
    package = tmp_path / "billing"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "rates.py").write_text(
        'def rate(x: float) -> float:\n    """Rate.\n\n        Indented detail.\n    """\n'
        "    return x\n\n\ndef fee(x: float) -> float:\n    return x\n")
    sources = from_folder(package)
    inventory = build(sources)
    assert list(sources.texts) == ["__init__.py", "rates.py"]  # paths stay relative
    assert unit_named(inventory, "billing.rates:rate").doc == "Rate.\n\nIndented detail."
    tests = skeletons.build(inventory, "en")
    assert "from billing.rates import fee" in tests["tests_skeletons/test_rates_skeleton.py"]


def test_javascript_prototype_and_commonjs_functions() -> None:
    inventory = inventory_of({"mpl.js": (
        "var mpl = {};\n\nmpl.figure = function (id) {\n  this.id = id;\n};\n\n"
        "mpl.figure.prototype.send = function (type) {\n  return this.ws.send(type);\n};\n\n"
        "exports.render = (figure) => figure.send('draw');\n")})
    names = [(u.kind, u.qualified) for u in inventory.units]
    assert names == [("method", "mpl.js:mpl.figure"), ("method", "mpl.js:mpl.figure.send"),
                     ("function", "mpl.js:render")]
    assert inventory.callers["mpl.js:mpl.figure.send"] == ["mpl.js:render"]


def test_relative_python_imports_become_module_names() -> None:
    inventory = inventory_of({"pkg/__init__.py": "from .rules import rule\n",
                              "pkg/sub/parser.py": "from ..rules import rule\nfrom . import x\n",
                              "pkg/rules.py": "import os.path\n"})
    assert source_named(inventory, "pkg/__init__.py").imports == ["pkg.rules"]
    assert source_named(inventory, "pkg/sub/parser.py").imports == ["pkg.rules", "pkg.sub"]
    assert source_named(inventory, "pkg/rules.py").imports == ["os.path"]


def test_csharp_types_members_xml_docs_routes_and_throws() -> None:
    inventory = inventory_of({"InvoiceService.cs": (
        "using System;\nnamespace Billing.Core;\n\n/// <summary>Invoices.</summary>\n"
        "public class InvoiceService\n{\n    public InvoiceService(string name) { }\n\n"
        '    [HttpGet("/invoices/{id}")]\n    public Invoice Find(string id)\n    {\n'
        "        if (id == null) throw new ArgumentNullException(nameof(id));\n"
        "        return Repo.Load(id);\n    }\n\n    internal void Hidden() { }\n}\n")})
    service = source_named(inventory, "InvoiceService.cs")
    assert service.imports == ["System"]
    assert service.entry_points == ["GET /invoices/{id} → InvoiceService.Find"]
    assert unit_named(inventory, "InvoiceService.cs:InvoiceService").doc == "Invoices."
    find = unit_named(inventory, "InvoiceService.cs:InvoiceService.Find")
    assert find.returns == "Invoice" and find.raises == ("ArgumentNullException",)
    assert find.params == ("string id",) and "Load" in find.calls
    assert not unit_named(inventory, "InvoiceService.cs:InvoiceService.Hidden").public


def test_a_raised_exception_is_said_once_as_raised_not_as_a_call() -> None:
    inventory = inventory_of({"tarif.py": (
        "def prime(valeur, bonus=1.0):\n"
        "    if valeur <= 0:\n"
        "        raise ValueError('valeur invalide')\n"
        "    return round(valeur * 0.04 * bonus, 2)\n")})
    said = facts(unit_named(inventory, "tarif:prime"), inventory, "fr")
    assert "lève `ValueError` (si `valeur <= 0`)" in said and "appelle `round`" in said, said


def test_a_python_signature_leaves_its_comments_out() -> None:
    found = inventory_of({"codec.py": (
        "class Codec:\n"
        "    def encode(self, data: str) -> bytes:  # type: ignore[override]\n"
        "        return data.encode()\n\n"
        "def split(text,  # the raw line\n"
        "          sep: str = ':') -> list[str]:\n"
        "    return text.split(sep)\n")})

    assert unit_named(found, "codec:Codec.encode").signature == (
        "def encode(self, data: str) -> bytes")
    assert unit_named(found, "codec:split").signature == (
        "def split(text, sep: str = ':') -> list[str]")


def test_each_exception_comes_with_the_condition_it_is_raised_under() -> None:
    found = inventory_of({
        "codec.py": (
            "def encode(data, errors='strict'):\n"
            "    if errors != 'strict':\n"
            "        raise ValueError('no')\n"
            "    elif not data:\n"
            "        raise KeyError(data)\n"
            "    try:\n"
            "        return data.encode()\n"
            "    except (OSError, IOError) as error:\n"
            "        raise RuntimeError() from error\n"
            "    if data:\n"
            "        pass\n"
            "    else:\n"
            "        raise TypeError\n"
            "    raise NotImplementedError\n"),
        "Pay.java": (
            "public class Pay {\n"
            "  public int run(int amount) {\n"
            "    if (amount < 0) throw new IllegalArgumentException(\"neg\");\n"
            "    if (amount == 0) { return 0; } else { throw new IllegalStateException(); }\n"
            "  }\n"
            "}\n"),
        "cart.js": (
            "export function add(cart, item) {\n"
            "  if (!item) { throw new TypeError(`item ${item}`); }\n"
            "  return cart.concat([item]);\n"
            "}\n")})

    assert unit_named(found, "codec:encode").raised_when == {
        "ValueError": ["errors != 'strict'"], "KeyError": ["not data"],
        "RuntimeError": ["except OSError, IOError"], "TypeError": ["not (data)"]}
    assert unit_named(found, "Pay.java:Pay.run").raised_when == {
        "IllegalArgumentException": ["amount < 0"], "IllegalStateException": ["!(amount == 0)"]}
    assert unit_named(found, "cart.js:add").raised_when == {"TypeError": ["!item"]}
    said = facts(unit_named(found, "codec:encode"), found, "en")
    assert ("raises `ValueError` (if `errors != 'strict'`), `KeyError` (if `not data`), "
            "`RuntimeError` (on `OSError, IOError`), `TypeError` (if `not (data)`), "
            "`NotImplementedError`") in said


def test_untyped_python_says_what_it_returns_and_which_attributes_it_sets() -> None:
    inventory = inventory_of({"contrat.py": (
        "class Contrat:\n"
        "    def __init__(self, numero, prime):\n"
        "        self.numero, self.prime = numero, prime\n"
        "    def resilier(self, motif):\n"
        "        self.resilie = True\n"
        "        with open('journal.log', 'a') as f:\n"
        "            f.write(motif)\n"
        "    def mensualite(self):\n"
        "        def arrondi(x):\n"
        "            return round(x, 2)\n"
        "        return arrondi(self.prime / 12)\n"
        "    def lignes(self):\n"
        "        for ligne in self.prime:\n"
        "            yield ligne\n")})
    said = {name: facts(unit_named(inventory, f"contrat:Contrat.{name}"), inventory, "fr")
            for name in ("__init__", "resilier", "mensualite", "lignes")}
    assert "initialise `self.numero`, `self.prime`" in said["__init__"]
    assert "modifie `self.resilie`" in said["resilier"]
    assert "écrit le fichier `'journal.log'`" in said["resilier"], said["resilier"]
    assert "renvoie `arrondi(self.prime / 12)`" in said["mensualite"]  # not the inner return
    assert "produit ses valeurs une à une (générateur)" in said["lignes"]
    tests = skeletons.build(inventory, "en")["tests_skeletons/test_contrat_skeleton.py"]
    assert ("    # act: result = Contrat(…).mensualite(…)\n"
            "    # assert: result == … (the code returns arrondi(self.prime / 12))\n") in tests
    assert "    # assert: the effect on self.resilie, file 'journal.log'\n" in tests
    assert "def test_lignes_yields_the_expected_values() -> None:" in tests


def test_flask_routes_keep_their_method_and_every_call_is_counted() -> None:
    inventory = inventory_of({"api.py": (
        "@app.route('/sinistres/<numero>')\n"
        "def consulter(numero):\n"
        "    return lire(numero)\n\n"
        "@app.route('/sinistres', methods=['POST'])\n"
        "def declarer():\n"
        "    a(); b(); c(); d(); e()\n")})
    assert unit_named(inventory, "api:consulter").route == "GET /sinistres/<numero>"
    assert unit_named(inventory, "api:declarer").route == "POST /sinistres"
    said = facts(unit_named(inventory, "api:declarer"), inventory, "en")
    assert "calls `a`, `b`, `c`, `d`, `e`" in said, said
