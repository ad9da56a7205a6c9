import type Docker from 'dockerode';

/** Tries of one label change while others update the same service (the orchestrator, say). */
const MAX_TRIES = 8;

export type LabelsChange = 'updated' | 'unchanged' | 'gone';

/**
 * Changes the labels of a Swarm service (its Spec.Labels, which Swarm keeps without touching
 * the running task), with the service's current version: when another update came in between,
 * Swarm answers "update out of sequence", and the change is made again on the newer spec.
 * A service that no longer exists is `gone`, not an error.
 */
export async function changeServiceLabels(
  docker: Docker,
  serviceName: string,
  change: (labels: Record<string, string>) => Record<string, string>,
): Promise<LabelsChange> {
  for (let tries = 1; ; tries++) {
    const service = docker.getService(serviceName);
    let info: Awaited<ReturnType<typeof service.inspect>>;
    try {
      info = await service.inspect();
    } catch (err) {
      if (statusOf(err) === 404) return 'gone';
      throw err;
    }
    const labels: Record<string, string> = info.Spec?.Labels ?? {};
    const next = change({ ...labels });
    if (sameLabels(labels, next)) return 'unchanged';
    try {
      await service.update({ _query: { version: info.Version?.Index }, _body: { ...info.Spec, Labels: next } });
      return 'updated';
    } catch (err) {
      if (statusOf(err) === 404) return 'gone';
      if (!outOfSequence(err) || tries >= MAX_TRIES) throw err;
    }
  }
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

/** Swarm's answer to an update made on a spec that changed meanwhile. */
function outOfSequence(err: unknown): boolean {
  return /update out of sequence/i.test(String((err as Error).message));
}
