// Runs tools of our `everything` example server as tasks (SEP-1686, protocol 2025-11-25)
// with the official TypeScript MCP SDK's client, over stdio.
//
//     node ts_tasks.mjs SERVER_BINARY
//
// The SDK starts `SERVER_BINARY stdio` itself. It is loaded from MCP_TS_SDK (default:
// `.tools/npm/node_modules/@modelcontextprotocol/sdk` at the repository's root, where
// `scripts/install-peers` puts it). The script prints one JSON object describing what the
// server answered, and `interop_ts_tasks.rs` asserts on it. Anything unexpected throws, which
// exits non-zero with the error on stderr.

import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const STEP_TIMEOUT_MS = 20_000;

const here = dirname(fileURLToPath(import.meta.url));
const sdkDir =
    process.env.MCP_TS_SDK ?? join(here, '../../../.tools/npm/node_modules/@modelcontextprotocol/sdk');
const sdk = (path) => import(pathToFileURL(join(sdkDir, 'dist/esm', path)).href);

const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');
const { CallToolResultSchema, ElicitRequestSchema } = await sdk('types.js');

const server = process.argv[2];
if (!server) {
    throw new Error('usage: node ts_tasks.mjs SERVER_BINARY');
}

const client = new Client(
    { name: 'ts-tasks-interop', version: '1.0.0' },
    { capabilities: { elicitation: { form: {} } } },
);
const elicited = [];
client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicited.push({
        message: request.params.message,
        relatedTask: request.params._meta?.['io.modelcontextprotocol/related-task']?.taskId ?? null,
    });
    return { action: 'accept', content: { approved: true } };
});

const transport = new StdioClientTransport({ command: server, args: ['stdio'], stderr: 'inherit' });
await client.connect(transport);
const opts = { timeout: STEP_TIMEOUT_MS };
const tasks = client.experimental.tasks;
const out = {};

const caps = client.getServerCapabilities() ?? {};
out.tasks_capability = caps.tasks ?? null;
const listed = await client.listTools({}, opts);
out.task_support = Object.fromEntries(
    listed.tools.filter((t) => t.execution?.taskSupport).map((t) => [t.name, t.execution.taskSupport]),
);

/// Runs a tool as a task through the SDK's stream: the kinds of messages seen, the task id,
/// the statuses polled and the final result (or error message).
async function stream(name, args) {
    const seen = { kinds: [], statuses: [], taskId: null, result: null, error: null };
    const messages = tasks.callToolStream({ name, arguments: args }, CallToolResultSchema, {
        ...opts,
        task: { ttl: 60_000 },
    });
    for await (const m of messages) {
        seen.kinds.push(m.type);
        if (m.type === 'taskCreated') seen.taskId = m.task.taskId;
        if (m.type === 'taskStatus') seen.statuses.push(m.task.status);
        if (m.type === 'result') seen.result = m.result;
        if (m.type === 'error') seen.error = m.error.message;
    }
    // Each kind once is enough to compare.
    seen.kinds = [...new Set(seen.kinds)];
    return seen;
}

// Created, polled until completed, result read with tasks/result.
const crunch = await stream('crunch', { numbers: 4, step_ms: 50 });
out.crunch = {
    kinds: crunch.kinds,
    last_status: crunch.statuses.at(-1),
    text: crunch.result?.content?.[0]?.text ?? null,
};
// The same task again, by id: tasks/get, tasks/result, tasks/list.
const got = await tasks.getTask(crunch.taskId, opts);
out.crunch_get = { status: got.status, ttl: got.ttl, poll_interval: got.pollInterval ?? null };
const again = await tasks.getTaskResult(crunch.taskId, CallToolResultSchema, opts);
out.crunch_result = {
    text: again.content?.[0]?.text ?? null,
    related: again._meta?.['io.modelcontextprotocol/related-task']?.taskId === crunch.taskId,
};
const list = await tasks.listTasks(undefined, opts);
out.listed = list.tasks.some((t) => t.taskId === crunch.taskId && t.status === 'completed');

// A job whose task fails.
const failing = await stream('failing_job', {});
out.failing = { kinds: failing.kinds, last_status: failing.statuses.at(-1), error: failing.error };

// A task that asks the user midway (the elicitation is tied to the task).
const approve = await stream('approve', { action: 'ship it' });
out.approve = {
    text: approve.result?.content?.[0]?.text ?? null,
    asked_for_the_task: elicited.some((e) => e.relatedTask === approve.taskId),
};

// A long task, cancelled.
const created = await client.request(
    { method: 'tools/call', params: { name: 'crunch', arguments: { numbers: 100, step_ms: 1000 }, task: { ttl: 60_000 } } },
    (await sdk('types.js')).CreateTaskResultSchema,
    opts,
);
const cancelled = await tasks.cancelTask(created.task.taskId, opts);
out.cancel = {
    answer: cancelled.status,
    after: (await tasks.getTask(created.task.taskId, opts)).status,
};

await client.close();
console.log(JSON.stringify(out));
