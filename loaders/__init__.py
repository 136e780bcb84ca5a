"""All I/O of the dashboard: official sources, user files, on-disk cache and the local store."""
