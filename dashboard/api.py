"""REST API for the partnership's performance measures, read from the roll-up tables.

The figures are the dashboard's own (`dashboard.figures`), with the same disclosure
control for every role (`dashboard.disclosure`): small counts, and the figures that
would let them be worked out, are hidden. No person is ever returned, so every
signed-in user may call these.
"""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from web.api import QueryBooleanField, query_values

from . import disclosure
from .definition import MIX, RATE, RATIO
from .figures import default_quarter, load_figures, slice_options, trend_quarters
from .measures import all_measures, get_measure
from .models import Dimension
from .periods import Quarter


class CategorySerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class MeasureSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    kind = serializers.ChoiceField(choices=["count", "rate", "ratio", "mix"])
    unit = serializers.CharField()
    group = serializers.CharField()
    definition = serializers.CharField(help_text="How the measure is worked out, in plain English.")
    source = serializers.CharField(help_text="Where the definition and the data come from.")
    maturity_months = serializers.IntegerField(help_text="Months after a quarter ends before its figure is final.")
    headline_label = serializers.CharField(help_text="For a mix, what the headline share counts (empty: the total).")
    categories = serializers.SerializerMethodField()

    def get_categories(self, measure) -> list[dict]:
        return [{"key": key, "label": label} for key, label in measure.categories]


class FigureQuerySerializer(serializers.Serializer):
    quarter = serializers.DateField(required=False, help_text="First day of the quarter; the last complete one "
                                    "if not given. Figures are for the eight quarters up to it.")
    dimension = serializers.ChoiceField(choices=Dimension.choices, default=Dimension.ALL)
    public = QueryBooleanField(default=False, help_text="Counts rounded to the nearest 5, for publication.")
    slice = serializers.CharField(required=False, allow_blank=True, max_length=40,
                                  help_text="The area or agency id, cohort, gender, age band, ethnicity or priority "
                                  "group.")

    def validate_quarter(self, value):
        try:
            return Quarter.from_key(value.isoformat())
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error

    def validate(self, attrs):
        dimension, key = attrs["dimension"], attrs.get("slice", "")
        if dimension == Dimension.ALL:
            attrs["slice"] = ""
        elif key not in dict(slice_options()[dimension]):
            raise serializers.ValidationError({"slice": f"Not a slice of {dimension}."})
        return attrs


class CellSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="Null when hidden or when there is nothing to measure.")
    text = serializers.CharField(help_text="As the dashboard shows it, for example '12.5%' or 'Not shown'.")
    hidden = serializers.BooleanField(help_text="Hidden by disclosure control so that nobody can be identified.")


class CategoryCellSerializer(CellSerializer):
    key = serializers.CharField()


class QuarterFigureSerializer(serializers.Serializer):
    quarter = serializers.DateField()
    label = serializers.CharField()
    provisional = serializers.BooleanField(help_text="Can still change: never compare it with another quarter.")
    complete_percent = serializers.IntegerField(help_text="How much of the quarter's figure is in (100 when final).")
    headline = CellSerializer(help_text="The measure's figure; for a mix with a headline, the share it names.")
    numerator = CellSerializer(allow_null=True, help_text="A rate's or ratio's numerator (null for counts and mixes).")
    denominator = CellSerializer(allow_null=True, help_text="A rate's or ratio's denominator, or a mix's total.")
    categories = CategoryCellSerializer(many=True)


class MeasureFiguresSerializer(serializers.Serializer):
    measure = MeasureSerializer()
    dimension = serializers.CharField()
    slice = serializers.CharField()
    latest_final_quarter = serializers.DateField(
        help_text="The latest quarter, up to the one asked for, that is final."
    )
    figures = QuarterFigureSerializer(many=True)


def cell_data(cell):
    return {"value": cell.value, "text": cell.text, "hidden": cell.hidden}


class MeasureViewSet(viewsets.ViewSet):
    """Performance measures; a measure's figures by quarter for the whole partnership or one slice."""

    lookup_field = "name"
    lookup_value_converter = "str"
    serializer_class = MeasureSerializer

    @extend_schema(responses=MeasureSerializer(many=True))
    def list(self, request):
        return Response(MeasureSerializer(all_measures(), many=True).data)

    @extend_schema(parameters=[FigureQuerySerializer], responses=MeasureFiguresSerializer)
    def retrieve(self, request, name=None):
        measure = get_measure(name)
        if measure is None:
            raise Http404("No such measure.")
        query = FigureQuerySerializer(data=query_values(request))
        query.is_valid(raise_exception=True)
        selected = query.validated_data.get("quarter") or default_quarter()
        dimension, key = query.validated_data["dimension"], query.validated_data["slice"]
        quarters = trend_quarters(selected)
        rounding = disclosure.rounding_base() if query.validated_data["public"] else 0
        [figures] = load_figures([measure], selected, dimension, key, rounding, quarters=quarters)
        rows = []
        for quarter in quarters:
            categories = []
            if measure.kind == MIX:
                cells = figures.mix_cells(quarter)
                categories = [{"key": k, **cell_data(cells[k])} for k, _ in measure.categories]
            rows.append({
                "quarter": quarter.start, "label": quarter.short_label,
                "provisional": figures.is_provisional(quarter), "complete_percent": figures.completeness(quarter),
                "headline": cell_data(figures.headline_cell(quarter)),
                "numerator": cell_data(figures.numerator_cell(quarter)) if measure.kind in {RATE, RATIO} else None,
                "denominator": (cell_data(figures.base_cell(quarter)) if measure.kind in {RATE, RATIO, MIX}
                                else None),
                "categories": categories,
            })
        return Response(MeasureFiguresSerializer(
            {"measure": measure, "dimension": dimension, "slice": key,
             "latest_final_quarter": figures.latest_final.start, "figures": rows}
        ).data)
