/**
 * The key grammar of Traefik v3's Swarm-provider labels, as its routing reference documents
 * them (doc.traefik.io: "Traefik & Docker Swarm", and the middlewares' pages), and a check of
 * a service's labels against it: a key the grammar does not produce (a typo such as
 * `loadbalancer.server.prot`) is a problem, as are references to routers' middlewares and
 * services that no label declares, unknown entry points, and a network the service is not on.
 * Traefik reads label keys case-insensitively, so keys are compared in lower case.
 */

/** A router, service or middleware name: anything but dots, `@` (reserved for providers) and spaces. */
const NAME = '[^.@\\s]+';
const INDEX = '\\[\\d+\\]';

const TLS_OPTIONS = ['tls', 'tls.certresolver', 'tls.options', `tls.domains${INDEX}.main`, `tls.domains${INDEX}.sans`];

/** What HTTP and TCP routers both take. */
const ROUTER = ['rule', 'rulesyntax', 'entrypoints', 'middlewares', 'service', 'priority', ...TLS_OPTIONS];

const HTTP_ROUTER = [...ROUTER, 'observability.accesslogs', 'observability.metrics', 'observability.tracing'];

const HTTP_SERVICE = [
  'loadbalancer.server.port',
  'loadbalancer.server.scheme',
  'loadbalancer.serverstransport',
  'loadbalancer.passhostheader',
  'loadbalancer.responseforwarding.flushinterval',
  'loadbalancer.sticky.cookie',
  'loadbalancer.sticky.cookie.name',
  'loadbalancer.sticky.cookie.secure',
  'loadbalancer.sticky.cookie.httponly',
  'loadbalancer.sticky.cookie.samesite',
  'loadbalancer.sticky.cookie.maxage',
  'loadbalancer.sticky.cookie.path',
  ...['path', 'interval', 'timeout', 'hostname', 'port', 'scheme', 'method', 'status', 'followredirects'].map(
    (option) => `loadbalancer.healthcheck.${option}`,
  ),
  `loadbalancer.healthcheck.headers.${NAME}`,
];

const SOURCE_CRITERION = [
  'sourcecriterion.ipstrategy.depth',
  'sourcecriterion.ipstrategy.excludedips',
  'sourcecriterion.ipstrategy.ipv6subnet',
  'sourcecriterion.requestheadername',
  'sourcecriterion.requesthost',
];

const AUTH = ['users', 'usersfile', 'realm', 'removeheader', 'headerfield'];

/** Each HTTP middleware type and its options ('' : the type alone, e.g. `compress=true`). */
const HTTP_MIDDLEWARES: Record<string, string[]> = {
  addprefix: ['prefix'],
  basicauth: AUTH,
  digestauth: AUTH,
  buffering: [
    'maxrequestbodybytes',
    'memrequestbodybytes',
    'maxresponsebodybytes',
    'memresponsebodybytes',
    'retryexpression',
  ],
  chain: ['middlewares'],
  circuitbreaker: ['expression', 'checkperiod', 'fallbackduration', 'recoveryduration', 'responsecode'],
  compress: [
    '',
    'excludedcontenttypes',
    'includedcontenttypes',
    'minresponsebodybytes',
    'encodings',
    'defaultencoding',
  ],
  contenttype: ['autodetect'],
  errors: ['status', 'service', 'query'],
  forwardauth: [
    'address',
    'trustforwardheader',
    'authresponseheaders',
    'authresponseheadersregex',
    'authrequestheaders',
    'addauthcookiestoresponse',
    'headerfield',
    'forwardbody',
    'maxbodysize',
    'preserverequestmethod',
    'tls.ca',
    'tls.cert',
    'tls.key',
    'tls.insecureskipverify',
  ],
  grpcweb: ['alloworigins'],
  headers: [
    `customrequestheaders.${NAME}`,
    `customresponseheaders.${NAME}`,
    `sslproxyheaders.${NAME}`,
    'accesscontrolallowcredentials',
    'accesscontrolallowheaders',
    'accesscontrolallowmethods',
    'accesscontrolalloworiginlist',
    'accesscontrolalloworiginlistregex',
    'accesscontrolexposeheaders',
    'accesscontrolmaxage',
    'addvaryheader',
    'allowedhosts',
    'hostsproxyheaders',
    'stsseconds',
    'stsincludesubdomains',
    'stspreload',
    'forcestsheader',
    'framedeny',
    'customframeoptionsvalue',
    'contenttypenosniff',
    'browserxssfilter',
    'custombrowserxssvalue',
    'contentsecuritypolicy',
    'contentsecuritypolicyreportonly',
    'publickey',
    'referrerpolicy',
    'permissionspolicy',
    'isdevelopment',
  ],
  inflightreq: ['amount', ...SOURCE_CRITERION],
  ipallowlist: [
    'sourcerange',
    'rejectstatuscode',
    'ipstrategy.depth',
    'ipstrategy.excludedips',
    'ipstrategy.ipv6subnet',
  ],
  ratelimit: ['average', 'period', 'burst', ...SOURCE_CRITERION],
  redirectregex: ['regex', 'replacement', 'permanent'],
  redirectscheme: ['scheme', 'port', 'permanent'],
  replacepath: ['path'],
  replacepathregex: ['regex', 'replacement'],
  retry: ['attempts', 'initialinterval'],
  stripprefix: ['prefixes'],
  stripprefixregex: ['regex'],
};

const TCP_ROUTER = [...ROUTER, 'tls.passthrough'];
const TCP_SERVICE = [
  'loadbalancer.server.port',
  'loadbalancer.server.tls',
  'loadbalancer.proxyprotocol.version',
  'loadbalancer.serverstransport',
  'loadbalancer.terminationdelay',
];

function rule(prefix: string, options: string[]): RegExp {
  const escaped = options.map((option) => option.replace(/\./g, '\\.'));
  return new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(${NAME})\\.(${escaped.join('|')})$`);
}

const MIDDLEWARE_KEY = new RegExp(`^traefik\\.http\\.middlewares\\.(${NAME})\\.([a-z]+)(?:\\.(.+))?$`);

/** Every key shape the grammar allows, but the middlewares' (checked by type below). */
const KEYS: RegExp[] = [
  /^traefik\.enable$/,
  /^traefik\.swarm\.network$/,
  /^traefik\.swarm\.lbswarm$/,
  rule('traefik.http.routers', HTTP_ROUTER),
  rule('traefik.http.services', HTTP_SERVICE),
  rule('traefik.tcp.routers', TCP_ROUTER),
  rule('traefik.tcp.services', TCP_SERVICE),
  rule('traefik.udp.routers', ['entrypoints', 'service']),
  rule('traefik.udp.services', ['loadbalancer.server.port']),
];

function middlewareKeyProblem(key: string): string | null {
  const match = MIDDLEWARE_KEY.exec(key);
  if (!match) return null;
  const [, , type = '', option = ''] = match;
  if (type === 'plugin') return null; // plugins define their own options
  const options = HTTP_MIDDLEWARES[type];
  if (!options) return `${key}: no HTTP middleware "${type}" in Traefik v3`;
  const allowed = options.some((o) => new RegExp(`^${o.replace(/\./g, '\\.')}$`).test(option));
  return allowed ? null : `${key}: the ${type} middleware has no option "${option}"`;
}

/** A key of the grammar, or the reason it is not. */
export function labelKeyProblem(rawKey: string): string | null {
  const key = rawKey.toLowerCase();
  if (key.startsWith('traefik.http.middlewares.')) {
    return middlewareKeyProblem(key) ?? (MIDDLEWARE_KEY.test(key) ? null : `${rawKey}: not a Traefik v3 label`);
  }
  return KEYS.some((shape) => shape.test(key)) ? null : `${rawKey}: not a Traefik v3 label`;
}

/** Matchers of Traefik v3's rule syntax, each with backquoted arguments, joined by && or ||. */
const MATCHER =
  '!?(Host|HostRegexp|Path|PathPrefix|PathRegexp|Method|Header|HeaderRegexp|Query|QueryRegexp|ClientIP)\\(`[^`]+`(, ?`[^`]+`)?\\)';
const RULE = new RegExp(`^${MATCHER}( (&&|\\|\\|) ${MATCHER})*$`);

export interface LabelContext {
  /** The names (as Docker knows them) of the networks the service is attached to. */
  networks: string[];
  /** The entry points Traefik's static configuration defines. */
  entrypoints: string[];
}

/** Everything wrong with one service's Traefik labels; empty when Traefik would read them as meant. */
export function traefikLabelProblems(labels: Record<string, string>, context: LabelContext): string[] {
  const traefik = Object.entries(labels)
    .filter(([key]) => key.toLowerCase().startsWith('traefik.'))
    .map(([key, value]) => [key.toLowerCase(), value] as const);
  const problems = traefik.map(([key]) => labelKeyProblem(key)).filter((p): p is string => p !== null);
  const declared = (kind: string) =>
    new Set(traefik.flatMap(([key]) => new RegExp(`^traefik\\.http\\.${kind}\\.(${NAME})\\.`).exec(key)?.[1] ?? []));
  const middlewares = declared('middlewares');
  const services = declared('services');
  for (const [key, value] of traefik) {
    const setting = /^traefik\.http\.routers\.[^.]+\.(rule|entrypoints|middlewares|service)$/.exec(key)?.[1];
    const names = value.split(',').map((v) => v.trim());
    if (setting === 'rule' && !RULE.test(value)) problems.push(`${key}: "${value}" is not a rule Traefik v3 parses`);
    if (setting === 'entrypoints') {
      for (const name of names.filter((n) => !context.entrypoints.includes(n))) {
        problems.push(`${key}: no entry point "${name}" (defined: ${context.entrypoints.join(', ')})`);
      }
    }
    if (setting === 'middlewares') {
      for (const name of names.filter((n) => !n.includes('@') && !middlewares.has(n))) {
        problems.push(`${key}: no label declares the middleware "${name}"`);
      }
    }
    if (setting === 'service' && !value.includes('@') && !services.has(value)) {
      problems.push(`${key}: no label declares the service "${value}"`);
    }
    if (/\.loadbalancer\.server\.port$/.test(key) && !/^\d{1,5}$/.test(value)) problems.push(`${key}: not a port`);
    if (key === 'traefik.enable' && !['true', 'false'].includes(value)) problems.push(`${key}: true or false`);
    if (key === 'traefik.swarm.network' && !context.networks.includes(value)) {
      problems.push(`${key}: the service is not on "${value}" (it is on ${context.networks.join(', ')})`);
    }
  }
  // The Swarm provider cannot detect a port: every routed service names its own.
  if (labels['traefik.enable'] === 'true' && ![...services].length) {
    problems.push('traefik.enable=true but no traefik.http.services.<name>.loadbalancer.server.port');
  }
  return problems;
}
