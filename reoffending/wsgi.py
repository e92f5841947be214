import gc
import os

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reoffending.settings")
application = get_wsgi_application()

# Most of a worker's objects live as long as it does: Django, every app's models and the middleware, loaded
# by now, then the URLs, templates and serializers the first requests load (about 240,000 objects in all).
# Left to the collector, each full collection walks every one of them, 100 to 200 ms on a small CPU once
# every few dozen requests: most of the API list's 95th percentile. Frozen, the collector leaves them be
# and walks only what requests leave behind. Frozen once loaded, and again once warm.
WARM_UP_REQUESTS = 50
_served = 0


def freeze_what_is_loaded():
    gc.collect()
    gc.freeze()


def _freeze_once_warm(sender, **kwargs):
    global _served
    _served += 1
    if _served >= WARM_UP_REQUESTS:
        request_finished.disconnect(_freeze_once_warm)
        freeze_what_is_loaded()


freeze_what_is_loaded()
request_finished.connect(_freeze_once_warm)
