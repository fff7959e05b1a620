// Clerk's Astro quickstart, unchanged: the integration and the Node adapter in server mode.
// Everything usher-specific is in the environment (see README.md).
import { defineConfig } from 'astro/config';
import node from '@astrojs/node';
import clerk from '@clerk/astro';

export default defineConfig({
  integrations: [clerk()],
  adapter: node({ mode: 'standalone' }),
  output: 'server',
  // Astro 5.18 trusts the Host header only for listed domains (otherwise every request URL is
  // http://localhost, and both Astro's own origin check and the handshake's return URL break).
  // This is Astro's requirement for any deployment; list your own host instead.
  security: { allowedDomains: [{ hostname: '127.0.0.1' }, { hostname: 'localhost' }] },
});
