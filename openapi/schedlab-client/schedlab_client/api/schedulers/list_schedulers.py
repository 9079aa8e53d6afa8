from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem import Problem
from ...models.schedulers_public import SchedulersPublic
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    model: None | str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    json_model: None | str | Unset
    if isinstance(model, Unset):
        json_model = UNSET
    else:
        json_model = model
    params["model"] = json_model


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/schedulers",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | SchedulersPublic | None:
    if response.status_code == 200:
        response_200 = SchedulersPublic.from_dict(response.json())



        return response_200

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | SchedulersPublic]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    model: None | str | Unset = UNSET,

) -> Response[Problem | SchedulersPublic]:
    """ List Schedulers

     Every scheduler and preset: names, aliases, stochastic, order, overridable config keys; per model
    with
    `model`, where `available` and `unavailable_reason` say what that model can run.

    Args:
        model (None | str | Unset): A served model: its catalog, with reasons.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SchedulersPublic]
     """


    kwargs = _get_kwargs(
        model=model,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient | Client,
    model: None | str | Unset = UNSET,

) -> Problem | SchedulersPublic | None:
    """ List Schedulers

     Every scheduler and preset: names, aliases, stochastic, order, overridable config keys; per model
    with
    `model`, where `available` and `unavailable_reason` say what that model can run.

    Args:
        model (None | str | Unset): A served model: its catalog, with reasons.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SchedulersPublic
     """


    return sync_detailed(
        client=client,
model=model,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    model: None | str | Unset = UNSET,

) -> Response[Problem | SchedulersPublic]:
    """ List Schedulers

     Every scheduler and preset: names, aliases, stochastic, order, overridable config keys; per model
    with
    `model`, where `available` and `unavailable_reason` say what that model can run.

    Args:
        model (None | str | Unset): A served model: its catalog, with reasons.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SchedulersPublic]
     """


    kwargs = _get_kwargs(
        model=model,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    model: None | str | Unset = UNSET,

) -> Problem | SchedulersPublic | None:
    """ List Schedulers

     Every scheduler and preset: names, aliases, stochastic, order, overridable config keys; per model
    with
    `model`, where `available` and `unavailable_reason` say what that model can run.

    Args:
        model (None | str | Unset): A served model: its catalog, with reasons.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SchedulersPublic
     """


    return (await asyncio_detailed(
        client=client,
model=model,

    )).parsed
