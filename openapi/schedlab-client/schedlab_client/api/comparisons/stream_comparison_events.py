from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    job_id: str,
    *,
    last_event_id: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id



    

    

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/comparisons/{job_id}/events".format(job_id=quote(str(job_id), safe=""),),
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Problem | None:
    if response.status_code == 200:
        response_200 = cast(Any, None)
        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())



        return response_404

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    last_event_id: None | str | Unset = UNSET,

) -> Response[Any | Problem]:
    """ Stream Comparison Events

     The job's events as they happen, replayed from the start (or after `Last-Event-ID`); ends with the
    job.

    Args:
        job_id (str): The comparison's id.
        last_event_id (None | str | Unset): Resume after this event id (`<ms>-<seq>`, as sent in
            each event's `id`); browsers send it themselves on reconnect. Absent: the stream starts
            with the job's first event.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
last_event_id=last_event_id,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    job_id: str,
    *,
    client: AuthenticatedClient,
    last_event_id: None | str | Unset = UNSET,

) -> Any | Problem | None:
    """ Stream Comparison Events

     The job's events as they happen, replayed from the start (or after `Last-Event-ID`); ends with the
    job.

    Args:
        job_id (str): The comparison's id.
        last_event_id (None | str | Unset): Resume after this event id (`<ms>-<seq>`, as sent in
            each event's `id`); browsers send it themselves on reconnect. Absent: the stream starts
            with the job's first event.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
     """


    return sync_detailed(
        job_id=job_id,
client=client,
last_event_id=last_event_id,

    ).parsed

async def asyncio_detailed(
    job_id: str,
    *,
    client: AuthenticatedClient,
    last_event_id: None | str | Unset = UNSET,

) -> Response[Any | Problem]:
    """ Stream Comparison Events

     The job's events as they happen, replayed from the start (or after `Last-Event-ID`); ends with the
    job.

    Args:
        job_id (str): The comparison's id.
        last_event_id (None | str | Unset): Resume after this event id (`<ms>-<seq>`, as sent in
            each event's `id`); browsers send it themselves on reconnect. Absent: the stream starts
            with the job's first event.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
     """


    kwargs = _get_kwargs(
        job_id=job_id,
last_event_id=last_event_id,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    job_id: str,
    *,
    client: AuthenticatedClient,
    last_event_id: None | str | Unset = UNSET,

) -> Any | Problem | None:
    """ Stream Comparison Events

     The job's events as they happen, replayed from the start (or after `Last-Event-ID`); ends with the
    job.

    Args:
        job_id (str): The comparison's id.
        last_event_id (None | str | Unset): Resume after this event id (`<ms>-<seq>`, as sent in
            each event's `id`); browsers send it themselves on reconnect. Absent: the stream starts
            with the job's first event.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
     """


    return (await asyncio_detailed(
        job_id=job_id,
client=client,
last_event_id=last_event_id,

    )).parsed
