"""Database trouble answered plainly: never a hung worker or a bare "Internal Server Error".

A save that meets a row lock held by another transaction gives up after the lock timeout
(DB_LOCK_TIMEOUT, a few seconds); the user is told someone else is saving the record and that
nothing of theirs was saved (409 Conflict). A statement cut short by the statement timeout, or a
database that cannot be reached, is a 503 with Retry-After. Pages answer with a page, the API with
JSON in the shape of its other errors.
"""

import logging

from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

from .database import is_database_unavailable, is_lock_timeout, is_statement_timeout

logger = logging.getLogger(__name__)

RECORD_BUSY = "Someone else is saving this record. Your changes have not been saved: try again in a moment."
TOO_SLOW = "This took too long and was stopped. Nothing has been saved: try again, or narrow what you asked for."
UNAVAILABLE = "The service cannot reach its database just now. Nothing has been saved: try again in a minute."


def is_api_request(request):
    match = getattr(request, "resolver_match", None)
    return bool(match and getattr(match.func, "cls", None)) or request.path.startswith("/api/")


def try_again_url(request):
    """Where to try again from: the same page for a read, the page the form or button was on for a change."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return referer
    return "/"


def database_trouble_response(request, error):
    """The response for a database error a user can do something about, or None for any other error."""
    if is_lock_timeout(error):
        status, message, retry_after, title = 409, RECORD_BUSY, 2, "Someone else is saving this record"
    elif is_statement_timeout(error):
        status, message, retry_after, title = 503, TOO_SLOW, 5, "This took too long"
    elif is_database_unavailable(error):
        status, message, retry_after, title = 503, UNAVAILABLE, 30, "Sorry, the service is unavailable"
    else:
        return None
    logger.warning("%s %s answered %s: %s", request.method, request.path, status, error)
    if is_api_request(request):
        response = JsonResponse({"detail": message}, status=status)
    else:
        context = {"title": title, "message": message, "try_again_url": try_again_url(request)}
        try:
            page = render_to_string("operations/database_trouble.html", context, request=request)
        except DatabaseError:
            # The page's header needs the signed-in user, whom a database that is down cannot give.
            page = f"<!DOCTYPE html><html lang='en'><title>{title}</title><h1>{title}</h1><p>{message}</p></html>"
        response = HttpResponse(page, status=status)
    response["Retry-After"] = str(retry_after)
    return response


class DatabaseTroubleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_trouble_response(request, exception)
