// Clerk's docs, "Interact with Clerk's Backend API": clerkClient(context).users.getUser.
import { clerkClient } from '@clerk/astro/server'

export async function GET(context) {
  const { userId } = context.locals.auth()

  if (!userId) {
    return new Response('Error: No signed in user', { status: 401 })
  }

  const user = await clerkClient(context).users.getUser(userId)

  return new Response(JSON.stringify({ id: user.id, email: user.emailAddresses[0]?.emailAddress }))
}
