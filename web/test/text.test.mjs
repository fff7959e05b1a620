// Localization: defaults, the page's keys over them (nested or flat), placeholders, and the
// messages shown for failed calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { TEXT, errorInfo, flatten, translate } from '../usher/text.js';
import { UsherError } from '../usher/fapi.js';

test('nested localization is flattened to dotted keys; arrays and strings stay values', () => {
  const nested = { signIn: { start: { title: 'Hi', subtitle: 'There' } }, formButtonPrimary: 'Go', list: [1] };
  assert.deepEqual(flatten(nested),
    { 'signIn.start.title': 'Hi', 'signIn.start.subtitle': 'There', formButtonPrimary: 'Go', list: [1] });
  assert.deepEqual(flatten(undefined), {});
  assert.deepEqual(flatten({ 'signIn.start.title': 'flat already' }), { 'signIn.start.title': 'flat already' });
});

test('the page’s string wins over the default; non-strings and unknown keys do not', () => {
  const loc = flatten({ signIn: { start: { title: 'Welcome back' } }, formButtonPrimary: 42 });
  assert.equal(translate(loc, 'signIn.start.title'), 'Welcome back');
  assert.equal(translate(loc, 'signIn.start.subtitle'), TEXT['signIn.start.subtitle']);
  assert.equal(translate(loc, 'formButtonPrimary'), 'Continue', 'a number is not a label');
  assert.equal(translate(loc, 'no.such.key'), undefined);
});

test('{{name}} placeholders are filled in, missing ones left empty', () => {
  assert.equal(translate({}, 'signIn.emailCode.subtitle', { identifier: 'a***@example.com' }),
    'Enter the code sent to a***@example.com');
  const loc = { greeting: 'Hi {{ first }} {{last}}, {{first}}!' };
  assert.equal(translate(loc, 'greeting', { first: 'Ada', last: null }), 'Hi Ada , Ada!');
  assert.equal(translate(loc, 'greeting'), 'Hi {{ first }} {{last}}, {{first}}!', 'no vars: left as written');
});

test('error messages: a localized message per Clerk code, else the server’s own', () => {
  const wrong = new UsherError('x', {
    errors: [{ code: 'form_password_incorrect', message: 'is incorrect', longMessage: 'Password is incorrect.',
      meta: { paramName: 'password' } }],
  });
  assert.deepEqual(errorInfo({}, wrong), { message: 'Password is incorrect.', param: 'password' });
  const loc = { 'unstable__errors.form_password_incorrect': 'Falsches Passwort' };
  assert.deepEqual(errorInfo(loc, wrong), { message: 'Falsches Passwort', param: 'password' });
  const snake = { errors: [{ code: 'x', message: 'short', long_message: 'long', meta: { param_name: 'code' } }] };
  assert.deepEqual(errorInfo({}, snake), { message: 'long', param: 'code' });
  assert.deepEqual(errorInfo({}, new TypeError('boom')), { message: TEXT['unstable__errors.unexpected'], param: null });
  assert.equal(errorInfo({}, { errors: [{ code: 'x' }] }).message, TEXT['unstable__errors.unexpected']);
});

test('429: "try again in N seconds" with Retry-After; without it, the server’s message unless the page set one', () => {
  const limited = retryAfter => new UsherError('Slow down.', {
    status: 429, retryAfter,
    errors: [{ code: 'too_many_requests', message: 'Too many requests', longMessage: 'Slow down.' }],
  });
  assert.equal(errorInfo({}, limited(7)).message, 'Too many attempts. Try again in 7 seconds.');
  assert.equal(errorInfo({}, limited(undefined)).message, 'Slow down.');
  const loc = { 'unstable__errors.too_many_requests': 'Bitte warten.' };
  assert.equal(errorInfo(loc, limited(undefined)).message, 'Bitte warten.');
});

test('every key the components ask for has an English default', () => {
  const dir = new URL('../usher/components/', import.meta.url);
  const sources = readdirSync(dir).map(f => readFileSync(new URL(f, dir), 'utf8'));
  const keys = new Set();
  for (const src of sources) {
    for (const m of src.matchAll(/\bt\('([^']+)'/g)) keys.add(m[1]);
    for (const m of src.matchAll(/actionButton\('([^']+)'/g)) keys.add(m[1]);
  }
  assert.ok(keys.size > 40, `found only ${keys.size} keys: is the pattern still right?`);
  const missing = [...keys].filter(k => typeof TEXT[k] !== 'string');
  assert.deepEqual(missing, []);
});
