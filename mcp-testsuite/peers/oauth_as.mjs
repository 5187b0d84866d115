// A real authorization server for the suite's protected-server case (`src/protected.rs`): npm `oidc-provider` (a
// certified OpenID provider) on 127.0.0.1 at a port the OS picks, protecting the resources the
// test serves itself.
//
//     MCP_RESOURCES='{"http://127.0.0.1:1234/mcp":"mcp:tools mcp:admin"}' node oauth_as.mjs
//
// Each resource (RFC 8707 indicator) gets JWT access tokens (ES256, audience = the resource)
// with at most the scopes listed for it. Enabled: the authorization code flow with PKCE
// (login and consent completed by this script for one fixed account, so no browser is
// needed), dynamic registration, client credentials for two pre-registered confidential
// clients (two principals). Prints one JSON line (issuer, the two clients) once it listens,
// then serves until stdin closes. Packages come from MCP_TS_NPM (default `.tools/npm`).

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const npm = process.env.MCP_TS_NPM ?? join(here, '../../.tools/npm');
const mod = (path) => import(pathToFileURL(join(npm, 'node_modules', path)).href);

const { default: Provider, errors } = await mod('oidc-provider/lib/index.js');
const jose = await mod('jose/dist/webapi/index.js');

const resources = JSON.parse(process.env.MCP_RESOURCES ?? '{}');
const ACCOUNT = 'interop-user';

const server = http.createServer();
const port = await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
});
const issuer = `http://127.0.0.1:${port}`;

const privateJwk = async (alg) => {
    const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    return { ...(await jose.exportJWK(privateKey)), alg, use: 'sig', kid: `${alg}-${randomBytes(4).toString('hex')}` };
};
const secret = () => randomBytes(24).toString('base64url');
const clients = [
    { client_id: 'alice-service', client_secret: secret() },
    { client_id: 'bob-service', client_secret: secret() },
];

const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
        ...c,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [await privateJwk('ES256'), await privateJwk('RS256')] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access'],
    features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        registration: { enabled: true },
        resourceIndicators: {
            enabled: true,
            defaultResource: () => Object.keys(resources)[0],
            useGrantedResource: () => true,
            getResourceServerInfo: (_ctx, indicator) => {
                if (!(indicator in resources)) throw new errors.InvalidTarget();
                return {
                    scope: resources[indicator],
                    audience: indicator,
                    accessTokenTTL: 3600,
                    accessTokenFormat: 'jwt',
                    jwt: { sign: { alg: 'ES256' } },
                };
            },
        },
    },
    pkce: { required: () => true },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    findAccount: async (_ctx, accountId) => ({ accountId, claims: async () => ({ sub: accountId }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

// Login and consent without a user: the fixed account, every scope asked for.
const callback = provider.callback();
server.on('request', async (req, res) => {
    if (!req.url.startsWith('/interaction/')) return callback(req, res);
    try {
        const details = await provider.interactionDetails(req, res);
        const { prompt, params } = details;
        let result;
        if (prompt.name === 'login') {
            result = { login: { accountId: ACCOUNT } };
        } else {
            const grant = details.grantId
                ? await provider.Grant.find(details.grantId)
                : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
            const d = prompt.details;
            if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
            if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
            for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
                grant.addResourceScope(indicator, scopes.join(' '));
            }
            result = { consent: { grantId: await grant.save() } };
        }
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
    } catch (err) {
        console.error('interaction failed:', err);
        res.statusCode = 500;
        res.end(String(err));
    }
});

console.log(JSON.stringify({ issuer, clients }));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
