import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ServiceLabeller } from '../src/orchestrator/swarm/service-labeller.js';

interface Applied {
  serviceId: string;
  labels: Record<string, string>;
  at: number;
}

/** A labeller whose changes are recorded (each takes `takesMs`), with how many ran at once. */
function recording(timing: { quietMs: number; maxWaitMs: number }, takesMs = 5) {
  const applied: Applied[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const begun = Date.now();
  const labeller = new ServiceLabeller(
    async (serviceId, labels) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, takesMs));
      running--;
      if (serviceId === 'broken') throw new Error('the engine said no');
      applied.push({ serviceId, labels, at: Date.now() - begun });
    },
    pino({ level: 'silent' }),
    timing,
  );
  return { labeller, applied, mostAtOnce: () => mostAtOnce };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ServiceLabeller', () => {
  it('waits for a quiet moment, then labels one service at a time, each once with all its labels', async () => {
    const { labeller, applied, mostAtOnce } = recording({ quietMs: 150, maxWaitMs: 5_000 });
    labeller.add('a', { 'peer-id': 'pa' });
    labeller.add('b', { 'peer-id': 'pb' });
    await sleep(50);
    labeller.add('a', { owner: 'ada' });
    await sleep(100);
    expect(applied).toEqual([]);
    await expect.poll(() => applied.length, { timeout: 2_000 }).toBe(2);
    expect(applied.map(({ serviceId, labels }) => ({ serviceId, labels }))).toEqual([
      { serviceId: 'a', labels: { 'peer-id': 'pa', owner: 'ada' } },
      { serviceId: 'b', labels: { 'peer-id': 'pb' } },
    ]);
    expect(applied[0]?.at).toBeGreaterThanOrEqual(190);
    expect(mostAtOnce()).toBe(1);
  });

  it('does not wait longer than its longest wait while labels keep coming', async () => {
    const { labeller, applied } = recording({ quietMs: 100, maxWaitMs: 300 });
    for (let i = 0; i < 12; i++) {
      labeller.add(`s${i}`, { owner: `u${i}` });
      await sleep(50);
    }
    // 600 ms of claims 50 ms apart, never 100 ms quiet: the first labels went on all the same.
    expect(applied.length).toBeGreaterThan(0);
    expect(applied[0]?.at).toBeLessThan(500);
    await labeller.settled();
    expect(applied.map((a) => a.serviceId).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `s${i}`).sort());
  });

  it('applies what waits at once when settled, and a failed change does not stop the others', async () => {
    const { labeller, applied } = recording({ quietMs: 60_000, maxWaitMs: 60_000 });
    labeller.add('broken', { owner: 'x' });
    labeller.add('c', { owner: 'cy' });
    const begun = Date.now();
    await labeller.settled();
    expect(Date.now() - begun).toBeLessThan(1_000);
    expect(applied.map((a) => a.serviceId)).toEqual(['c']);
    // Labels added while earlier ones are applied are applied too before settled resolves.
    labeller.add('d', { owner: 'dee' });
    const settling = labeller.settled();
    labeller.add('e', { owner: 'eve' });
    await settling;
    expect(applied.map((a) => a.serviceId)).toEqual(['c', 'd', 'e']);
  });
});
