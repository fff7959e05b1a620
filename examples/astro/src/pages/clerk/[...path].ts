// The Frontend API, first-party on the app's origin: @clerk/backend's proxy helper forwards to
// CLERK_FAPI_URL (read at run time, like the keys) with Clerk-Proxy-Url and Clerk-Secret-Key (PUBLIC_CLERK_PROXY_URL=/clerk).
import type { APIRoute } from 'astro';
import { clerkFrontendApiProxy } from '@clerk/backend/proxy';

export const ALL: APIRoute = ({ request }) =>
  clerkFrontendApiProxy(request, {
    proxyPath: '/clerk',
    publishableKey: process.env.PUBLIC_CLERK_PUBLISHABLE_KEY,
    secretKey: process.env.CLERK_SECRET_KEY,
  });
