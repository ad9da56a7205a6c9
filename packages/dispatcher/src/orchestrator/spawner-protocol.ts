/** What the dispatcher asks its spawner process. */
export type SpawnerRequest =
  | {
      type: 'spawn';
      key: number;
      command: string;
      args: string[];
      env: Record<string, string | undefined>;
      niceness: number;
    }
  | { type: 'kill'; key: number; signal: NodeJS.Signals };

/** What the spawner tells the dispatcher about each child, by the key it was asked with. */
export type SpawnerEvent =
  | { type: 'spawned'; key: number; pid: number }
  | { type: 'stdout' | 'stderr'; key: number; chunk: string }
  | { type: 'exit'; key: number; code: number | null; signal: NodeJS.Signals | null };
