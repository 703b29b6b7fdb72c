"""The web application and REST API (FastAPI, Jinja2 templates, vendored front-end assets)."""
