"""Shipped datasets (see PROVENANCE.md) and the one function that finds them."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DATA = Path(__file__).resolve().parent


def dataset_dir(name: str, override: Path | str | None = None) -> Path:
    """Folder holding dataset ``name``: ``override`` if given, else the copy shipped here."""
    return Path(override) if override is not None else PACKAGE_DATA / name


def open_text(folder: Path, filename: str):
    """Open ``filename`` in ``folder`` as text, reading ``filename.gz`` when only that exists."""
    import gzip

    plain = folder / filename
    if plain.exists():
        return plain.open("rt")
    gz = folder / f"{filename}.gz"
    if gz.exists():
        return gzip.open(gz, "rt")
    raise FileNotFoundError(f"neither {plain} nor {gz} exists")
