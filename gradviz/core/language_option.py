"""The command line's ``--lang`` option: one help text and one parser for the app and its subcommands."""

from __future__ import annotations

import argparse

from gradviz.core import i18n


def language_code(value: str) -> str:
    """The language ``value`` names (``zh_CN``, ``zh-CN``, ``en`` ...); a clear error listing the choices."""
    found = i18n.normalize(value)
    if found is None:
        choices = ", ".join(f"{code} ({name})" for code, name in i18n.LANGUAGES.items())
        raise argparse.ArgumentTypeError(f"unknown language {value!r}: choose one of {choices}")
    return found


def add_language_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--lang CODE`` (default None: the system's locale) to ``parser``."""
    parser.add_argument("--lang", type=language_code, default=None, metavar="CODE",
                        help="the language of gradviz's own words: " + " or ".join(i18n.LANGUAGES)
                             + " (default: the system's locale)")


def apply_language_option(args: argparse.Namespace) -> str:
    """Make the language ``args.lang`` asks for (else the system locale's) the current one; returns it."""
    code = getattr(args, "lang", None)
    return i18n.set_language(code if code is not None else i18n.system_language())
