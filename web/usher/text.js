// Every user-visible string with its English default, and the lookup that applies a page's
// localization over them. No DOM access: importable in Node.

/** The English defaults, keyed flat. Error messages: `unstable__errors.<code>` (Clerk's key). */
export const TEXT = {
  'signIn.start.title': 'Sign in', 'signIn.start.subtitle': 'Welcome back! Please sign in to continue',
  'signIn.start.actionText': 'Don’t have an account?', 'signIn.start.actionLink': 'Sign up',
  'signIn.emailCode.start': 'Use an email code instead', 'signIn.emailCode.send': 'Send code',
  'signIn.emailCode.title': 'Check your email',
  'signIn.emailCode.subtitle': 'Enter the code sent to {{identifier}}', 'signIn.emailCode.resend': 'Resend code',
  'signIn.password.start': 'Use your password instead', 'signIn.alreadySignedIn': 'You are already signed in.',
  'signIn.continue': 'Continue',
  'signIn.totpMfa.title': 'Two-step verification',
  'signIn.totpMfa.subtitle': 'Enter the code your authenticator app shows',
  'signIn.backupCodeMfa.subtitle': 'Enter one of your backup codes',
  'signIn.totpMfa.useBackupCode': 'Use a backup code', 'signIn.backupCodeMfa.useTotp': 'Use your authenticator app',
  'formFieldLabel__totpCode': 'Authenticator code', 'formFieldLabel__backupCode': 'Backup code',
  'formFieldAction__forgotPassword': 'Forgot password?',
  'signIn.forgotPassword.send': 'Send reset code', 'signIn.resetPassword.title': 'Set a new password',
  'signIn.resetPassword.subtitle': 'Enter the code sent to {{identifier}} and a new password',
  'signIn.resetPassword.submit': 'Reset password',
  'signIn.emailLink.start': 'Email me a sign-in link', 'signIn.emailLink.send': 'Send link',
  'signIn.emailLink.title': 'Check your email',
  'signIn.emailLink.subtitle': 'Open the link sent to {{identifier}} to continue',
  'signIn.emailLink.resend': 'Resend link',
  'signIn.passkey.start': 'Sign in with a passkey',
  'signUp.start.title': 'Create your account',
  'signUp.start.subtitle': 'Welcome! Please fill in the details to get started',
  'signUp.start.actionText': 'Already have an account?', 'signUp.start.actionLink': 'Sign in',
  'signUp.emailCode.title': 'Verify your email',
  'signUp.emailCode.subtitle': 'Enter the code sent to {{emailAddress}}', 'signUp.emailCode.resend': 'Resend code',
  'signUp.emailLink.start': 'Email me a link instead',
  'signUp.emailLink.subtitle': 'Open the link sent to {{emailAddress}} to finish signing up',
  'redirecting': 'Signed in. Redirecting…', 'loading': 'Loading…', 'signInButton': 'Sign in',
  'signUpButton': 'Sign up', 'signOutButton': 'Sign out',
  'formButtonPrimary': 'Continue', 'formFieldLabel__emailAddress': 'Email address',
  'formFieldLabel__password': 'Password', 'formFieldLabel__firstName': 'First name',
  'formFieldLabel__lastName': 'Last name', 'formFieldLabel__code': 'Verification code',
  'formFieldLabel__currentPassword': 'Current password', 'formFieldLabel__newPassword': 'New password',
  'formFieldLabel__signOutOfOtherSessions': 'Sign out of all other devices',
  'formFieldHintText__optional': 'Optional',
  'userButton.label': 'Open user menu', 'userButton.action__manageAccount': 'Manage account',
  'userButton.action__signOut': 'Sign out',
  'organizationSwitcher.label': 'Organization', 'organizationSwitcher.personalWorkspace': 'Personal account',
  'createOrganization.title': 'Create organization', 'createOrganization.submit': 'Create organization',
  'formFieldLabel__organizationName': 'Name', 'formFieldLabel__organizationSlug': 'Slug',
  'organizationList.title': 'Organizations', 'organizationList.personal': 'Personal account',
  'organizationList.select': 'Select', 'organizationList.active': 'Active',
  'organizationList.invitations': 'Invitations', 'organizationList.accept': 'Join',
  'organizationList.none': 'You are not a member of any organization yet.',
  'organizationProfile.title': 'Organization', 'organizationProfile.none': 'No organization is active.',
  'organizationProfile.general': 'General', 'organizationProfile.save': 'Save',
  'organizationProfile.saved': 'Organization saved', 'organizationProfile.members': 'Members',
  'organizationProfile.role': 'Role of {{name}}', 'organizationProfile.remove': 'Remove',
  'organizationProfile.invitations': 'Invitations', 'organizationProfile.invite': 'Invite',
  'organizationProfile.invited': 'Invitation sent to {{email}}', 'organizationProfile.revoke': 'Revoke',
  'organizationProfile.noInvitations': 'No pending invitations.',
  'organizationProfile.roles': 'Roles', 'organizationProfile.leave': 'Leave organization',
  'organizationProfile.delete': 'Delete organization', 'organizationProfile.danger': 'Leave or delete',
  'formFieldLabel__emailAddress_invite': 'Email address to invite', 'formFieldLabel__role': 'Role',
  'userProfile.title': 'Account', 'userProfile.profileSection.title': 'Profile',
  'userProfile.profileSection.save': 'Save', 'userProfile.profileSection.saved': 'Profile saved',
  'userProfile.emailAddressesSection.title': 'Email addresses',
  'userProfile.emailAddressesSection.add': 'Add email address',
  'userProfile.emailAddressesSection.primary': 'Primary',
  'userProfile.emailAddressesSection.unverified': 'Unverified',
  'userProfile.emailAddressesSection.verify': 'Verify',
  'userProfile.emailAddressesSection.verified': 'Email address verified',
  'userProfile.passwordSection.title': 'Password', 'userProfile.passwordSection.submit': 'Update password',
  'userProfile.passwordSection.updated': 'Password updated', 'userProfile.sessionsSection.title': 'Active devices',
  'userProfile.sessionsSection.current': 'This device',
  'userProfile.mfaSection.title': 'Two-step verification',
  'userProfile.mfaSection.start': 'Set up authenticator app',
  'userProfile.mfaSection.scan': 'Add this key to your authenticator app (or open the link on your phone), then type the code it shows.',
  'userProfile.mfaSection.openApp': 'Open in authenticator app', 'userProfile.mfaSection.enable': 'Turn on',
  'userProfile.mfaSection.on': 'Authenticator app on', 'userProfile.mfaSection.remove': 'Remove authenticator app',
  'userProfile.mfaSection.removed': 'Two-step verification turned off',
  'userProfile.mfaSection.newCodes': 'New backup codes',
  'userProfile.mfaSection.saveCodes': 'Save these backup codes: each signs in once if you lose your authenticator app. They are not shown again.',
  'userProfile.passkeysSection.title': 'Passkeys', 'userProfile.passkeysSection.add': 'Add a passkey',
  'userProfile.passkeysSection.added': 'Passkey added', 'userProfile.passkeysSection.remove': 'Remove',
  'userProfile.passkeysSection.removed': 'Passkey removed', 'userProfile.passkeysSection.never': 'Never used',
  'userProfile.passkeysSection.lastUsed': 'Last used {{time}}',
  'userProfile.sessionsSection.lastActive': 'Last active {{time}}',
  'userProfile.sessionsSection.revoke': 'Sign out of this device', 'userProfile.signedOut': 'You are signed out.',
  'unstable__errors.network_error': 'Could not reach the server. Check your connection and try again.',
  'unstable__errors.too_many_requests': 'Too many attempts. Try again in {{seconds}} seconds.',
  'unstable__errors.verification_expired': 'This link or code has expired. Ask for a new one.',
  'unstable__errors.unexpected': 'Something went wrong. Please try again.',
  // Social sign-in (OAuth / OpenID Connect providers).
  'socialButtonsBlockButton': 'Continue with {{provider}}', 'dividerText': 'or',
  'userProfile.connectedAccounts.title': 'Connected accounts',
  'userProfile.connectedAccounts.connect': 'Connect {{provider}}',
  'userProfile.connectedAccounts.disconnect': 'Disconnect {{provider}}',
  'unstable__errors.external_account_last_identification': 'This is your only way to sign in: add a password or an email address first.',
};

/** Clerk localization may be nested ({signIn:{start:{title}}}); we look keys up flat. */
export function flatten(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj || {})) {
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, prefix + k + '.', out);
    else out[prefix + k] = v;
  }
  return out;
}

/**
 * The string for `key`: the page's (flat) `localization` first, else the default; `{{name}}`
 * placeholders are filled from `vars` (missing ones become empty). Undefined for an unknown key.
 */
export function translate(localization, key, vars) {
  let s = localization[key];
  if (typeof s !== 'string') s = TEXT[key];
  if (typeof s !== 'string') return undefined;
  return vars ? s.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k) => (vars[k] == null ? '' : vars[k])) : s;
}

/** Message and input name for a failed call (an UsherError or anything thrown). */
export function errorInfo(localization, err) {
  const t = (key, vars) => translate(localization, key, vars);
  const e = err && err.errors && err.errors[0];
  if (!e) return { message: t('unstable__errors.unexpected'), param: null };
  let message = t('unstable__errors.' + e.code, { seconds: err.retryAfter || '' });
  // "Try again in  seconds" reads badly: without Retry-After, the server's own message is better,
  // unless the page chose a text for it.
  if (e.code === 'too_many_requests' && !err.retryAfter && !localization['unstable__errors.too_many_requests']) {
    message = null;
  }
  message = message || e.longMessage || e.long_message || e.message || t('unstable__errors.unexpected');
  return { message, param: (e.meta && (e.meta.paramName || e.meta.param_name)) || null };
}
