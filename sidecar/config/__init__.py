"""Rule and settings files: schema, loader with located errors, process settings."""
