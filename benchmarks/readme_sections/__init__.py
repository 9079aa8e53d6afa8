"""One module per generated README section: `render(data) -> markdown`, data from docs/data/<name>.json."""
