import { readFlagsOf } from '@p2p-messenger/peer';
import { OPTIONS, type OptionKey } from './options.js';

/** The flags as given: every value of each, in order (booleans have the value ''). */
export type FlagValues = Map<OptionKey, string[]>;

/** Reads the flags against the bridge's option table, as the peer command reads its own. */
export function readFlags(argv: readonly string[]): FlagValues {
  return readFlagsOf(argv, OPTIONS, 'bridge');
}
