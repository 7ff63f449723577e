"""The HTTP edge: one thin router per area over the domain services.

`auth` resolves the caller and holds the route policies, `tenancy` decides
which objects a caller may see, `deps` the per-request unit of work, and
`server.app.create_app` includes every router and renders every error.
"""
