// A real authorization server and a real protected MCP server for `interop_oauth.rs`, both on
// 127.0.0.1 at ports the OS picks:
//
//   - `oidc-provider` (a certified OpenID provider) configured for the authorization code flow
//     with PKCE, refresh tokens (rotated for public clients, its default), client credentials,
//     dynamic registration and resource indicators (RFC 8707): an access token for the MCP
//     server is a JWT whose audience is that server. Login and consent are completed by this
//     script's own interaction routes, for one fixed test account, so the flow needs no
//     browser (the client follows the redirects and carries the interaction cookies);
//   - a TypeScript SDK server (`McpServer` over the stateless streamable HTTP transport)
//     behind the SDK's `requireBearerAuth`, whose verifier checks each JWT against the
//     provider's JWKS, issuer and audience, and the SDK's protected resource metadata router.
//
//     node oauth_peers.mjs
//
// Packages come from MCP_TS_NPM (default: `.tools/npm` at the repository's root, where
// `scripts/install-peers` puts them). Prints one JSON line (issuer, MCP URL, the
// pre-registered client-credentials client) once both listen, then serves until stdin closes.

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const npm = process.env.MCP_TS_NPM ?? join(here, '../../../.tools/npm');
const mod = (path) => import(pathToFileURL(join(npm, 'node_modules', path)).href);
const sdk = (path) => mod(`@modelcontextprotocol/sdk/dist/esm/${path}`);

const { default: Provider, errors } = await mod('oidc-provider/lib/index.js');
const jose = await mod('jose/dist/webapi/index.js');
const express = createRequire(join(npm, 'package.json'))('express');
const { McpServer } = await sdk('server/mcp.js');
const { StreamableHTTPServerTransport } = await sdk('server/streamableHttp.js');
const { requireBearerAuth } = await sdk('server/auth/middleware/bearerAuth.js');
const { InvalidTokenError } = await sdk('server/auth/errors.js');
const { mcpAuthMetadataRouter, getOAuthProtectedResourceMetadataUrl } = await sdk('server/auth/router.js');

/** The scope the MCP server requires. */
const SCOPE = 'mcp:tools';
/** The account every interactive login signs in as. */
const ACCOUNT = 'interop-user';

const listen = (server) =>
    new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server.address().port));
    });

const asServer = http.createServer();
const issuer = `http://127.0.0.1:${await listen(asServer)}`;
const app = express();
const rsServer = http.createServer(app);
const resource = `http://127.0.0.1:${await listen(rsServer)}/mcp`;

// Signing keys: ES256 for the access tokens, RS256 for ID tokens (the OIDC default).
const privateJwk = async (alg) => {
    const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    return { ...(await jose.exportJWK(privateKey)), alg, use: 'sig' };
};
const service = { client_id: 'mcp-rs-service', client_secret: randomBytes(24).toString('base64url') };

const provider = new Provider(issuer, {
    clients: [
        {
            ...service,
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            token_endpoint_auth_method: 'client_secret_basic',
        },
    ],
    jwks: { keys: [await privateJwk('ES256'), await privateJwk('RS256')] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access'],
    features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        registration: { enabled: true },
        resourceIndicators: {
            enabled: true,
            defaultResource: () => resource,
            useGrantedResource: () => true,
            getResourceServerInfo: (_ctx, indicator) => {
                if (indicator !== resource) throw new errors.InvalidTarget();
                return {
                    scope: SCOPE,
                    audience: resource,
                    accessTokenTTL: 3600,
                    accessTokenFormat: 'jwt',
                    jwt: { sign: { alg: 'ES256' } },
                };
            },
        },
    },
    pkce: { required: () => true },
    // A refresh token for every client allowed the grant (the default wants offline_access,
    // which it keeps only with prompt=consent).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    findAccount: async (_ctx, accountId) => ({ accountId, claims: async () => ({ sub: accountId }) }),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

// Login and consent without a user: the fixed account, every scope asked for.
const providerCallback = provider.callback();
asServer.on('request', async (req, res) => {
    if (!req.url.startsWith('/interaction/')) return providerCallback(req, res);
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

// The protected MCP server.
const asMetadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const jwks = jose.createRemoteJWKSet(new URL(asMetadata.jwks_uri));
const verifier = {
    async verifyAccessToken(token) {
        let payload;
        try {
            ({ payload } = await jose.jwtVerify(token, jwks, { issuer, audience: resource, typ: 'at+jwt' }));
        } catch (err) {
            throw new InvalidTokenError(`access token refused: ${err.message}`);
        }
        return {
            token,
            clientId: payload.client_id,
            scopes: String(payload.scope ?? '').split(' ').filter(Boolean),
            expiresAt: payload.exp,
            resource: new URL(resource),
            extra: { sub: payload.sub },
        };
    },
};
app.use(
    mcpAuthMetadataRouter({
        oauthMetadata: asMetadata,
        resourceServerUrl: new URL(resource),
        scopesSupported: [SCOPE],
        resourceName: 'oauth interop',
    }),
);
const bearer = requireBearerAuth({
    verifier,
    requiredScopes: [SCOPE],
    expectedResource: new URL(resource),
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(new URL(resource)),
});
app.post('/mcp', bearer, express.json(), async (req, res) => {
    const server = new McpServer({ name: 'oauth-interop', version: '1.0.0' });
    server.registerTool('whoami', { description: 'What the access token says about the caller' }, async (extra) => ({
        content: [
            {
                type: 'text',
                text: JSON.stringify({
                    client_id: extra.authInfo?.clientId,
                    sub: extra.authInfo?.extra?.sub,
                    scopes: extra.authInfo?.scopes,
                }),
            },
        ],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
        transport.close();
        server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
});
app.all('/mcp', bearer, (_req, res) => res.status(405).set('allow', 'POST').end());

console.log(JSON.stringify({ issuer, mcp_url: resource, service_client: service }));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
