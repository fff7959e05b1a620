// Clerk's Astro quickstart, unchanged: the integration and the Node adapter in server mode.
// Everything usher-specific is in the environment (see README.md).
import { defineConfig } from 'astro/config';
import node from '@astrojs/node';
import clerk from '@clerk/astro';

export default defineConfig({
  integrations: [clerk()],
  adapter: node({ mode: 'standalone' }),
  output: 'server',
});
