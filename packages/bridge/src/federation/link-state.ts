/** What /readyz and metrics read about one link. */
export interface LinkState {
  readonly bridgeId: string;
  /** dialer: we dial it (--join); listener: it dialed us. */
  readonly role: 'dialer' | 'listener';
  readonly up: boolean;
  /** When the link last came up or went down (ms since the epoch). */
  readonly sinceMs: number;
  /** Why it last went down or failed to come up. */
  readonly lastError: string | null;
  /** Dial attempts since it was last up (dialer only). */
  readonly attempts: number;
}
