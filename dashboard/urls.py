from django.urls import path, register_converter

from . import views


class FileFormatConverter:
    regex = "csv|xlsx"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FileFormatConverter, "file_format")

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("report/", views.report, name="report"),
    path("report/publish/", views.publish, name="publish"),
    path("benchmark/", views.benchmark_page, name="benchmark"),
    path("benchmark/invented-sample.csv", views.benchmark_sample, name="benchmark_sample"),
    path("recalculate/", views.recalculate, name="recalculate"),
    path("status/", views.status, name="status"),
    path("measures/<slug:name>/", views.measure_detail, name="measure"),
    path("measures/<slug:name>/export.<file_format:file_format>", views.export, name="export"),
    path("measures/<slug:name>/people/", views.people, name="people"),
]
