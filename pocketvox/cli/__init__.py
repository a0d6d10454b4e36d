"""Command-line interface (click); every command lives in its own module."""
