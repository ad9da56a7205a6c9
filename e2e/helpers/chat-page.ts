import type { Locator, Page } from 'playwright-core';

/** Peers find each other through the dispatcher's catalog: allow for a few of its rounds. */
export const DISCOVERY_TIMEOUT_MS = 15_000;

/** The other peer's entry in the peer list (by id: names may be generated ones). */
export function peerItem(page: Page, peerId: string): Locator {
  return page.locator(`[data-testid="peer-item"][data-peer-id="${peerId}"]`);
}

/** Waits for `peerId` to show in the peer list, opens the conversation, and waits for it to be on screen. */
export async function openConversation(page: Page, peerId: string): Promise<void> {
  await peerItem(page, peerId).click({ timeout: DISCOVERY_TIMEOUT_MS });
  // The list marks the open conversation once its history is shown and marked read.
  await page.locator(`[data-testid="peer-item"][data-peer-id="${peerId}"].current`).waitFor();
}

/** The message in the open conversation whose text contains `text`. */
export function messageWithText(page: Page, text: string): Locator {
  return page.getByTestId('message').filter({ hasText: text });
}

/** Sends `text` in the open conversation; resolves once the page shows it. */
export async function sendMessage(page: Page, text: string): Promise<Locator> {
  await page.getByTestId('message-input').fill(text);
  await page.getByTestId('send-button').click();
  const message = messageWithText(page, text);
  await message.waitFor();
  return message;
}

/**
 * What the page script touches of a message item (the tests' lib has no DOM types): the
 * message's text is the item's own text node, the delivery mark a child element.
 */
interface MessageItem {
  readonly childNodes: ArrayLike<{ readonly nodeType: number; readonly textContent: string | null }>;
}

/** The texts of the open conversation's messages, in page order, without the delivery marks (read at once). */
export function messageTexts(page: Page): Promise<string[]> {
  return page.getByTestId('message').evaluateAll((items: readonly MessageItem[]) =>
    items.map((item) =>
      Array.from(item.childNodes)
        .filter((node) => node.nodeType === 3) // Node.TEXT_NODE
        .map((node) => node.textContent ?? '')
        .join(''),
    ),
  );
}
