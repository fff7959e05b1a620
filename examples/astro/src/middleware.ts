import { clerkMiddleware } from '@clerk/astro/server';
import type { MiddlewareHandler } from 'astro';

// As in Clerk's docs: protect a route group, everything else is public.
const clerk = clerkMiddleware((auth, context) => {
  const { userId, redirectToSignIn } = auth();
  if (!userId && context.url.pathname.startsWith('/dashboard')) {
    return redirectToSignIn();
  }
});

// The Frontend API proxy (src/pages/clerk/[...path].ts) must not itself be authenticated:
// the handshake navigates through it, and authenticating it would answer with another handshake.
// @clerk/astro has no built-in proxy route, so this is the one line the docs do not show.
export const onRequest: MiddlewareHandler = (context, next) =>
  context.url.pathname.startsWith('/clerk/') ? next() : clerk(context, next);
