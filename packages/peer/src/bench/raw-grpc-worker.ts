/**
 * The baseline for bench:messaging: a bare @grpc/grpc-js bidi stream over TLS 1.3 between two
 * processes, carrying raw byte messages with no protocol, storage or sealing. Role `server`
 * counts messages and answers each round; role `client` sends rounds on request over IPC.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadOrCreateIdentity } from '../identity/local-identity.js';

const PATH = '/bench.Raw/Stream';
const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const definition: grpc.ServiceDefinition = {
  stream: {
    path: PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: raw.serialize as (v: unknown) => Buffer,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize as (v: unknown) => Buffer,
    responseDeserialize: raw.deserialize,
  },
};

async function identityIn(name: string) {
  const dir = await mkdtemp(join(tmpdir(), `raw-grpc-${name}-`));
  const identity = await loadOrCreateIdentity(dir);
  await rm(dir, { recursive: true, force: true });
  return identity;
}

async function server(): Promise<void> {
  const identity = await identityIn('server');
  const srv = new grpc.Server();
  srv.addService(definition, {
    stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      let expected = 0;
      let count = 0;
      call.on('data', (message: Buffer) => {
        // A 4-byte message announces a round of that many messages.
        if (expected === 0) {
          expected = message.readUInt32BE(0);
          count = 0;
          return;
        }
        if (++count === expected) {
          expected = 0;
          call.write(Buffer.from('done'));
        }
      });
      call.on('end', () => call.end());
    },
  });
  const creds = grpc.ServerCredentials.createSsl(null, [
    { private_key: Buffer.from(identity.privateKeyPem), cert_chain: Buffer.from(identity.certificatePem) },
  ]);
  srv.bindAsync('127.0.0.1:0', creds, (err, port) => {
    if (err) throw err;
    process.send?.({ port, certificatePem: identity.certificatePem, id: identity.id });
  });
  process.on('disconnect', () => srv.forceShutdown());
}

async function client(port: number, certificatePem: string, serverId: string): Promise<void> {
  const creds = grpc.credentials.createSsl(Buffer.from(certificatePem));
  const cl = new grpc.Client(`127.0.0.1:${port}`, creds, { 'grpc.ssl_target_name_override': serverId });
  const call = cl.makeBidiStreamRequest(PATH, raw.serialize, raw.deserialize);
  let roundDone: () => void = () => {};
  call.on('data', () => roundDone());
  process.on('message', async (request: { count: number; payloadBytes: number }) => {
    const payload = Buffer.alloc(request.payloadBytes, 120);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(request.count);
    const done = new Promise<void>((resolve) => (roundDone = resolve));
    const started = process.hrtime.bigint();
    call.write(header);
    for (let i = 0; i < request.count; i++) {
      if (!call.write(payload)) await new Promise((resolve) => call.once('drain', resolve));
    }
    await done;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.send?.({ messagesPerS: request.count / seconds });
  });
  process.on('disconnect', () => {
    call.end();
    cl.close();
  });
  process.send?.({ ready: true });
}

const [role, port, certificatePem, serverId] = process.argv.slice(2);
if (role === 'server') void server();
else void client(Number(port), certificatePem ?? '', serverId ?? '');
