"""Who is asking: the API key of a request (`Authorization: Bearer`), and whether its
roles allow the operation (`roles.ALLOWED`). A missing or unknown key is 401, a key
whose roles do not allow the call is 403; the key is never logged or echoed. A caller
let in is then held to the operation's parameters (`refuse_unknown_parameters`)."""

from __future__ import annotations

from collections.abc import Callable
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from consumers.http.keys import ApiKey, Keyring
from consumers.http.problems import ProblemError, invalid
from consumers.http.roles import ALLOWED, may

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sla-ledger"'}


def allow(operation: str) -> Callable[..., ApiKey]:
    """A dependency that admits a key whose roles may call `operation`."""
    assert operation in ALLOWED, operation

    def admitted(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiKey:
        keyring: Keyring = request.app.state.keyring
        if credentials is None:
            raise ProblemError(
                "unauthorized",
                "no API key: send `Authorization: Bearer <key>`",
                headers=CHALLENGE,
            )
        holder = keyring.holder(credentials.credentials)
        if holder is None:
            raise ProblemError(
                "unauthorized",
                "the API key is not configured on this server: check it, or ask for one",
                headers=CHALLENGE,
            )
        if not may(holder.roles, operation):
            roles = ", ".join(sorted(r.value for r in ALLOWED[operation]))
            raise ProblemError(
                "forbidden",
                f"key {holder.name!r} may not call {operation}: it needs the role {roles}"
                if len(ALLOWED[operation]) == 1
                else f"key {holder.name!r} may not call {operation}: it needs one of the "
                f"roles {roles}",
            )
        refuse_unknown_parameters(request)
        refuse_repeated_parameters(request)
        return holder

    return admitted


def _parameters_of(route: APIRoute, *, repeatable: bool = False) -> frozenset[str]:
    """The query parameters `route` takes, its dependencies' included (with
    `repeatable`: only those that take a list, `?checkpoint=A&checkpoint=B`)."""
    names: set[str] = set()
    waiting = [route.dependant]
    while waiting:
        dependant = waiting.pop()
        names |= {
            p.alias
            for p in dependant.query_params
            if not repeatable or _takes_a_list(p.field_info.annotation)
        }
        waiting += dependant.dependencies
    return frozenset(names)


def _takes_a_list(annotation: object) -> bool:
    """Whether a parameter annotated so takes several values (`list[str] | None`)."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return any(_takes_a_list(branch) for branch in get_args(annotation))
    return origin in (list, tuple, set, frozenset)


def refuse_unknown_parameters(request: Request) -> None:
    """A query parameter the operation does not take is refused, not ignored: a misspelt
    filter (`?perod=2026-03`) would otherwise answer a wider question than was asked. A
    value holding a NUL character is refused too: no id, period or moment the ledger
    keeps holds one, and PostgreSQL refuses it in a query (it is the client's mistake,
    not the store's)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
        if "\x00" in str(value):
            raise invalid(
                name,
                "no NUL character",
                f"{name}: holds a NUL character, which no value the ledger keeps holds; remove it",
            )
    known = _parameters_of(route)
    for name in request.query_params:
        if name not in known:
            takes = ", ".join(sorted(known)) or "none"
            raise ProblemError(
                "unknown-parameter",
                f"{name}: {route.operation_id or route.path} takes no such parameter "
                f"(it takes: {takes})",
                field=name,
                rule=f"one of: {takes}",
            )


def refuse_repeated_parameters(request: Request) -> None:
    """A parameter given twice that takes one value is refused, not read as its last:
    `?period=2026-03&period=2026-04` would otherwise answer one of the two questions
    without saying which (as a misspelt filter would answer a wider one)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    repeatable = _parameters_of(route, repeatable=True)
    for name in dict.fromkeys(request.query_params):
        if name not in repeatable and len(request.query_params.getlist(name)) > 1:
            raise invalid(
                name,
                "given once",
                f"{name}: given {len(request.query_params.getlist(name))} times, but it "
                "takes one value; send it once",
            )
