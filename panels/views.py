"""Panel pages: the panels a member agency sits on, preparing and running a meeting, and its minutes.

A meeting of a panel the user's agency is not a member of is a 404, so its existence is not
disclosed; a member who is not the panel's chair gets 403 on any change, and so does anyone
once the meeting is closed.
"""

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Min, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cases.audit import log_access, log_many
from cases.models import AccessLogEntry, Offender
from cases.services import ConcurrentEditError
from cases.views import apply_validation_error, require_people_access, visible_offender_or_404

from . import services
from .agenda import build_agenda
from .forms import (
    AddPersonForm,
    AttendanceForm,
    CheckpointContractForm,
    DiscussionForm,
    MappaLevelForm,
    MeetingActionForm,
    MeetingForm,
)
from .minutes_docx import minutes_docx
from .models import CheckpointContract, Meeting, MeetingAction, Panel, PanelMembership

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

Log = AccessLogEntry.Action


def panel_or_404(user, pk):
    return get_object_or_404(Panel.objects.visible_to(user).select_related("area", "chair"), pk=pk)


def meeting_or_404(user, pk):
    return get_object_or_404(
        Meeting.objects.visible_to(user).select_related("panel__area", "panel__chair", "closed_by"), pk=pk
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
        Panel.objects.visible_to(request.user).filter(active=True).select_related("area", "chair")
        .annotate(
            next_meeting=Min("meetings__held_on", filter=Q(meetings__held_on__gte=today)),
            last_meeting=Max("meetings__held_on", filter=Q(meetings__held_on__lt=today)),
        )
        .prefetch_related(Prefetch("memberships", queryset=PanelMembership.objects.select_related("agency")))
    )
    return render(request, "panels/panel_list.html", {"panels": panels})


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
    initial = {"held_on": panel.next_meeting_on(last.held_on) if last else timezone.localdate()}
    form = MeetingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.schedule_meeting(request.user, panel, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Meeting on {meeting.held_on:%d %B %Y} added.")
            return redirect(meeting)
    return render(request, "panels/form.html", {
        "form": form, "title": "Add a meeting", "caption": panel.name, "back_url": panel.get_absolute_url(),
    })


@login_required
def meeting_detail(request, pk):
    meeting = meeting_or_404(request.user, pk)
    entries, hidden_count = build_agenda(meeting, request.user)
    if entries:
        log_many(request.user, Log.VIEW, [entry.offender for entry in entries], object_type="panels.agendaitem",
                 detail=f"Agenda of {meeting.reference}"[:500])
    is_chair = meeting.panel.is_chaired_by(request.user)
    return render(request, "panels/meeting.html", {
        "meeting": meeting, "panel": meeting.panel, "entries": entries, "hidden_count": hidden_count,
        "attendance": meeting.attendance.select_related("agency"),
        "can_edit": is_chair and not meeting.is_closed,
    })


@login_required
@require_POST
def meeting_generate(request, pk):
    meeting = editable_meeting_or_refuse(request.user, pk)
    added = services.generate_agenda(request.user, meeting)
    messages.success(request, f"Agenda generated: {len(added)} {'person' if len(added) == 1 else 'people'} added.")
    return redirect(meeting)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_add_person(request, pk):
    meeting = editable_meeting_or_refuse(request.user, pk)
    form = AddPersonForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_to_agenda(request.user, meeting, form.cleaned_data["person"],
                                   reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Person added to the agenda.")
            return redirect(meeting)
    return render(request, "panels/form.html", {
        "form": form, "title": "Add a person to the agenda", "caption": str(meeting),
        "back_url": meeting.get_absolute_url(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def attendance_add(request, pk):
    meeting = editable_meeting_or_refuse(request.user, pk)
    form = AttendanceForm(request.POST or None, panel=meeting.panel)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_attendance(request.user, meeting, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Attendance recorded.")
            return redirect(reverse("panels:meeting", args=[meeting.pk]) + "#attendance")
    return render(request, "panels/form.html", {
        "form": form, "title": "Record attendance", "caption": str(meeting), "back_url": meeting.get_absolute_url(),
        "submit_label": "Record attendance",
    })


@login_required
@require_POST
def attendance_remove(request, pk, attendance_pk):
    meeting = editable_meeting_or_refuse(request.user, pk)
    attendance = get_object_or_404(meeting.attendance, pk=attendance_pk)
    services.remove_attendance(request.user, attendance)
    messages.success(request, f"{attendance.name} removed from the attendance.")
    return redirect(reverse("panels:meeting", args=[meeting.pk]) + "#attendance")


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


@login_required
@require_http_methods(["GET", "POST"])
def item_detail(request, pk, item_pk):
    meeting = meeting_or_404(request.user, pk)
    item = item_or_404(request.user, meeting, item_pk)
    if request.method == "GET":
        return _item_page(request, meeting, item)
    editable_meeting_or_refuse(request.user, pk)
    form = DiscussionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_discussion(
                request.user, item, discussion=data["discussion"], to_status=data["to_status"],
                rag_reason=data["rag_reason"], next_review_on=data["next_review_on"],
                expected_status=data["expected_status"] if "expected_status" in request.POST else None,
                expected_version=data["version"],
            )
        except services.DiscussionChangedError:
            form.add_error(None, "Someone else recorded a decision on this agenda item after you opened this page."
                                 " Nothing has been saved. Reload the page to see it.")
        except ConcurrentEditError as conflict:
            form.add_error(None, f"The RAG status was changed to {conflict.current.get_rag_status_display() or 'none'}"
                                 " by someone else after you opened this page. Nothing has been saved.")
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Discussion of {item.offender.full_name} recorded.")
            return redirect(reverse("panels:meeting", args=[meeting.pk]) + f"#item-{item.pk}")
    return _item_page(request, meeting, item, discussion_form=form)


@login_required
@require_POST
def item_action_add(request, pk, item_pk):
    meeting = meeting_or_404(request.user, pk)
    item = item_or_404(request.user, meeting, item_pk)
    editable_meeting_or_refuse(request.user, pk)
    form = MeetingActionForm(request.POST, panel=meeting.panel)
    if form.is_valid():
        try:
            services.add_meeting_action(request.user, item, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Action set for {form.cleaned_data['owner_agency']}.")
            return redirect(reverse("panels:item", args=[meeting.pk, item.pk]) + "#actions")
    return _item_page(request, meeting, item, action_form=form)


@login_required
@require_POST
def item_mappa_level(request, pk, item_pk):
    meeting = meeting_or_404(request.user, pk)
    item = item_or_404(request.user, meeting, item_pk)
    editable_meeting_or_refuse(request.user, pk)
    if not meeting.panel.is_mappa:
        raise Http404("MAPPA levels are set at MAPPA meetings only.")
    form = MappaLevelForm(request.POST)
    if form.is_valid():
        try:
            services.record_mappa_level(request.user, item, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "MAPPA level decision recorded.")
            return redirect(reverse("panels:item", args=[meeting.pk, item.pk]) + "#mappa")
    return _item_page(request, meeting, item, mappa_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_close(request, pk):
    meeting = editable_meeting_or_refuse(request.user, pk)
    if request.method == "POST":
        services.close_meeting(request.user, meeting)
        messages.success(request, "Meeting closed. The minutes can no longer be changed.")
        return redirect("panels:minutes", pk=meeting.pk)
    undiscussed = meeting.items.filter(discussed_at__isnull=True).count()
    return render(request, "panels/close.html", {"meeting": meeting, "undiscussed": undiscussed})


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
    offender = visible_offender_or_404(request.user, offender_pk)
    if not Offender.objects.editable_by(request.user).filter(pk=offender.pk).exists():
        raise PermissionDenied("Your role cannot change this case.")
    form = CheckpointContractForm(request.POST or None, offender=offender,
                                  initial={"started_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.create_checkpoint_contract(request.user, offender, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Checkpoint contract started; it ends on {contract.ends_on:%d %B %Y}.")
            return redirect("panels:checkpoint", pk=contract.pk)
    return render(request, "panels/form.html", {
        "form": form, "title": "Start a Checkpoint contract", "caption": offender.full_name,
        "back_url": offender.get_absolute_url(),
        "hint": "The contract lasts four months from its start; the end date is set from the start date.",
    })


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
    try:
        version = int(request.POST.get("version", contract.version))
    except (TypeError, ValueError):
        version = 0
    if request.method == "POST" and form.is_valid():
        try:
            services.update_checkpoint_contract(request.user, contract, expected_version=version,
                                                **form.cleaned_data)
        except ConcurrentEditError:
            form.add_error(None, "Someone else changed this contract after you opened it. Nothing has been saved. "
                                 "Reload the page to see the latest details.")
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Checkpoint contract updated.")
            return redirect("panels:checkpoint", pk=contract.pk)
    log_access(request.user, Log.VIEW, contract, offender=contract.offender_id)
    return render(request, "panels/checkpoint.html", {
        "contract": contract, "offender": contract.offender, "form": form if can_edit else None,
        "version": version, "today": timezone.localdate(),
    })
