"""schemathesis against the API's own OpenAPI spec: bounded generated requests, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.web.support import WebArchive, client_for


@pytest.fixture(scope="module")
def api_app(web_archive: WebArchive) -> Iterator[object]:
    with client_for(web_archive) as c:
        yield c.app


def test_openapi_spec_is_served(api_app: object, web_archive: WebArchive) -> None:
    from fastapi.testclient import TestClient

    spec = TestClient(api_app).get("/api/v1/openapi.json").json()  # type: ignore[arg-type]
    paths = spec["paths"]
    assert {"/evidence", "/incidents", "/incidents/{incident_id}", "/search"} <= set(paths)
    assert set(paths["/incidents"]) == {"get", "post"}
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


@pytest.mark.slow
def test_no_server_errors_for_generated_requests(api_app: object, web_archive: WebArchive) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api_app)
    headers = {name: {"Authorization": f"Bearer {web_archive.tokens[name]}"} for name in ("boss", "view")}
    failures: list[str] = []
    statuses: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            for header in headers.values():
                response = case.call(headers=header)
                statuses.append(response.status_code)
                try:
                    case.validate_response(response, checks=[not_a_server_error])
                except Exception as exc:
                    failures.append(f"{operation.label}: {exc}")
                    raise

        check()
    assert not failures
    assert statuses.count(200) > 20  # the requests really reached the handlers


def test_api_docs_are_served_without_the_internet(api_app: object) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(api_app)  # type: ignore[arg-type]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text and "cdn." not in page.text
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    for asset in ("leaflet/leaflet.js", "htmx/htmx.min.js", "chartjs/chart.umd.min.js",
                  "world-atlas/countries-110m.geojson"):
        assert client.get(f"/static/vendor/{asset}").status_code == 200, asset
