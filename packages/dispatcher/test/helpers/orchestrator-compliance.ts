import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Orchestrator, PeerInstance } from '../../src/index.js';

/** What the shared suite needs of one kind of orchestrator. */
export interface OrchestratorHarness {
  /** A new orchestrator over the same place (data root, pool): as after a dispatcher restart. */
  create(): Orchestrator;
  /** Kills the peer the hard way (kill -9 of the process, docker kill of the container). */
  kill(instance: PeerInstance): Promise<void>;
  /** An orchestrator whose starts must fail, and what the error must say. */
  broken(): { orchestrator: Orchestrator; error: RegExp };
  cleanup(): Promise<void>;
}

/** The behaviour every Orchestrator shares; each implementation runs it with its own harness. */
export function orchestratorCompliance(name: string, setup: () => Promise<OrchestratorHarness>, timeoutMs = 60_000) {
  describe(`${name}: the Orchestrator compliance suite`, () => {
    let harness: OrchestratorHarness;
    let orchestrator: Orchestrator;
    beforeEach(async () => {
      harness = await setup();
      orchestrator = harness.create();
      await orchestrator.resume();
    }, timeoutMs);
    afterEach(async () => {
      await orchestrator.close();
      await harness.cleanup();
    }, timeoutMs);

    it(
      'starts peers, each with an identity of its own; list and inspect show them',
      async () => {
        const [a, b] = await Promise.all([orchestrator.start({ name: 'ada' }), orchestrator.start({ name: 'bob' })]);
        expect(a.peerId).toMatch(/^[a-z2-7]{32}$/);
        expect(a.peerId).not.toBe(b.peerId);
        expect(a.instanceId).not.toBe(b.instanceId);
        expect(
          orchestrator
            .list()
            .map((i) => i.instanceId)
            .sort(),
        ).toEqual([a.instanceId, b.instanceId].sort());
        expect(orchestrator.inspect(a.instanceId)).toMatchObject({ state: 'running', restarts: 0, name: 'ada' });
        expect(orchestrator.inspect('p-000000000000')).toBeNull();
        // Starting it again by id is the same instance.
        expect((await orchestrator.start({ name: 'ada', instanceId: a.instanceId })).peerId).toBe(a.peerId);
      },
      timeoutMs,
    );

    it(
      'brings a killed peer back with the same identity, telling of its death and its return',
      async () => {
        const instance = await orchestrator.start({ name: 'ada' });
        const died = once(orchestrator, 'died');
        const restarted = once(orchestrator, 'restarted');
        await harness.kill(instance);
        const [dead] = (await died) as [PeerInstance];
        expect(dead).toMatchObject({ instanceId: instance.instanceId, peerId: instance.peerId });
        const [back] = (await restarted) as [PeerInstance];
        expect(back).toMatchObject({ instanceId: instance.instanceId, peerId: instance.peerId, restarts: 1 });
        expect(orchestrator.inspect(instance.instanceId)?.state).toBe('running');
      },
      timeoutMs * 2,
    );

    it(
      'stops a peer for good; with deleteData its identity is gone too',
      async () => {
        const kept = await orchestrator.start({ name: 'ada' });
        const deleted = await orchestrator.start({ name: 'bob' });
        await orchestrator.stop(kept.instanceId);
        await orchestrator.stop(deleted.instanceId, { deleteData: true });
        expect(orchestrator.list()).toEqual([]);
        // The kept one comes back as itself; the deleted one cannot.
        expect((await orchestrator.start({ name: 'ada', instanceId: kept.instanceId })).peerId).toBe(kept.peerId);
        await expect(orchestrator.start({ name: 'bob', instanceId: deleted.instanceId })).rejects.toThrow(/any more/);
        // Stopping what is not there is no error.
        await orchestrator.stop('p-000000000000');
      },
      timeoutMs * 2,
    );

    it(
      'after a restart of the dispatcher, a new orchestrator has each instance back as the same peer',
      async () => {
        const before = await Promise.all([orchestrator.start({ name: 'ada' }), orchestrator.start({ name: 'bob' })]);
        await orchestrator.close();
        orchestrator = harness.create();
        await orchestrator.resume();
        for (const instance of before) {
          const again = await orchestrator.start({ name: instance.name, instanceId: instance.instanceId });
          expect(again.peerId).toBe(instance.peerId);
        }
        expect(orchestrator.list()).toHaveLength(2);
      },
      timeoutMs * 2,
    );

    it(
      'says why a peer could not start, and keeps nothing of it',
      async () => {
        const { orchestrator: broken, error } = harness.broken();
        try {
          await broken.resume();
          const failed = await broken.start({ name: 'ada' }).catch((err: Error) => err);
          expect(failed).toBeInstanceOf(Error);
          expect((failed as Error).message).toMatch(error);
          expect(broken.list()).toEqual([]);
        } finally {
          await broken.close();
        }
      },
      timeoutMs,
    );
  });
}
