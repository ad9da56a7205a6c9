import type { Readable } from 'node:stream';

/** An event of the engine's stream (`GET /events`), the fields this project reads. */
export interface RawEngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  timeNano?: number;
}

/** Calls `each` with every event of the engine's stream: one JSON object a line. */
export function onEngineEvents(stream: Readable, each: (event: RawEngineEvent) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      let event: RawEngineEvent;
      try {
        event = JSON.parse(line) as RawEngineEvent;
      } catch {
        continue; // Not an event: nothing to tell.
      }
      each(event);
    }
  });
}
