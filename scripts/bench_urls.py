"""The project's URLs plus the framework floor, for benchmarks only (bench_settings).

The floor is a signed-in page that renders the base template and does nothing else: sign-in,
the two-factor check, sessions, every middleware and context processor, and the layout that
every page shares. `scripts/bench.py` times each page against it.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from reoffending import urls as project


@login_required
def framework_floor(request):
    return render(request, "base.html")


urlpatterns = [path("bench/floor/", framework_floor, name="bench-floor"), *project.urlpatterns]
handler500 = project.handler500
