/**
 * Router rules, as far as the project writes them: `Host(`name`)` matchers joined by `||`
 * (Traefik v3 syntax: one host per Host(), in backquotes or double quotes). Anything else, an
 * `&&`, another matcher, a v2-style `Host(`a`, `b`)`, is refused rather than guessed at: the
 * router then serves nothing, as a router whose rule Traefik cannot parse.
 */
export class RuleError extends Error {
  override name = 'RuleError';
}

const HOST_MATCHER = /^Host\(\s*(`[^`]*`|"[^"]*")\s*\)$/;

/** The hosts a rule matches, in lower case. */
export function hostsOfRule(rule: string): string[] {
  const terms = splitOr(rule.trim());
  return terms.map((term) => {
    const match = HOST_MATCHER.exec(term.trim());
    if (!match) {
      throw new RuleError(
        `rule ${JSON.stringify(rule)}: the stand-in understands only Host(\`...\`) joined by ||, not ${JSON.stringify(term.trim())}`,
      );
    }
    const host = (match[1] as string).slice(1, -1);
    if (!/^[A-Za-z0-9.-]+$/.test(host))
      throw new RuleError(`rule ${JSON.stringify(rule)}: ${JSON.stringify(host)} is not a host name`);
    return host.toLowerCase();
  });
}

/** The rule split at `||` outside quotes (and refused when it has parentheses of its own). */
function splitOr(rule: string): string[] {
  const terms: string[] = [];
  let quote: string | null = null;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < rule.length; i++) {
    const c = rule[i] as string;
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === '`' || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && rule.startsWith('||', i)) {
      terms.push(rule.slice(start, i));
      start = i + 2;
      i++;
    }
    if (depth < 0 || depth > 1) throw new RuleError(`rule ${JSON.stringify(rule)}: grouping is beyond the stand-in`);
  }
  if (quote || depth !== 0) throw new RuleError(`rule ${JSON.stringify(rule)}: unbalanced quotes or parentheses`);
  terms.push(rule.slice(start));
  return terms;
}
