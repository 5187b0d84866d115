// Drives our `everything` example server with the official TypeScript MCP SDK's client over
// streamable HTTP.
//
//     node ts_client.mjs URL
//
// URL is the server's endpoint (`http://127.0.0.1:PORT/mcp`). The SDK is loaded from the
// package directory in MCP_TS_SDK (default: `.tools/npm/node_modules/@modelcontextprotocol/sdk`
// at the repository's root, where `scripts/install-peers` puts it). The script prints one JSON
// object describing what the server answered, and `interop_ts_client.rs` asserts on it.
// Anything unexpected throws, which exits non-zero with the error on stderr.

import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Every step is bounded; the Rust side bounds the whole process as well.
const STEP_TIMEOUT_MS = 20_000;
const COUNTER_URI = 'everything://counter';

const here = dirname(fileURLToPath(import.meta.url));
const sdkDir =
    process.env.MCP_TS_SDK ?? join(here, '../../../.tools/npm/node_modules/@modelcontextprotocol/sdk');
const sdk = (path) => import(pathToFileURL(join(sdkDir, 'dist/esm', path)).href);

const { Client } = await sdk('client/index.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');
const {
    CreateMessageRequestSchema,
    ElicitRequestSchema,
    ListRootsRequestSchema,
    LoggingMessageNotificationSchema,
    ResourceUpdatedNotificationSchema,
} = await sdk('types.js');

/** Rejects if `promise` has not settled within the step timeout. */
function bounded(what, promise) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer in ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const texts = (content) =>
    content
        .filter((c) => c.type === 'text')
        .map((c) => c.text)
        .join('\n');

async function tour(url) {
    const out = { asks: [], progress: [], logs: [], updates: [] };
    // Resolved by the first `notifications/resources/updated`.
    let updated;
    const firstUpdate = new Promise((resolve) => {
        updated = resolve;
    });

    const client = new Client(
        { name: 'ts-interop', version: '0' },
        { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
    );
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
        const prompt = req.params.messages
            .filter((m) => m.content.type === 'text')
            .map((m) => m.content.text)
            .join(' ');
        out.asks.push({ sampling: prompt, max_tokens: req.params.maxTokens });
        return {
            role: 'assistant',
            content: { type: 'text', text: 'a canned reply from typescript' },
            model: 'ts-canned-model',
            stopReason: 'endTurn',
        };
    });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
        const fields = Object.keys(req.params.requestedSchema?.properties ?? {}).sort();
        out.asks.push({ elicitation: req.params.message, fields });
        return { action: 'accept', content: { name: 'Ada Lovelace', likes_rust: true } };
    });
    client.setRequestHandler(ListRootsRequestSchema, async () => {
        out.asks.push({ roots: true });
        return { roots: [{ uri: 'file:///tmp/ts-root', name: 'ts-root' }] };
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        out.logs.push({ level: n.params.level, logger: n.params.logger, data: n.params.data });
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        out.updates.push(n.params.uri);
        updated();
    });

    const transport = new StreamableHTTPClientTransport(new URL(url));
    await bounded('connect', client.connect(transport));
    out.session_id = transport.sessionId ?? null;
    out.protocol_version = transport.protocolVersion ?? null;
    out.server_info = client.getServerVersion();
    out.instructions = client.getInstructions();
    out.capabilities = Object.keys(client.getServerCapabilities() ?? {}).sort();

    const tools = (await bounded('tools/list', client.listTools())).tools;
    out.tools = tools.map((t) => t.name);
    out.add_output_schema = tools.find((t) => t.name === 'add')?.outputSchema ?? null;

    const call = (name, args, options) => bounded(`tools/call ${name}`, client.callTool({ name, arguments: args }, undefined, options));

    let r = await call('echo', { message: 'hello from typescript' });
    out.echo = { text: texts(r.content), is_error: r.isError ?? false };

    // The SDK checks structured content against the tool's outputSchema.
    r = await call('add', { a: 2, b: 40 });
    out.add = { structured: r.structuredContent, text: texts(r.content), is_error: r.isError ?? false };

    r = await call(
        'long_running',
        { steps: 3, step_ms: 20 },
        { onprogress: (p) => out.progress.push([p.progress, p.total ?? null, p.message ?? null]) },
    );
    out.long_running = texts(r.content);

    // Cancellation: give up on a long call at its first progress report (the SDK sends
    // notifications/cancelled); the session must carry on.
    const abort = new AbortController();
    const long = call('long_running', { steps: 50, step_ms: 100 }, { signal: abort.signal, onprogress: () => abort.abort('enough') });
    out.cancelled_call = await long.then(
        () => false,
        (e) => abort.signal.aborted || String(e),
    );
    r = await call('echo', { message: 'still here' });
    out.after_cancel = texts(r.content);

    // The server's asks (server-to-client requests on the call's SSE stream).
    for (const [tool, args] of [
        ['sample', { prompt: 'hi from rust', max_tokens: 33 }],
        ['elicit', {}],
        ['roots', {}],
    ]) {
        r = await call(tool, args);
        out[tool] = { text: texts(r.content), is_error: r.isError ?? false };
    }

    r = await call('fail', {});
    out.fail = { text: texts(r.content), is_error: r.isError ?? false };

    await bounded('logging/setLevel', client.setLoggingLevel('info'));
    r = await call('log', {});
    out.log = texts(r.content);

    out.resources = (await bounded('resources/list', client.listResources())).resources.map((x) => x.uri);
    out.templates = (await bounded('resources/templates/list', client.listResourceTemplates())).resourceTemplates.map(
        (t) => t.uriTemplate,
    );
    out.reads = {};
    for (const uri of ['everything://static/readme', 'everything://static/bytes', 'everything://greeting/Ada']) {
        out.reads[uri] = (await bounded(`resources/read ${uri}`, client.readResource({ uri }))).contents[0];
    }

    // A subscription: the counter moves every two seconds; updates come on the GET stream.
    const asked = performance.now();
    await bounded('resources/subscribe', client.subscribeResource({ uri: COUNTER_URI }));
    await bounded('the first resource update', firstUpdate);
    out.update_wait = (performance.now() - asked) / 1000;
    await bounded('resources/unsubscribe', client.unsubscribeResource({ uri: COUNTER_URI }));

    out.prompts = Object.fromEntries(
        (await bounded('prompts/list', client.listPrompts())).prompts.map((p) => [p.name, (p.arguments ?? []).map((a) => a.name)]),
    );
    out.prompt_messages = {};
    for (const [name, args] of [
        ['simple', undefined],
        ['greeting', { name: 'Ada', style: 'pirate' }],
        ['with_resource', undefined],
    ]) {
        out.prompt_messages[name] = (await bounded(`prompts/get ${name}`, client.getPrompt({ name, arguments: args }))).messages;
    }

    let c = await bounded(
        'completion/complete',
        client.complete({ ref: { type: 'ref/prompt', name: 'greeting' }, argument: { name: 'style', value: 'f' } }),
    );
    out.complete_style = c.completion.values;
    c = await bounded(
        'completion/complete',
        client.complete({
            ref: { type: 'ref/resource', uri: 'everything://greeting/{name}' },
            argument: { name: 'name', value: 'a' },
        }),
    );
    out.complete_name = c.completion.values;

    out.ping = await bounded('ping', client.ping());

    // Close: DELETE the session, then check the server forgot it (404 for its id).
    await bounded('DELETE', transport.terminateSession());
    out.session_after_delete = transport.sessionId ?? null;
    await client.close();
    const again = await bounded(
        'POST after DELETE',
        fetch(url, {
            method: 'POST',
            headers: {
                'content-type': 'application/json',
                accept: 'application/json, text/event-stream',
                'mcp-session-id': out.session_id,
                'mcp-protocol-version': out.protocol_version,
            },
            body: JSON.stringify({ jsonrpc: '2.0', id: 'after-delete', method: 'ping' }),
        }),
    );
    out.post_after_delete = again.status;
    return out;
}

if (process.argv.length !== 3) {
    console.error('usage: node ts_client.mjs URL');
    process.exit(2);
}
const out = await tour(process.argv[2]);
process.stdout.write(JSON.stringify(out) + '\n');
// Nothing must keep the process alive, but do not wait on stragglers either.
process.exit(0);
