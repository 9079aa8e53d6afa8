from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.comparison_public import ComparisonPublic
from ...models.comparison_spec import ComparisonSpec
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: ComparisonSpec,
    idempotency_key: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/comparisons",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ComparisonPublic | Problem | None:
    if response.status_code == 202:
        response_202 = ComparisonPublic.from_dict(response.json())



        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())



        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())



        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())



        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ComparisonPublic | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ComparisonSpec,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[ComparisonPublic | Problem]:
    """ Create Comparison

     Queue a comparison on its model's queue. Answers at once with the job; poll its `links.self`.

    Args:
        idempotency_key (None | str | Unset): Retry-safe submits: the same key and body return the
            same job; another body, 409.
        body (ComparisonSpec): One prompt, one seed, many schedulers. Image i uses seed `seed + i`
            for every scheduler.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ComparisonPublic | Problem]
     """


    kwargs = _get_kwargs(
        body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: ComparisonSpec,
    idempotency_key: None | str | Unset = UNSET,

) -> ComparisonPublic | Problem | None:
    """ Create Comparison

     Queue a comparison on its model's queue. Answers at once with the job; poll its `links.self`.

    Args:
        idempotency_key (None | str | Unset): Retry-safe submits: the same key and body return the
            same job; another body, 409.
        body (ComparisonSpec): One prompt, one seed, many schedulers. Image i uses seed `seed + i`
            for every scheduler.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ComparisonPublic | Problem
     """


    return sync_detailed(
        client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ComparisonSpec,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[ComparisonPublic | Problem]:
    """ Create Comparison

     Queue a comparison on its model's queue. Answers at once with the job; poll its `links.self`.

    Args:
        idempotency_key (None | str | Unset): Retry-safe submits: the same key and body return the
            same job; another body, 409.
        body (ComparisonSpec): One prompt, one seed, many schedulers. Image i uses seed `seed + i`
            for every scheduler.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ComparisonPublic | Problem]
     """


    kwargs = _get_kwargs(
        body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ComparisonSpec,
    idempotency_key: None | str | Unset = UNSET,

) -> ComparisonPublic | Problem | None:
    """ Create Comparison

     Queue a comparison on its model's queue. Answers at once with the job; poll its `links.self`.

    Args:
        idempotency_key (None | str | Unset): Retry-safe submits: the same key and body return the
            same job; another body, 409.
        body (ComparisonSpec): One prompt, one seed, many schedulers. Image i uses seed `seed + i`
            for every scheduler.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ComparisonPublic | Problem
     """


    return (await asyncio_detailed(
        client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
