// Clerk's docs, "Protect your endpoints".
export async function GET({ locals }) {
  const { userId } = locals.auth()

  if (!userId) {
    return new Response('Error: No signed in user', { status: 401 })
  }

  return new Response(JSON.stringify({ userId }))
}
