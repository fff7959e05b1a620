// The resources: the server's snake_case JSON as camelCase objects with methods, like clerk-js's.
// No DOM access: importable in Node.
import { UsherError } from './fapi.js';
import { camel, enc, snake, toDate } from './util.js';
import { createCredential, getCredential } from './webauthn.js';

function toVerification(v) {
  return v ? Object.assign(camel(v), { expireAt: toDate(v.expire_at) }) : null;
}

/** Strategies whose prepare takes the factor's `emailAddressId`. */
const EMAILED = ['email_code', 'email_link', 'reset_password_email_code'];
/** How often an email-link flow reads its attempt (the server finishes it on that read). */
export const EMAIL_LINK_POLL_MS = 2000;

/**
 * Clerk's `createEmailLinkFlow()`: `startEmailLinkFlow({ redirectUrl })` mails the link, then reads
 * the attempt every EMAIL_LINK_POLL_MS until its verification is `verified` or `expired` and
 * resolves with it; `cancelEmailLinkFlow()` stops reading.
 */
function emailLinkFlow(prepare, reload, verificationOf) {
  let timer = null;
  let cancelled = false;
  return {
    async startEmailLinkFlow(params = {}) {
      cancelled = false;
      await prepare(params);
      return new Promise((resolve, reject) => {
        const poll = () => {
          if (cancelled) return;
          reload().then(x => {
            const v = verificationOf(x);
            if (v && (v.status === 'verified' || v.status === 'expired')) resolve(x);
            else if (!cancelled) timer = setTimeout(poll, EMAIL_LINK_POLL_MS);
          }, reject);
        };
        timer = setTimeout(poll, EMAIL_LINK_POLL_MS);
      });
    },
    cancelEmailLinkFlow() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}

function needId(id, what) {
  if (!id) {
    throw new UsherError(`No ${what} in progress: call create() first`, {
      errors: [{ code: 'resource_missing', message: `No ${what}` }],
    });
  }
  return enc(id);
}

/**
 * The resource constructors, bound to the calls they make: `fapi` (see fapi.js), `meCall` (a /v1/me
 * call that brings the stores up to date), `getSessionToken(sessionId, options)`,
 * `reloadClient(remote)`, and `state` (read for the current client and session).
 */
export function createResources({
  fapi, meCall, getSessionToken, reloadClient, state, navigate = url => globalThis.location.assign(url),
}) {
  /**
   * Clerk's `authenticateWithRedirect({ strategy, redirectUrl, redirectUrlComplete })`: creates the
   * attempt with the provider's strategy and sends the browser to the provider. `redirectUrl` is
   * where usher's callback sends it when more is needed (a transfer to a sign-up, a second factor:
   * see `handleRedirectCallback`), `redirectUrlComplete` where it goes once signed in.
   */
  async function toProvider(path, wrap, verificationOf, { strategy, redirectUrl, redirectUrlComplete } = {}) {
    if (!strategy || !String(strategy).startsWith('oauth_')) {
      throw new UsherError('authenticateWithRedirect needs an oauth_* strategy', {
        errors: [{ code: 'form_param_missing', message: 'strategy', meta: { paramName: 'strategy' } }],
      });
    }
    const here = globalThis.location ? globalThis.location.href : undefined;
    const abs = u => (u && here ? new URL(u, here).href : u);
    const attempt = wrap(await fapi('POST', path, {
      strategy, redirect_url: abs(redirectUrl || here), action_complete_redirect_url: abs(redirectUrlComplete || redirectUrl || here),
    }));
    const v = verificationOf(attempt);
    const url = v && v.externalVerificationRedirectUrl;
    if (!url) throw new UsherError('The provider gave no sign-in page', { errors: [{ code: 'oauth_callback_invalid' }] });
    navigate(url);
    return attempt;
  }

  function toEmail(r) {
    const id = r.id;
    const base = `/me/email_addresses/${enc(id)}`;
    return {
      object: 'email_address', id, emailAddress: r.email_address, verification: toVerification(r.verification),
      linkedTo: r.linked_to || [],
      toString() { return r.email_address; },
      prepareVerification: ({ strategy = 'email_code' } = {}) =>
        meCall('POST', base + '/prepare_verification', { strategy }).then(toEmail),
      attemptVerification: ({ code }) => meCall('POST', base + '/attempt_verification', { code }).then(toEmail),
      destroy: () => meCall('DELETE', base),
    };
  }

  function toPasskey(r) {
    const base = `/me/passkeys/${enc(r.id)}`;
    return {
      object: 'passkey', id: r.id, name: r.name || null, credentialId: r.credential_id || null,
      verification: toVerification(r.verification), lastUsedAt: toDate(r.last_used_at),
      createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
      update: ({ name }) => meCall('PATCH', base, { name }).then(toPasskey),
      delete: () => meCall('DELETE', base),
    };
  }

  /** Clerk's `user.createPasskey()`: the server's options, the browser's credential, verified. */
  async function createPasskey() {
    const pending = await meCall('POST', '/me/passkeys');
    const credential = await createCredential(JSON.parse(pending.verification.nonce));
    const done = await meCall('POST', `/me/passkeys/${enc(pending.id)}/attempt_verification`,
      { strategy: 'passkey', public_key_credential: credential });
    return toPasskey(done);
  }

  /** Clerk's ExternalAccount: `destroy()`, `reauthorize({ redirectUrl })`. */
  function toExternalAccount(r) {
    const base = `/me/external_accounts/${enc(r.id)}`;
    const provider = String(r.provider || '').replace(/^oauth_/, '');
    return {
      object: 'external_account', id: r.id, provider, identificationId: r.identification_id,
      providerUserId: r.provider_user_id, approvedScopes: r.approved_scopes || '',
      emailAddress: r.email_address || '', firstName: r.first_name || '', lastName: r.last_name || '',
      imageUrl: r.image_url || r.avatar_url || '', username: r.username || null,
      publicMetadata: r.public_metadata || {}, label: r.label || null,
      verification: toVerification(r.verification),
      providerTitle: () => provider,
      accountIdentifier: () => r.username || r.email_address || '',
      destroy: () => meCall('DELETE', base),
      reauthorize: ({ redirectUrl } = {}) =>
        meCall('PATCH', base + '/reauthorize', { redirect_url: redirectUrl }).then(toExternalAccount),
    };
  }

  function toUser(r) {
    if (!r) return null;
    const emails = (r.email_addresses || []).map(toEmail);
    const fullName = [r.first_name, r.last_name].filter(Boolean).join(' ') || null;
    return {
      object: 'user', id: r.id, firstName: r.first_name || null, lastName: r.last_name || null, fullName,
      username: r.username || null, imageUrl: r.image_url || '', hasImage: !!r.has_image,
      primaryEmailAddressId: r.primary_email_address_id || null,
      primaryEmailAddress: emails.find(e => e.id === r.primary_email_address_id) || null,
      emailAddresses: emails, phoneNumbers: [],
      publicMetadata: r.public_metadata || {}, unsafeMetadata: r.unsafe_metadata || {},
      passwordEnabled: !!r.password_enabled, twoFactorEnabled: !!r.two_factor_enabled,
      totpEnabled: !!r.totp_enabled, backupCodeEnabled: !!r.backup_code_enabled,
      lastSignInAt: toDate(r.last_sign_in_at), createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
      organizationMemberships: (r.organization_memberships || []).map(toMembership),
      externalAccounts: (r.external_accounts || []).map(toExternalAccount),
      verifiedExternalAccounts: (r.external_accounts || [])
        .filter(a => a.verification && a.verification.status === 'verified').map(toExternalAccount),
      /** Connects a provider account: the answer's verification carries the provider's URL. */
      createExternalAccount: ({ strategy, redirectUrl } = {}) =>
        meCall('POST', '/me/external_accounts', { strategy, redirect_url: redirectUrl }).then(toExternalAccount),
      update: params => meCall('PATCH', '/me', snake(params)).then(toUser),
      updatePassword: params => meCall('POST', '/me/change_password', snake(params)).then(toUser),
      // Second factors (Clerk's TOTPResource and BackupCodeResource shapes, camelCased).
      createTOTP: () => meCall('POST', '/me/totp').then(camel),
      verifyTOTP: ({ code }) => meCall('POST', '/me/totp/attempt_verification', { code }).then(camel),
      disableTOTP: () => meCall('DELETE', '/me/totp').then(camel),
      createBackupCode: () => meCall('POST', '/me/backup_codes').then(camel),
      // Passkeys (Clerk's PasskeyResource, camelCased).
      passkeys: (r.passkeys || []).map(toPasskey),
      createPasskey,
      createEmailAddress: ({ email }) => meCall('POST', '/me/email_addresses', { email_address: email }).then(toEmail),
      getSessions: () =>
        fapi('GET', '/me/sessions/active').then(list => (Array.isArray(list) ? list : []).map(toSession)),
      getOrganizationInvitations: (p = {}) =>
        fapi('GET', '/me/organization_invitations' + query(p)).then(page(toUserInvitation)),
      getOrganizationMemberships: (p = {}) =>
        fapi('GET', '/me/organization_memberships' + query(p, { paginated: true })).then(page(toMembership)),
      reload: () => reloadClient(false).then(() => (state.session ? state.session.user : null)),
    };
  }

  /** `?limit=&offset=` (Clerk's pageSize / initialPage) and any filters. */
  function query(p = {}, extra = {}) {
    const q = new URLSearchParams();
    const size = p.pageSize || p.limit;
    if (size) q.set('limit', String(size));
    if (p.initialPage && size) q.set('offset', String((p.initialPage - 1) * size));
    else if (p.offset) q.set('offset', String(p.offset));
    for (const [k, v] of Object.entries(extra)) if (v != null) q.set(k, String(v));
    const text = q.toString();
    return text ? '?' + text : '';
  }
  /** Clerk's paginated answer: `{data, totalCount}`. */
  const page = of => r => ({ data: ((r && r.data) || []).map(of), totalCount: (r && r.total_count) || 0 });

  function toOrganization(r) {
    if (!r) return null;
    const base = `/organizations/${enc(r.id)}`;
    return {
      object: 'organization', id: r.id, name: r.name, slug: r.slug, imageUrl: r.image_url || '',
      hasImage: !!r.has_image, membersCount: r.members_count == null ? null : r.members_count,
      maxAllowedMemberships: r.max_allowed_memberships || 0, adminDeleteEnabled: !!r.admin_delete_enabled,
      publicMetadata: r.public_metadata || {}, createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
      // Clerk's OrganizationResource calls; each is checked by the server against the caller's role.
      getMemberships: (p = {}) =>
        fapi('GET', base + '/memberships' + query(p, { role: p.role })).then(page(toMembership)),
      getInvitations: (p = {}) =>
        fapi('GET', base + '/invitations' + query(p, { status: p.status && [].concat(p.status)[0] }))
          .then(page(toInvitation)),
      getRoles: (p = {}) => fapi('GET', base + '/roles' + query(p)).then(page(camel)),
      inviteMember: ({ emailAddress, role }) =>
        fapi('POST', base + '/invitations', { email_address: emailAddress, role }).then(toInvitation),
      inviteMembers: ({ emailAddresses, role }) =>
        fapi('POST', base + '/invitations/bulk', { email_address: emailAddresses, role })
          .then(list => (list || []).map(toInvitation)),
      addMember: ({ userId, role }) => meCall('POST', base + '/memberships', { user_id: userId, role }).then(toMembership),
      updateMember: ({ userId, role }) =>
        meCall('PATCH', `${base}/memberships/${enc(userId)}`, { role }).then(toMembership),
      removeMember: userId => meCall('DELETE', `${base}/memberships/${enc(userId)}`).then(toMembership),
      update: ({ name, slug }) => meCall('PATCH', base, { name, slug }).then(toOrganization),
      destroy: () => meCall('DELETE', base),
    };
  }

  function toInvitation(r) {
    const path = `/organizations/${enc(r.organization_id)}/invitations/${enc(r.id)}/revoke`;
    return {
      object: 'organization_invitation', id: r.id, emailAddress: r.email_address, role: r.role,
      roleName: r.role_name || r.role, organizationId: r.organization_id, status: r.status,
      publicMetadata: r.public_metadata || {}, createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
      revoke: () => fapi('POST', path).then(toInvitation),
    };
  }

  /** One of the signed-in user's own invitations (`/v1/me/organization_invitations`). */
  function toUserInvitation(r) {
    const org = r.public_organization_data || {};
    return {
      object: 'user_organization_invitation', id: r.id, emailAddress: r.email_address, role: r.role,
      roleName: r.role_name || r.role, status: r.status,
      publicOrganizationData: { id: org.id, name: org.name, slug: org.slug, imageUrl: org.image_url || '' },
      accept: () => meCall('POST', `/me/organization_invitations/${enc(r.id)}/accept`).then(toUserInvitation),
    };
  }

  // A membership as clerk-js's User carries it: the role's permissions include the system ones.
  function toMembership(r) {
    const org = toOrganization(r.organization);
    return {
      object: 'organization_membership', id: r.id, role: r.role, roleName: r.role_name || r.role,
      permissions: r.permissions || [], publicMetadata: r.public_metadata || {},
      publicUserData: r.public_user_data ? camel(r.public_user_data) : null,
      organization: org, createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
      destroy: () => meCall('DELETE', `/me/organization_memberships/${enc(org ? org.id : '')}`),
    };
  }

  function toSession(r) {
    const id = r.id;
    const tok = r.last_active_token && r.last_active_token.jwt;
    return {
      object: 'session', id, status: r.status, user: toUser(r.user),
      publicUserData: camel(r.public_user_data || {}),
      lastActiveToken: tok ? { jwt: tok, getRawString: () => tok } : null,
      lastActiveOrganizationId: r.last_active_organization_id || null,
      actor: r.actor || null, factorVerificationAge: r.factor_verification_age || null,
      latestActivity: r.latest_activity ? camel(r.latest_activity) : null,
      lastActiveAt: toDate(r.last_active_at), expireAt: toDate(r.expire_at), abandonAt: toDate(r.abandon_at),
      createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
      getToken: (o = {}) => getSessionToken(id, o),
      touch: () => fapi('POST', `/client/sessions/${enc(id)}/touch`).then(toSession),
      end: () => fapi('POST', `/client/sessions/${enc(id)}/end`).then(toSession),
      remove: () => fapi('POST', `/client/sessions/${enc(id)}/remove`).then(toSession),
      revoke: () => meCall('POST', `/me/sessions/${enc(id)}/revoke`).then(toSession),
    };
  }

  function toSignIn(raw) {
    const r = raw || {};
    const path = () => `/client/sign_ins/${needId(si.id, 'sign-in')}`;
    const si = {
      object: 'sign_in', id: r.id || null, status: r.status || null, identifier: r.identifier || null,
      supportedIdentifiers: r.supported_identifiers || [],
      supportedFirstFactors: camel(r.supported_first_factors || []),
      firstFactorVerification: toVerification(r.first_factor_verification),
      supportedSecondFactors: camel(r.supported_second_factors || []),
      secondFactorVerification: toVerification(r.second_factor_verification), createdSessionId: r.created_session_id || null, abandonAt: toDate(r.abandon_at),
      create: params => fapi('POST', '/client/sign_ins', snake(params)).then(toSignIn),
      authenticateWithRedirect: params =>
        toProvider('/client/sign_ins', toSignIn, x => x.firstFactorVerification, params),
      prepareFirstFactor(params) {
        const p = Object.assign({}, params);
        if (EMAILED.includes(p.strategy) && !p.emailAddressId) {
          const f = si.supportedFirstFactors.find(x => x.strategy === p.strategy);
          if (f) p.emailAddressId = f.emailAddressId;
        }
        return fapi('POST', path() + '/prepare_first_factor', snake(p)).then(toSignIn);
      },
      attemptFirstFactor: params => fapi('POST', path() + '/attempt_first_factor', snake(params)).then(toSignIn),
      attemptSecondFactor: params => fapi('POST', path() + '/attempt_second_factor', snake(params)).then(toSignIn),
      /** After a verified `reset_password_email_code`: `{ password, signOutOfOtherSessions }`. */
      resetPassword: params => fapi('POST', path() + '/reset_password', snake(params)).then(toSignIn),
      reload: () => fapi('GET', path()).then(toSignIn),
      /**
       * Clerk's `authenticateWithPasskey({ flow })`: with `flow: 'discoverable'` (or no sign-in
       * yet) a new sign-in whose passkey names its account; otherwise this sign-in's identifier.
       */
      async authenticateWithPasskey({ flow } = {}) {
        const started = flow === 'discoverable' || flow === 'autofill' || !si.id
          ? await si.create({ strategy: 'passkey' })
          : await si.prepareFirstFactor({ strategy: 'passkey' });
        const nonce = started.firstFactorVerification && started.firstFactorVerification.nonce;
        const credential = await getCredential(JSON.parse(nonce));
        return started.attemptFirstFactor({ strategy: 'passkey', publicKeyCredential: credential });
      },
      createEmailLinkFlow: () => emailLinkFlow(
        p => si.prepareFirstFactor(Object.assign({ strategy: 'email_link' }, p)),
        () => si.reload(), x => x.firstFactorVerification),
    };
    return si;
  }

  function toSignUp(raw) {
    const r = raw || {};
    const path = () => `/client/sign_ups/${needId(r.id, 'sign-up')}`;
    const v = r.verifications || {};
    return {
      object: 'sign_up', id: r.id || null, status: r.status || null, emailAddress: r.email_address || null,
      firstName: r.first_name || null, lastName: r.last_name || null, unsafeMetadata: r.unsafe_metadata || {},
      requiredFields: r.required_fields || [], optionalFields: r.optional_fields || [],
      missingFields: r.missing_fields || [], unverifiedFields: r.unverified_fields || [],
      verifications: {
        emailAddress: toVerification(v.email_address), externalAccount: toVerification(v.external_account),
      },
      passwordEnabled: !!r.password_enabled, createdUserId: r.created_user_id || null,
      createdSessionId: r.created_session_id || null, abandonAt: toDate(r.abandon_at),
      create: params => fapi('POST', '/client/sign_ups', snake(params)).then(toSignUp),
      authenticateWithRedirect: params =>
        toProvider('/client/sign_ups', toSignUp, x => x.verifications.externalAccount, params),
      update: params => fapi('PATCH', path(), snake(params)).then(toSignUp),
      reload: () => fapi('GET', path()).then(toSignUp),
      prepareVerification: params => fapi('POST', path() + '/prepare_verification', snake(params)).then(toSignUp),
      attemptVerification: params => fapi('POST', path() + '/attempt_verification', snake(params)).then(toSignUp),
      prepareEmailAddressVerification: (p = {}) =>
        fapi('POST', path() + '/prepare_verification', { strategy: p.strategy || 'email_code' }).then(toSignUp),
      attemptEmailAddressVerification: ({ code }) =>
        fapi('POST', path() + '/attempt_verification', { strategy: 'email_code', code }).then(toSignUp),
      createEmailLinkFlow: () => emailLinkFlow(
        p => fapi('POST', path() + '/prepare_verification',
          snake(Object.assign({ strategy: 'email_link' }, p))).then(toSignUp),
        () => fapi('GET', path()).then(toSignUp), x => x.verifications.emailAddress),
    };
  }

  function toClient(raw) {
    const sessions = (raw.sessions || []).map(toSession);
    return {
      object: 'client', id: raw.id, sessions,
      activeSessions: sessions.filter(s => s.status === 'active'),
      signedInSessions: sessions.filter(s => s.status === 'active'),
      lastActiveSessionId: raw.last_active_session_id || null,
      signIn: toSignIn(raw.sign_in), signUp: toSignUp(raw.sign_up),
      cookieExpiresAt: toDate(raw.cookie_expires_at), createdAt: toDate(raw.created_at),
      updatedAt: toDate(raw.updated_at),
      reload: () => reloadClient(false).then(() => state.client),
      destroy: () => fapi('DELETE', '/client'),
      removeSessions: () => fapi('DELETE', '/client/sessions'),
    };
  }

  /** Clerk's `clerk.createOrganization({ name, slug })`: the new organization, the caller its admin. */
  const createOrganization = ({ name, slug } = {}) => meCall('POST', '/organizations', { name, slug }).then(toOrganization);
  /** Clerk's `clerk.getOrganization(id)`: an organization the caller is a member of. */
  const getOrganization = id => fapi('GET', `/organizations/${enc(id)}`).then(toOrganization);

  return {
    toEmail, toUser, toPasskey, toSession, toSignIn, toSignUp, toClient, toExternalAccount, toOrganization,
    createOrganization, getOrganization,
  };
}
