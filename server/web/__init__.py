"""The web face: server-rendered pages (Jinja2) over the same domain services as the API.

`pages()` returns every page route; `server.app.create_app` adds them next to
the API routers. Pages are kept out of the OpenAPI document (they answer HTML),
but each one still declares exactly one policy, cookie-based (see `auth`).
"""
