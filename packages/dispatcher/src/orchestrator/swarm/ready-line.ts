import type { Readable } from 'node:stream';
import type Docker from 'dockerode';

/** What a peer prints on stdout once it runs (`peer --no-interactive`): who it is. */
export interface ReadyLine {
  id: string;
  fingerprint: string;
  greetingPort: number;
  securePort: number;
  webPort?: number;
}

/**
 * The first ready line in the service's stdout, following its logs as they come (a peer
 * prints it as soon as it answers; after a restart, its earlier one says the same: the
 * identity is in the volume). Rejects when `signal` aborts first.
 */
export async function followReadyLine(docker: Docker, serviceId: string, signal: AbortSignal): Promise<ReadyLine> {
  const logs = docker.getService(serviceId).logs({ stdout: true, stderr: false, follow: true });
  // Its tasks' failures are told by the task watch, with Swarm's reason: an end here says less.
  return readyLineOf((await logs) as unknown as Readable, signal, { endIsFinal: false });
}

/**
 * The ready line of one container (a task Swarm started again after a death): unlike the
 * service's logs, which still hold the line of the task before, it tells that this one is up.
 */
export async function followContainerReadyLine(
  docker: Docker,
  containerId: string,
  signal: AbortSignal,
): Promise<ReadyLine> {
  const logs = docker.getContainer(containerId).logs({ stdout: true, stderr: false, follow: true });
  return readyLineOf((await logs) as unknown as Readable, signal, { endIsFinal: true });
}

function readyLineOf(stream: Readable, signal: AbortSignal, init: { endIsFinal: boolean }): Promise<ReadyLine> {
  return new Promise<ReadyLine>((resolve, reject) => {
    let pending = Buffer.alloc(0);
    let text = '';
    const finish = (result: ReadyLine | Error) => {
      stream.destroy();
      signal.removeEventListener('abort', onAbort);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onAbort = () => finish(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    stream.on('data', (chunk: Buffer) => {
      // Multiplexed (no TTY): frames of an 8-byte header (stream, size) and the payload.
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8 && pending.length >= 8 + pending.readUInt32BE(4)) {
        const size = pending.readUInt32BE(4);
        text += pending.subarray(8, 8 + size).toString('utf8');
        pending = pending.subarray(8 + size);
      }
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
        const ready = readyLineIn(text.slice(0, end));
        text = text.slice(end + 1);
        if (ready) return finish(ready);
      }
    });
    stream.once('error', (err) => finish(err));
    // A container that ended before its line: no line will come.
    if (init.endIsFinal) stream.once('end', () => finish(new Error('the logs ended before a ready line')));
  });
}

function readyLineIn(line: string): ReadyLine | null {
  if (!line.startsWith('{')) return null;
  try {
    const parsed = JSON.parse(line) as Partial<ReadyLine>;
    const complete = typeof parsed.id === 'string' && typeof parsed.fingerprint === 'string' && parsed.greetingPort;
    return complete ? (parsed as ReadyLine) : null;
  } catch {
    return null;
  }
}
