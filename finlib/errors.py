"""The exceptions finlib raises: every message says what happened and what to do.

    FinlibError
    ├── ConfigError              a setting is invalid (the message names the variable)
    ├── ParseError               a file cannot be read as an invoice ledger
    │   ├── MissingColumnsError  no customer, invoice-date or amount column
    │   └── FileRejectedError    too large, wrong type, or the parser died or ran out of time/memory
    ├── StorageError             the object store (S3 or local) failed
    │   ├── SourceNotAllowedError  a source URL refused before any request was made
    │   └── ObjectNotFoundError    the object or file does not exist
    ├── DatabaseError            the database cannot be reached or a write failed
    ├── ProjectError             a project-level problem
    │   ├── ProjectNotFoundError
    │   ├── AccessDeniedError    the acting user's role in the project does not allow this
    │   └── CurrencyError        a project currency code or symbol that cannot be used
    ├── AliasError               aliases cannot be derived or stored
    ├── ForecastError            too little payment history to forecast or backtest
    ├── AuthenticationError      an API request carries no valid token
    └── LLMError                 the language model could not answer
        ├── PrivacyBlockedError  a payload contained a real name and was not sent
        └── LLMUnavailableError  timeouts, rate limits or server errors after retries

Third-party exceptions are wrapped with context (``raise StorageError(...) from exc``);
the UI and the CLI translate ``FinlibError`` once, at the boundary.
"""

from __future__ import annotations


class FinlibError(Exception):
    """Base of every error a user should see as a message rather than a traceback."""


class ConfigError(FinlibError):
    """A configuration value is invalid; the message names the variable."""


class ParseError(FinlibError):
    """A file could not be read as an invoice ledger."""


class MissingColumnsError(ParseError):
    """The ledger lacks a required column; lists what was found and what is needed."""

    def __init__(self, found: list[str], missing: list[str], unreadable: dict[str, str] | None = None) -> None:
        self.found = list(found)
        self.missing = list(missing)
        # Missing label → why the column named like it was not taken (its values do not read as that type).
        self.unreadable = dict(unreadable or {})
        found_text = ", ".join(repr(c) for c in self.found) or "none"
        absent = [label for label in self.missing if label not in self.unreadable]
        reasons = [self.unreadable[label] for label in self.missing if label in self.unreadable]
        lead = f"The file has no column for {', '.join(absent)}. Columns found: {found_text}. " if absent else ""
        fix = "Fix those values in the file, or set the column mapping for this project."
        super().__init__(
            lead
            + " ".join(f"{reason}." for reason in reasons)
            + (" " if reasons else "")
            + (fix if reasons else "Rename a column in the file, or set the column mapping for this project.")
        )


class FileRejectedError(ParseError):
    """The file was refused before or during parsing (size, type, limits)."""


class StorageError(FinlibError):
    """Reading from or writing to the object store failed."""


class SourceNotAllowedError(StorageError):
    """A source location is not an allowed S3 bucket or is not a supported URL."""


class ObjectNotFoundError(StorageError):
    """The object or file named by a source does not exist."""


class DatabaseError(FinlibError):
    """The database could not be reached or a transaction failed."""


class ProjectError(FinlibError):
    """A project operation cannot be done as asked."""


class ProjectNotFoundError(ProjectError):
    """No project has that name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"There is no project named {name!r}. List projects with `python -m finlib projects` or register one first."
        )


class AccessDeniedError(ProjectError):
    """The acting user may not do this in this project (no membership, or a role too low)."""


class CurrencyError(ProjectError):
    """A currency code or symbol that cannot be used; the message says what to give instead."""


class AliasError(FinlibError):
    """Aliases could not be derived or stored."""


class ForecastError(FinlibError):
    """A forecast or backtest has too little payment history to learn from; the message says what is needed."""


class AuthenticationError(FinlibError):
    """An API request carries no token, or one that is unknown or revoked."""


class LLMError(FinlibError):
    """The language model could not produce an answer."""


class PrivacyBlockedError(LLMError):
    """A payload bound for the model contained a real name; nothing was sent."""


class LLMUnavailableError(LLMError):
    """The model timed out, was rate limited or failed after retries."""
