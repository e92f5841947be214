"""The minutes of a meeting as a Word document, with the same content as the printable page."""

import io

from docx import Document
from docx.shared import Pt


def _rag_line(item):
    change = item.rag_change
    if change is None:
        return "RAG: no change"
    was = (change.get_from_status_display() or "not set").lower()
    return f"RAG: changed to {change.get_to_status_display()} (was {was}): {change.reason}"


def _table(document, headings, rows):
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, headings, strict=True):
        cell.text = heading
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    return table


def minutes_docx(meeting, *, entries, hidden_count, attendance, actions_by_agency):
    """The document's bytes. Only the entries passed in (people the reader may see) are written."""
    panel = meeting.panel
    document = Document()
    document.styles["Normal"].font.size = Pt(11)
    marking = document.add_paragraph()
    marking.add_run("OFFICIAL-SENSITIVE. Shared with the panel's member agencies only.").bold = True
    status = "Minutes" if meeting.is_closed else "Draft minutes"
    document.add_heading(f"{panel.name}: {status}, {meeting.held_on:%d %B %Y}", level=1)
    details = f"Area: {panel.area}. Chair: {panel.chair or 'not named'}."
    if meeting.location:
        details += f" Location: {meeting.location}."
    if meeting.is_closed:
        details += f" Closed {meeting.closed_at:%d %B %Y %H:%M}."
    else:
        details += " Not closed yet: these minutes may still change."
    document.add_paragraph(details)

    document.add_heading("Attendance", level=2)
    rows = [(row.agency_name + (" (guest)" if row.is_guest else ""), row.name,
             row.get_status_display() + (f", deputy {row.deputy}" if row.deputy else "")) for row in attendance]
    if rows:
        _table(document, ["Agency", "Name and role", "Attendance"], rows)
    else:
        document.add_paragraph("No attendance recorded.")

    document.add_heading("Decisions", level=2)
    if hidden_count:
        document.add_paragraph(
            f"{hidden_count} case{'s' if hidden_count != 1 else ''} on this agenda "
            f"{'is' if hidden_count == 1 else 'are'} not shared with your agency, so not shown."
        )
    for number, entry in enumerate(entries, start=1):
        item, offender = entry.item, entry.offender
        document.add_heading(f"{number}. {offender.full_name} (case {offender.pk})", level=3)
        reasons = ", ".join(item.reasons) or "no recorded reason"
        document.add_paragraph(f"On the agenda for: {reasons}.")
        document.add_paragraph(item.discussion or "No discussion recorded.")
        document.add_paragraph(_rag_line(item), style="List Bullet")
        if item.next_review_on:
            document.add_paragraph(f"Next review: {item.next_review_on:%d %B %Y}", style="List Bullet")
        decision = entry.mappa_decision
        if panel.is_mappa and decision is not None and decision.meeting_id == meeting.pk:
            document.add_paragraph(f"MAPPA: category {decision.category}, level {decision.level}", style="List Bullet")
        for action in entry.meeting_actions:
            document.add_paragraph(
                f"Action for {action.owner_agency}: {action.description} (due {action.due_on:%d %b %Y})",
                style="List Bullet",
            )

    document.add_heading("Actions by agency", level=2)
    if not actions_by_agency:
        document.add_paragraph("No actions were set.")
    for agency, actions in actions_by_agency:
        document.add_heading(agency.name, level=3)
        _table(document, ["Person", "Action", "Owner", "Due", "Status"], [
            (a.offender.full_name, a.description, str(a.owner or "Not named"), f"{a.due_on:%d %b %Y}",
             a.get_status_display())
            for a in actions
        ])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
