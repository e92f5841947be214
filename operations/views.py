import sys

from django.views import defaults

from .middleware import database_trouble_response


def server_error(request):
    """The 500 handler: database trouble met outside a view (loading the session, the user) is answered
    like trouble met in one (DatabaseTroubleMiddleware), anything else with the usual error page."""
    error = sys.exc_info()[1]
    return (error and database_trouble_response(request, error)) or defaults.server_error(request)
