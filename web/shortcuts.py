"""The one way a page takes a form: bind it, hand the cleaned data to a service, and either show the
service's refusal on the form or redirect with a message.

Services refuse bad input with Django's ValidationError (a stale edit is one too: see
`cases.locking`), naming the field where they can; the error lands against that field, or at the
top of the form when the form has no such field. A save that gives up waiting for a record someone
else is saving (the database's lock timeout) is shown at the top of the form too, with what the user
entered kept, so they can simply send it again.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.shortcuts import redirect, render

from operations.database import is_lock_timeout
from operations.middleware import RECORD_BUSY


def apply_validation_error(form, error):
    """Show a service's ValidationError on the form, against the field it names where the form has it."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


def submit(request, form, perform, *, success_message, success_url):
    """On a valid POST, `perform(cleaned_data)`; its ValidationError goes on the form.

    Returns the redirect to `success_url` (a URL, a URL name or a model instance) with
    `success_message` on success, otherwise None: the caller shows the form again. Either may be a
    callable of what `perform` returned; the message may be a (level, text) pair when the outcome
    is not a success.
    """
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = perform(form.cleaned_data)
    except ValidationError as error:
        apply_validation_error(form, error)
        return None
    except DatabaseError as error:
        if not is_lock_timeout(error):
            raise
        form.add_error(None, RECORD_BUSY)
        return None
    message = success_message(result) if callable(success_message) else success_message
    level, text = message if isinstance(message, tuple) else (messages.SUCCESS, message)
    messages.add_message(request, level, text)
    return redirect(success_url(result) if callable(success_url) else success_url)


def form_page(request, form, perform, *, template, context, success_message, success_url):
    """`submit`, and otherwise the page with the form (and any errors) on it."""
    return submit(request, form, perform, success_message=success_message, success_url=success_url) or render(
        request, template, {"form": form, **context}
    )


def posted_version(request, current):
    """The version of a record the form was opened on (`current` on a GET).

    A mangled version can only be treated as out of date, so it is refused as stale.
    """
    try:
        return int(request.POST.get("version", current))
    except (TypeError, ValueError):
        return 0
