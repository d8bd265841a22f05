// oidc-provider as a peer for stagepass's side-by-side benchmarks of the client
// credentials grant. Loopback only, in the foreground: a harness backgrounds it and stops
// it by PID (SIGTERM or SIGINT: closes the listener and every connection, exits 0).
//
// Usage: node server.mjs PORT [jwt|opaque]        (mode default: jwt)
//   jwt     access tokens are JWTs signed with an Ed25519 key generated at start
//           (alg EdDSA, typ at+jwt); they are not stored, so introspection answers
//           {"active":false} for them
//   opaque  access tokens are opaque strings kept in oidc-provider's default in-memory
//           adapter (an LRU of 1000 entries: only the latest ~1000 tokens stay
//           introspectable)
// Environment (defaults): OIDC_CLIENT_ID=bench-client OIDC_CLIENT_SECRET=bench-secret-1
//   OIDC_SCOPE=bench
//
// When it listens, prints one line of JSON on stdout (logs go to stderr):
//   {"server":"oidc-provider","version":"8.x.y","mode":"jwt","pid":N,
//    "base_url":"http://127.0.0.1:PORT","token_url":".../token","token_path":"/token",
//    "introspection_url":".../token/introspection","client_id":"...",
//    "client_secret":"...","scope":"bench","access_token_format":"jwt-eddsa"}
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const [portArg, mode = 'jwt', ...extra] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !['jwt', 'opaque'].includes(mode) || extra.length) {
  process.stderr.write('usage: node server.mjs PORT [jwt|opaque]\n');
  process.exit(2);
}

const HOST = '127.0.0.1';
const issuer = `http://${HOST}:${port}`;
const clientId = process.env.OIDC_CLIENT_ID || 'bench-client';
const clientSecret = process.env.OIDC_CLIENT_SECRET || 'bench-secret-1';
const scope = process.env.OIDC_SCOPE || 'bench';
// The one resource server: every grant is defaulted to it, so both modes issue tokens
// for the same audience and scope, and differ only in the token format.
const resource = `${issuer}/bench-api`;

// Ed25519 signing key (private JWK) for the provider's keystore. In jwt mode it signs
// the access tokens; in opaque mode nothing is signed on the measured path.
const { privateKey } = generateKeyPairSync('ed25519');
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  alg: 'EdDSA',
  use: 'sig',
  kid: randomBytes(8).toString('hex'),
};

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope,
  }],
  scopes: [scope],
  jwks: { keys: [signingJwk] },
  // The keystore holds only the Ed25519 key, so the clients' default RS256 would not
  // validate ("id_token_signed_response_alg must be 'EdDSA'").
  clientDefaults: { id_token_signed_response_alg: 'EdDSA' },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: {
      enabled: true,
      // A client may introspect the tokens issued to itself only (as glewlwyd's
      // "allow for the token client" setting does).
      allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId,
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator !== resource) throw new errors.InvalidTarget();
        return {
          scope,
          audience: resource,
          accessTokenTTL: 3600,
          accessTokenFormat: mode,
          ...(mode === 'jwt' ? { jwt: { sign: { alg: 'EdDSA' } } } : {}),
        };
      },
    },
  },
  ttl: {
    // Only what the grant uses is set: 1 h, as glewlwyd's default and stagepass.
    ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL || 3600,
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => {
  process.stderr.write(`oidc-provider server_error: ${err?.stack || err}\n`);
});

const { version } = JSON.parse(readFileSync(
  new URL('./node_modules/oidc-provider/package.json', import.meta.url),
  'utf8',
));
const token = new URL(provider.urlFor('token'));
const introspection = new URL(provider.urlFor('introspection'));

const server = createServer(provider.callback());
server.on('error', (err) => {
  process.stderr.write(`server.mjs: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, HOST, () => {
  process.stdout.write(`${JSON.stringify({
    server: 'oidc-provider',
    version,
    mode,
    pid: process.pid,
    base_url: issuer,
    token_url: token.href,
    token_path: token.pathname,
    introspection_url: introspection.href,
    client_id: clientId,
    client_secret: clientSecret,
    scope,
    access_token_format: mode === 'jwt' ? 'jwt-eddsa' : 'opaque',
  })}\n`);
});

function shutdown(signal) {
  process.stderr.write(`server.mjs: ${signal}, closing\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
