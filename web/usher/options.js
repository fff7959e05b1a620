// The page's options: where the Frontend API is, and the appearance variables. No DOM access:
// importable in Node.

/** Accepts Clerk-style bare hosts ("auth.example.com") as well as full URLs. */
export function normalizeBase(url) {
  if (!/^https?:\/\//.test(url)) url = (/^(localhost|127\.|\[::1\])/.test(url) ? 'http://' : 'https://') + url;
  return url.replace(/\/+$/, '');
}

/**
 * The Frontend API: the `frontendApi` option, else the script tag's `data-frontend-api`, else
 * the origin usher.js was loaded from (`import.meta.url`: usher serves it, so that is usher).
 */
export function frontendApiFor({ option, attribute, scriptUrl }) {
  return normalizeBase(option || attribute || new URL(scriptUrl).origin);
}

/** updateOptions({appearance}): merged over the current one, `variables` merged too. */
export function mergeAppearance(prev = {}, next = {}) {
  return Object.assign({}, prev, next, { variables: Object.assign({}, prev.variables, next.variables) });
}

/** appearance.variables as CSS custom properties: colorPrimary → ['--usher-color-primary', value]. */
export function cssVariables(appearance) {
  const vars = (appearance && appearance.variables) || {};
  return Object.entries(vars)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number')
    .map(([k, v]) => ['--usher-' + k.replace(/[A-Z]/g, c => '-' + c.toLowerCase()), String(v)]);
}
