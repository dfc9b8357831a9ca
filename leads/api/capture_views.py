from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from crm.client_ip import client_ip
from crm.public_ids import new_public_id
from leads.capture import cors, idempotency, ratelimit, spam, submission
from leads.capture.service import capture_lead

from ..choices import LeadSource
from ..models import Channel
from .serializers import CaptureReceiptSerializer, ContactMatchSerializer, LeadCaptureSerializer, LeadSerializer

RECEIVED_STATUS = "new"


def _receipt(body: dict, *, submission_id, received_at) -> tuple[int, dict]:
    """What a website form is told, whatever became of its submission (document 002's shape).

    Everything in it comes from the request, never from what the CRM knew: `id` is this submission's
    (an authenticated GET /leads/{id} finds the lead it landed on), `name` and `email` are echoed as
    sent, `status` is always "new" and `created_at` is when it was received. So it reads the same for a
    new person, a known lead or contact, and a post the spam trap caught.
    """
    def text(name: str) -> str:
        value = body.get(name)
        return value.strip() if isinstance(value, str) else ""

    name = text("name") or " ".join(filter(None, [text("first_name"), text("last_name")]))
    receipt = {"id": submission_id, "name": name[:200], "email": text("email").lower()[:254],
               "status": RECEIVED_STATUS, "created_at": received_at}
    return status.HTTP_201_CREATED, dict(CaptureReceiptSerializer(receipt).data)



class LeadCaptureMixin:
    """`POST /api/v1/leads`: the public door for website forms, and lead creation for integrators."""

    @extend_schema(
        summary="Capture a lead",
        description=(
            "Anonymous website forms send their channel's key (`X-Form-Key` header or `form_key` field) and get "
            "a receipt in document 002's shape, `{id, name, email, status, created_at}`, the same whatever happened "
            "(a new person, a known lead or contact, a caught bot): `id` names this submission (an authenticated "
            "`GET /leads/{id}` answers the lead it landed on), `name` and `email` are echoed as sent, `status` is "
            'always "new" (it means received, as the `{"status": "received"}` this answered before) and '
            "`created_at` is when it was received. Authenticated callers get the lead: 201 when created, 200 when the email "
            "matched an open lead, which is updated instead; 403, recording nothing, when that lead or contact is "
            "a colleague's you may not change. Fields the API does not know are kept in "
            "`custom_fields`. A browser form also sends `_token`, the signed time the form was shown "
            "(`GET /f/{form_key}/token`), for the spam trap. Anonymous posts are rate-limited per client "
            "address and channel (429 with "
            "`Retry-After`) and must come from one of the channel's allowed origins when they carry an `Origin`. "
            "An `Idempotency-Key` header makes retries safe: the same key and body replay the first answer "
            "(with `Idempotent-Replayed: true`), the same key with another body is 422; keys live 24 hours."
        ),
        parameters=[
            OpenApiParameter("X-Form-Key", str, OpenApiParameter.HEADER, required=False),
            OpenApiParameter(
                "Idempotency-Key",
                # What idempotency.clean_key takes (1 to MAX_KEY_LENGTH characters once trimmed), as header text.
                {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH,
                 "pattern": "^[!-~]([ -~]*[!-~])?$"},
                OpenApiParameter.HEADER, required=False,
                description="Any unique string (e.g. a UUID), reused only to retry the same request.",
            ),
        ],
        responses={
            201: PolymorphicProxySerializer(
                component_name="CaptureCreated", serializers=[LeadSerializer, CaptureReceiptSerializer],
                resource_type_field_name=None,
            ),
            200: PolymorphicProxySerializer(
                component_name="CaptureMatched", serializers=[LeadSerializer, ContactMatchSerializer],
                resource_type_field_name=None,
            ),
            400: OpenApiResponse(description="Field errors"),
            403: OpenApiResponse(description="The Origin is not allowed for this form, or (signed in) the email "
                                 "belongs to a colleague's lead or contact"),
            413: OpenApiResponse(description="Body too large"),
            422: OpenApiResponse(description="Idempotency-Key reused with a different body"),
            429: OpenApiResponse(description="Too many submissions; see Retry-After"),
        },
        # Security requirement objects, as get_auth() returns them; drf-spectacular's hint says str.
        auth=[{"tokenAuth": []}, {"cookieAuth": []}, {"formKey": []}],  # type: ignore[list-item]
    )
    def create(self, request, *args, **kwargs):
        tenant, channel = self._capture_door(request)
        anonymous = not request.user.is_authenticated
        try:
            cors.check_form_origin(request, channel, enforce=anonymous)
            key = idempotency.clean_key(request.headers.get("Idempotency-Key"))
        except cors.OriginNotAllowed as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except idempotency.IdempotencyKeyInvalid as exc:
            raise exceptions.ValidationError({"Idempotency-Key": [str(exc)]}) from exc
        body = submission.as_dict(request.data)
        # Named before the work, so a retry's replay and the first answer agree (and the receipt is
        # known before anything is written: idempotency writes it with its claim).
        submission_id = new_public_id()
        receipt = _receipt(body, submission_id=submission_id, received_at=timezone.now()) if anonymous else None

        def answer() -> tuple[int, dict]:
            return self._capture(request, tenant=tenant, channel=channel, body=body, receipt=receipt,
                                 submission_id=submission_id)

        if key is None:
            code, payload = answer()
            return Response(payload, status=code)
        try:
            outcome = idempotency.run_once(
                tenant=tenant,
                scope=idempotency.scope_for(channel=channel, user=request.user),
                key=key,
                body_hash=idempotency.request_hash(body),
                work=answer,
                expect=receipt,  # the only answer _capture gives a form
            )
        except idempotency.IdempotencyKeyReused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response(outcome.body, status=outcome.status,
                        headers={"Idempotent-Replayed": "true"} if outcome.replayed else None)

    def _capture(
        self, request, *, tenant, channel, body: dict, receipt: tuple[int, dict] | None, submission_id
    ) -> tuple[int, dict]:
        anonymous = receipt is not None
        if receipt is not None:
            try:
                ratelimit.hit(channel=channel, client=client_ip(request))
            except ratelimit.RateLimited as exc:
                raise exceptions.Throttled(wait=exc.retry_after, detail=str(exc)) from exc
            # Judged before validation, so a bot never learns the field rules either.
            try:
                reason = spam.spam_reason(body, channel=channel, from_browser=bool(request.headers.get("Origin")))
            except spam.TokenMissing as exc:
                raise exceptions.ValidationError({spam.TOKEN_FIELD: [str(exc)]}) from exc
            if reason:
                spam.record_blocked(channel=channel, reason=reason)
                return receipt  # its id names no submission: nothing was stored
        data = submission.capture_input(body, known=LeadCaptureSerializer.Meta.fields, lenient_attribution=anonymous)
        serializer = LeadCaptureSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if anonymous:
            source = channel.default_source
        else:
            source = data.pop("source", None) or (channel.default_source if channel else LeadSource.API)
        data.pop("source", None)
        result = capture_lead(
            tenant=tenant, data=data, source=source, channel=channel, actor=None if anonymous else request.user,
            submission_id=submission_id,
        )
        if receipt is not None:
            # The same answer whatever happened, so a form cannot be used to probe who is a lead.
            return receipt
        if result.lead is None:
            assert result.contact is not None  # no lead: the submission went on a contact's timeline
            return status.HTTP_200_OK, {
                "detail": "This email belongs to a contact; the submission was logged on their timeline.",
                "contact_id": str(result.contact.public_id),
            }
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return code, LeadSerializer(result.lead).data

    def _capture_door(self, request) -> tuple:
        key = request.headers.get("X-Form-Key") or (request.data.get("form_key") if hasattr(request.data, "get") else None)
        user = request.user
        if user.is_authenticated:
            if not user.tenant_id:
                raise exceptions.PermissionDenied("Your account belongs to no workspace.")
            if not key:
                return user.tenant, None
            channel = Channel.objects.for_tenant(user.tenant).filter(form_key=key).first()
            if channel is None:
                raise exceptions.ValidationError({"form_key": ["No channel with this key in your workspace."]})
            return user.tenant, channel
        if not key:
            raise exceptions.NotAuthenticated("Send a bearer token, or the website form's key as X-Form-Key.")
        channel = Channel.objects.select_related("tenant").filter(form_key=key, is_active=True).first()
        if channel is None:
            raise exceptions.AuthenticationFailed("Unknown or inactive form key.")
        return channel.tenant, channel
