import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AgentState, NODE } from './agent-state.js';
import { parseGoDuration } from './duration.js';
import { healthEntries } from './health-view.js';
import { HttpError } from './http-error.js';
import { deleteKey, putKey, readBody, transaction } from './kv-api.js';
import { readKv } from './kv-read.js';
import { type CheckStatus, decodeServiceRegistration } from './registration.js';

/** Consul's blocking-query limits (https://developer.hashicorp.com/consul/api-docs/features/blocking). */
const DEFAULT_WAIT_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;
const JITTER_FRACTION = 16;

interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

interface Call {
  readonly req: IncomingMessage;
  readonly query: URLSearchParams;
  /** The decoded path after a prefix route's prefix: the service or check ID. */
  readonly rest: string;
  /** Aborts when the client goes away (or the stand-in stops), so blocking queries stop waiting. */
  readonly signal: AbortSignal;
}

interface Route {
  readonly path: string;
  readonly prefix: boolean;
  readonly method: 'GET' | 'PUT' | 'DELETE';
  readonly handle: (call: Call) => Reply | Promise<Reply>;
}

const EMPTY: Reply = { status: 200, headers: {}, body: '' };

function json(value: unknown, headers: Readonly<Record<string, string>> = {}): Reply {
  return { status: 200, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

function text(status: number, message: string, headers: Readonly<Record<string, string>> = {}): Reply {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body: message };
}

/** Go's `strconv.ParseBool`, with a bare `?key` meaning true, as Consul reads `?passing`. */
function boolParam(query: URLSearchParams, key: string): boolean {
  const value = query.get(key);
  if (value === null) return false;
  if (['', '1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new HttpError(400, `Invalid value for ?${key}`);
}

function blockingParams(query: URLSearchParams): { minIndex: number; waitMs: number } {
  const index = query.get('index') ?? '';
  if (index !== '' && !/^\d+$/.test(index)) throw new HttpError(400, 'Invalid index');
  const wait = query.get('wait') ?? '';
  const waitMs = wait === '' ? 0 : parseGoDuration(wait);
  if (waitMs === undefined) throw new HttpError(400, 'Invalid wait time');
  const bounded = waitMs <= 0 ? DEFAULT_WAIT_MS : Math.min(waitMs, MAX_WAIT_MS);
  // Consul adds up to wait/16 so that many watchers do not all wake at once.
  return { minIndex: index === '' ? 0 : Number(index), waitMs: bounded + Math.random() * (bounded / JITTER_FRACTION) };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let body = '';
  req.setEncoding('utf8');
  for await (const chunk of req) body += chunk;
  // Go's decoder says "EOF" for an empty body, and Consul passes that on.
  if (body.trim() === '') throw new HttpError(400, 'Request decode failed: EOF');
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new HttpError(400, `Request decode failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function ttlUpdate(state: AgentState, status: CheckStatus) {
  return ({ rest, query }: Call): Reply => {
    if (!state.updateTtl(rest, status, query.get('note') ?? '')) {
      throw new HttpError(404, `CheckID "${rest}" does not have associated TTL`);
    }
    return EMPTY;
  };
}

function routesFor(state: AgentState): Route[] {
  return [
    {
      path: '/v1/agent/service/register',
      prefix: false,
      method: 'PUT',
      handle: async ({ req, query }) => {
        const definition = decodeServiceRegistration(await readJson(req));
        state.register(definition, boolParam(query, 'replace-existing-checks'));
        return EMPTY;
      },
    },
    {
      path: '/v1/agent/service/deregister/',
      prefix: true,
      method: 'PUT',
      handle: ({ rest }) => {
        if (!state.deregister(rest)) {
          throw new HttpError(
            404,
            `Unknown service ID "${rest}". Ensure that the service ID is passed, not the service name.`,
          );
        }
        return EMPTY;
      },
    },
    { path: '/v1/agent/check/pass/', prefix: true, method: 'PUT', handle: ttlUpdate(state, 'passing') },
    { path: '/v1/agent/check/warn/', prefix: true, method: 'PUT', handle: ttlUpdate(state, 'warning') },
    { path: '/v1/agent/check/fail/', prefix: true, method: 'PUT', handle: ttlUpdate(state, 'critical') },
    {
      path: '/v1/health/service/',
      prefix: true,
      method: 'GET',
      handle: async ({ rest, query, signal }) => {
        if (rest === '') throw new HttpError(400, 'Missing service name');
        const { minIndex, waitMs } = blockingParams(query);
        const filter = { passingOnly: boolParam(query, 'passing'), tags: query.getAll('tag') };
        // Blocks only while the client is current. One that is ahead (it saw an agent that has since been
        // replaced) is answered at once, so that it sees the lower index and resets, as clients must.
        if (minIndex > 0 && minIndex === state.index) await state.waitForChange(minIndex, waitMs, signal);
        return json(healthEntries(state.instancesOf(rest), filter), {
          'X-Consul-Index': String(state.index),
          'X-Consul-KnownLeader': 'true',
          'X-Consul-LastContact': '0',
        });
      },
    },
    {
      path: '/v1/agent/self',
      prefix: false,
      method: 'GET',
      handle: () =>
        json({
          Config: {
            Datacenter: NODE.datacenter,
            PrimaryDatacenter: NODE.datacenter,
            NodeName: NODE.name,
            NodeID: NODE.id,
            Server: true,
            Revision: 'stand-in',
          },
          Member: {
            Name: NODE.name,
            Addr: NODE.address,
            Port: 8301,
            Tags: { dc: NODE.datacenter, role: 'consul', id: NODE.id },
            Status: 1,
          },
          Meta: { 'consul-network-segment': '' },
        }),
    },
    {
      path: '/v1/kv/',
      prefix: true,
      method: 'GET',
      handle: async ({ rest, query, signal }) => {
        const { minIndex, waitMs } = blockingParams(query);
        const deadline = Date.now() + waitMs;
        let read = readKv(state, rest, query);
        // Blocks while what the client asked about is still at the index it saw (not merely while the
        // stand-in's index is): other writes wake the wait, but the read answers only once its own index moved.
        while (minIndex > 0 && read.index === minIndex && Date.now() < deadline && !signal.aborted) {
          const before = state.index;
          await state.waitForChange(before, deadline - Date.now(), signal);
          if (state.index === before) break;
          read = readKv(state, rest, query);
        }
        return {
          status: read.status,
          headers: {
            'Content-Type': read.contentType,
            'X-Consul-Index': String(read.index),
            'X-Consul-KnownLeader': 'true',
            'X-Consul-LastContact': '0',
          },
          body: read.body,
        };
      },
    },
    {
      path: '/v1/kv/',
      prefix: true,
      method: 'PUT',
      handle: async ({ req, rest, query }) => json(putKey(state, rest, query, await readBody(req))),
    },
    {
      path: '/v1/kv/',
      prefix: true,
      method: 'DELETE',
      handle: ({ rest, query }) => json(deleteKey(state, rest, query)),
    },
    {
      path: '/v1/txn',
      prefix: false,
      method: 'PUT',
      handle: async ({ req }) => {
        const { status, body } = transaction(state, await readJson(req));
        return {
          status,
          headers: { 'Content-Type': 'application/json', 'X-Consul-Index': String(state.index) },
          body: JSON.stringify(body),
        };
      },
    },
    { path: '/v1/status/leader', prefix: false, method: 'GET', handle: () => json(`${NODE.address}:8300`) },
  ];
}

async function reply(routes: readonly Route[], req: IncomingMessage, signal: AbortSignal): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://consul-standin');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return text(400, 'invalid URL escape');
  }
  const matching = routes.filter((route) => (route.prefix ? path.startsWith(route.path) : path === route.path));
  // Go's ServeMux answer, which is what Consul gives for paths it does not serve.
  if (matching.length === 0) return text(404, '404 page not found\n');
  const route = matching.find((candidate) => candidate.method === req.method);
  if (!route) return text(405, `method ${req.method} not allowed`, { Allow: matching[0]!.method });
  const rest = route.prefix ? path.slice(route.path.length) : '';
  return route.handle({ req, query: url.searchParams, rest, signal });
}

/** The stand-in's `request` listener: routes to the endpoints above, answering errors as Consul does. */
export function createRequestHandler(state: AgentState): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = routesFor(state);
  return (req, res) => {
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    reply(routes, req, gone.signal)
      .catch((error: unknown) =>
        error instanceof HttpError
          ? text(error.statusCode, error.message)
          : text(500, error instanceof Error ? error.message : String(error)),
      )
      .then(({ status, headers, body }) => {
        // The client may have gone, or stop() may have cut the connection, while a query blocked.
        if (res.destroyed || res.headersSent || res.socket?.destroyed) return;
        res.writeHead(status, headers).end(body);
      });
  };
}
