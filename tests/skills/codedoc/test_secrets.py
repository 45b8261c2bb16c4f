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
