//! usher's OpenAPI 3.1 document (`GET /v1/openapi.json`): every Backend and Frontend API route,
//! with the response and request schemas derived from the wire types in `usher-types`
//! (`schemars`), so a changed type changes the document. The operation table below is the one
//! hand-kept part; `tests/api/openapi.rs` fails when it and the router disagree, and
//! `scripts/test` runs schemathesis against a real server with this document.

use std::sync::LazyLock;

use axum::{Json, http::header, response::IntoResponse};

use super::backend::webhooks as wh;
use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};
use usher_types::{
    ClerkErrors, DeletedObject, Jwks, JwtTemplate, Paginated, Session, SignInToken, Token, TotalCount, User,
    organization::{Organization, OrganizationInvitation, OrganizationMembership, Permission, Role},
    requests::{
        CreateSession, CreateSignInToken, CreateUser, InvitationParams, JwtTemplateParams, MembershipParams,
        OrganizationMetadataParams, OrganizationParams, PermissionParams, RevokeInvitationParams, RoleParams,
        TokenOptions, UpdateUser, UserMetadata, VerifyPassword,
    },
};

/// Who may call an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// The Backend API: `Authorization: Bearer <secret key>`.
    Backend,
    /// The Frontend API: a browser, identified by its `__client` cookie.
    Frontend,
    /// Anyone.
    Public,
}

/// One operation: method, path (axum's `{param}` syntax is OpenAPI's too), and its shapes.
struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    caller: Caller,
    query: &'static [(&'static str, &'static str)],
    body: Option<Value>,
    ok: Value,
}

/// Every route of the Backend and Frontend APIs and the public endpoints beside them, as
/// `(method, path)`: what the drift test compares with the router.
pub fn operations() -> Vec<(&'static str, &'static str)> {
    table(&mut SchemaGenerator::new(settings())).iter().map(|op| (op.method, op.path)).collect()
}

fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with(|s| s.definitions_path = "#/components/schemas/".into())
}

fn r<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    g.subschema_for::<T>().to_value()
}

fn list<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    // `paginated=true` answers `{data, total_count}`, otherwise a bare array.
    json!({"oneOf": [{"type": "array", "items": r::<T>(g)}, r::<Paginated<T>>(g)]})
}

fn envelope() -> Value {
    json!({"$ref": "#/components/schemas/FrontendEnvelope"})
}

/// `{user_id}`: what the Backend API's second-factor deletions answer.
fn user_id_only() -> Value {
    json!({"type": "object", "required": ["user_id"], "properties": {"user_id": {"type": "string"}}})
}

fn form(properties: Value) -> Value {
    json!({"type": "object", "properties": properties})
}

const MEMBERSHIP_FILTERS: &[(&str, &str)] =
    &[("user_id", "string"), ("role", "string"), ("limit", "integer"), ("offset", "integer")];
const OAUTH_CALLBACK: &[(&str, &str)] = &[
    ("state", "string"),
    ("code", "string"),
    ("error", "string"),
    ("error_description", "string"),
    ("user", "string"),
];

fn oauth_callback_form() -> Value {
    OAUTH_CALLBACK.iter().map(|(name, kind)| ((*name).to_owned(), json!({"type": kind}))).collect()
}

const PAGING: &[(&str, &str)] = &[("paginated", "boolean"), ("limit", "integer"), ("offset", "integer")];
const USER_FILTERS: &[(&str, &str)] = &[
    ("email_address", "array"),
    ("phone_number", "array"),
    ("external_id", "array"),
    ("username", "array"),
    ("user_id", "array"),
    ("query", "string"),
    ("banned", "boolean"),
    ("created_at_before", "integer"),
    ("created_at_after", "integer"),
    ("last_active_at_before", "integer"),
    ("last_active_at_after", "integer"),
    ("last_sign_in_at_before", "integer"),
    ("last_sign_in_at_after", "integer"),
    ("order_by", "string"),
    ("limit", "integer"),
    ("offset", "integer"),
];

fn table(g: &mut SchemaGenerator) -> Vec<Op> {
    use Caller::{Backend as B, Frontend as F, Public as P};
    let op = |method, path, id, caller, body: Option<Value>, ok: Value| Op {
        method,
        path,
        id,
        caller,
        query: &[],
        body,
        ok,
    };
    let with_query = |mut op: Op, query| {
        op.query = query;
        op
    };
    let user = r::<User>(g);
    let session = r::<Session>(g);
    let template = r::<JwtTemplate>(g);
    let deleted = r::<DeletedObject>(g);
    let token = r::<Token>(g);
    let sign_in_token = r::<SignInToken>(g);
    let jwks = r::<Jwks>(g);
    let organization = r::<Organization>(g);
    let membership = r::<OrganizationMembership>(g);
    let memberships = r::<Paginated<OrganizationMembership>>(g);
    let errors = r::<ClerkErrors>(g);
    let token_options = r::<TokenOptions>(g);
    let template_params = r::<JwtTemplateParams>(g);
    let metadata = r::<UserMetadata>(g);
    let wh_endpoint = r::<wh::WebhookEndpoint>(g);
    let wh_params = r::<wh::WebhookEndpointParams>(g);
    let wh_replay = r::<wh::WebhookReplay>(g);
    let factor = form(json!({
        "strategy": {"type": "string"}, "password": {"type": "string"}, "code": {"type": "string"},
        "redirect_url": {"type": "string"},
    }));
    let html = json!({"type": "string"});
    let sign_up = form(json!({
        "email_address": {"type": "string"}, "password": {"type": "string"},
        "first_name": {"type": "string"}, "last_name": {"type": "string"}, "transfer": {"type": "boolean"},
        "strategy": {"type": "string"}, "ticket": {"type": "string"},
    }));
    let frontend_token = json!({"$ref": "#/components/schemas/FrontendToken"});
    let text = json!({"type": "string"});
    vec![
        // Public.
        op("get", "/.well-known/jwks.json", "GetPublicJWKS", P, None, jwks.clone()),
        op("get", "/healthz", "Health", P, None, text.clone()),
        op("get", "/readyz", "Ready", P, None, text),
        op("get", "/v1/openapi.json", "GetOpenAPI", P, None, json!({"type": "object"})),
        // Operations: open in `usher dev`; in `serve` on its own listener or behind a bearer token.
        op("get", "/metrics", "GetMetrics", P, None, json!({"type": "string"})),
        // Backend API: users.
        with_query(
            op("get", "/v1/users", "GetUserList", B, None, json!({"type": "array", "items": user})),
            USER_FILTERS,
        ),
        op("post", "/v1/users", "CreateUser", B, Some(r::<CreateUser>(g)), user.clone()),
        with_query(op("get", "/v1/users/count", "GetUsersCount", B, None, r::<TotalCount>(g)), USER_FILTERS),
        op("get", "/v1/users/{user_id}", "GetUser", B, None, user.clone()),
        op("patch", "/v1/users/{user_id}", "UpdateUser", B, Some(r::<UpdateUser>(g)), user.clone()),
        op("delete", "/v1/users/{user_id}", "DeleteUser", B, None, deleted.clone()),
        op("patch", "/v1/users/{user_id}/metadata", "UpdateUserMetadata", B, Some(metadata.clone()), user.clone()),
        op("put", "/v1/users/{user_id}/metadata", "ReplaceUserMetadata", B, Some(metadata), user.clone()),
        op("post", "/v1/users/{user_id}/ban", "BanUser", B, None, user.clone()),
        op("post", "/v1/users/{user_id}/unban", "UnbanUser", B, None, user.clone()),
        op("post", "/v1/users/{user_id}/lock", "LockUser", B, None, user.clone()),
        op("post", "/v1/users/{user_id}/unlock", "UnlockUser", B, None, user.clone()),
        op(
            "post",
            "/v1/users/{user_id}/verify_password",
            "VerifyPassword",
            B,
            Some(r::<VerifyPassword>(g)),
            json!({"type": "object", "required": ["verified"], "properties": {"verified": {"type": "boolean"}}}),
        ),
        op(
            "post",
            "/v1/users/{user_id}/verify_totp",
            "VerifyTOTP",
            B,
            Some(json!({"type": "object", "required": ["code"], "additionalProperties": false,
                "properties": {"code": {"type": "string"}}})),
            json!({"type": "object", "required": ["verified", "code_type"], "properties": {
                "verified": {"type": "boolean"}, "code_type": {"type": "string", "enum": ["totp", "backup_code"]}}}),
        ),
        op("delete", "/v1/users/{user_id}/mfa", "DisableMFA", B, None, user_id_only()),
        op("delete", "/v1/users/{user_id}/totp", "DeleteTOTP", B, None, user_id_only()),
        op("delete", "/v1/users/{user_id}/backup_code", "DeleteBackupCode", B, None, user_id_only()),
        // Backend API: sessions.
        with_query(
            op("get", "/v1/sessions", "GetSessionList", B, None, list::<Session>(g)),
            &[
                ("user_id", "string"),
                ("client_id", "string"),
                ("status", "string"),
                ("paginated", "boolean"),
                ("limit", "integer"),
                ("offset", "integer"),
            ],
        ),
        op("post", "/v1/sessions", "CreateSession", B, Some(r::<CreateSession>(g)), session.clone()),
        op("get", "/v1/sessions/{session_id}", "GetSession", B, None, session.clone()),
        op("post", "/v1/sessions/{session_id}/revoke", "RevokeSession", B, None, session),
        op(
            "post",
            "/v1/sessions/{session_id}/tokens",
            "CreateSessionToken",
            B,
            Some(token_options.clone()),
            token.clone(),
        ),
        op(
            "post",
            "/v1/sessions/{session_id}/tokens/{template_name}",
            "CreateSessionTokenFromTemplate",
            B,
            Some(token_options),
            token,
        ),
        // Backend API: JWT templates, sign-in tokens, JWKS.
        with_query(op("get", "/v1/jwt_templates", "ListJWTTemplates", B, None, list::<JwtTemplate>(g)), PAGING),
        op("post", "/v1/jwt_templates", "CreateJWTTemplate", B, Some(template_params.clone()), template.clone()),
        op("get", "/v1/jwt_templates/{template_id}", "GetJWTTemplate", B, None, template.clone()),
        op("patch", "/v1/jwt_templates/{template_id}", "UpdateJWTTemplate", B, Some(template_params), template),
        op("delete", "/v1/jwt_templates/{template_id}", "DeleteJWTTemplate", B, None, deleted.clone()),
        op(
            "post",
            "/v1/sign_in_tokens",
            "CreateSignInToken",
            B,
            Some(r::<CreateSignInToken>(g)),
            sign_in_token.clone(),
        ),
        op("post", "/v1/sign_in_tokens/{sign_in_token_id}/revoke", "RevokeSignInToken", B, None, sign_in_token),
        op("get", "/v1/jwks", "GetJWKS", B, None, jwks),
        // Backend API: organizations and their memberships.
        with_query(
            op("get", "/v1/organizations", "ListOrganizations", B, None, r::<Paginated<Organization>>(g)),
            &[
                ("query", "string"),
                ("order_by", "string"),
                ("include_members_count", "boolean"),
                ("limit", "integer"),
                ("offset", "integer"),
            ],
        ),
        op(
            "post",
            "/v1/organizations",
            "CreateOrganization",
            B,
            Some(r::<OrganizationParams>(g)),
            organization.clone(),
        ),
        op("get", "/v1/organizations/{organization_id}", "GetOrganization", B, None, organization.clone()),
        op(
            "patch",
            "/v1/organizations/{organization_id}",
            "UpdateOrganization",
            B,
            Some(r::<OrganizationParams>(g)),
            organization.clone(),
        ),
        op("delete", "/v1/organizations/{organization_id}", "DeleteOrganization", B, None, deleted.clone()),
        op(
            "patch",
            "/v1/organizations/{organization_id}/metadata",
            "MergeOrganizationMetadata",
            B,
            Some(r::<OrganizationMetadataParams>(g)),
            organization.clone(),
        ),
        op(
            "put",
            "/v1/organizations/{organization_id}/metadata",
            "ReplaceOrganizationMetadata",
            B,
            Some(r::<OrganizationMetadataParams>(g)),
            organization,
        ),
        // Logos need file storage: always Clerk's `feature_not_supported` error.
        op("put", "/v1/organizations/{organization_id}/logo", "UploadOrganizationLogo", B, None, errors.clone()),
        op("delete", "/v1/organizations/{organization_id}/logo", "DeleteOrganizationLogo", B, None, errors),
        with_query(
            op(
                "get",
                "/v1/organizations/{organization_id}/memberships",
                "ListOrganizationMemberships",
                B,
                None,
                memberships.clone(),
            ),
            MEMBERSHIP_FILTERS,
        ),
        op(
            "post",
            "/v1/organizations/{organization_id}/memberships",
            "CreateOrganizationMembership",
            B,
            Some(r::<MembershipParams>(g)),
            membership.clone(),
        ),
        op(
            "patch",
            "/v1/organizations/{organization_id}/memberships/{user_id}",
            "UpdateOrganizationMembership",
            B,
            Some(r::<MembershipParams>(g)),
            membership.clone(),
        ),
        op(
            "delete",
            "/v1/organizations/{organization_id}/memberships/{user_id}",
            "DeleteOrganizationMembership",
            B,
            None,
            membership.clone(),
        ),
        op(
            "patch",
            "/v1/organizations/{organization_id}/memberships/{user_id}/metadata",
            "UpdateOrganizationMembershipMetadata",
            B,
            Some(r::<MembershipParams>(g)),
            membership,
        ),
        with_query(
            op(
                "get",
                "/v1/organization_memberships",
                "InstanceGetOrganizationMemberships",
                B,
                None,
                memberships.clone(),
            ),
            MEMBERSHIP_FILTERS,
        ),
        with_query(
            op(
                "get",
                "/v1/users/{user_id}/organization_memberships",
                "UsersGetOrganizationMemberships",
                B,
                None,
                memberships,
            ),
            MEMBERSHIP_FILTERS,
        ),
        op(
            "get",
            "/v1/users/{user_id}/oauth_access_tokens/{provider}",
            "GetOAuthAccessToken",
            B,
            None,
            json!({"type": "array", "items": {"type": "object", "required": ["object", "token", "provider"]}}),
        ),
        op(
            "delete",
            "/v1/users/{user_id}/external_accounts/{external_account_id}",
            "DeleteExternalAccount",
            B,
            None,
            deleted.clone(),
        ),
        // Backend API: outbound webhooks (usher's own routes).
        with_query(
            op("get", "/v1/webhooks/endpoints", "ListWebhookEndpoints", B, None, list::<wh::WebhookEndpoint>(g)),
            PAGING,
        ),
        op("post", "/v1/webhooks/endpoints", "CreateWebhookEndpoint", B, Some(wh_params.clone()), wh_endpoint.clone()),
        op("get", "/v1/webhooks/endpoints/{endpoint_id}", "GetWebhookEndpoint", B, None, wh_endpoint.clone()),
        op(
            "patch",
            "/v1/webhooks/endpoints/{endpoint_id}",
            "UpdateWebhookEndpoint",
            B,
            Some(wh_params),
            wh_endpoint.clone(),
        ),
        op("delete", "/v1/webhooks/endpoints/{endpoint_id}", "DeleteWebhookEndpoint", B, None, deleted.clone()),
        op("post", "/v1/webhooks/endpoints/{endpoint_id}/rotate_secret", "RotateWebhookSecret", B, None, wh_endpoint),
        with_query(
            op(
                "get",
                "/v1/webhooks/endpoints/{endpoint_id}/attempts",
                "ListWebhookAttempts",
                B,
                None,
                list::<wh::WebhookAttempt>(g),
            ),
            PAGING,
        ),
        op(
            "post",
            "/v1/webhooks/endpoints/{endpoint_id}/messages/{message_id}/replay",
            "ReplayWebhookMessageToEndpoint",
            B,
            None,
            wh_replay.clone(),
        ),
        op("get", "/v1/webhooks/messages/{message_id}", "GetWebhookMessage", B, None, r::<wh::WebhookMessage>(g)),
        op("post", "/v1/webhooks/messages/{message_id}/replay", "ReplayWebhookMessage", B, None, wh_replay),
        op("get", "/v1/webhooks/stats", "GetWebhookStats", B, None, r::<wh::WebhookStats>(g)),
        // Frontend API.
        op("get", "/v1/environment", "GetEnvironment", F, None, json!({"type": "object", "required": ["object"]})),
        op("get", "/v1/client", "GetClient", F, None, envelope()),
        op("post", "/v1/client", "PostClient", F, None, envelope()),
        op("put", "/v1/client", "PutClient", F, None, envelope()),
        op("delete", "/v1/client", "DeleteClient", F, None, envelope()),
        op(
            "post",
            "/v1/client/sign_ins",
            "CreateSignIn",
            F,
            Some(form(json!({
                "identifier": {"type": "string"}, "strategy": {"type": "string"},
                "password": {"type": "string"}, "ticket": {"type": "string"},
                "redirect_url": {"type": "string"}, "action_complete_redirect_url": {"type": "string"},
            }))),
            envelope(),
        ),
        op("get", "/v1/client/sign_ins/{sign_in_id}", "GetSignIn", F, None, envelope()),
        op(
            "post",
            "/v1/client/sign_ins/{sign_in_id}/prepare_first_factor",
            "PrepareSignInFactorOne",
            F,
            Some(factor.clone()),
            envelope(),
        ),
        op(
            "post",
            "/v1/client/sign_ins/{sign_in_id}/attempt_first_factor",
            "AttemptSignInFactorOne",
            F,
            Some(factor.clone()),
            envelope(),
        ),
        op(
            "post",
            "/v1/client/sign_ins/{sign_in_id}/reset_password",
            "ResetPassword",
            F,
            Some(form(json!({
                "password": {"type": "string"}, "sign_out_of_other_sessions": {"type": "boolean"},
            }))),
            envelope(),
        ),
        // The emailed link (served by the hosted pages: it answers HTML or a redirect).
        with_query(op("get", "/v1/verify", "VerifyEmailLink", F, None, html.clone()), &[("token", "string")]),
        op("post", "/v1/verify", "ConfirmEmailLink", F, Some(form(json!({"token": {"type": "string"}}))), html),
        op("post", "/v1/client/sign_ups", "CreateSignUp", F, Some(sign_up.clone()), envelope()),
        op("get", "/v1/client/sign_ups/{sign_up_id}", "GetSignUp", F, None, envelope()),
        op("patch", "/v1/client/sign_ups/{sign_up_id}", "UpdateSignUp", F, Some(sign_up), envelope()),
        op(
            "post",
            "/v1/client/sign_ups/{sign_up_id}/prepare_verification",
            "PrepareSignUpVerification",
            F,
            Some(factor.clone()),
            envelope(),
        ),
        op(
            "post",
            "/v1/client/sign_ups/{sign_up_id}/attempt_verification",
            "AttemptSignUpVerification",
            F,
            Some(factor.clone()),
            envelope(),
        ),
        op("delete", "/v1/client/sessions", "RemoveClientSessionsAndRetainCookie", F, None, envelope()),
        op(
            "post",
            "/v1/client/sessions/{session_id}/touch",
            "TouchSession",
            F,
            Some(form(json!({"active_organization_id": {"type": "string"}, "intent": {"type": "string"}}))),
            envelope(),
        ),
        op("post", "/v1/client/sessions/{session_id}/end", "EndSession", F, None, envelope()),
        op("post", "/v1/client/sessions/{session_id}/remove", "RemoveSession", F, None, envelope()),
        op(
            "post",
            "/v1/client/sessions/{session_id}/tokens",
            "CreateSessionToken",
            F,
            Some(form(json!({"organization_id": {"type": "string"}}))),
            frontend_token.clone(),
        ),
        op(
            "post",
            "/v1/client/sessions/{session_id}/tokens/{template_name}",
            "CreateSessionTokenWithTemplate",
            F,
            None,
            frontend_token,
        ),
        op("get", "/v1/me", "GetUser", F, None, envelope()),
        op(
            "patch",
            "/v1/me",
            "PatchUser",
            F,
            Some(form(json!({
                "username": {"type": "string"}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
                "primary_email_address_id": {"type": "string"},
            }))),
            envelope(),
        ),
        op(
            "post",
            "/v1/me/email_addresses",
            "CreateEmailAddresses",
            F,
            Some(form(json!({"email_address": {"type": "string"}}))),
            envelope(),
        ),
        op("delete", "/v1/me/email_addresses/{email_id}", "DeleteEmailAddress", F, None, envelope()),
        op(
            "post",
            "/v1/me/email_addresses/{email_id}/prepare_verification",
            "SendVerificationEmail",
            F,
            Some(factor.clone()),
            envelope(),
        ),
        op(
            "post",
            "/v1/me/email_addresses/{email_id}/attempt_verification",
            "VerifyEmailAddress",
            F,
            Some(factor),
            envelope(),
        ),
        op(
            "post",
            "/v1/me/change_password",
            "ChangePassword",
            F,
            Some(form(json!({
                "current_password": {"type": "string"}, "new_password": {"type": "string"},
                "sign_out_of_other_sessions": {"type": "boolean"},
            }))),
            envelope(),
        ),
        op("get", "/v1/me/sessions/active", "GetUsersSessions", F, None, envelope()),
        with_query(op("get", "/v1/oauth_callback", "GetOAuthCallback", F, None, json!({})), OAUTH_CALLBACK),
        op("post", "/v1/oauth_callback", "PostOAuthCallback", F, Some(form(oauth_callback_form())), json!({})),
        op(
            "post",
            "/v1/client/sign_ins/{sign_in_id}/attempt_second_factor",
            "AttemptSignInFactorTwo",
            F,
            Some(form(json!({"strategy": {"type": "string"}, "code": {"type": "string"}}))),
            envelope(),
        ),
        op("post", "/v1/me/totp", "PostTOTP", F, None, envelope()),
        op("delete", "/v1/me/totp", "DeleteTOTP", F, None, envelope()),
        op(
            "post",
            "/v1/me/totp/attempt_verification",
            "VerifyTOTP",
            F,
            Some(form(json!({"code": {"type": "string"}}))),
            envelope(),
        ),
        op("post", "/v1/me/backup_codes", "CreateBackupCodes", F, None, envelope()),
        op("post", "/v1/me/sessions/{session_id}/revoke", "RevokeSession", F, None, envelope()),
        // Clerk's own frontend (clerk-js, @clerk/backend's handshake).
        op("patch", "/v1/environment", "UpdateEnvironment", F, None, json!({"type": "object", "required": ["object"]})),
        op("get", "/v1/client/handshake", "Handshake", F, None, json!({"description": "307 back to redirect_url"})),
        op("get", "/v1/client/touch", "TouchClient", F, None, json!({"description": "307 back to redirect_url"})),
        op(
            "post",
            "/v1/dev_browser",
            "CreateDevBrowser",
            F,
            None,
            json!({"type": "object", "required": ["object", "id"], "properties": {"object": {"type": "string"}, "id": {"type": "string"}}}),
        ),
        op(
            "get",
            "/v1/clients/handshake_payload",
            "GetHandshakePayload",
            B,
            None,
            json!({"type": "object", "required": ["directives"], "properties": {"directives": {"type": "array", "items": {"type": "string"}}}}),
        ),
        // Passkeys.
        op(
            "delete",
            "/v1/users/{user_id}/passkeys/{passkey_identification_id}",
            "UserPasskeyDelete",
            B,
            None,
            json!({"type": "object", "required": ["object", "id", "deleted"]}),
        ),
        op("post", "/v1/me/passkeys", "PostPasskey", F, None, envelope()),
        op(
            "patch",
            "/v1/me/passkeys/{passkey_id}",
            "PatchPasskey",
            F,
            Some(form(json!({"name": {"type": "string"}}))),
            envelope(),
        ),
        op("delete", "/v1/me/passkeys/{passkey_id}", "DeletePasskey", F, None, envelope()),
        op(
            "post",
            "/v1/me/passkeys/{passkey_id}/attempt_verification",
            "AttemptPasskeyVerification",
            F,
            Some(form(json!({"strategy": {"type": "string"}, "public_key_credential": {"type": "string"}}))),
            envelope(),
        ),
        op(
            "patch",
            "/v1/me/passkeys/{passkey_id}/attempt_verification",
            "PatchPasskeyVerification",
            F,
            Some(form(json!({"strategy": {"type": "string"}, "public_key_credential": {"type": "string"}}))),
            envelope(),
        ),
        // Provider accounts of the signed-in user.
        op(
            "post",
            "/v1/me/external_accounts",
            "PostOAuthAccounts",
            F,
            Some(form(json!({"strategy": {"type": "string"}, "redirect_url": {"type": "string"}}))),
            envelope(),
        ),
        op("delete", "/v1/me/external_accounts/{external_account_id}", "DeleteExternalAccount", F, None, envelope()),
        op(
            "patch",
            "/v1/me/external_accounts/{external_account_id}/reauthorize",
            "ReauthorizeExternalAccount",
            F,
            Some(form(json!({"redirect_url": {"type": "string"}}))),
            envelope(),
        ),
    ]
    .into_iter()
    .chain(organization_ops(g))
    // Admin: actor tokens, instance admins, the audit log.
    .chain(admin_ops(g))
    .collect()
}

/// usher's administration routes (Backend API): actor tokens (Clerk's), instance admins and
/// the audit log (usher's own).
fn admin_ops(g: &mut SchemaGenerator) -> Vec<Op> {
    use super::backend::admin as ad;
    let op = |method, path, id, body: Option<Value>, ok: Value| Op {
        method,
        path,
        id,
        caller: Caller::Backend,
        query: &[],
        body,
        ok,
    };
    let actor_token = r::<ad::ActorToken>(g);
    let instance_admin = r::<ad::InstanceAdmin>(g);
    let export = json!({"type": "string", "description": "One audit_log_entry JSON object a line."});
    let export_filters = &ad::AUDIT_FILTERS[..ad::AUDIT_FILTERS.len() - 2];
    let mut list = op("get", "/v1/audit_log", "ListAuditLog", None, r::<Paginated<crate::wire::AuditLogEntry>>(g));
    list.query = ad::AUDIT_FILTERS;
    let mut export_op = op("get", "/v1/audit_log/export", "ExportAuditLog", None, export);
    export_op.query = export_filters;
    vec![
        op("post", "/v1/actor_tokens", "CreateActorToken", Some(r::<ad::CreateActorToken>(g)), actor_token.clone()),
        op("post", "/v1/actor_tokens/{actor_token_id}/revoke", "RevokeActorToken", None, actor_token),
        op("get", "/v1/instance_admins", "ListInstanceAdmins", None, json!({"type": "array", "items": instance_admin})),
        op("post", "/v1/instance_admins", "AddInstanceAdmin", Some(r::<ad::AddInstanceAdmin>(g)), instance_admin),
        op("delete", "/v1/instance_admins/{user_id}", "RemoveInstanceAdmin", None, r::<DeletedObject>(g)),
        list,
        export_op,
    ]
}

/// Organization invitations, roles and permissions (Backend API).
fn organization_ops(g: &mut SchemaGenerator) -> Vec<Op> {
    let op = |method, path, id, body: Option<Value>, ok: Value| Op {
        method,
        path,
        id,
        caller: Caller::Backend,
        query: &[],
        body,
        ok,
    };
    let with_query = |mut op: Op, query| {
        op.query = query;
        op
    };
    const INVITATION_FILTERS: &[(&str, &str)] =
        &[("status", "string"), ("email_address", "string"), ("limit", "integer"), ("offset", "integer")];
    const PAGE: &[(&str, &str)] = &[("limit", "integer"), ("offset", "integer")];
    let invitation = r::<OrganizationInvitation>(g);
    let invitations = r::<Paginated<OrganizationInvitation>>(g);
    let org_settings = r::<usher_types::OrganizationSettings>(g);
    let org_settings_params = r::<usher_types::requests::OrganizationSettingsParams>(g);
    let params = r::<InvitationParams>(g);
    let role = r::<Role>(g);
    let permission = r::<Permission>(g);
    let deleted = r::<DeletedObject>(g);
    let role_params = r::<RoleParams>(g);
    let permission_params = r::<PermissionParams>(g);
    let o = "/v1/organizations/{organization_id}/invitations";
    vec![
        with_query(op("get", o, "ListOrganizationInvitations", None, invitations.clone()), INVITATION_FILTERS),
        op("post", o, "CreateOrganizationInvitation", Some(params.clone()), invitation.clone()),
        op(
            "post",
            "/v1/organizations/{organization_id}/invitations/bulk",
            "CreateOrganizationInvitationBulk",
            Some(json!({"type": "array", "items": params})),
            json!({"type": "array", "items": invitation.clone()}),
        ),
        with_query(
            op(
                "get",
                "/v1/organizations/{organization_id}/invitations/pending",
                "ListPendingOrganizationInvitations",
                None,
                invitations.clone(),
            ),
            PAGE,
        ),
        op(
            "get",
            "/v1/organizations/{organization_id}/invitations/{invitation_id}",
            "GetOrganizationInvitation",
            None,
            invitation.clone(),
        ),
        op(
            "post",
            "/v1/organizations/{organization_id}/invitations/{invitation_id}/revoke",
            "RevokeOrganizationInvitation",
            Some(r::<RevokeInvitationParams>(g)),
            invitation,
        ),
        with_query(
            op("get", "/v1/organization_invitations", "ListInstanceOrganizationInvitations", None, invitations.clone()),
            INVITATION_FILTERS,
        ),
        with_query(
            op(
                "get",
                "/v1/users/{user_id}/organization_invitations",
                "UsersGetOrganizationInvitations",
                None,
                invitations,
            ),
            INVITATION_FILTERS,
        ),
        with_query(op("get", "/v1/organization_roles", "ListOrganizationRoles", None, r::<Paginated<Role>>(g)), PAGE),
        op("post", "/v1/organization_roles", "CreateOrganizationRole", Some(role_params.clone()), role.clone()),
        op("get", "/v1/organization_roles/{organization_role_id}", "GetOrganizationRole", None, role.clone()),
        op(
            "patch",
            "/v1/organization_roles/{organization_role_id}",
            "UpdateOrganizationRole",
            Some(role_params),
            role.clone(),
        ),
        op("delete", "/v1/organization_roles/{organization_role_id}", "DeleteOrganizationRole", None, deleted.clone()),
        op(
            "post",
            "/v1/organization_roles/{organization_role_id}/permissions/{permission_id}",
            "AssignPermissionToOrganizationRole",
            None,
            role.clone(),
        ),
        op(
            "delete",
            "/v1/organization_roles/{organization_role_id}/permissions/{permission_id}",
            "RemovePermissionFromOrganizationRole",
            None,
            role,
        ),
        with_query(
            op(
                "get",
                "/v1/organization_permissions",
                "ListOrganizationPermissions",
                None,
                r::<Paginated<Permission>>(g),
            ),
            PAGE,
        ),
        op(
            "post",
            "/v1/organization_permissions",
            "CreateOrganizationPermission",
            Some(permission_params.clone()),
            permission.clone(),
        ),
        op(
            "get",
            "/v1/organization_permissions/{permission_id}",
            "GetOrganizationPermission",
            None,
            permission.clone(),
        ),
        op(
            "patch",
            "/v1/organization_permissions/{permission_id}",
            "UpdateOrganizationPermission",
            Some(permission_params),
            permission,
        ),
        op("delete", "/v1/organization_permissions/{permission_id}", "DeleteOrganizationPermission", None, deleted),
        op("get", "/v1/instance/organization_settings", "GetInstanceOrganizationSettings", None, org_settings.clone()),
        op(
            "patch",
            "/v1/instance/organization_settings",
            "UpdateInstanceOrganizationSettings",
            Some(org_settings_params),
            org_settings,
        ),
    ]
    .into_iter()
    .chain(frontend_organization_ops())
    .collect()
}

/// The Frontend API's organization routes (answers in the `{response, client}` envelope). Its
/// `/v1/organizations…` routes share method and path with the Backend API's (a request without
/// the secret key reaches them), so the document lists those once, as the Backend API's.
fn frontend_organization_ops() -> Vec<Op> {
    let op = |method, path, id, body: Option<Value>, query: &'static [(&'static str, &'static str)]| Op {
        method,
        path,
        id,
        caller: Caller::Frontend,
        query,
        body,
        ok: envelope(),
    };
    const PAGE: &[(&str, &str)] = &[("limit", "integer"), ("offset", "integer"), ("paginated", "boolean")];
    const NONE: &[(&str, &str)] = &[];
    vec![
        op("get", "/v1/me/organization_memberships", "GetOrganizationMemberships", None, PAGE),
        op("delete", "/v1/me/organization_memberships/{organization_id}", "DeleteOrganizationMembership", None, NONE),
        op("get", "/v1/me/organization_invitations", "GetUserOrganizationInvitations", None, PAGE),
        op(
            "post",
            "/v1/me/organization_invitations/{invitation_id}/accept",
            "AcceptUserOrganizationInvitation",
            None,
            NONE,
        ),
        op("get", "/v1/me/organization_suggestions", "GetOrganizationSuggestions", None, PAGE),
        op("get", "/v1/organizations/{organization_id}/roles", "ListOrganizationRoles", None, PAGE),
    ]
}

/// The one documented path that answers HTML (a page of [`crate::pages`]).
const HTML_PATH: &str = "/v1/verify";

/// Path parameters of `path`, in order.
fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
}

fn build() -> Value {
    let mut g = SchemaGenerator::new(settings());
    let ops = table(&mut g);
    let error = r::<ClerkErrors>(&mut g);
    let mut paths = Map::new();
    for op in ops {
        let mut parameters: Vec<Value> = path_params(op.path)
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        for (name, kind) in op.query {
            let schema = match *kind {
                "array" => json!({"type": "array", "items": {"type": "string"}}),
                other => json!({"type": other}),
            };
            parameters.push(json!({"name": name, "in": "query", "required": false, "schema": schema}));
        }
        let ok_type = match op.path {
            "/healthz" | "/readyz" => "text/plain",
            "/metrics" => "application/openmetrics-text",
            HTML_PATH => "text/html",
            "/v1/audit_log/export" => "application/x-ndjson",
            _ => "application/json",
        };
        // The link page shows its errors as HTML too, and answers a redirect once verified.
        let (error_type, error_schema) = if op.path == HTML_PATH {
            ("text/html", json!({"type": "string"}))
        } else {
            ("application/json", error.clone())
        };
        let mut operation = json!({
            "operationId": format!("{}{}", if op.caller == Caller::Frontend { "Frontend" } else { "" }, op.id),
            "tags": [match op.caller { Caller::Backend => "Backend API", Caller::Frontend => "Frontend API", Caller::Public => "Public" }],
            "parameters": parameters,
            "responses": {
                "200": {"description": "Success", "content": {ok_type: {"schema": op.ok}}},
                "default": {"description": "A Clerk error", "content": {error_type: {"schema": error_schema}}},
            },
        });
        if op.path == "/v1/oauth_callback" {
            // A browser navigation: a redirect onwards, or an error page.
            operation["responses"] = json!({
                "303": {"description": "On to the app (or, for a form post, to the GET)"},
                "400": {"description": "The sign-in failed: an error page", "content": {"text/html": {"schema": {"type": "string"}}}},
                "default": {"description": "A Clerk error", "content": {"application/json": {"schema": error}}},
            });
        }
        if let Some(body) = op.body {
            // clerk-js sends form bodies (JSON is taken too); the Backend API takes JSON.
            let media =
                if op.caller == Caller::Frontend { "application/x-www-form-urlencoded" } else { "application/json" };
            let content = json!({media: {"schema": body}});
            operation["requestBody"] = json!({"required": false, "content": content});
        }
        operation["security"] = match op.caller {
            Caller::Backend => json!([{"bearerAuth": []}]),
            _ => json!([]),
        };
        let entry = paths.entry(op.path).or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    let mut schemas: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    schemas.insert(
        "FrontendEnvelope".into(),
        json!({
            "description": "Clerk's Frontend API envelope: the answer, and the browser's client as it stands after the call.",
            "type": "object",
            "required": ["response", "client"],
            "properties": {"response": {}, "client": {"type": ["object", "null"]}},
        }),
    );
    schemas.insert(
        "FrontendToken".into(),
        json!({
            "type": "object",
            "required": ["object", "jwt"],
            "properties": {"object": {"const": "token"}, "jwt": {"type": "string"}},
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "usher",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "usher's Clerk-compatible Backend API (secret key as Bearer token) and Frontend API (browsers, `__client` cookie). Shapes and operation names follow Clerk's own API.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "The instance's secret key (`sk_…`)."}},
        },
    })
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

/// The document, built once.
pub fn document() -> &'static Value {
    &DOCUMENT
}

/// `GET /v1/openapi.json`.
pub async fn serve() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(document()))
}
