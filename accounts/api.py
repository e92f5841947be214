"""API tokens through the API: issue one from a signed-in session, list them, withdraw them.

A token is issued only to a browser session that gave the security code, so every token
inherits two-factor sign-in; a token cannot issue another token.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .authentication import ApiTokenAuthentication
from .models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    created_at = serializers.DateTimeField(source="created", read_only=True)
    expires_at = serializers.DateTimeField(source="expiry", read_only=True)
    in_use = serializers.SerializerMethodField(help_text="True for the token this request was made with.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "expires_at", "last_used_at", "in_use"]
        read_only_fields = fields

    def get_in_use(self, token) -> bool:
        return getattr(self.context.get("request"), "auth", None) == token


class IssueTokenSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                 help_text="What the token is for, to tell your tokens apart later.")


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token. It is shown only this once: keep it safe.")

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
        read_only_fields = fields


def user_tokens(request):
    return ApiToken.objects.filter(user=request.user).current()


class TokenView(APIView):
    """Issue an API token (POST, from a session signed in with the security code) or withdraw tokens
    (DELETE: the token the request is made with, or, from a signed-in session, all of your tokens)."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    # Only a browser session is issued a token, so a form is read as well as JSON.
    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]

    @extend_schema(
        request=IssueTokenSerializer,
        responses={
            201: IssuedTokenSerializer,
            400: OpenApiResponse(description="You already hold the most tokens allowed."),
            403: OpenApiResponse(description="Not a browser session signed in with the security code."),
        },
    )
    def post(self, request):
        if not isinstance(request.successful_authenticator, SessionAuthentication):
            raise PermissionDenied("API tokens are issued only to a session signed in with the security code.")
        serializer = IssueTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record, token = services.issue_api_token(request.user, name=serializer.validated_data.get("name", ""))
        record.token = token
        return Response(IssuedTokenSerializer(record, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Withdrawn.")})
    def delete(self, request):
        tokens = user_tokens(request)
        if isinstance(request.auth, ApiToken):
            tokens = tokens.filter(pk=request.auth.pk)
        services.withdraw_api_tokens(request.user, tokens)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                   viewsets.GenericViewSet):
    """Your current API tokens: when each was created, when it expires and when it was last used.
    DELETE withdraws one. The tokens themselves cannot be read back."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # the model, for the schema; get_queryset gives the user's own
    lookup_value_converter = "int"

    def get_queryset(self):
        return user_tokens(self.request)

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(responses={204: OpenApiResponse(description="Withdrawn."), 404: OpenApiResponse(
        description="No such token of yours.")})
    def destroy(self, request, *args, **kwargs):
        token = self.get_object()
        services.withdraw_api_tokens(request.user, ApiToken.objects.filter(pk=token.pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
