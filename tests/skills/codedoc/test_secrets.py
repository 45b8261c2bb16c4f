"""Secrets in code are found (kind and line, never the value) and redacted."""

from __future__ import annotations

from skills.codedoc.secrets import Redactor, find

CODE = '''DB_PASSWORD = "Sup3rS3cret!"
url = "postgresql://app:hunter22@db:5432/billing"
dsn = "Server=db;Database=x;User Id=sa;Password=P@ss123;"
       01  WS-DB-PASSWORD         PIC X(12) VALUE 'Tiger2024'.
source.setPassword("jdbcpw99");
key = "AKIAABCDEFGHIJKLMNOP"
token: "sk-proj-Abc123defGhi456jklMno"
api_key = os.environ["API_KEY"]
password = "changeme"
def check_password(password):
    return password == "x"
'''


def test_keys_passwords_and_connection_strings_are_found_by_line() -> None:
    found = find("app.py", CODE)
    assert [(f.line, f.kind) for f in found] == [
        (1, "password or key"), (2, "connection string"), (3, "connection string"),
        (4, "password or key"), (5, "password or key"), (6, "cloud key"), (7, "token")]
    assert "Sup3rS3cret" not in repr(found)


def test_redaction_keeps_the_code_readable_and_numbers_values() -> None:
    redactor = Redactor()
    redacted = redactor.redact(CODE + 'again = "postgresql://app:hunter22@db/x"\n')
    for value in ("Sup3rS3cret!", "hunter22", "P@ss123", "Tiger2024", "jdbcpw99",
                  "AKIAABCDEFGHIJKLMNOP", "sk-proj-Abc123defGhi456jklMno"):
        assert value not in redacted
    assert 'DB_PASSWORD = "[SECRET_1]"' in redacted
    assert redacted.count("[SECRET_2]") == 2  # the same value, the same placeholder
    assert 'api_key = os.environ["API_KEY"]' in redacted and 'password = "changeme"' in redacted
    assert 'return password == "x"' in redacted
    assert redactor.count == 7


def test_names_that_only_contain_a_keyword_are_not_secrets() -> None:
    code = ('def rule(token_type: str = "fence", tokenizer = "basic"):\n'
            '    SECRET_KEY_PROD = "k3y-v4lue"\n    apiKey: "abcdef12"\n')
    assert [(f.line, f.kind) for f in find("r.py", code)] == [
        (2, "password or key"), (3, "password or key")]


def test_look_alikes_are_not_secrets() -> None:
    code = ("el.closest('.sk-toggleable__content');\n"
            'X_CHROMA_TOKEN = "X-Chroma-Token"\nfield = {"password": "password_field"}\n'
            'key = "sk-proj-Ab3dEfGhIjKlMnOpQrSt"\n')
    assert [(f.line, f.kind) for f in find("a.py", code)] == [(4, "token")]


def test_credentials_in_shell_jdbc_requests_and_bearer_headers() -> None:
    code = ('DB_PASS="ShellPw2024"\nsqlplus admin/OraPw99@PROD @batch.sql\n'
            'curl -u admin:CurlPw77 https://api.example\n'
            'u = "jdbc:oracle:thin:scott/Tig3rPwd@db:1521:X"\n'
            'requests.get(url, auth=("svc", "SvcPw_2023"))\n'
            'headers = {"Authorization": "Bearer abcdef1234567890ABCDEF"}\n'
            'bypass_cache = "yes please"\n')
    assert [finding.line for finding in find("x", code)] == [1, 2, 3, 4, 5, 6]
    redacted = Redactor().redact(code)
    for value in ("ShellPw2024", "OraPw99", "CurlPw77", "Tig3rPwd", "SvcPw_2023", "abcdef123"):
        assert value not in redacted, value
    assert 'bypass_cache = "yes please"' in redacted


def test_a_secret_in_a_signature_leaks_into_no_output() -> None:
    from skills.codedoc.pipeline import document
    from skills.codedoc.sources import Sources

    sources = Sources()
    sources.add("auth.py", b'def connect(password="DefaultPw1"):\n'
                           b'    return open_session(password)\n')
    outputs = document(sources, "fr")
    assert b"DefaultPw1" not in outputs.inventory_json()
    assert all("DefaultPw1" not in text for text in outputs.skeletons.values())
    assert all("DefaultPw1" not in page for page in outputs.pages.values())
    added = [line for line in outputs.patch.decode().splitlines() if line.startswith("+ ")]
    assert added and all("DefaultPw1" not in line for line in added)
