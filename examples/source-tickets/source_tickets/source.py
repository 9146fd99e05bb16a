"""A Python CDK source for the example tickets API: two HTTP streams with page-number pagination,
`tickets` incremental on its `updated_at` cursor."""

from abc import ABC
from typing import Any, Iterable, List, Mapping, MutableMapping, Optional, Tuple

import requests
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import IncrementalMixin, Stream
from airbyte_cdk.sources.streams.http import HttpStream
from airbyte_cdk.sources.streams.http.requests_native_auth import TokenAuthenticator

DEFAULT_START_DATE = "2024-01-01T00:00:00Z"


class TicketsApiStream(HttpStream, ABC):
    primary_key = "id"

    def __init__(self, config: Mapping[str, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self._base = config["api_url"].rstrip("/") + "/v1/"
        self._page_size = int(config.get("page_size", 3))

    @property
    def url_base(self) -> str:
        return self._base

    def next_page_token(self, response: requests.Response) -> Optional[Mapping[str, Any]]:
        next_page = response.json().get("next_page")
        return {"page": next_page} if next_page else None

    def request_params(
        self, stream_state: Optional[Mapping[str, Any]], stream_slice: Optional[Mapping[str, Any]] = None, next_page_token: Optional[Mapping[str, Any]] = None
    ) -> MutableMapping[str, Any]:
        params: MutableMapping[str, Any] = {"per_page": self._page_size}
        if next_page_token:
            params.update(next_page_token)
        return params

    def parse_response(self, response: requests.Response, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        yield from response.json().get("data", [])


class Users(TicketsApiStream):
    def path(self, **kwargs: Any) -> str:
        return "users"


class Tickets(TicketsApiStream, IncrementalMixin):
    cursor_field = "updated_at"

    def __init__(self, config: Mapping[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self._start_date = config.get("start_date", DEFAULT_START_DATE)
        self._cursor_value: Optional[str] = None

    @property
    def state(self) -> MutableMapping[str, Any]:
        return {self.cursor_field: self._cursor_value or self._start_date}

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._cursor_value = value.get(self.cursor_field)

    def path(self, **kwargs: Any) -> str:
        return "tickets"

    def request_params(
        self, stream_state: Optional[Mapping[str, Any]], stream_slice: Optional[Mapping[str, Any]] = None, next_page_token: Optional[Mapping[str, Any]] = None
    ) -> MutableMapping[str, Any]:
        params = super().request_params(stream_state, stream_slice, next_page_token)
        # The state the sync started from, not the cursor moved by records already read: pages of one
        # sync must share one filter.
        params["updated_since"] = (stream_state or {}).get(self.cursor_field) or self._start_date
        return params

    def read_records(self, *args: Any, **kwargs: Any) -> Iterable[Mapping[str, Any]]:
        for record in super().read_records(*args, **kwargs):
            # ISO 8601 timestamps in UTC with a Z suffix compare correctly as strings.
            if self._cursor_value is None or record[self.cursor_field] > self._cursor_value:
                self._cursor_value = record[self.cursor_field]
            yield record


class SourceTickets(AbstractSource):
    def check_connection(self, logger: Any, config: Mapping[str, Any]) -> Tuple[bool, Optional[Any]]:
        try:
            response = requests.get(
                config["api_url"].rstrip("/") + "/v1/me",
                headers={"Authorization": f"Bearer {config['api_token']}"},
                timeout=30,
            )
        except requests.RequestException as error:
            return False, f"cannot reach {config['api_url']}: {error}"
        if response.status_code == 401:
            return False, "the API token was refused (401 Unauthorized)"
        if not response.ok:
            return False, f"unexpected status {response.status_code} from {response.url}"
        return True, None

    def streams(self, config: Mapping[str, Any]) -> List[Stream]:
        auth = TokenAuthenticator(token=config["api_token"])
        return [Tickets(config, authenticator=auth), Users(config, authenticator=auth)]
