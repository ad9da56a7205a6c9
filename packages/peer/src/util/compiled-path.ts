import { fileURLToPath } from 'node:url';

/**
 * The path of a compiled sibling module, for code that starts it as a process or thread.
 * Tests load sources from src/ (TypeScript); what they start always runs from dist/.
 */
export function compiledSibling(moduleUrl: string, file: string): string {
  const url = new URL(file, moduleUrl);
  if (!moduleUrl.endsWith('.ts')) return fileURLToPath(url);
  return fileURLToPath(url).replace(/([/\\])src([/\\])(?!.*[/\\]src[/\\])/, '$1dist$2');
}
