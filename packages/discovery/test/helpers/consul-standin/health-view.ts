import { byteOrder, type CheckRecord, NODE, type ServiceInstance } from './agent-state.js';
import type { CheckStatus } from './registration.js';

/** One element of Consul's `GET /v1/health/service/:service` answer (the fields clients read). */
export interface HealthEntry {
  Node: {
    ID: string;
    Node: string;
    Address: string;
    Datacenter: string;
    TaggedAddresses: Record<string, string>;
    Meta: Record<string, string>;
    CreateIndex: number;
    ModifyIndex: number;
  };
  Service: {
    ID: string;
    Service: string;
    Tags: string[];
    Address: string;
    Meta: Record<string, string> | null;
    Port: number;
    Weights: { Passing: number; Warning: number };
    EnableTagOverride: boolean;
    CreateIndex: number;
    ModifyIndex: number;
  };
  Checks: HealthCheckEntry[];
}

export interface HealthCheckEntry {
  Node: string;
  CheckID: string;
  Name: string;
  Status: CheckStatus;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
  Interval: string;
  Timeout: string;
  ExposedPort: number;
  Definition: Record<string, never>;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface HealthFilter {
  /** `?passing`: keep only instances whose every check, node checks included, is passing. */
  readonly passingOnly: boolean;
  /** `?tag` (repeatable): keep only instances that carry all of them, compared case-insensitively as Consul does. */
  readonly tags: readonly string[];
}

/** A real agent's node check; it is part of every instance's health, so `?passing` looks at it too. */
const SERF_HEALTH: HealthCheckEntry = {
  Node: NODE.name,
  CheckID: 'serfHealth',
  Name: 'Serf Health Status',
  Status: 'passing',
  Notes: '',
  Output: 'Agent alive and reachable',
  ServiceID: '',
  ServiceName: '',
  ServiceTags: [],
  Type: '',
  Interval: '',
  Timeout: '',
  ExposedPort: 0,
  Definition: {},
  CreateIndex: NODE.index,
  ModifyIndex: NODE.index,
};

export function healthEntries(instances: readonly ServiceInstance[], filter: HealthFilter): HealthEntry[] {
  return instances
    .filter(({ service }) => {
      const tags = new Set(service.tags.map((tag) => tag.toLowerCase()));
      return filter.tags.every((tag) => tags.has(tag.toLowerCase()));
    })
    .map(toEntry)
    .filter((entry) => !filter.passingOnly || entry.Checks.every((check) => check.Status === 'passing'));
}

function toEntry({ service, checks }: ServiceInstance): HealthEntry {
  const serviceChecks = checks.map((check) => toCheck(check, service.name, service.tags));
  return {
    Node: {
      ID: NODE.id,
      Node: NODE.name,
      Address: NODE.address,
      Datacenter: NODE.datacenter,
      TaggedAddresses: { lan: NODE.address, lan_ipv4: NODE.address, wan: NODE.address, wan_ipv4: NODE.address },
      Meta: { 'consul-network-segment': '' },
      CreateIndex: NODE.index,
      ModifyIndex: NODE.index,
    },
    Service: {
      ID: service.id,
      Service: service.name,
      Tags: service.tags,
      // Empty when the registration gave none: clients are expected to fall back to Node.Address.
      Address: service.address,
      Meta: service.meta,
      Port: service.port,
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      CreateIndex: service.createIndex,
      ModifyIndex: service.modifyIndex,
    },
    // Consul lists a node's checks by check ID, so serfHealth sorts among the service's own.
    Checks: [SERF_HEALTH, ...serviceChecks].sort((a, b) => byteOrder(a.CheckID, b.CheckID)),
  };
}

function toCheck(check: CheckRecord, serviceName: string, serviceTags: string[]): HealthCheckEntry {
  return {
    Node: NODE.name,
    CheckID: check.id,
    Name: check.name,
    Status: check.status,
    Notes: check.notes,
    Output: check.output,
    ServiceID: check.serviceId,
    ServiceName: serviceName,
    ServiceTags: [...serviceTags],
    Type: 'ttl',
    Interval: '',
    Timeout: '',
    ExposedPort: 0,
    Definition: {},
    CreateIndex: check.createIndex,
    ModifyIndex: check.modifyIndex,
  };
}
