"""The HTTP API: the FastAPI app (`app.py`), its routes, dependencies, response models and caches."""
