"""Example hooks of a project (see ../flowforge.toml)."""
