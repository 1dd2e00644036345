"""Presentation helpers every chat adapter shares."""

from __future__ import annotations


def human_size(size: int) -> str:
    """'812 B', '14.2 KB', '3.0 MB': attachment sizes as people read them."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
