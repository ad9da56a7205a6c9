/**
 * The YAML the stand-in reads from deploy/traefik/traefik.yml: block mappings, block lists of
 * scalars, plain or quoted scalars, comments. The stand-in's image has no node_modules, hence
 * no YAML library; anything beyond this subset (flow collections, anchors, multi-line
 * strings) is refused with the line, rather than read wrongly.
 */
export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  indent: number;
  text: string;
  number: number;
}

export class YamlSubsetError extends Error {
  override name = 'YamlSubsetError';
}

export function parseYamlSubset(source: string): { [key: string]: YamlValue } {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, index) => {
    const text = withoutComment(raw).trimEnd();
    if (text.trim() === '' || text.trim() === '---') return;
    if (/^\s*\t/.test(raw)) throw new YamlSubsetError(`line ${index + 1}: tabs for indentation`);
    lines.push({ indent: text.length - text.trimStart().length, text: text.trim(), number: index + 1 });
  });
  const at = { i: 0 };
  const value = block(lines, at, 0);
  if (at.i < lines.length) throw new YamlSubsetError(`line ${lines[at.i]?.number}: unexpected indentation`);
  if (typeof value === 'string' || Array.isArray(value)) throw new YamlSubsetError('the top level must be a mapping');
  return value;
}

function block(lines: Line[], at: { i: number }, indent: number): YamlValue {
  const first = lines[at.i];
  if (!first || first.indent < indent) return {};
  return first.text.startsWith('- ') || first.text === '-'
    ? list(lines, at, first.indent)
    : mapping(lines, at, first.indent);
}

function mapping(lines: Line[], at: { i: number }, indent: number): { [key: string]: YamlValue } {
  const out: { [key: string]: YamlValue } = {};
  for (let line = lines[at.i]; line && line.indent === indent; line = lines[at.i]) {
    const match = /^("[^"]*"|'[^']*'|[^\s:'"][^:]*?)\s*:(?:\s+(.*))?$/.exec(line.text);
    if (!match)
      throw new YamlSubsetError(`line ${line.number}: expected "key: value", got ${JSON.stringify(line.text)}`);
    const key = String(scalar(match[1] as string, line.number));
    if (key in out) throw new YamlSubsetError(`line ${line.number}: ${key} given twice`);
    at.i++;
    const rest = match[2];
    if (rest !== undefined && rest !== '') out[key] = scalar(rest, line.number);
    else {
      const next = lines[at.i];
      out[key] = next && next.indent > indent ? block(lines, at, next.indent) : '';
    }
  }
  return out;
}

function list(lines: Line[], at: { i: number }, indent: number): YamlValue[] {
  const out: YamlValue[] = [];
  for (let line = lines[at.i]; line && line.indent === indent && line.text.startsWith('-'); line = lines[at.i]) {
    const item = line.text.slice(1).trim();
    if (item === '' || /^[^'"][^:]*:(\s|$)/.test(item)) {
      throw new YamlSubsetError(`line ${line.number}: only lists of plain values are read here`);
    }
    out.push(scalar(item, line.number));
    at.i++;
  }
  return out;
}

function scalar(text: string, number: number): YamlValue {
  // The empty collections Traefik's examples use (`tls: {}`); other flow collections are refused.
  if (text === '{}') return {};
  if (text === '[]') return [];
  if (/^["'].*["']$/.test(text) && text.length >= 2) {
    const inner = text.slice(1, -1);
    if (text.startsWith('"') && /\\/.test(inner)) throw new YamlSubsetError(`line ${number}: escapes in strings`);
    return text.startsWith("'") ? inner.replaceAll("''", "'") : inner;
  }
  if (/^[[{&*!|>%@`]/.test(text))
    throw new YamlSubsetError(`line ${number}: ${JSON.stringify(text)} is beyond this YAML subset`);
  return text;
}

/** A line without its comment: a `#` at the start or after a space, outside quotes. */
function withoutComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) return line.slice(0, i);
  }
  return line;
}
