"""Panel pages: the panels a member agency sits on, preparing and running a meeting, and its minutes.

A meeting of a panel the user's agency is not a member of is a 404, so its existence is not
disclosed; a member who is not the panel's chair gets 403 on any change, and so does anyone
once the meeting is closed.
"""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cases.access import person_for_casework, require_people_access
from cases.audit import log_access, log_many
from cases.models import AccessLogEntry, Offender
from web.shortcuts import form_page, posted_version, submit

from . import services
from .agenda import build_agenda
from .forms import (
    AddPersonForm,
    AgendaPlanForm,
    AttendanceSheetForm,
    CheckpointContractForm,
    CloseMeetingForm,
    DiscussionForm,
    MappaLevelForm,
    MeetingActionForm,
    MeetingForm,
    PanelSetUpForm,
    PanelTypeForm,
)
from .minutes_docx import minutes_docx
from .models import CheckpointContract, Meeting, MeetingAction, Panel, PanelMembership, PanelType
from .timeplan import meeting_plan

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

Log = AccessLogEntry.Action


def panel_or_404(user, pk):
    return get_object_or_404(Panel.objects.visible_to(user).select_related("area", "chair", "kind"), pk=pk)


def meeting_or_404(user, pk):
    return get_object_or_404(
        Meeting.objects.visible_to(user).select_related("panel__area", "panel__chair", "panel__kind", "closed_by"),
        pk=pk,
    )


def item_or_404(user, meeting, item_pk):
    """An agenda item of the meeting about a person the user's agency may see."""
    return get_object_or_404(
        meeting.items.filter(offender__in=Offender.objects.visible_to(user)).select_related("offender"), pk=item_pk
    )


def editable_meeting_or_refuse(user, pk):
    """The meeting for a change: 404 if not a member, 403 if not the chair or the meeting is closed."""
    meeting = meeting_or_404(user, pk)
    services.ensure_chair(user, meeting.panel)
    if meeting.is_closed:
        raise services.MeetingClosedError()
    return meeting


@login_required
def panel_list(request):
    require_people_access(request.user)
    today = timezone.localdate()
    panels = (
        Panel.objects.visible_to(request.user).filter(active=True).select_related("area", "chair", "kind")
        .annotate(
            next_meeting=Min("meetings__held_on", filter=Q(meetings__held_on__gte=today)),
            last_meeting=Max("meetings__held_on", filter=Q(meetings__held_on__lt=today)),
        )
        .prefetch_related(Prefetch("memberships", queryset=PanelMembership.objects.select_related("agency")))
    )
    return render(request, "panels/panel_list.html", {
        "panels": panels, "can_set_up": services.can_set_up_panels(request.user),
    })


@login_required
def panel_detail(request, pk):
    panel = panel_or_404(request.user, pk)
    meetings = panel.meetings.annotate(item_count=Count("items")).order_by("-held_on")
    memberships = panel.memberships.select_related("agency")
    contracts = []
    if panel.is_checkpoint:
        contracts = list(
            CheckpointContract.objects.visible_to(request.user).filter(offender__area=panel.area)
            .select_related("offender", "agency").order_by("outcome", "ends_on")[:200]
        )
        if contracts:
            log_many(request.user, Log.VIEW, [c.offender for c in contracts], object_type="panels.checkpointcontract",
                     detail=f"Checkpoint contracts of {panel.name}")
    return render(request, "panels/panel_detail.html", {
        "panel": panel, "meetings": meetings, "memberships": memberships, "contracts": contracts,
        "is_chair": panel.is_chaired_by(request.user), "today": timezone.localdate(),
        "responsible": [m for m in memberships if m.mappa_role == PanelMembership.MappaRole.RESPONSIBLE_AUTHORITY],
        "cooperating": [m for m in memberships if m.mappa_role == PanelMembership.MappaRole.DUTY_TO_COOPERATE],
    })


@login_required
@require_http_methods(["GET", "POST"])
def meeting_create(request, pk):
    panel = panel_or_404(request.user, pk)
    services.ensure_chair(request.user, panel)
    last = panel.meetings.order_by("-held_on").first()
    initial = {"held_on": panel.next_meeting_on(last.held_on) if last else timezone.localdate(),
               "starts_at": panel.usual_start, "location": panel.usual_place or (last.location if last else "")}
    form = MeetingForm(request.POST or None, initial=initial)
    return form_page(
        request, form, lambda data: services.schedule_meeting(request.user, panel, **data),
        template="panels/form.html",
        context={"title": "Add a meeting", "caption": panel.name, "back_url": panel.get_absolute_url()},
        success_message=lambda meeting: f"Meeting on {meeting.held_on:%d %B %Y} added.",
        success_url=lambda meeting: meeting,
    )


@login_required
def meeting_detail(request, pk):
    meeting = meeting_or_404(request.user, pk)
    entries, hidden_count = build_agenda(meeting, request.user)
    if entries:
        log_many(request.user, Log.VIEW, [entry.offender for entry in entries], object_type="panels.agendaitem",
                 detail=f"Agenda of {meeting.reference}"[:500])
    is_chair = meeting.panel.is_chaired_by(request.user)
    plan = meeting_plan(meeting)
    starts = {planned.item.pk: planned.starts_at for planned in plan.items}
    for entry in entries:
        entry.starts_at = starts[entry.item.pk]
    return render(request, "panels/meeting.html", {
        "meeting": meeting, "panel": meeting.panel, "entries": entries, "hidden_count": hidden_count,
        "attendance": meeting.attendance.select_related("agency"), "plan": plan,
        "can_edit": is_chair and not meeting.is_closed,
    })


@login_required
@require_http_methods(["GET", "POST"])
def agenda_plan(request, pk):
    """The chair puts the agenda in order and sets the minutes for each person."""
    meeting = editable_meeting_or_refuse(request.user, pk)
    entries, hidden_count = build_agenda(meeting, request.user)
    form = AgendaPlanForm(request.POST if request.method == "POST" else None, meeting=meeting, entries=entries)
    response = submit(
        request, form,
        lambda data: services.plan_agenda(request.user, meeting, starts_at=data["starts_at"], plan=form.plan()),
        success_message="Agenda order and timings saved.",
        success_url=reverse("panels:meeting", args=[meeting.pk]) + "#agenda",
    )
    if response is not None:
        return response
    plan = meeting_plan(meeting)
    return render(request, "panels/agenda_plan.html", {
        "meeting": meeting, "panel": meeting.panel, "form": form, "hidden_count": hidden_count, "plan": plan,
    })


@login_required
@require_POST
def meeting_generate(request, pk):
    meeting = editable_meeting_or_refuse(request.user, pk)
    added = services.generate_agenda(request.user, meeting)
    if added:
        messages.success(request, f"Agenda generated: {len(added)} {'person' if len(added) == 1 else 'people'} added.")
    else:
        messages.success(request, "Agenda generated: nobody new to add; the reasons of everyone listed are up to "
                                  "date.")
    return redirect(meeting)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_add_person(request, pk):
    meeting = editable_meeting_or_refuse(request.user, pk)
    form = AddPersonForm(request.POST or None, user=request.user)
    return form_page(
        request, form,
        lambda data: services.add_to_agenda(request.user, meeting, data["person"], reason=data["reason"]),
        template="panels/form.html",
        context={"title": "Add a person to the agenda", "caption": str(meeting),
                 "back_url": meeting.get_absolute_url()},
        success_message="Person added to the agenda.", success_url=meeting,
    )


@login_required
@require_http_methods(["GET", "POST"])
def attendance(request, pk):
    """The whole attendance in one form: each member agency, and any guests."""
    meeting = editable_meeting_or_refuse(request.user, pk)
    form = AttendanceSheetForm(request.POST or None, meeting=meeting)
    response = submit(
        request, form, lambda data: services.record_all_attendance(request.user, meeting, **form.attendance()),
        success_message="Attendance recorded.",
        success_url=reverse("panels:meeting", args=[meeting.pk]) + "#attendance",
    )
    return response or render(request, "panels/attendance.html", {
        "meeting": meeting, "panel": meeting.panel, "form": form,
    })


def _item_page(request, meeting, item, *, discussion_form=None, action_form=None, mappa_form=None, status=200):
    entries, _ = build_agenda(meeting, request.user, only_item=item.pk)
    if not entries:
        raise Http404("No such agenda item.")
    entry = entries[0]
    can_edit = meeting.panel.is_chaired_by(request.user) and not meeting.is_closed
    if can_edit:
        discussion_form = discussion_form or DiscussionForm(initial={
            "discussion": item.discussion, "next_review_on": item.next_review_on,
            "expected_status": item.offender.rag_status, "version": item.version,
        })
        action_form = action_form or MeetingActionForm(panel=meeting.panel)
        if meeting.panel.is_mappa:
            decision = entry.mappa_decision
            mappa_form = mappa_form or MappaLevelForm(initial={
                "category": decision.category if decision else None, "level": decision.level if decision else None,
            })
    mappa_history = []
    if meeting.panel.is_mappa:
        mappa_history = item.offender.mappa_level_decisions.select_related("decided_by", "meeting__panel")
    log_access(request.user, Log.VIEW, item, offender=item.offender_id, detail=f"Agenda item of {meeting.reference}")
    return render(request, "panels/item.html", {
        "meeting": meeting, "panel": meeting.panel, "entry": entry, "item": item, "can_edit": can_edit,
        "discussion_form": discussion_form, "action_form": action_form, "mappa_form": mappa_form,
        "mappa_history": mappa_history,
    }, status=status)


def _chaired_item(request, pk, item_pk):
    """The meeting and agenda item for a change: 404 as for reading them, then 403 unless the chair may change it."""
    meeting = meeting_or_404(request.user, pk)
    item = item_or_404(request.user, meeting, item_pk)
    editable_meeting_or_refuse(request.user, pk)
    return meeting, item


def _item_change(request, meeting, item, form, perform, *, form_name, success_message, success_url):
    """A change to an agenda item; a refusal shows the item's page again with `form_name` holding the errors."""
    return submit(request, form, perform, success_message=success_message, success_url=success_url) or _item_page(
        request, meeting, item, **{form_name: form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_detail(request, pk, item_pk):
    if request.method == "GET":
        meeting = meeting_or_404(request.user, pk)
        return _item_page(request, meeting, item_or_404(request.user, meeting, item_pk))
    meeting, item = _chaired_item(request, pk, item_pk)

    def record(data):
        services.record_discussion(
            request.user, item, discussion=data["discussion"], to_status=data["to_status"],
            rag_reason=data["rag_reason"], next_review_on=data["next_review_on"],
            expected_status=data["expected_status"] if "expected_status" in request.POST else None,
            expected_version=data["version"],
        )

    return _item_change(
        request, meeting, item, DiscussionForm(request.POST), record, form_name="discussion_form",
        success_message=f"Discussion of {item.offender.full_name} recorded.",
        success_url=reverse("panels:meeting", args=[meeting.pk]) + f"#item-{item.pk}",
    )


@login_required
@require_POST
def item_action_add(request, pk, item_pk):
    meeting, item = _chaired_item(request, pk, item_pk)
    return _item_change(
        request, meeting, item, MeetingActionForm(request.POST, panel=meeting.panel),
        lambda data: services.add_meeting_action(request.user, item, **data), form_name="action_form",
        success_message=lambda link: f"Action set for {link.action.owner_agency}.",
        success_url=reverse("panels:item", args=[meeting.pk, item.pk]) + "#actions",
    )


@login_required
@require_POST
def item_mappa_level(request, pk, item_pk):
    meeting, item = _chaired_item(request, pk, item_pk)
    if not meeting.panel.is_mappa:
        raise Http404("MAPPA levels are set at MAPPA meetings only.")
    return _item_change(
        request, meeting, item, MappaLevelForm(request.POST),
        lambda data: services.record_mappa_level(request.user, item, **data), form_name="mappa_form",
        success_message="MAPPA level decision recorded.",
        success_url=reverse("panels:item", args=[meeting.pk, item.pk]) + "#mappa",
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_close(request, pk):
    meeting = editable_meeting_or_refuse(request.user, pk)
    form = CloseMeetingForm(request.POST if request.method == "POST" else None, initial={"schedule_next": True,
                                                           **services.next_meeting_defaults(meeting)})

    def close(data):
        closed = services.close_meeting(request.user, meeting, next_held_on=data["next_held_on"],
                                        next_location=data["next_location"])
        return getattr(closed, "next_meeting", None)

    def message(following):
        if following is None:
            return "Meeting closed. The minutes can no longer be changed."
        place = f" at {following.location}" if following.location else ""
        return (f"Meeting closed. The minutes can no longer be changed. "
                f"Next meeting: {following.held_on:%-d %B %Y}{place}.")

    response = submit(request, form, close, success_message=message,
                      success_url=reverse("panels:minutes", args=[meeting.pk]))
    if response is not None:
        return response
    undiscussed = meeting.items.filter(discussed_at__isnull=True).count()
    return render(request, "panels/close.html", {
        "meeting": meeting, "undiscussed": undiscussed, "form": form, "date_rule": meeting.panel.date_rule,
    })


def _minutes_context(request, meeting):
    entries, hidden_count = build_agenda(meeting, request.user)
    visible_items = [entry.item.pk for entry in entries]
    actions = [
        link.action for link in MeetingAction.objects.filter(meeting=meeting, agenda_item_id__in=visible_items)
        .select_related("action__owner_agency", "action__owner", "action__pathway", "action__offender")
        .order_by("action__owner_agency__name", "action__due_on", "pk")
    ]
    return {
        "meeting": meeting, "panel": meeting.panel, "entries": entries, "hidden_count": hidden_count,
        "attendance": list(meeting.attendance.select_related("agency")),
        "actions_by_agency": [
            (agency, list(group)) for agency, group in groupby(actions, key=lambda a: a.owner_agency)
        ],
    }


@login_required
def minutes(request, pk):
    meeting = meeting_or_404(request.user, pk)
    context = _minutes_context(request, meeting)
    if context["entries"]:
        log_many(request.user, Log.VIEW, [entry.offender for entry in context["entries"]],
                 object_type="panels.agendaitem", detail=f"Minutes of {meeting.reference}"[:500])
    return render(request, "panels/minutes.html", context)


@login_required
def minutes_download(request, pk):
    """The minutes as a Word document: a disclosure of every person in them, logged as an export."""
    meeting = meeting_or_404(request.user, pk)
    context = _minutes_context(request, meeting)
    content = minutes_docx(meeting, entries=context["entries"], hidden_count=context["hidden_count"],
                           attendance=context["attendance"], actions_by_agency=context["actions_by_agency"])
    if context["entries"]:
        log_many(request.user, Log.EXPORT, [entry.offender for entry in context["entries"]],
                 object_type="panels.agendaitem", detail=f"Minutes of {meeting.reference} (Word)"[:500])
    else:
        log_access(request.user, Log.EXPORT, meeting, detail=f"Minutes of {meeting.reference} (Word)"[:500])
    response = HttpResponse(content, content_type=DOCX_TYPE)
    filename = f"minutes-{meeting.panel.pk}-{meeting.held_on:%Y-%m-%d}.docx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# Checkpoint contracts


@login_required
@require_http_methods(["GET", "POST"])
def checkpoint_create(request, offender_pk):
    offender = person_for_casework(request.user, offender_pk)
    form = CheckpointContractForm(request.POST or None, offender=offender,
                                  initial={"started_on": timezone.localdate()})
    return form_page(
        request, form, lambda data: services.create_checkpoint_contract(request.user, offender, **data),
        template="panels/form.html",
        context={"title": "Start a Checkpoint contract", "caption": offender.full_name,
                 "back_url": offender.get_absolute_url(),
                 "hint": "The contract lasts four months from its start; the end date is set from the start date."},
        success_message=lambda contract: f"Checkpoint contract started; it ends on {contract.ends_on:%d %B %Y}.",
        success_url=lambda contract: reverse("panels:checkpoint", args=[contract.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def checkpoint_detail(request, pk):
    contract = get_object_or_404(
        CheckpointContract.objects.visible_to(request.user).select_related("offender", "agency", "needs_assessment"),
        pk=pk,
    )
    can_edit = Offender.objects.editable_by(request.user).filter(pk=contract.offender_id).exists()
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("Your role cannot change this case.")
    form = CheckpointContractForm(request.POST or None, instance=contract, offender=contract.offender)
    version = posted_version(request, contract.version)
    response = submit(
        request, form,
        lambda data: services.update_checkpoint_contract(request.user, contract, expected_version=version, **data),
        success_message="Checkpoint contract updated.", success_url=reverse("panels:checkpoint", args=[contract.pk]),
    )
    if response is not None:
        return response
    log_access(request.user, Log.VIEW, contract, offender=contract.offender_id)
    return render(request, "panels/checkpoint.html", {
        "contract": contract, "offender": contract.offender, "form": form if can_edit else None,
        "version": version, "today": timezone.localdate(),
    })


# Panel types and setting up panels (system administrators)


@login_required
def panel_types(request):
    services.ensure_panel_administrator(request.user)
    types = PanelType.objects.prefetch_related("member_agencies").annotate(panel_count=Count("panels"))
    return render(request, "panels/panel_types.html", {"types": types})


@login_required
@require_http_methods(["GET", "POST"])
def panel_type_create(request):
    services.ensure_panel_administrator(request.user)
    form = PanelTypeForm(request.POST or None)
    return form_page(
        request, form, lambda data: services.add_panel_type(request.user, **data), template="panels/form.html",
        context={"title": "Add a panel type", "back_url": reverse("panels:types"),
                 "submit_label": "Add the panel type"},
        success_message=lambda panel_type: f"Panel type {panel_type.name} added.",
        success_url=reverse("panels:types"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def panel_create(request):
    services.ensure_panel_administrator(request.user)
    form = PanelSetUpForm(request.POST or None, initial={"kind": request.GET.get("type")})
    return form_page(
        request, form, lambda data: services.set_up_panel(request.user, **data), template="panels/form.html",
        context={"title": "Set up a panel", "back_url": reverse("panels:list"), "submit_label": "Set up the panel"},
        success_message=lambda panel: f"{panel.name} set up.", success_url=lambda panel: panel,
    )
