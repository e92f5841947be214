from django.shortcuts import render


def csrf_failure(request, reason=""):
    """A form sent without a valid CSRF token: the service's own page (with its header), never Django's."""
    return render(request, "403_csrf.html", status=403)
