"""Pages of the orientation flow.

- Coordinator (`espace/<slug>/demandes/<ref>/orientation/`): candidates with their reasons, the
  excluded GPs with theirs, the GPs asked and their answers; ask, note a phone answer, record the
  GP found, send back to the queue; a printable letter for people with neither e-mail nor phone.
- GP, without account (`orientation/<signed token>/`): the anonymised household, accept or
  decline; once the person has chosen them, "this patient is now mine".
- GP, logged in (`espace/<slug>/foyers-a-prendre/`): their pending requests and the waiting
  households near them that fit their declaration; they take one or several.
- The person (`suivi/<token>/choix/`): the GPs who accepted, and "I chose this GP".
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html_join
from django.views.decorators.http import require_http_methods

from accesmt.accounts.access import access_record, cpts_role_required
from accesmt.accounts.actors import actor_or_none
from accesmt.accounts.models import AuditAction, Role
from accesmt.accounts.services import audit_record
from accesmt.common.pagination import bounded_page
from accesmt.common.signing import LinkError
from accesmt.directory.models import Practitioner
from accesmt.directory.selectors import practitioner_of_user
from accesmt.directory.survey import invitation_from_token
from accesmt.intake.models import Request, Status
from accesmt.intake.selectors import request_for_followup_token
from accesmt.intake.services import reachable_by_message
from accesmt.matching.candidates import format_km

from . import letter
from .models import (
    ASKABLE,
    ORIENTING,
    AnswerChannel,
    DeclineReason,
    OrientationSettings,
    Placement,
    RecordedBy,
    Solicitation,
    SolicitationStatus,
)
from .selectors import (
    EXCLUSIONS_SHOWN,
    GP_SORTS,
    accepted_solicitations,
    choice_offers,
    gp_has_account,
    gp_household_rows,
    gp_households_to_take,
    household_summary,
    request_candidates,
    usual_gp_of,
)
from .services import (
    OrientationError,
    household_take,
    orientation_restart,
    placement_record,
    solicitation_answer,
    solicitation_from_token,
    solicitations_send,
    usual_gp_ask,
)
from .services.declarations import declaration_confirm, placement_standing

COORDINATOR = (Role.COORDINATOR,)


class DeclineForm(forms.Form):
    decline_reason = forms.ChoiceField(
        label="Motif du refus",
        choices=[("", "— Choisissez —"), *DeclineReason.choices],
        error_messages={"required": "Indiquez le motif du refus."},
    )


def _messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- coordinator ---------------------------------------------------------------------------------


def _gp_options(cpts) -> str:
    """`<option>` of each present GP of `cpts`, by name: three columns, no model instances, one
    string for both selects of the page (rendering 2 × 2,000 options in the template cost more
    than the rest of the page)."""
    gps = (
        Practitioner.objects.in_cpts(cpts)
        .filter(is_gone=False)
        .order_by("last_name", "first_name")
        .values_list("pk", "first_name", "last_name")
    )
    return format_html_join("", '<option value="{}">Dr {} {}</option>', gps)


def _coordinator_context(cpts, request: Request) -> dict:
    candidates, exclusions = request_candidates(request, with_exclusions=True)
    solicitations = list(
        request.solicitations.select_related("practitioner", "site").order_by("asked_at", "pk")
    )
    usual_gp = usual_gp_of(request) if request.usual_gp_rpps else None
    usual_gp_asked = next(
        (
            s
            for s in solicitations
            if s.is_usual_gp or s.practitioner_id == getattr(usual_gp, "pk", 0)
        ),
        None,
    )
    return {
        "cpts": cpts,
        "r": request,
        # The GP the person already sees, proposed first (issue 12): resolved in the directory
        # by RPPS, or only the typed name (then the coordinator finds them in the list).
        "usual_gp": usual_gp,
        "usual_gp_asked": usual_gp_asked,
        "can_ask_usual_gp": request.status in ASKABLE
        and usual_gp_asked is None
        and bool(request.usual_gp_rpps or request.usual_gp_name),
        "summary": household_summary(request),
        "candidates": candidates,
        # The count by reason and the nearest ones; all of them on request_exclusions.
        "exclusions": exclusions,
        "excluded_rows": exclusions.rows(exclusions.found[:EXCLUSIONS_SHOWN]),
        "solicitations": solicitations,
        "accepted": [s for s in solicitations if s.status == SolicitationStatus.ACCEPTED],
        "decline_reasons": DeclineReason.choices,
        # The <option>s of the two selects of every GP of the territory, made once (~2,000 GPs).
        "territory_gp_options": SimpleLazyObject(lambda: _gp_options(cpts)),
        "can_ask": request.status in ASKABLE,
        "can_restart": request.status in ORIENTING,
        "can_record": request.status in ASKABLE,
        "has_contact": reachable_by_message(request),
        "placement": (
            Placement.objects.select_related("practitioner").filter(request=request).first()
            if request.is_closed
            else None
        ),
    }


def _coordinator_request(http_request, reference: str, *, action) -> Request:
    """The request of the coordinator's CPTS by its reference (404 otherwise); access audited."""
    return access_record(
        http_request,
        Request.objects.filter(cpts=http_request.cpts).select_related("cpts", "commune"),
        {"reference": reference},
        COORDINATOR,
        action=action,
    )


def _int_list(values) -> list[int]:
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise OrientationError("Sélection invalide.") from exc


def _coordinator_post(http_request, request: Request) -> str:
    """Run one action; return the French message to show."""
    post = http_request.POST
    action = post.get("action")
    user = http_request.user
    if action in ("ask", "ask_top"):
        if action == "ask_top":
            count = OrientationSettings.for_cpts(request.cpts).ask_at_once
            candidates, _ = request_candidates(request, limit=count)
            ids = [row.candidate.practitioner_id for row in candidates]
        else:
            ids = _int_list(post.getlist("practitioner"))
        if not ids:
            raise OrientationError("Choisissez au moins un médecin à solliciter.")
        created = solicitations_send(request=request, practitioner_ids=ids, by=user)
        return f"{len(created)} médecin(s) sollicité(s)."
    if action == "ask_usual_gp":
        practitioner = (
            Practitioner.objects.present()
            .filter(pk=_int_list([post.get("practitioner")])[0])
            .first()
        )
        if practitioner is None:
            raise OrientationError("Choisissez le médecin que la personne consulte déjà.")
        usual_gp_ask(request=request, practitioner=practitioner, by=user)
        return (
            f"{practitioner.display_name} est sollicité : la personne le consulte déjà, il lui "
            "est demandé de devenir son médecin traitant."
        )
    if action == "phone_answer":
        solicitation = request.solicitations.filter(pk=_int_list([post.get("solicitation")])[0])
        solicitation = solicitation.first()
        if solicitation is None:
            raise OrientationError("Sollicitation inconnue.")
        accept = post.get("answer") == "accept"
        solicitation_answer(
            solicitation=solicitation,
            accept=accept,
            channel=AnswerChannel.PHONE,
            decline_reason=post.get("decline_reason", ""),
            by=user,
        )
        return "Réponse du médecin enregistrée."
    if action == "placement":
        # placement_record checks the territory (the usual GP may practise outside it)
        practitioner = (
            Practitioner.objects.present()
            .filter(pk=_int_list([post.get("practitioner")])[0])
            .first()
        )
        if practitioner is None:
            raise OrientationError("Choisissez le médecin traitant trouvé.")
        placement_record(
            request=request,
            practitioner=practitioner,
            recorded_by=RecordedBy.COORDINATOR,
            by=user,
        )
        return "Médecin traitant enregistré : la demande est clôturée."
    if action == "declared":
        placed = getattr(request, "placement", None)
        if placed is None:
            raise OrientationError("Aucun médecin traitant n'est enregistré pour cette demande.")
        declaration_confirm(placement=placed, declared_by=RecordedBy.COORDINATOR, by=user)
        return "Déclaration du médecin traitant enregistrée."
    if action == "restart":
        orientation_restart(request=request, by=user, note=post.get("note", "")[:300])
        return "La demande est revenue dans la file d'attente."
    raise OrientationError("Action inconnue.")


@cpts_role_required(*COORDINATOR)
@require_http_methods(["GET", "POST"])
def request_orientation(http_request, cpts_slug: str, reference: str):
    cpts = http_request.cpts
    action = AuditAction.UPDATE if http_request.method == "POST" else AuditAction.READ
    request = _coordinator_request(http_request, reference, action=action)
    if http_request.method == "POST":
        try:
            done = _coordinator_post(http_request, request)
        except ValidationError as error:
            messages.error(http_request, _messages_of(error))
        else:
            messages.success(http_request, done)
        return redirect("orientation:request", cpts_slug=cpts.slug, reference=reference)
    return render(http_request, "orientation/request.html", _coordinator_context(cpts, request))


EXCLUSIONS_PAGE_SIZE = 50


@cpts_role_required(*COORDINATOR)
@require_http_methods(["GET"])
def request_exclusions(http_request, cpts_slug: str, reference: str):
    """Every GP of the territory not proposed for the request, with the reason, page by page."""
    cpts = http_request.cpts
    request = _coordinator_request(http_request, reference, action=AuditAction.READ)
    _, exclusions = request_candidates(request, limit=1, with_exclusions=True)
    page = Paginator(exclusions.found, EXCLUSIONS_PAGE_SIZE).get_page(http_request.GET.get("page"))
    return render(
        http_request,
        "orientation/request_exclusions.html",
        {
            "cpts": cpts,
            "r": request,
            "exclusions": exclusions,
            "page": page,
            "excluded_rows": exclusions.rows(page.object_list),
        },
    )


@cpts_role_required(*COORDINATOR)
def request_letter(http_request, cpts_slug: str, reference: str):
    request = _coordinator_request(http_request, reference, action=AuditAction.EXPORT)
    accepted = list(accepted_solicitations(request))
    if not accepted:
        raise Http404("Aucun médecin n'a encore accepté cette demande.")
    pdf = letter.render_letter(request, accepted)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="lettre-{request.reference}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


# --- GP through the signed link ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def answer(http_request, token: str):
    try:
        solicitation = solicitation_from_token(token)
    except LinkError as invalid:
        return render(
            http_request, "orientation/link_invalid.html", {"reason": invalid.reason}, status=404
        )
    request = solicitation.request
    form = DeclineForm()
    status = 200
    if http_request.method == "POST":
        choice = http_request.POST.get("choice")
        try:
            if choice == "accept":
                solicitation_answer(
                    solicitation=solicitation, accept=True, channel=AnswerChannel.LINK
                )
                messages.success(http_request, "Merci : vous avez accepté ce foyer.")
            elif choice == "decline":
                form = DeclineForm(http_request.POST)
                if not form.is_valid():
                    raise ValidationError("")
                solicitation_answer(
                    solicitation=solicitation,
                    accept=False,
                    channel=AnswerChannel.LINK,
                    decline_reason=form.cleaned_data["decline_reason"],
                )
                messages.success(http_request, "Merci : votre refus est enregistré.")
            elif choice == "declared":
                placed = getattr(request, "placement", None) if request.is_closed else None
                if placed is None or placed.practitioner_id != solicitation.practitioner_id:
                    raise OrientationError("Ce patient n'est pas enregistré comme le vôtre.")
                declaration_confirm(placement=placed, declared_by=RecordedBy.GP)
                messages.success(
                    http_request, "Merci : la déclaration de médecin traitant est notée."
                )
            elif choice == "mine":
                placement_record(
                    request=request,
                    practitioner=solicitation.practitioner,
                    recorded_by=RecordedBy.GP,
                )
                messages.success(http_request, "Merci : ce patient est enregistré comme le vôtre.")
            else:
                raise OrientationError("Choisissez une réponse.")
        except ValidationError as error:
            if any(error.messages):
                messages.error(http_request, _messages_of(error))
            status = 400
        else:
            return redirect("orientation:answer", token=token)
        solicitation.refresh_from_db()
    request.refresh_from_db()
    context = {
        "s": solicitation,
        "summary": household_summary(request),
        "distance": format_km(solicitation.distance_km) if solicitation.distance_km else "",
        "form": form,
        "can_answer": solicitation.is_pending and request.status in ORIENTING,
        "can_claim": solicitation.status == SolicitationStatus.ACCEPTED
        and request.status == Status.AWAITING_CHOICE,
        "placed": getattr(request, "placement", None) if request.is_closed else None,
    }
    placed = context["placed"]
    # The GP the person chose confirms the declaration of médecin traitant from here.
    context["mine"] = placed is not None and placed.practitioner_id == solicitation.practitioner_id
    # After their "yes": what happens next, and their list of households if they have an account.
    context["what_next"] = solicitation.is_accepted and request.status in ORIENTING
    context["offered"] = request.status == Status.AWAITING_CHOICE  # the person has the list
    context["accepted_target"] = OrientationSettings.for_cpts(request.cpts).accepted_target
    if context["what_next"] and gp_has_account(solicitation.practitioner, request.cpts):
        context["households_url"] = reverse(
            "orientation:gp_households", kwargs={"cpts_slug": request.cpts.slug}
        )
    return render(http_request, "orientation/answer.html", context, status=status)


# --- GP logged in --------------------------------------------------------------------------------


GP_PAGE_SIZE = 20
# The GP's list is counted up to 100 households (« plus de 100 »): each one counted is filtered
# by their declaration (distance, places, profiles), and a GP takes at most a few a month.
GP_COUNT_CAP = 100


def _gp_households_page(http_request, *, cpts, practitioner, here: str, channel: str):
    """The GP's list of households to take (account or survey link): GET shows one page of it,
    sorted by priority or distance; POST takes one household (its own button) or the checked
    ones, and comes back to the same page with "what happens next"."""
    user = actor_or_none(http_request.user)
    sort = http_request.GET.get("tri")
    sort = sort if sort in GP_SORTS else "priorite"
    if http_request.method == "POST":
        taken = 0
        for value in http_request.POST.getlist("request"):
            request = Request.objects.filter(
                cpts=cpts, pk=value if value.isascii() and value.isdigit() else 0
            ).first()
            if request is None:
                continue
            try:
                household_take(request=request, practitioner=practitioner, by=user, channel=channel)
            except ValidationError as error:
                messages.error(http_request, f"{request.reference} : {_messages_of(error)}")
            else:
                if user is not None:
                    audit_record(
                        actor=user,
                        action=AuditAction.UPDATE,
                        obj=request,
                        cpts=cpts,
                        http_request=http_request,
                    )
                taken += 1
        query = {"tri": sort} if sort != "priorite" else {}
        page_number = http_request.GET.get("page", "")
        if page_number.isascii() and page_number.isdigit() and page_number != "1":
            query["page"] = page_number
        if taken:
            query["pris"] = taken
        return redirect(f"{here}?{urlencode(query)}" if query else here)
    pending = [
        {"s": s, "summary": household_summary(s.request), "token_url": _answer_path(s)}
        for s in Solicitation.objects.filter(
            cpts=cpts,
            practitioner=practitioner,
            status=SolicitationStatus.PENDING,
            request__status__in=ORIENTING,
        )
        .select_related("request", "request__commune")
        .prefetch_related("request__members", "request__priority_reasons")
    ]
    places_left, households = gp_households_to_take(practitioner, cpts, sort=sort)
    page = bounded_page(households, http_request.GET.get("page"), GP_PAGE_SIZE, cap=GP_COUNT_CAP)
    taken = http_request.GET.get("pris", "")
    return render(
        http_request,
        "orientation/gp_households.html",
        {
            "cpts": cpts,
            "practitioner": practitioner,
            "places_left": places_left,
            "page": page,
            "rows": gp_household_rows(page.object_list),
            "sort": sort,
            "sorts": {"priorite": "par priorité", "distance": "par distance"},
            "taken": int(taken) if taken.isascii() and taken.isdigit() else 0,
            "pending": pending,
            "logged_in": user is not None,
        },
    )


@cpts_role_required(Role.GP)
@require_http_methods(["GET", "POST"])
def gp_households(http_request, cpts_slug: str):
    cpts = http_request.cpts
    practitioner = practitioner_of_user(http_request.user, cpts)
    if practitioner is None:
        return render(http_request, "directory/no_practitioner.html", {"cpts": cpts})
    return _gp_households_page(
        http_request,
        cpts=cpts,
        practitioner=practitioner,
        here=reverse("orientation:gp_households", kwargs={"cpts_slug": cpts.slug}),
        channel=AnswerChannel.ACCOUNT,
    )


@require_http_methods(["GET", "POST"])
def gp_households_by_link(http_request, token: str):
    """The same list behind the GP's personal survey link (no account needed)."""
    try:
        invitation = invitation_from_token(token)
    except LinkError as invalid:
        return render(
            http_request, "directory/survey_invalid.html", {"reason": invalid.reason}, status=404
        )
    if not invitation.campaign.cpts.is_active or invitation.practitioner.is_gone:
        return render(
            http_request, "directory/survey_invalid.html", {"reason": "invalid"}, status=404
        )
    return _gp_households_page(
        http_request,
        cpts=invitation.campaign.cpts,
        practitioner=invitation.practitioner,
        here=reverse("orientation:gp_households_link", kwargs={"token": token}),
        channel=AnswerChannel.LINK,
    )


def _answer_path(solicitation: Solicitation) -> str:
    from .services import solicitation_token

    return reverse("orientation:answer", kwargs={"token": solicitation_token(solicitation)})


# --- the person ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def patient_choice(http_request, token: str):
    """The GPs who accepted (distance from home, address, phone) and « J'ai choisi ce médecin »;
    « Aucun ne peut me recevoir » asks for a confirmation first (a second POST); once chosen,
    the chosen GP and the next step: the appointment, then the declaration together."""
    try:
        request = request_for_followup_token(token)
    except LinkError as invalid:
        return render(
            http_request, "intake/followup_invalid.html", {"reason": invalid.reason}, status=404
        )
    here = reverse("orientation:patient_choice", kwargs={"token": token})
    choice_error = ""
    status = 200
    post = http_request.POST
    if http_request.method == "POST" and "none" in post:
        if post.get("confirm") != "1":  # the confirmation step: nothing changes yet
            return render(
                http_request,
                "orientation/patient_choice_none.html",
                {"intake_request": request, "cpts": request.cpts, "here": here},
            )
        try:
            orientation_restart(
                request=request,
                by_patient=True,
                note="Aucun des médecins proposés n'a pu recevoir la personne",
            )
        except ValidationError as error:
            messages.error(http_request, _messages_of(error))
        else:
            messages.success(
                http_request,
                "C'est noté : la coordination reprend la recherche, vous gardez votre ancienneté.",
            )
        return redirect("intake:followup", token=token)
    accepted = choice_offers(request)
    if http_request.method == "POST":
        chosen = next(
            (s for s in accepted if str(s.practitioner_id) == post.get("practitioner")), None
        )
        try:
            if chosen is None:
                raise OrientationError("Choisissez le médecin chez qui vous avez pris rendez-vous.")
            placement_record(
                request=request, practitioner=chosen.practitioner, recorded_by=RecordedBy.PATIENT
            )
        except ValidationError as error:
            choice_error = _messages_of(error)  # shown next to the choice, not as a page message
            status = 400
        else:
            messages.success(http_request, "Merci ! Votre choix est enregistré.")
            return redirect(here)
    placement = Placement.objects.select_related("practitioner").filter(request=request).first()
    if placement is not None:
        placement.request = request
    chosen = None
    if placement_standing(placement):
        chosen = next(
            (s for s in accepted if s.practitioner_id == placement.practitioner_id),
            {"practitioner": placement.practitioner},  # recorded by the coordination
        )
    return render(
        http_request,
        "orientation/patient_choice.html",
        {
            "intake_request": request,
            "cpts": request.cpts,
            "accepted": accepted,
            "chosen": chosen,
            "declaration_url": reverse("orientation:declaration_answer", kwargs={"token": token}),
            "can_choose": request.status == Status.AWAITING_CHOICE,
            "choice_error": choice_error,
            "token": token,
        },
        status=status,
    )
