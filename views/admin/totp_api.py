"""The REST sign-in (`POST /api/v1/security/login`) with the second factor: FAB's
login hands out a JWT for the password alone, so a user who must give a TOTP code
on the site (security.totp) could skip it by asking the API for a token. Here the
JSON body carries the code as `totp` (six digits, or one of the recovery codes,
each admitting once); without it, or with a wrong one, the answer is 401 in
Russian, counted by the sign-in throttle and journaled like a failed sign-in."""

from __future__ import annotations

from flask import Response, request
from flask_appbuilder.api import safe
from flask_appbuilder.const import (
    API_SECURITY_ACCESS_TOKEN_KEY,
    API_SECURITY_PROVIDER_DB,
    API_SECURITY_PROVIDER_LDAP,
    API_SECURITY_REFRESH_TOKEN_KEY,
)
from flask_appbuilder.security import api as fab_api
from flask_appbuilder.security.schemas import LoginPost
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    get_jwt,
    get_jwt_identity,
    jwt_required,
)

# Marshmallow's, not the domain's ValidationError: a malformed body is a 400 of its own.
from marshmallow import ValidationError as BodyError
from marshmallow import fields
from marshmallow.validate import Length

from security import totp
from services.admin import totp as totp_service


class LoginWithCode(LoginPost):
    """FAB's login body and the second factor's code."""

    totp = fields.String(load_default=None, allow_none=True, validate=Length(max=32))


login_with_code = LoginWithCode()


# The class keeps FAB's name: the endpoint "SecurityApi.login" is what the sign-in
# journal (services.admin.security_log) and the throttle's blueprint know.
class SecurityApi(fab_api.SecurityApi):
    """FAB's security API whose login also asks for the second factor."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self) -> Response:
        """Sign in with a password (and a TOTP code when the user must give one); returns a JWT
        ---
        post:
          description: >-
            Authenticate and get a JWT access and refresh token. A user who must use
            the second factor (UCHET_TOTP_FOR_ADMINS, administration rights) also
            gives `totp`: the current code of his app or an unused recovery code.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    username:
                      type: string
                    password:
                      type: string
                    provider:
                      type: string
                      enum:
                      - db
                      - ldap
                    refresh:
                      type: boolean
                    totp:
                      description: The second factor's code (6 digits) or a recovery code
                      type: string
                      nullable: true
                      maxLength: 32
          responses:
            200:
              description: Authentication Successful
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      refresh_token:
                        type: string
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            500:
              $ref: '#/components/responses/500'
        """
        if not request.is_json:
            return self.response_400(message=_("Ожидается JSON"))
        try:
            payload = login_with_code.load(request.get_json(silent=True))
        except BodyError as error:
            return self.response_400(message=error.messages)
        sm = self.appbuilder.sm
        user = None
        if payload["provider"] == API_SECURITY_PROVIDER_DB:
            user = sm.auth_user_db(payload["username"], payload["password"])
        elif payload["provider"] == API_SECURITY_PROVIDER_LDAP:
            user = sm.auth_user_ldap(payload["username"], payload["password"])
        if not user:
            return self.response_401()
        claims = {}
        if totp_service.code_required(user):
            refusal = totp_service.api_sign_in_refusal(user, payload.get("totp"))
            if refusal is not None:
                return self.response(401, message=refusal)
            # Tokens without this claim are refused to such a user (security.manager).
            claims[totp.CLAIM] = True
        answer = {API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(
            identity=str(user.id), fresh=True, additional_claims=claims)}
        if payload.get("refresh"):
            answer[API_SECURITY_REFRESH_TOKEN_KEY] = create_refresh_token(
                identity=str(user.id), additional_claims=claims)
        return self.response(200, **answer)

    @expose("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    @safe
    def refresh(self) -> Response:
        """A new access token for a refresh token, carrying its second-factor mark
        ---
        post:
          description: >-
            Use the refresh token to get a new JWT access token
          responses:
            200:
              description: Refresh Successful
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        description: A new refreshed access token
                        type: string
            401:
              $ref: '#/components/responses/401'
            500:
              $ref: '#/components/responses/500'
          security:
            - jwt_refresh: []
        """
        claims = {totp.CLAIM: True} if get_jwt().get(totp.CLAIM) else {}
        return self.response(200, **{API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(
            identity=get_jwt_identity(), fresh=False, additional_claims=claims)})
