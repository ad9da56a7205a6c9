/** The longest echo bob sends back, in characters. */
const MAX_ECHO = 60;

/**
 * What bob answers to a message: something that shows it was read, not just received (its
 * words and characters counted, and the text backwards).
 */
export function replyTo(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const words = flat === '' ? 0 : flat.split(' ').length;
  const characters = [...flat];
  const backwards = characters.reverse();
  const echo = backwards.length > MAX_ECHO ? `${backwards.slice(0, MAX_ECHO - 1).join('')}…` : backwards.join('');
  const greeting = /^(hi|hello|hey|hallo|bonjour|hola)\b/i.test(flat) ? 'hello to you too! ' : '';
  return `${greeting}got your ${count(words, 'word')}, ${count(characters.length, 'character')}; backwards: "${echo}"`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
