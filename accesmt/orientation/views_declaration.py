"""The person's answer to « La déclaration de médecin traitant est-elle faite ? », behind their
follow-up token (`suivi/<token>/declaration/`, no account): three buttons (POST), then the page
says what was recorded. See `services/declarations.py`."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accesmt.common.signing import LinkError
from accesmt.intake.selectors import request_for_followup_token

from .models import DeclarationAnswer, Placement
from .services.declarations import DeclarationError, declaration_answer, placement_standing

DONE_MESSAGES = {
    DeclarationAnswer.DONE: "Merci ! La déclaration de votre médecin traitant est notée.",
    DeclarationAnswer.NOT_YET: "C'est noté. Pensez-y à votre prochaine consultation.",
    DeclarationAnswer.GP_REFUSED: "C'est noté : la coordination va vous recontacter.",
}


@require_http_methods(["GET", "POST"])
def declaration_answer_view(http_request, token: str):
    try:
        request = request_for_followup_token(token)
    except LinkError as invalid:
        return render(
            http_request, "intake/followup_invalid.html", {"reason": invalid.reason}, status=404
        )
    placement = Placement.objects.select_related("practitioner").filter(request=request).first()
    if placement is not None:
        placement.request = request
    context = {
        "intake_request": request,
        "cpts": request.cpts,
        "placement": placement if placement_standing(placement) else None,
        "answers": DeclarationAnswer.choices,
    }
    status = 200
    if http_request.method == "POST" and context["placement"] is not None:
        answer = http_request.POST.get("answer", "")
        try:
            declaration_answer(placement=placement, answer=answer)
        except DeclarationError as error:
            messages.error(http_request, " ".join(error.messages))
            status = 400
        else:
            messages.success(http_request, DONE_MESSAGES[DeclarationAnswer(answer)])
            return redirect("orientation:declaration_answer", token=token)
    return render(http_request, "orientation/declaration.html", context, status=status)
