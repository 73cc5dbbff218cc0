"""The API documentation page works under the strict Content-Security-Policy, from local files."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_the_operations_without_csp_violations(live_server, browser):
    context = browser.new_context()
    page = context.new_page()
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    outside = []
    page.on(
        "request",
        lambda request: (
            not request.url.startswith(live_server.url)
            and not request.url.startswith("data:")
            and outside.append(request.url)
        ),
    )
    page.goto(live_server.url + "/api/docs")
    page.get_by_text("/api/v1/requests/{reference}").first.wait_for(timeout=15_000)
    assert "Créer une demande" in page.content()
    assert outside == []
    assert [p for p in problems if "Content Security Policy" in p] == []
    context.close()
