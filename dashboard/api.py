"""REST API for the partnership's performance measures, read from the roll-up tables.

The figures are the dashboard's own (`dashboard.figures`), with the same disclosure
control: for roles that see numbers only, small counts and the rates built on them
are hidden. No person is ever returned, so every signed-in user may call these.
"""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from .figures import default_quarter, load_figures, slice_options, suppresses_small_numbers, trend_quarters
from .measures import MIX, all_measures, get_measure
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
    categories = serializers.SerializerMethodField()

    def get_categories(self, measure) -> list[dict]:
        return [{"key": key, "label": label} for key, label in measure.categories]


class FigureQuerySerializer(serializers.Serializer):
    quarter = serializers.DateField(required=False, help_text="First day of the quarter; the last complete one "
                                    "if not given. Figures are for the eight quarters up to it.")
    dimension = serializers.ChoiceField(choices=Dimension.choices, default=Dimension.ALL)
    slice = serializers.CharField(required=False, allow_blank=True, max_length=40,
                                  help_text="The area or agency id, cohort, gender, age band or ethnicity.")

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
    value = serializers.FloatField(allow_null=True, help_text="Null when hidden (small numbers) or nothing to measure.")
    text = serializers.CharField(help_text="As the dashboard shows it, for example '12.5%' or '<5'.")
    hidden = serializers.BooleanField()


class CategoryCellSerializer(CellSerializer):
    key = serializers.CharField()


class QuarterFigureSerializer(serializers.Serializer):
    quarter = serializers.DateField()
    label = serializers.CharField()
    provisional = serializers.BooleanField()
    headline = CellSerializer()
    categories = CategoryCellSerializer(many=True)


class MeasureFiguresSerializer(serializers.Serializer):
    measure = MeasureSerializer()
    dimension = serializers.CharField()
    slice = serializers.CharField()
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
        query = FigureQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        selected = query.validated_data.get("quarter") or default_quarter()
        dimension, key = query.validated_data["dimension"], query.validated_data["slice"]
        quarters = trend_quarters(selected)
        [figures] = load_figures([measure], selected, dimension, key, suppresses_small_numbers(request.user),
                                 quarters=quarters)
        rows = []
        for quarter in quarters:
            categories = []
            if measure.kind == MIX:
                cells = figures.mix_cells(quarter)
                categories = [{"key": k, **cell_data(cells[k])} for k, _ in measure.categories]
            rows.append({
                "quarter": quarter.start, "label": quarter.short_label,
                "provisional": figures.is_provisional(quarter), "headline": cell_data(figures.cell(quarter)),
                "categories": categories,
            })
        return Response(MeasureFiguresSerializer(
            {"measure": measure, "dimension": dimension, "slice": key, "figures": rows}
        ).data)
