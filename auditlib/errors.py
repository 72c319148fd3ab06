"""Exceptions raised by auditlib.

One root, :class:`AuditlibError`, with specific subclasses that carry structured
fields (file, line, column, key ...).  Every subclass is picklable, so an error
raised inside a batch worker process reaches the parent intact.
"""
from __future__ import annotations


class AuditlibError(Exception):
    """Root of every error auditlib raises on purpose.

    Subclasses pass their structured fields as keyword arguments; they are kept
    as attributes and used to rebuild the exception when it is unpickled.
    """

    #: process exit code the command line uses for this error
    exit_code = 2

    def __init__(self, message: str, **fields):
        super().__init__(message)
        self.message = message
        self.fields = fields
        for key, value in fields.items():
            setattr(self, key, value)

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.fields))

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


def _rebuild(cls, message, fields):
    err = cls.__new__(cls)
    AuditlibError.__init__(err, message, **fields)
    return err


class InputError(AuditlibError):
    """A data file cannot be read at all (fields: ``file``, ``line``, ``column``, ``reason``)."""


class MissingColumnError(InputError):
    """A data file lacks a required column (fields: ``file``, ``table``, ``column``, ``found``)."""


class MappingError(InputError):
    """A mapping profile is invalid or names a column the file lacks (fields: ``file``, ``key``)."""


class ParameterError(AuditlibError):
    """A parameters file or value is invalid (fields: ``file``, ``key``, ``reason``)."""


class DatabaseError(AuditlibError):
    """The audit database is missing, locked or lacks tables (fields: ``db``, ``reason``)."""


class RunError(AuditlibError):
    """A batch run cannot start (fields: ``reason``)."""


class WorkspaceError(AuditlibError):
    """An audit workspace cannot be created (fields: ``folder``, ``reason``)."""


class ReviewError(AuditlibError):
    """A decision cannot be recorded: a bad decision, a returned workbook refused, an unknown
    finding id (fields: ``file``, ``problems`` — every problem found, each naming its place)."""


class SamplingError(AuditlibError):
    """An audit sample cannot be drawn or evaluated: a bad setting, an empty population, a filled
    sample workbook refused (fields: ``key`` or ``file``, ``reason``, ``problems`` — every problem
    found, each naming its place)."""
