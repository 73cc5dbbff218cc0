"""Members and roles of a CPTS (issue 13), for its coordinators and the platform admins:
the list (`espace/<cpts>/membres/`), the invitation, the change of role, the deactivation,
reactivation and removal (confirmed on a page of their own, so that it works without
JavaScript), the new invitation link; the platform's list of CPTS (`espace/plateforme/membres/`);
the invited person's page that sets the password (`compte/invitation/<uidb64>/<token>/`).
Every write is a POST (CSRF) and goes through `members.py`, which audits it."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accesmt.territory.models import CPTS

from . import members as service
from .access import NOT_FOUND, cpts_role_required, platform_admin_required
from .forms import MemberInviteForm, MemberRoleForm
from .models import Membership
from .selectors import MEMBER_MANAGERS, member_of, members_of
from .views import LinkConfirmView

MEMBERS_PER_PAGE = 50


def _members_url(cpts) -> str:
    return reverse("members:list", kwargs={"cpts_slug": cpts.slug})


def _member(request, pk) -> Membership:
    membership = member_of(request.cpts, request.user, pk)
    if membership is None:
        raise Http404(NOT_FOUND)
    return membership


def _refused(request, exc: ValidationError):
    for message in exc.messages:
        messages.error(request, message)
    return redirect(_members_url(request.cpts))


@cpts_role_required(*MEMBER_MANAGERS)
def member_list(request, cpts_slug: str):
    page = Paginator(members_of(request.cpts, request.user), MEMBERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/members/list.html", {"cpts": request.cpts, "page": page})


@cpts_role_required(*MEMBER_MANAGERS)
def member_invite(request, cpts_slug: str):
    form = MemberInviteForm(request.POST or None, cpts=request.cpts)
    if request.method == "POST" and form.is_valid():
        try:
            membership = service.member_invite(
                cpts=request.cpts, actor=request.user, http_request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Invitation envoyée à {membership.user.email}.")
            return redirect(_members_url(request.cpts))
    return render(request, "accounts/members/invite.html", {"cpts": request.cpts, "form": form})


@cpts_role_required(*MEMBER_MANAGERS)
def member_edit(request, cpts_slug: str, pk: int):
    membership = _member(request, pk)
    initial = {
        "role": membership.role,
        "profession": membership.profession,
        "communes": list(membership.communes.all()),
    }
    form = MemberRoleForm(request.POST or None, initial=initial, cpts=request.cpts)
    if request.method == "POST" and form.is_valid():
        try:
            service.membership_change(
                membership=membership, actor=request.user, http_request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Rôle de {membership.user.email} enregistré.")
            return redirect(_members_url(request.cpts))
    return render(
        request,
        "accounts/members/edit.html",
        {"cpts": request.cpts, "form": form, "member": membership},
    )


def _confirmed_action(request, pk, *, action: str, write, done: str):
    """GET: the confirmation page; POST: `write(membership)` then back to the list."""
    membership = _member(request, pk)
    if request.method == "POST":
        try:
            write(membership)
        except ValidationError as exc:
            return _refused(request, exc)
        messages.success(request, done.format(email=membership.user.email))
        return redirect(_members_url(request.cpts))
    return render(
        request,
        "accounts/members/confirm.html",
        {"cpts": request.cpts, "member": membership, "action": action},
    )


@cpts_role_required(*MEMBER_MANAGERS)
def member_remove(request, cpts_slug: str, pk: int):
    return _confirmed_action(
        request,
        pk,
        action="remove",
        write=lambda m: service.membership_remove(
            membership=m, actor=request.user, http_request=request
        ),
        done="{email} ne fait plus partie de la CPTS.",
    )


@cpts_role_required(*MEMBER_MANAGERS)
def member_deactivate(request, cpts_slug: str, pk: int):
    return _confirmed_action(
        request,
        pk,
        action="deactivate",
        write=lambda m: service.membership_set_active(
            membership=m, active=False, actor=request.user, http_request=request
        ),
        done="Accès de {email} à la CPTS désactivé.",
    )


@require_POST
@cpts_role_required(*MEMBER_MANAGERS)
def member_reactivate(request, cpts_slug: str, pk: int):
    membership = _member(request, pk)
    service.membership_set_active(
        membership=membership, active=True, actor=request.user, http_request=request
    )
    messages.success(request, f"Accès de {membership.user.email} à la CPTS réactivé.")
    return redirect(_members_url(request.cpts))


@require_POST
@cpts_role_required(*MEMBER_MANAGERS)
def member_resend(request, cpts_slug: str, pk: int):
    membership = _member(request, pk)
    if service.member_invitation_resend(
        membership=membership, actor=request.user, http_request=request
    ):
        messages.success(request, f"Nouvelle invitation envoyée à {membership.user.email}.")
    else:
        messages.error(request, "Cette personne a déjà choisi son mot de passe.")
    return redirect(_members_url(request.cpts))


@platform_admin_required
def platform_members(request):
    """Every CPTS with its number of active members, each linking to its members page."""
    cpts_list = CPTS.objects.annotate(
        active_members=Count("memberships", filter=Q(memberships__is_active=True))
    ).order_by("name")
    return render(request, "accounts/members/platform.html", {"cpts_list": cpts_list})


class InvitationAcceptView(LinkConfirmView):
    """Django's password-reset page (the token leaves the URL for the session before the form
    shows), with the invitation's token; the password rules apply. An expired or used link, or
    one whose person was removed from every CPTS meanwhile, shows a page saying to ask the
    coordinator for a new invitation. Accepted: the account is active, the person logged in
    and sent to the CPTS."""

    template_name = "accounts/invitation_accept.html"
    token_generator = service.invitation_token_generator

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None or not user.memberships.filter(is_active=True).exists():
            return None
        return user

    def form_valid(self, form):
        user = service.invitation_accept(
            user=form.user, password=form.cleaned_data["new_password1"]
        )
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        login(self.request, user, "django.contrib.auth.backends.ModelBackend")
        membership = (
            user.memberships.filter(is_active=True, cpts__is_active=True)
            .select_related("cpts")
            .order_by("-created_at")
            .first()
        )
        if membership is None:
            return HttpResponseRedirect(reverse("reporting:espace"))
        return HttpResponseRedirect(
            reverse("reporting:cpts_home", kwargs={"cpts_slug": membership.cpts.slug})
        )
