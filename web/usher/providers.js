// Social sign-in providers (OAuth / OpenID Connect): which ones the instance enables, and their
// marks as inline SVG data (no external assets). No DOM access: importable in Node.

/**
 * The providers a sign-in or sign-up offers: the environment's `user_settings.social` entries that
 * are enabled and authenticatable, as `{ strategy, name }`, in a stable order (the built-in ones
 * first, as Clerk lists them, then custom ones by name).
 */
export function enabledProviders(env) {
  const social = (env && env.user_settings && env.user_settings.social) || {};
  const order = ['oauth_google', 'oauth_github', 'oauth_microsoft', 'oauth_apple'];
  const rank = s => (order.includes(s) ? order.indexOf(s) : order.length);
  return Object.values(social)
    .filter(p => p && p.enabled && p.authenticatable !== false && /^oauth_[a-z0-9_]+$/.test(p.strategy || ''))
    .map(p => ({ strategy: p.strategy, name: p.name || p.strategy.replace(/^oauth_(custom_)?/, '') }))
    .sort((a, b) => rank(a.strategy) - rank(b.strategy) || a.name.localeCompare(b.name));
}

/** `{ viewBox, paths: [[fill, d], …] }` of a provider's mark; a generic person for custom ones. */
export function markOf(strategy) {
  return MARKS[strategy] || MARKS.custom;
}

const MARKS = {
  oauth_google: { viewBox: '0 0 18 18', paths: [
    ['#4285F4', 'M17.6 9.2c0-.6-.1-1.2-.2-1.7H9v3.3h4.8a4.1 4.1 0 0 1-1.8 2.7v2.2h2.9c1.7-1.6 2.7-3.9 2.7-6.5z'],
    ['#34A853', 'M9 18c2.4 0 4.5-.8 6-2.2l-2.9-2.2c-.8.5-1.8.9-3.1.9-2.4 0-4.4-1.6-5.1-3.8H.9v2.3A9 9 0 0 0 9 18z'],
    ['#FBBC05', 'M3.9 10.7a5.4 5.4 0 0 1 0-3.4V5H.9a9 9 0 0 0 0 8z'],
    ['#EA4335', 'M9 3.6c1.3 0 2.5.5 3.4 1.3l2.6-2.6A9 9 0 0 0 .9 5l3 2.3C4.6 5.2 6.6 3.6 9 3.6z'],
  ] },
  oauth_github: { viewBox: '0 0 16 16', paths: [
    ['currentColor', 'M8 0a8 8 0 0 0-2.5 15.6c.4 0 .5-.2.5-.4v-1.5c-2.2.5-2.7-1-2.7-1-.4-.9-.9-1.2-.9-1.2-.7-.5.1-.5.1-.5.8.1 1.2.8 1.2.8.7 1.3 1.9.9 2.3.7.1-.5.3-.9.5-1.1-1.8-.2-3.6-.9-3.6-4 0-.9.3-1.6.8-2.1-.1-.2-.4-1 .1-2.1 0 0 .7-.2 2.2.8a7.4 7.4 0 0 1 4 0c1.5-1 2.2-.8 2.2-.8.4 1.1.2 1.9.1 2.1.5.6.8 1.3.8 2.1 0 3.1-1.9 3.7-3.6 3.9.3.3.5.8.5 1.5v2.2c0 .2.1.5.6.4A8 8 0 0 0 8 0z'],
  ] },
  oauth_microsoft: { viewBox: '0 0 18 18', paths: [
    ['#F25022', 'M0 0h8.5v8.5H0z'], ['#7FBA00', 'M9.5 0H18v8.5H9.5z'],
    ['#00A4EF', 'M0 9.5h8.5V18H0z'], ['#FFB900', 'M9.5 9.5H18V18H9.5z'],
  ] },
  oauth_apple: { viewBox: '0 0 18 18', paths: [
    ['currentColor', 'M14.6 9.6c0-2.2 1.8-3.2 1.9-3.3a4 4 0 0 0-3.2-1.7c-1.3-.1-2.6.8-3.3.8-.7 0-1.7-.8-2.8-.8A4.2 4.2 0 0 0 3.6 6.8c-1.5 2.6-.4 6.5 1.1 8.6.7 1 1.5 2.2 2.6 2.1 1 0 1.4-.7 2.7-.7 1.2 0 1.6.7 2.7.7 1.1 0 1.8-1 2.5-2.1.8-1.2 1.1-2.3 1.1-2.4 0 0-2.1-.8-2.1-3.3zM12.5 3.1c.6-.7 1-1.7.9-2.6-.8 0-1.9.6-2.5 1.3-.5.6-1 1.6-.9 2.6.9.1 1.9-.5 2.5-1.3z'],
  ] },
  custom: { viewBox: '0 0 18 18', paths: [
    ['currentColor', 'M9 .8a8.2 8.2 0 1 0 0 16.4A8.2 8.2 0 0 0 9 .8zm0 1.6a6.6 6.6 0 0 1 5.1 10.8 6.2 6.2 0 0 0-10.2 0A6.6 6.6 0 0 1 9 2.4zM9 4.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z'],
  ] },
};
