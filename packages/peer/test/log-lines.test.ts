import { once } from 'node:events';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Peer, type StateChange } from '../src/index.js';
import { TestResources } from './helpers/resources.js';

/** The keys of a JSON object's top level, in order, repeats included (JSON.parse would fold them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let end = i + 1;
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(line.slice(i + 1, end));
      expectKey = false;
      i = end;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

describe('log lines', () => {
  const resources = new TestResources();
  afterEach(() => resources.cleanup());

  it('name each key once: a peer talking to another logs it as remotePeerId, each part as its own component', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const dir = await resources.dir();
    const peers = ['ada', 'bob'].map(
      (name) =>
        new Peer({
          name,
          dataDir: join(dir, name),
          listenHost: '127.0.0.1',
          web: { port: 0 },
          logger: pino({ level: 'debug', base: { name } }, sink),
        }),
    );
    const [ada, bob] = peers as [Peer, Peer];
    try {
      await Promise.all(peers.map((p) => p.start()));
      await ada.contact(`127.0.0.1:${bob.greetingPort}`);
      const delivered = new Promise<void>((resolve) =>
        ada.on('state', (change: StateChange) => change.state === 'delivered' && resolve()),
      );
      await ada.send(bob.id, 'hello');
      await delivered;
    } finally {
      await Promise.all(peers.map((p) => p.stop()));
    }
    await once(sink.end() as Writable, 'finish').catch(() => {});
    expect(lines.length).toBeGreaterThan(5);
    const components = new Set<string>();
    for (const line of lines) {
      const keys = topLevelKeys(line);
      expect(
        keys.filter((key, i) => keys.indexOf(key) !== i),
        line,
      ).toEqual([]);
      const component = (JSON.parse(line) as { component?: string }).component;
      if (component) components.add(component);
    }
    expect([...components]).toEqual(expect.arrayContaining(['peer', 'web']));
    expect(lines.some((line) => line.includes('"msg":"session open"') && line.includes('"remotePeerId"'))).toBe(true);
  });
});
