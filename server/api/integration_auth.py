"""The route policy of the bar and bracelet systems: an integration credential as bearer.

`integration()` declares a route open to integration credentials only (its
OpenAPI `x-soca-policy` is `["INTEGRATION"]`). A revoked credential is 401
saying so; any other valid token (a person's, a device's) is 403; no token,
or one nobody knows, is 401.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from server.api.auth import _BEARER_DOC, Policy, bearer_token, resolve_principal
from server.api.deps import DbSession
from server.api.errors import Unauthorized
from server.db.models import IntegrationCredential
from server.domain import integrations
from server.errors import Forbidden


class IntegrationPolicy(Policy):
    """Admit only a live integration credential; the parameter receives the credential."""

    names = ("INTEGRATION",)

    def __call__(
        self,
        request: Request,
        session: DbSession,
        _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER_DOC)],
    ) -> IntegrationCredential:
        """The credential; 401 without one or when revoked, 403 for another kind of token."""
        token = bearer_token(request)
        if token is None:
            raise Unauthorized()
        credential = integrations.get_by_token(session, token)
        if credential is not None:
            if credential.revoked_at is not None:
                raise Unauthorized("This integration credential has been revoked.")
            return credential
        days = request.app.state.settings.api_token_days
        principal = resolve_principal(session, token, max_age=timedelta(days=days))
        if not principal.authenticated:
            raise Unauthorized()
        raise Forbidden("Only an integration credential may do this.")


def integration() -> Any:
    """Declare a route open to integration credentials (the parameter gets the credential)."""
    return Depends(IntegrationPolicy())
