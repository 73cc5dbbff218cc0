"""The coordinator's queue: the list (filters, search, sort) and the actions on the requests
checked on a page ("Marquer vérifiées"; the export of the checked rows is reporting's
`person_export`, which the same form posts to).

The search never travels in a URL (a name, a phone number or a NIR would stay in the browser's
history and in the server's logs): the search box posts it, the term is kept in the session
(server side) for this CPTS, and the page is shown at `?recherche=1`; « Effacer la recherche »
forgets it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods, require_POST

from accesmt.accounts.access import cpts_role_required
from accesmt.accounts.models import AuditAction
from accesmt.accounts.services import audit_record_many

from ..lifecycle import COORDINATOR_ACTIONS, requests_transition_many
from ..models import Request
from ..queue import (
    QUEUE_ROLES,
    SORTS,
    QueueFilters,
    QueueSearch,
    parse_references,
    queue_page,
    selected_requests,
)
from ..selectors import rights_mark

SEARCH_SESSION_KEY = "intake_queue_search"
SEARCHING = "recherche"
COLUMNS = (
    ("reference", "Référence"),
    ("priority", "Priorité"),
    (None, "Foyer"),
    ("commune", "Commune"),
    ("waiting", "En attente depuis"),
    ("status", "État"),
    (None, "Canal"),
)
SORT_LABELS = {
    "priority": "priorité puis ancienneté (la plus ancienne en premier)",
    "reference": "référence",
    "waiting": "ancienneté (la plus ancienne en premier)",
    "commune": "commune",
    "status": "état",
}


def sort_label(sort: str) -> str:
    label = SORT_LABELS[sort.removeprefix("-")]
    return f"{label}, ordre inverse" if sort.startswith("-") else label


def _searches(http_request) -> dict:
    return http_request.session.get(SEARCH_SESSION_KEY, {})


def _search_text(http_request, cpts) -> str:
    return _searches(http_request).get(str(cpts.pk), "")


def _remember(http_request, cpts, text: str) -> None:
    searches = {k: v for k, v in _searches(http_request).items() if k != str(cpts.pk)}
    if text:
        searches[str(cpts.pk)] = text
    http_request.session[SEARCH_SESSION_KEY] = searches


def _queue_url(cpts, query: dict) -> str:
    url = reverse("intake_staff:queue", kwargs={"cpts_slug": cpts.slug})
    return f"{url}?{urlencode(query)}" if query else url


def _page_query(filters: QueueFilters, sort: str, searching: bool) -> dict[str, str]:
    query = filters.as_query()
    if sort:
        query["tri"] = sort
    if searching:
        query[SEARCHING] = "1"
    return query


def _columns(sort: str, query: dict) -> list[dict]:
    """Each column header: its label, and for a sortable one the link that sorts by it (again:
    the other way) and its `aria-sort`."""
    columns = []
    for key, label in COLUMNS:
        column = {"label": label, "aria_sort": None, "url": None}
        if key is not None:
            current = sort.removeprefix("-") == key
            descending = current and sort.startswith("-")
            column["aria_sort"] = ("descending" if descending else "ascending") if current else None
            next_sort = key if (not current or descending) else f"-{key}"
            column["url"] = "?" + urlencode({**query, "tri": next_sort})
        columns.append(column)
    return columns


def _search_post(http_request, cpts, filters: QueueFilters, sort: str):
    """The search box: remember the term (or forget it) and show the page, or say what is
    wrong next to the field."""
    if "effacer" in http_request.POST:
        _remember(http_request, cpts, "")
        return redirect(_queue_url(cpts, _page_query(filters, sort, searching=False))), None
    text = http_request.POST.get("q", "").strip()[:100]
    try:
        QueueSearch.parse(text)
    except ValidationError as error:
        return None, (text, " ".join(error.messages))
    _remember(http_request, cpts, text)
    return redirect(_queue_url(cpts, _page_query(filters, sort, searching=True))), None


@require_http_methods(["GET", "POST"])
@cpts_role_required(*QUEUE_ROLES)
def queue(http_request, cpts_slug: str):
    cpts = http_request.cpts
    # The filters and the sort ride in the query string (in the POST too: the search form
    # keeps them as hidden fields).
    source = http_request.POST if http_request.method == "POST" else http_request.GET
    filters = QueueFilters.from_query(source)
    sort = source.get("tri", "")
    sort = sort if sort.removeprefix("-") in SORTS else ""
    search_error = None
    search_text = _search_text(http_request, cpts)
    if http_request.method == "POST":
        response, search_error = _search_post(http_request, cpts, filters, sort)
        if response is not None:
            return response
        search_text = search_error[0]
    searching = search_error is None and http_request.GET.get(SEARCHING) == "1" and search_text
    search = QueueSearch.parse(search_text) if searching else None
    result = queue_page(
        cpts=cpts,
        user=http_request.user,
        filters=filters,
        page_number=http_request.GET.get("page"),
        search=search,
        sort=sort,
    )
    rows = list(result.page.object_list)
    # Each request listed (names, ages, priority reasons) is a read of a patient file: one audit
    # line per request shown, in one INSERT.
    audit_record_many(
        actor=http_request.user,
        action=AuditAction.READ,
        objects=rows,
        cpts=cpts,
        http_request=http_request,
    )
    for row in rows:
        row.rights_mark = rights_mark(row.rights_last_kind, row.rights_last_on)
        row.waiting_for = timesince(row.waiting_since, depth=1)  # "1 mois", not "1 mois, 1 semaine"
    query = _page_query(filters, sort, bool(searching))
    context = {
        "cpts": cpts,
        "queue": result,
        "rows": rows,
        "filters": filters,
        "sort": sort,
        "sort_label": sort_label(result.sort),
        "searching": bool(searching),
        "search_text": search_text if (searching or search_error) else "",
        "search_error": search_error[1] if search_error else "",
        "columns": _columns(result.sort, {k: v for k, v in query.items() if k != "tri"}),
        "query_without_page": urlencode(query),
        "filter_query": urlencode(filters.as_query()),
        "active_filters": [
            (facet.label, option.label)
            for facet in result.facets
            for option in facet.options
            if option.selected and not (facet.name == "status" and filters.status == "open")
        ],
    }
    status = 400 if search_error else 200
    return render(http_request, "intake/coordinator/queue.html", context, status=status)


def _back_to_queue(http_request, cpts):
    """The page of the queue the form was sent from: its filters, sort, search marker and page
    read again from the form's `retour` field (anything else in it is dropped)."""
    query = QueryDict(http_request.POST.get("retour", "")[:1000])
    sort = query.get("tri", "")
    page = query.get("page", "")
    back = _page_query(
        QueueFilters.from_query(query),
        sort if sort.removeprefix("-") in SORTS else "",
        query.get(SEARCHING) == "1",
    )
    if page.isascii() and page.isdigit():
        back["page"] = page
    return redirect(_queue_url(cpts, back))


VERIFY = COORDINATOR_ACTIONS["verify"]


@require_POST
@cpts_role_required(*QUEUE_ROLES)
def queue_verify(http_request, cpts_slug: str):
    """« Marquer vérifiées »: the request page's "verify" move for each checked request that
    may make it (new or to verify); the others are counted as ignored. All or nothing, one
    history line and one audit line per request moved. A reference that is not one of this
    CPTS's requests makes the whole form refused (400): nothing is moved."""
    cpts = http_request.cpts
    checked = http_request.POST.getlist("reference")
    if not checked:
        messages.error(http_request, "Cochez au moins une demande.")
        return _back_to_queue(http_request, cpts)
    references = parse_references(checked)
    requests = references and selected_requests(
        cpts=cpts, user=http_request.user, references=references
    )
    if not requests:
        return HttpResponseBadRequest(
            b"Demandes inconnues : rechargez la page des demandes.",
            content_type="text/plain; charset=utf-8",
        )
    with transaction.atomic():
        ids = [request.pk for request in requests]
        locked = dict(
            Request.objects.select_for_update().filter(pk__in=ids).values_list("pk", "status")
        )
        moved = []
        for from_status in sorted(VERIFY.from_statuses):
            batch = [pk for pk, status in locked.items() if status == from_status]
            if batch:
                requests_transition_many(
                    requests=Request.objects.filter(pk__in=batch),
                    from_status=from_status,
                    to=VERIFY.to,
                    by=http_request.user,
                )
                moved += batch
        audit_record_many(
            actor=http_request.user,
            action=AuditAction.TRANSITION,
            objects=[request for request in requests if request.pk in set(moved)],
            cpts=cpts,
            http_request=http_request,
        )
    done, ignored = len(moved), len(requests) - len(moved)
    s = "s" if done > 1 else ""
    text = f"{done} demande{s} marquée{s} vérifiée{s}"
    if ignored:
        s = "s" if ignored > 1 else ""
        text += f", {ignored} ignorée{s} (déjà vérifiée{s} ou clôturée{s})"
    messages.success(http_request, text + ".")
    return _back_to_queue(http_request, cpts)
