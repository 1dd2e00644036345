"""Doors to chat platforms: each folder translates one platform to handler calls and events to what people see (rendered snapshots)."""
