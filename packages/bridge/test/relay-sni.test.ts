import { once } from 'node:events';
import { createServer, type Server, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { parseClientHello } from '../src/relay/client-hello.js';
import type { ClientHelloError } from '../src/relay/sni-errors.js';
import { readServerName } from '../src/relay/sni-reader.js';

const PEER_ID = 'b7qx4k2abcdefghijklmnopqrstuvwxyz234567abcdefghijklm';

/** Servers and sockets a test opened, closed after it. */
const opened: Array<Server | Socket> = [];
afterEach(async () => {
  const items = opened.splice(0);
  // Sockets first: a server's close waits for its connections.
  for (const item of items) if (item instanceof Socket) item.destroy();
  for (const item of items) if (!(item instanceof Socket)) await new Promise((resolve) => item.close(resolve));
});

/** A TCP server that hands each accepted socket to the test. */
async function listen(): Promise<{ port: number; accepted: () => Promise<Socket> }> {
  const sockets: Socket[] = [];
  const waiters: Array<(socket: Socket) => void> = [];
  const server = createServer((socket) => {
    opened.push(socket);
    const waiter = waiters.shift();
    if (waiter) waiter(socket);
    else sockets.push(socket);
  });
  opened.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    accepted: () => {
      const ready = sockets.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/** The bytes node:tls sends first when it connects with this server name (or none). */
async function realClientHello(servername: string | undefined, extra: Record<string, unknown> = {}): Promise<Buffer> {
  const { port, accepted } = await listen();
  const client = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...extra });
  client.on('error', () => {});
  opened.push(client as unknown as Socket);
  const socket = await accepted();
  const chunks: Buffer[] = [];
  for (;;) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    chunks.push(chunk);
    const data = Buffer.concat(chunks);
    if (parseClientHello(data, 65_536).complete) return data;
  }
}

/** Re-frames a handshake into records of at most `size` bytes each (as a TLS stack may). */
function splitIntoRecords(hello: Buffer, size: number): Buffer {
  const fragments: Buffer[] = [];
  for (let at = 0; at < hello.length; at += 5 + hello.readUInt16BE(at + 3)) {
    fragments.push(hello.subarray(at + 5, at + 5 + hello.readUInt16BE(at + 3)));
  }
  const handshake = Buffer.concat(fragments);
  const records: Buffer[] = [];
  for (let at = 0; at < handshake.length; at += size) {
    const fragment = handshake.subarray(at, at + size);
    const header = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    header.writeUInt16BE(fragment.length, 3);
    records.push(header, fragment);
  }
  return Buffer.concat(records);
}

function failure(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect((err as Error).name).toBe('ClientHelloError');
    return (err as ClientHelloError).reason;
  }
  throw new Error('expected a ClientHelloError');
}

describe('parseClientHello', () => {
  it('reads the server name of a real ClientHello, and asks for more until it is whole', async () => {
    const hello = await realClientHello(PEER_ID);
    expect(parseClientHello(hello, 16_384)).toEqual({ complete: true, serverName: PEER_ID });
    for (const cut of [0, 1, 4, 5, 6, 40, hello.length - 1]) {
      expect(parseClientHello(hello.subarray(0, cut), 16_384)).toEqual({ complete: false });
    }
  });

  it('reads a ClientHello spread over several records', async () => {
    const hello = await realClientHello(PEER_ID);
    for (const size of [1, 3, 100]) {
      expect(parseClientHello(splitIntoRecords(hello, size), 16_384)).toEqual({ complete: true, serverName: PEER_ID });
    }
  });

  it('reads a ClientHello larger than one record', async () => {
    // A long ALPN list makes the hello grow past 16 KiB, so it must span two records.
    const protocols = Array.from({ length: 1_000 }, (_, i) => `protocol-number-${i}`);
    const hello = await realClientHello(PEER_ID, { ALPNProtocols: protocols });
    const records = splitIntoRecords(hello, 16_384);
    expect(records.readUInt16BE(3)).toBe(16_384);
    expect(parseClientHello(records, 32_768)).toEqual({ complete: true, serverName: PEER_ID });
    expect(failure(() => parseClientHello(records, 16_384))).toBe('too-large');
  });

  it('says when the ClientHello names no server', async () => {
    const hello = await realClientHello(undefined);
    expect(parseClientHello(hello, 16_384)).toEqual({ complete: true, serverName: null });
  });

  it('refuses what is not a ClientHello', async () => {
    expect(failure(() => parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n'), 16_384))).toBe('not-tls');
    expect(failure(() => parseClientHello(Buffer.from('G'), 16_384))).toBe('not-tls');
    expect(failure(() => parseClientHello(Buffer.from([0x16, 0x09, 0x01, 0, 4, 1, 0, 0, 0]), 16_384))).toBe('not-tls');
    // A record longer than TLS allows, and an empty one.
    expect(failure(() => parseClientHello(Buffer.from([0x16, 3, 1, 0x48, 1]), 16_384))).toBe('malformed');
    expect(failure(() => parseClientHello(Buffer.from([0x16, 3, 1, 0, 0]), 16_384))).toBe('malformed');
    // A ServerHello (type 2) where a ClientHello belongs.
    expect(failure(() => parseClientHello(Buffer.from([0x16, 3, 3, 0, 4, 2, 0, 0, 0]), 16_384))).toBe('malformed');
    // A handshake after a record of application data.
    expect(failure(() => parseClientHello(Buffer.from([0x17, 3, 3, 0, 1, 0]), 16_384))).toBe('not-tls');
  });

  it('refuses a ClientHello whose lengths point past its end, or whose name is no host name', async () => {
    const hello = await realClientHello(PEER_ID);
    // The session id length (at 5 + 4 + 2 + 32) claims more than the hello holds.
    const lying = Buffer.from(hello);
    lying[5 + 4 + 2 + 32] = 0xff;
    expect(failure(() => parseClientHello(lying, 16_384))).toBe('malformed');
    const at = hello.indexOf(Buffer.from(PEER_ID));
    const badName = Buffer.from(hello);
    badName[at] = 0x2f; // '/'
    expect(failure(() => parseClientHello(badName, 16_384))).toBe('malformed');
    // Cut short but framed as whole: the handshake says more than the record carries.
    const truncated = Buffer.from(hello.subarray(0, 60));
    truncated.writeUInt16BE(55, 3);
    truncated.writeUIntBE(51, 6, 3);
    expect(failure(() => parseClientHello(truncated, 16_384))).toBe('malformed');
  });

  it('refuses a ClientHello that announces more than the limit before it arrives', () => {
    const header = Buffer.from([0x16, 3, 1, 0, 4, 1, 0x01, 0, 0]);
    expect(failure(() => parseClientHello(header, 16_384))).toBe('too-large');
  });
});

describe('readServerName', () => {
  it('returns the name and every byte read, leaving the rest of the stream unread', async () => {
    const hello = await realClientHello(PEER_ID);
    const { port, accepted } = await listen();
    const client = new Socket();
    opened.push(client);
    client.connect(port, '127.0.0.1');
    const socket = await accepted();
    const read = readServerName(socket, { timeoutMs: 5_000 });
    // Sent in pieces, as a slow network splits it.
    for (let at = 0; at < hello.length; at += 50) {
      client.write(hello.subarray(at, at + 50));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const result = await read;
    expect(result.serverName).toBe(PEER_ID);
    expect(result.head.equals(hello)).toBe(true);
    client.write('after the hello');
    socket.resume();
    const [next] = (await once(socket, 'data')) as [Buffer];
    expect(next.toString()).toBe('after the hello');
  });

  async function readFrom(send: (client: Socket) => void, init = {}): Promise<string> {
    const { port, accepted } = await listen();
    const client = new Socket();
    opened.push(client);
    client.on('error', () => {});
    client.connect(port, '127.0.0.1');
    const socket = await accepted();
    const read = readServerName(socket, init);
    send(client);
    const err = await read.then(
      () => null,
      (e: unknown) => e as ClientHelloError,
    );
    expect(err?.name).toBe('ClientHelloError');
    return (err as ClientHelloError).reason;
  }

  it('refuses a hello without a server name, garbage, silence, an early close and endless records', async () => {
    const noName = await realClientHello(undefined);
    expect(await readFrom((c) => c.write(noName))).toBe('no-sni');
    expect(await readFrom((c) => c.write('SSH-2.0-OpenSSH_9.6\r\n'))).toBe('not-tls');
    const started = Date.now();
    expect(await readFrom(() => {}, { timeoutMs: 200 })).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const hello = await realClientHello(PEER_ID);
    expect(await readFrom((c) => c.end(hello.subarray(0, 30)))).toBe('closed');
    // One-byte records: the hello never completes within the bytes a reader allows.
    const dribble = splitIntoRecords(hello, 1);
    expect(await readFrom((c) => c.write(dribble), { maxHelloBytes: 1_024 })).toBe('too-large');
  });
});
