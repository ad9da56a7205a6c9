import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The two processes of the raw grpc-js baseline (raw-grpc-worker), driven round by round. */
export class RawGrpcPair {
  readonly #children: ChildProcess[];
  readonly #client: ChildProcess;

  private constructor(children: ChildProcess[], client: ChildProcess) {
    this.#children = children;
    this.#client = client;
  }

  static async start(): Promise<RawGrpcPair> {
    const worker = fileURLToPath(new URL('./raw-grpc-worker.js', import.meta.url));
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    const server = fork(worker, ['server'], { stdio });
    const [info] = (await once(server, 'message')) as [{ port: number; certificatePem: string; id: string }];
    const client = fork(worker, ['client', String(info.port), info.certificatePem, info.id], { stdio });
    const pair = new RawGrpcPair([server, client], client);
    await once(client, 'message');
    return pair;
  }

  /** Streams `count` messages of `payloadBytes` one way; returns messages per second. */
  async round(spec: { count: number; payloadBytes: number }): Promise<number> {
    this.#client.send(spec);
    const [result] = (await once(this.#client, 'message')) as [{ messagesPerS: number }];
    return result.messagesPerS;
  }

  stop(): void {
    for (const child of this.#children) {
      if (child.connected) child.disconnect();
      child.kill();
    }
  }
}
