from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.comparison_estimate import ComparisonEstimate
from ...models.comparison_public import ComparisonPublic
from ...models.comparison_spec import ComparisonSpec
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: ComparisonSpec,
    dry_run: bool | Unset = False,
    idempotency_key: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["idempotency-key"] = idempotency_key



    

    params: dict[str, Any] = {}

    params["dry_run"] = dry_run


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/comparisons",
        "params": params,
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> ComparisonEstimate | ComparisonPublic | Problem | None:
    if response.status_code == 200:
        response_200 = ComparisonEstimate.from_dict(response.json())



        return response_200

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[ComparisonEstimate | ComparisonPublic | Problem]:
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
    dry_run: bool | Unset = False,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[ComparisonEstimate | ComparisonPublic | Problem]:
    """ Create Comparison

     Queue a comparison on its model's queue (202, poll its `links.self`), or with `dry_run=true` price
    it (200).

    Args:
        dry_run (bool | Unset): Answer with the cells, UNet evaluations and estimated duration
            (200); queue nothing. Default: False.
        idempotency_key (None | str | Unset): Retry-safe submits: the same key and body return the
            same job; another body, 409.
        body (ComparisonSpec): One prompt, many schedulers; `steps`, `guidance_scale` and `seed`
            are one value or a list (a sweep).

            A sweep runs every scheduler on every (steps, guidance_scale, seed) cell. Image i of a
            cell uses seed
            `seed + i` for every scheduler.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ComparisonEstimate | ComparisonPublic | Problem]
     """


    kwargs = _get_kwargs(
        body=body,
dry_run=dry_run,
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
    dry_run: bool | Unset = False,
    idempotency_key: None | str | Unset = UNSET,

) -> ComparisonEstimate | ComparisonPublic | Problem | None:
    """ Create Comparison

     Queue a comparison on its model's queue (202, poll its `links.self`), or with `dry_run=true` price
    it (200).

    Args:
        dry_run (bool | Unset): Answer with the cells, UNet evaluations and estimated duration
            (200); queue nothing. Default: False.
        idempotency_key (None | str | Unset): Retry-safe submits: the same key and body return the
            same job; another body, 409.
        body (ComparisonSpec): One prompt, many schedulers; `steps`, `guidance_scale` and `seed`
            are one value or a list (a sweep).

            A sweep runs every scheduler on every (steps, guidance_scale, seed) cell. Image i of a
            cell uses seed
            `seed + i` for every scheduler.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ComparisonEstimate | ComparisonPublic | Problem
     """


    return sync_detailed(
        client=client,
body=body,
dry_run=dry_run,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ComparisonSpec,
    dry_run: bool | Unset = False,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[ComparisonEstimate | ComparisonPublic | Problem]:
    """ Create Comparison

     Queue a comparison on its model's queue (202, poll its `links.self`), or with `dry_run=true` price
    it (200).

    Args:
        dry_run (bool | Unset): Answer with the cells, UNet evaluations and estimated duration
            (200); queue nothing. Default: False.
        idempotency_key (None | str | Unset): Retry-safe submits: the same key and body return the
            same job; another body, 409.
        body (ComparisonSpec): One prompt, many schedulers; `steps`, `guidance_scale` and `seed`
            are one value or a list (a sweep).

            A sweep runs every scheduler on every (steps, guidance_scale, seed) cell. Image i of a
            cell uses seed
            `seed + i` for every scheduler.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ComparisonEstimate | ComparisonPublic | Problem]
     """


    kwargs = _get_kwargs(
        body=body,
dry_run=dry_run,
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
    dry_run: bool | Unset = False,
    idempotency_key: None | str | Unset = UNSET,

) -> ComparisonEstimate | ComparisonPublic | Problem | None:
    """ Create Comparison

     Queue a comparison on its model's queue (202, poll its `links.self`), or with `dry_run=true` price
    it (200).

    Args:
        dry_run (bool | Unset): Answer with the cells, UNet evaluations and estimated duration
            (200); queue nothing. Default: False.
        idempotency_key (None | str | Unset): Retry-safe submits: the same key and body return the
            same job; another body, 409.
        body (ComparisonSpec): One prompt, many schedulers; `steps`, `guidance_scale` and `seed`
            are one value or a list (a sweep).

            A sweep runs every scheduler on every (steps, guidance_scale, seed) cell. Image i of a
            cell uses seed
            `seed + i` for every scheduler.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ComparisonEstimate | ComparisonPublic | Problem
     """


    return (await asyncio_detailed(
        client=client,
body=body,
dry_run=dry_run,
idempotency_key=idempotency_key,

    )).parsed
