"""Errors a user can cause. The CLI prints them as one line; ``--debug`` shows the traceback."""

from __future__ import annotations


class PocketvoxError(Exception):
    """Base class for problems with the user's input or request (not bugs).

    The message should name the file and the problem in one line.
    """


class InputFileError(PocketvoxError):
    """A file is missing, empty, truncated, binary or in the wrong format."""


class LigandError(PocketvoxError):
    """The ligand is missing, ambiguous or cannot be parsed."""


class ModelError(PocketvoxError):
    """A model file is missing or incompatible."""
