// Clerk's own <OrganizationSwitcher/> (clerk-js 6 + @clerk/ui, unmodified) in examples/astro
// against `usher dev`: a user creates an organization through the component, switches to it,
// and back to the personal account. The server's `Astro.locals.auth().orgId` (from the session
// token @clerk/backend verifies) and the client's `$organizationStore` must agree at each step.
// No Clerk host is ever contacted.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { astroStack, signInWithPassword, whoAmI } from './astro-app.mjs';
import { waitFor } from './harness.mjs';

/** Reloads the home page and checks that the server (`Astro.locals.auth().orgId`) and the client
 * (`$organizationStore`) both say `orgId` ('' for the personal account). */
async function expectActive(p, url, orgId) {
  await p.goto(`${url}/`);
  await whoAmI(p);
  assert.equal(await p.textContent('#server-org'), orgId, 'server-side orgId');
  await waitFor(async () => (await p.textContent('#client-org')) === orgId, { message: `$organizationStore = '${orgId}'` });
}

describe('<OrganizationSwitcher/> on usher', () => {
  let s;
  before(async () => { s = await astroStack(); });
  after(async () => {
    await s?.stop();
    assert.deepEqual(s?.foreign ?? [], [], 'the browser asked a host other than 127.0.0.1');
  });

  test('create an organization, switch to it, and back to the personal account', async () => {
    const user = await s.usher.createUser({ firstName: 'Orla' });
    const ctx = await s.context();
    const p = await ctx.newPage();
    try {
      await signInWithPassword(p, s.url, user);
      await expectActive(p, s.url, '');

      // Create through the component: the switcher's popover, its "Create organization" form.
      await p.locator('.cl-organizationSwitcherTrigger').click();
      await p.getByRole('menuitem', { name: 'Create organization' })
        .or(p.getByRole('button', { name: 'Create organization' })).first().click();
      await p.locator('input[name=name]').fill('Acme Rockets');
      await p.locator('.cl-formButtonPrimary').click();
      // The form's second step offers invitations (the creator is an admin, who may invite);
      // skipping it finishes with the new organization active.
      await p.getByRole('button', { name: 'Skip' }).click();
      const [org] = await waitFor(async () => {
        const list = await s.usher.bapi('GET', `/v1/users/${user.id}/organization_memberships`);
        return list.data?.length ? list.data.map(m => m.organization) : null;
      }, { message: 'the organization was created' });
      assert.equal(org.name, 'Acme Rockets');
      assert.equal(org.slug, 'acme-rockets');
      await waitFor(async () => (await p.textContent('#client-org')) === org.id, { message: '$organizationStore has the new organization' });
      await expectActive(p, s.url, org.id);
      await p.locator('.cl-organizationSwitcherTrigger', { hasText: 'Acme Rockets' }).waitFor();

      // Back to the personal account through the switcher.
      await p.locator('.cl-organizationSwitcherTrigger').click();
      await p.getByText('Personal account').last().click();
      await waitFor(async () => (await p.textContent('#client-org')) === '', { message: '$organizationStore cleared' });
      await expectActive(p, s.url, '');

      // And to the organization again, now listed in the popover.
      await p.locator('.cl-organizationSwitcherTrigger').click();
      await p.locator('.cl-organizationSwitcherPopoverCard').getByText('Acme Rockets').click();
      await waitFor(async () => (await p.textContent('#client-org')) === org.id, { message: 'switched to the organization' });
      await expectActive(p, s.url, org.id);
    } catch (e) {
      await p.screenshot({ path: '/tmp/clerk-organizations-failure.png' }).catch(() => {});
      console.error(ctx.logs.join('\n'));
      throw e;
    } finally {
      await ctx.close();
    }
  });
});
