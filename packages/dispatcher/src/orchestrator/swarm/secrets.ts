import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { LABELS } from './service-spec.js';
import { swarmErrorOf } from './swarm-errors.js';

export interface SwarmObjectRef {
  id: string;
  name: string;
}

/** Docker configs and secrets cannot change: each content gets a name of its own. */
function nameOf(pool: string, kind: string, content: string): string {
  return `p2pm-${pool}-${kind}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
}

function labelsOf(pool: string): Record<string, string> {
  return { [LABELS.project]: 'p2p-messenger', [LABELS.pool]: pool };
}

/**
 * A Docker config (public material: the ticket key) or secret (the catalog token) holding
 * `content`, made once; peers get it as a file.
 */
export async function ensureSwarmObject(
  docker: Docker,
  type: 'config' | 'secret',
  pool: string,
  kind: string,
  content: string,
): Promise<SwarmObjectRef> {
  const name = nameOf(pool, kind, content);
  const spec = { Name: name, Labels: labelsOf(pool), Data: Buffer.from(content).toString('base64') };
  const existing = async () => {
    const [found] =
      type === 'config'
        ? await docker.listConfigs({ filters: { name: [name] } })
        : await docker.listSecrets({ filters: { name: [name] } });
    return found?.ID ? { id: found.ID, name } : null;
  };
  const found = await existing();
  if (found) return found;
  try {
    const created = type === 'config' ? await docker.createConfig(spec) : await docker.createSecret(spec);
    return { id: (created as { id: string }).id, name };
  } catch (err) {
    // Peers started at once each find none and make it: the ones that lose use the winner's.
    const made = (err as { statusCode?: number }).statusCode === 409 ? await existing() : null;
    if (made) return made;
    throw swarmErrorOf(err, `creating the ${type} ${name}`);
  }
}
