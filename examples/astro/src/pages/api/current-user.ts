// Clerk's docs, "Retrieve the current user".
export async function GET({ locals }) {
  const user = await locals.currentUser()

  if (!user) {
    return new Response('Error: No signed in user', { status: 401 })
  }

  return new Response(JSON.stringify({ id: user.id, firstName: user.firstName }))
}
