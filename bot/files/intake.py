"""Checks every file must pass before anything of it is stored or read by a skill.

Refusals carry a polite message in French and English that says what to do; nothing of a
refused file is kept. The archive checks read each entry to its end (sizes in ZIP headers
can lie, and a wrong CRC shows a corrupt archive) but never hold more than one buffer.
"""

from __future__ import annotations

import hashlib
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from bot.files.settings import FileSettings
from bot.files.sniff import EXTENSIONS, FileKind, Sniffed, sniff
from bot.i18n import Refusal, Text

_READ_BLOCK = 1_048_576
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_DRIVE = re.compile(r"^[A-Za-z]:")


class FileRejected(Refusal):
    """A file that may not be kept, with the reason the person reads; ``code`` names it."""

    def __init__(self, code: str, text: Text, **values: object) -> None:
        super().__init__(text, **values)
        self.code = code


REASONS: dict[str, Text] = {
    "too_many": Text(
        "Trop de fichiers dans un seul message ({count} ; maximum {limit}). "
        "Envoyez-les en plusieurs fois ou réunissez-les dans un ZIP.",
        "Too many files in one message ({count}; at most {limit}). "
        "Send them in several messages or put them in one ZIP.",
    ),
    "too_large": Text(
        "« {name} » est trop volumineux ({size} Mo ; maximum {limit} Mo).",
        "“{name}” is too large ({size} MB; at most {limit} MB).",
    ),
    "empty": Text("« {name} » est vide.", "“{name}” is empty."),
    "unsupported": Text(
        "Je ne prends pas en charge les fichiers « {extension} » (« {name} »). "
        "Formats acceptés : PDF, DOCX, XLSX, CSV, TXT, MD et ZIP.",
        "I do not accept “{extension}” files (“{name}”). "
        "Accepted formats: PDF, DOCX, XLSX, CSV, TXT, MD and ZIP.",
    ),
    "legacy_office": Text(
        "« {name} » est un document Office ancien format (.doc/.xls). "
        "Enregistrez-le en .docx ou .xlsx, puis renvoyez-le.",
        "“{name}” is an old-format Office document (.doc/.xls). "
        "Save it as .docx or .xlsx and send it again.",
    ),
    "mismatch": Text(
        "Le contenu de « {name} » ne correspond pas à son extension ({found} au lieu de "
        "{expected}). Renvoyez le fichier d'origine, avec la bonne extension.",
        "The content of “{name}” does not match its extension ({found} instead of "
        "{expected}). Send the original file with the right extension.",
    ),
    "corrupt": Text(
        "« {name} » est endommagé ou incomplet et ne peut pas être lu. "
        "Vérifiez qu'il s'ouvre chez vous, puis renvoyez-le.",
        "“{name}” is damaged or incomplete and cannot be read. "
        "Check that it opens on your computer, then send it again.",
    ),
    "encrypted": Text(
        "« {name} » est protégé par un mot de passe. Envoyez une version non chiffrée.",
        "“{name}” is password-protected. Send an unencrypted copy.",
    ),
    "zip_entries": Text(
        "L'archive « {name} » contient trop de fichiers ({count} ; maximum {limit}).",
        "The archive “{name}” holds too many files ({count}; at most {limit}).",
    ),
    "zip_bomb": Text(
        "L'archive « {name} » se décompresse en un volume anormal (plus de {limit} Mo, ou un "
        "fichier plus de {ratio} fois plus gros que compressé) : elle est refusée par sécurité.",
        "The archive “{name}” expands to an abnormal size (over {limit} MB, or a file over "
        "{ratio} times its compressed size): it is refused for safety.",
    ),
    "zip_path": Text(
        "L'archive « {name} » contient un chemin dangereux (« {entry} ») : elle est refusée "
        "par sécurité.",
        "The archive “{name}” holds an unsafe path (“{entry}”): it is refused for safety.",
    ),
    "zip_nested": Text(
        "L'archive « {name} » contient une autre archive (« {entry} ») : décompressez-la "
        "d'abord, puis renvoyez un seul niveau de ZIP.",
        "The archive “{name}” holds another archive (“{entry}”): extract it first and send "
        "a single-level ZIP.",
    ),
}


def rejected(code: str, **values: object) -> FileRejected:
    """A :class:`FileRejected` with the standard reason ``code``."""
    return FileRejected(code, REASONS[code], **values)


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """A file inside an accepted ZIP."""

    path: str
    size: int


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A file that passed every check: its safe name, real kind, size and digest."""

    name: str
    kind: FileKind
    size: int
    sha256: str
    entries: tuple[ArchiveEntry, ...] = ()

    @property
    def media_type(self) -> str:
        """The media type of the sniffed kind (never the one the sender declared)."""
        return self.kind.media_type


def safe_name(name: str) -> str:
    """A display and download name: last path part, no control or path characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    return base[:200] if any(char.isalnum() for char in base) else "fichier"


def check_count(count: int, settings: FileSettings) -> None:
    """Refuse a message carrying more files than allowed."""
    if count > settings.max_files:
        raise rejected("too_many", count=count, limit=settings.max_files)


def check_file(name: str, stream: IO[bytes], settings: FileSettings) -> CheckedFile:
    """Check one file (``stream`` seekable, at any position): type, size, archive safety.

    Returns what may be stored; raises :class:`FileRejected` otherwise.
    """
    display = safe_name(name)
    size = stream.seek(0, 2)
    stream.seek(0)
    if size > settings.max_bytes:
        raise rejected("too_large", name=display, size=_mb(size), limit=settings.max_file_mb)
    extension = PurePosixPath(display.lower()).suffix
    expected = EXTENSIONS.get(extension)
    if expected is None:
        raise rejected("unsupported", name=display, extension=extension or "(sans extension)")
    found = sniff(stream)
    if found is Sniffed.EMPTY:
        raise rejected("empty", name=display)
    if found is Sniffed.LEGACY_OFFICE:
        raise rejected("legacy_office", name=display)
    if found is Sniffed.BROKEN_ZIP and expected.is_zip:
        raise rejected("corrupt", name=display)
    if isinstance(found, Sniffed) or not _compatible(expected, found):
        shown: str | Text = (found.value.upper() if isinstance(found, FileKind)
                             else _label(found))
        raise rejected("mismatch", name=display, found=shown, expected=expected.value.upper())
    entries: tuple[ArchiveEntry, ...] = ()
    if expected.is_zip:
        entries = _check_archive(display, stream, settings, nested_ok=expected is not FileKind.ZIP)
    digest = _sha256(stream)
    return CheckedFile(display, expected, size, digest, entries if expected is FileKind.ZIP else ())


def _compatible(expected: FileKind, found: FileKind) -> bool:
    return found == expected or (expected.is_text and found.is_text)


def _label(found: Sniffed) -> Text:
    return {Sniffed.OTHER_OFFICE: Text("autre document Office/OpenDocument",
                                       "another Office/OpenDocument document"),
            Sniffed.BINARY: Text("binaire", "binary"),
            Sniffed.LEGACY_OFFICE: Text("Office ancien", "old Office"),
            Sniffed.EMPTY: Text("vide", "empty"),
            Sniffed.BROKEN_ZIP: Text("ZIP endommagé", "damaged ZIP")}[found]


def _check_archive(name: str, stream: IO[bytes], settings: FileSettings,
                   *, nested_ok: bool) -> tuple[ArchiveEntry, ...]:
    """Entries of a safe archive; refuses traversal, links, encryption, bombs and corruption.

    Python's ``zipfile`` never expands an entry past the size its header declares (a lie
    ends in a CRC error), so declared sizes bound what any reader here will expand. A ZIP's
    entries are also read to their end now, to find corruption before they are extracted.
    """
    limit = settings.zip_max_total_mb * 1_048_576
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > settings.zip_max_entries:
                raise rejected("zip_entries", name=name, count=len(infos),
                               limit=settings.zip_max_entries)
            entries: list[ArchiveEntry] = []
            total = 0
            declared = 0
            for info in infos:
                _check_entry_header(name, info, settings, nested_ok=nested_ok)
                declared += info.file_size
                if declared > limit:
                    raise rejected("zip_bomb", name=name, limit=settings.zip_max_total_mb,
                                   ratio=settings.zip_max_ratio)
                if info.is_dir():
                    continue
                if not nested_ok:  # an archive's entries are extracted later: read them now
                    total += _read_entry(name, archive, info, limit - total, settings)
                entries.append(ArchiveEntry(info.filename, info.file_size))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError) as error:
        raise rejected("corrupt", name=name) from error
    finally:
        stream.seek(0)
    return tuple(entries)


def _check_entry_header(name: str, info: zipfile.ZipInfo, settings: FileSettings,
                        *, nested_ok: bool) -> None:
    path = info.filename
    parts = path.replace("\\", "/").split("/")
    if (path.startswith(("/", "\\")) or _DRIVE.match(path) or ".." in parts or "\\" in path
            or "\x00" in path):
        raise rejected("zip_path", name=name, entry=safe_name(path))
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        raise rejected("zip_path", name=name, entry=safe_name(path))
    if info.flag_bits & 0x1:
        raise rejected("encrypted", name=name)
    if not nested_ok and PurePosixPath(path.lower()).suffix in (".zip", ".7z", ".rar", ".gz"):
        raise rejected("zip_nested", name=name, entry=safe_name(path))
    if info.compress_size and info.file_size > 1_048_576 and (
            info.file_size / info.compress_size > settings.zip_max_ratio):
        raise rejected("zip_bomb", name=name, limit=settings.zip_max_total_mb,
                       ratio=settings.zip_max_ratio)


def _read_entry(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int,
                settings: FileSettings) -> int:
    """Bytes actually expanded (CRC checked by zipfile at the end), within ``budget``."""
    expanded = 0
    with archive.open(info) as entry:
        while block := entry.read(_READ_BLOCK):
            expanded += len(block)
            if expanded > budget:
                raise rejected("zip_bomb", name=name, limit=settings.zip_max_total_mb,
                               ratio=settings.zip_max_ratio)
    return expanded


def _sha256(stream: IO[bytes]) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while block := stream.read(_READ_BLOCK):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f}".replace(".", ",")
