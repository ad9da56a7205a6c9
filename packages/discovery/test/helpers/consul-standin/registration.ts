import { parseGoDuration } from './duration.js';
import { HttpError } from './http-error.js';

export type CheckStatus = 'passing' | 'warning' | 'critical';

export function isCheckStatus(value: unknown): value is CheckStatus {
  return value === 'passing' || value === 'warning' || value === 'critical';
}

export interface CheckDefinition {
  readonly id: string;
  readonly name: string;
  readonly notes: string;
  readonly ttlMs: number;
  /** Undefined means Consul's default for a TTL check: critical. */
  readonly status: CheckStatus | undefined;
  readonly deregisterCriticalServiceAfterMs: number | undefined;
}

export interface ServiceDefinition {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly address: string;
  readonly port: number;
  /** Null when the registration had none: Consul answers `"Meta": null` then, and clients must cope. */
  readonly meta: Readonly<Record<string, string>> | null;
  readonly checks: readonly CheckDefinition[];
}

/** Keys of the check kinds Consul runs itself (HTTP, TCP, scripts, aliases...); the stand-in has no prober. */
const PROBED_CHECK_KEYS = [
  'http',
  'tcp',
  'udp',
  'grpc',
  'h2ping',
  'args',
  'script',
  'osservice',
  'aliasnode',
  'aliasservice',
  'interval',
];

type Fields = ReadonlyMap<string, unknown>;

function decodeError(detail: string): HttpError {
  return new HttpError(400, `Request decode failed: ${detail}`);
}

/**
 * Consul decodes with Go's case-insensitive JSON and also takes snake_case aliases
 * (`deregister_critical_service_after`), so keys are compared lowercased and without underscores.
 */
function fieldsOf(value: unknown, label: string): Fields | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw decodeError(`${label} must be a JSON object`);
  return new Map(Object.entries(value).map(([key, field]) => [key.replaceAll('_', '').toLowerCase(), field]));
}

function isZero(value: unknown): boolean {
  return value === undefined || value === null || value === '' || value === 0 || value === false;
}

function optionalString(fields: Fields, key: string, label: string): string | undefined {
  const value = fields.get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw decodeError(`${label} must be a string`);
  return value;
}

function optionalInteger(fields: Fields, key: string, label: string): number | undefined {
  const value = fields.get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw decodeError(`${label} must be an integer`);
  return value;
}

function optionalStrings(fields: Fields, key: string, label: string): string[] | undefined {
  const value = fields.get(key);
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw decodeError(`${label} must be an array of strings`);
  }
  return [...value];
}

function optionalStringMap(fields: Fields, key: string, label: string): Record<string, string> | undefined {
  const value = fields.get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw decodeError(`${label} must be an object`);
  const entries = Object.entries(value);
  if (!entries.every((entry): entry is [string, string] => typeof entry[1] === 'string')) {
    throw decodeError(`${label} values must be strings`);
  }
  return Object.fromEntries(entries);
}

/** Consul takes durations as Go strings ("3s") or as numbers of nanoseconds. */
function optionalDurationMs(fields: Fields, key: string, label: string): number | undefined {
  const value = fields.get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value / 1e6;
  if (typeof value !== 'string') throw decodeError(`${label} must be a duration`);
  const ms = parseGoDuration(value);
  if (ms === undefined) throw decodeError(`time: invalid duration "${value}"`);
  return ms;
}

function decodeCheck(fields: Fields, position: number, count: number, service: { id: string; name: string }) {
  if (PROBED_CHECK_KEYS.some((key) => !isZero(fields.get(key)))) {
    throw new HttpError(400, 'Invalid check: the Consul stand-in runs TTL checks only');
  }
  const ttlMs = optionalDurationMs(fields, 'ttl', 'TTL');
  if (ttlMs === undefined || ttlMs <= 0) throw new HttpError(400, 'Invalid check: TTL must be > 0 for TTL checks');
  const status = optionalString(fields, 'status', 'Status') || undefined;
  if (status !== undefined && !isCheckStatus(status)) {
    throw new HttpError(400, "Status for checks must 'passing', 'warning', 'critical'");
  }
  // Consul numbers default check IDs only when the service has several checks.
  const defaultId = count > 1 ? `service:${service.id}:${position + 1}` : `service:${service.id}`;
  const deregisterAfterMs = optionalDurationMs(
    fields,
    'deregistercriticalserviceafter',
    'DeregisterCriticalServiceAfter',
  );
  return {
    id: optionalString(fields, 'checkid', 'CheckID') || defaultId,
    name: optionalString(fields, 'name', 'Name') || `Service '${service.name}' check`,
    notes: optionalString(fields, 'notes', 'Notes') ?? '',
    ttlMs,
    status,
    deregisterCriticalServiceAfterMs:
      deregisterAfterMs !== undefined && deregisterAfterMs > 0 ? deregisterAfterMs : undefined,
  } satisfies CheckDefinition;
}

/** Reads the body of `PUT /v1/agent/service/register`, refusing what Consul refuses, with Consul's messages. */
export function decodeServiceRegistration(body: unknown): ServiceDefinition {
  const fields: Fields = fieldsOf(body, 'body') ?? new Map();
  const name = optionalString(fields, 'name', 'Name') ?? '';
  const id = optionalString(fields, 'id', 'ID') || name;
  const tags = optionalStrings(fields, 'tags', 'Tags') ?? [];
  const address = optionalString(fields, 'address', 'Address') ?? '';
  const port = optionalInteger(fields, 'port', 'Port') ?? 0;
  const meta = optionalStringMap(fields, 'meta', 'Meta') ?? null;
  const single = fieldsOf(fields.get('check'), 'Check');
  const many = fields.get('checks');
  if (many !== undefined && many !== null && !Array.isArray(many)) throw decodeError('Checks must be an array');
  if (name === '') throw new HttpError(400, 'Missing service name');

  // Like Consul, an all-zero `Check` is no check at all, and `Check` comes before `Checks`.
  const raw: Fields[] = [];
  if (single && ![...single.values()].every(isZero)) raw.push(single);
  for (const [position, item] of (many ?? []).entries()) raw.push(fieldsOf(item, `Checks[${position}]`) ?? new Map());
  const checks = raw.map((check, position) => decodeCheck(check, position, raw.length, { id, name }));
  return { id, name, tags, address, port, meta, checks };
}
