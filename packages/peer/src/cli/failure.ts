import type { CliConfig } from './config.js';

export interface Failure {
  /** Lines for stderr, the first without its `peer: ` prefix. */
  lines: string[];
  /** 2 for usage mistakes, 1 for everything else. */
  exitCode: 1 | 2;
}

/** Maps an error that stops the command to what the user reads and the exit code. */
export function describeFailure(err: unknown, config?: CliConfig): Failure {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'ConfigError':
    case 'DiscoveryConfigError':
      return { lines: [message, 'Run "peer --help" for usage.'], exitCode: 2 };
    case 'DiscoveryStartError':
      return { lines: [message], exitCode: 1 };
    case 'PortInUseError':
      return {
        lines: [message, 'Choose free ports with --greeting-port and --secure-port (0 picks any free port).'],
        exitCode: 1,
      };
    case 'IdentityFileError':
      return {
        lines: [
          message,
          `The identity (key pair) lives in ${config?.dataDir ?? 'the data dir'}; use another --data-dir to start as a different peer.`,
        ],
        exitCode: 1,
      };
    default:
      return {
        lines: [
          `unexpected error: ${message}`,
          config && config.logFile !== '-' ? `Details are in the log file ${config.logFile}.` : '',
        ].filter(Boolean),
        exitCode: 1,
      };
  }
}
