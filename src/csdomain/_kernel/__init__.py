"""csdomain's private foundation: validation, time helpers, enums, message marking."""
