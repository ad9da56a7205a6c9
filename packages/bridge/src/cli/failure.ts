import type { BridgeConfig } from './config.js';

export interface Failure {
  /** Lines for stderr, the first without its `bridge: ` prefix. */
  lines: string[];
  /** 2 for configuration mistakes, 1 for everything else. */
  exitCode: 1 | 2;
}

/** Maps an error that stops the command to what the operator reads and the exit code. */
export function describeFailure(err: unknown, config?: BridgeConfig): Failure {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'ConfigError':
    case 'DiscoveryConfigError':
    case 'FederationConfigError':
      return { lines: [message, 'Run "bridge --help" for usage.'], exitCode: 2 };
    case 'PortInUseError':
    case 'FederationListenError':
    case 'DiscoveryStartError':
      return { lines: [message], exitCode: 1 };
    case 'IdentityFileError':
      return {
        lines: [
          message,
          `The key pair lives in ${config?.dataDir ?? 'the data dir'}; use another --data-dir to start as a different bridge.`,
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
