// Better Auth (npm `better-auth`) with email and password, on the PostgreSQL database in
// DATABASE_URL, with its defaults (scrypt password hashing; rate limits off outside
// NODE_ENV=production, as usher's bench runs it with its limits off). Listens on a free port
// of 127.0.0.1 and prints `listening on http://127.0.0.1:PORT` once its tables exist.
import http from 'node:http';
import pg from 'pg';
import { betterAuth } from 'better-auth';
import { toNodeHandler } from 'better-auth/node';
import { getMigrations } from 'better-auth/db/migration';

const server = http.createServer();
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;
const auth = betterAuth({
  baseURL,
  secret: process.env.BETTER_AUTH_SECRET,
  database: new pg.Pool({ connectionString: process.env.DATABASE_URL }),
  emailAndPassword: { enabled: true },
  telemetry: { enabled: false },
});
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();
server.on('request', toNodeHandler(auth));
console.log(`listening on ${baseURL}`);
