import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TurnBatch } from '../src/turn-batch.js';

describe('TurnBatch', () => {
  it('runs the calls of one turn together, in order, and each later turn on its own', async () => {
    const runs: number[][] = [];
    const batch = new TurnBatch<number, string>((inputs) => {
      runs.push([...inputs]);
      return inputs.map((n) => `#${n}`);
    });
    const first = await Promise.all([batch.add(1), batch.add(2), batch.add(3)]);
    expect(first).toEqual(['#1', '#2', '#3']);
    await nextTurn();
    expect(await batch.add(4)).toBe('#4');
    expect(runs).toEqual([[1, 2, 3], [4]]);
  });

  it('fails every call of a turn whose run throws, and goes on working after it', async () => {
    let fail = true;
    const batch = new TurnBatch<string, string>((inputs) => {
      if (fail) throw new Error('disk full');
      return inputs.map((s) => s.toUpperCase());
    });
    const failed = await Promise.allSettled([batch.add('a'), batch.add('b')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((failed[0] as PromiseRejectedResult).reason).toEqual(new Error('disk full'));
    fail = false;
    expect(await Promise.all([batch.add('c'), batch.add('d')])).toEqual(['C', 'D']);
  });
});
