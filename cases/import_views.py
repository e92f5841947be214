from django.http import Http404


def upload(request):
    raise Http404


def job(request, job_id):
    raise Http404


def confirm(request, job_id):
    raise Http404


def export(request):
    raise Http404
