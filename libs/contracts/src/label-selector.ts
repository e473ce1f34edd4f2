/**
 * Kubernetes label selectors in their string form (`env=prod,tier in (web,api),!canary`),
 * parsed and matched exactly like apimachinery `labels.Parse` / `Selector.Matches`.
 * Shared by kube-sim (list and watch filtering) and the gateway.
 */
import { labelValueErrors, qualifiedNameErrors } from './kube-validation.js';

/** The set-based and equality-based operators of a label requirement. */
export type LabelOperator = 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

/**
 * One requirement of a selector. `values` has exactly one entry for Equals/NotEquals,
 * at least one for In/NotIn (sorted, deduplicated) and none for Exists/DoesNotExist.
 */
export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** A parsed selector: the AND of its requirements (sorted by key); no requirements selects everything. */
export interface LabelSelector {
  requirements: LabelRequirement[];
}

/**
 * A label selector string that does not parse or names an invalid key or value.
 * The message is worded like the API server's (`unable to parse requirement: ...`,
 * `found 'x', expected: ...`), so it can be returned in a 400 Status as is.
 */
export class SelectorParseError extends Error {
  override readonly name = 'SelectorParseError';
}

type TokenKind =
  'ident' | 'end' | 'comma' | 'open' | 'close' | 'not' | 'eq' | 'deq' | 'neq' | 'gt' | 'lt' | 'in' | 'notin';

interface Token {
  kind: TokenKind;
  literal: string;
}

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);
const SYMBOLS: Record<string, TokenKind> = {
  '!': 'not',
  '!=': 'neq',
  '(': 'open',
  ')': 'close',
  ',': 'comma',
  '=': 'eq',
  '==': 'deq',
  '>': 'gt',
  '<': 'lt',
};

/** Splits the selector into tokens like apimachinery's lexer (identifiers stop at whitespace and symbols). */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (WHITESPACE.has(ch)) {
      i++;
      continue;
    }
    if (SPECIAL.has(ch)) {
      const two = text.slice(i, i + 2);
      if (two === '!=' || two === '==') {
        tokens.push({ kind: SYMBOLS[two] ?? 'ident', literal: two });
        i += 2;
      } else {
        tokens.push({ kind: SYMBOLS[ch] ?? 'ident', literal: ch });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < text.length && !WHITESPACE.has(text.charAt(j)) && !SPECIAL.has(text.charAt(j))) j++;
    const literal = text.slice(i, j);
    tokens.push({ kind: literal === 'in' ? 'in' : literal === 'notin' ? 'notin' : 'ident', literal });
    i = j;
  }
  tokens.push({ kind: 'end', literal: '' });
  return tokens;
}

/** A recursive-descent parser over the tokens; `in`/`notin` are identifiers outside operator position. */
class Parser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  /** The next token; in value position keywords read as identifiers, as in apimachinery's `Values` mode. */
  private peek(values: boolean): Token {
    const token = this.tokens[this.position] ?? { kind: 'end', literal: '' };
    if (values && (token.kind === 'in' || token.kind === 'notin'))
      return { kind: 'ident', literal: token.literal };
    return token;
  }

  private take(values: boolean): Token {
    const token = this.peek(values);
    if (this.position < this.tokens.length) this.position++;
    return token;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const next = this.peek(true);
      if (next.kind === 'end') return requirements;
      if (next.kind !== 'ident' && next.kind !== 'not') {
        throw new SelectorParseError(`found '${next.literal}', expected: !, identifier, or 'end of string'`);
      }
      requirements.push(this.requirement());
      const after = this.take(true);
      if (after.kind === 'end') return requirements;
      if (after.kind !== 'comma') {
        throw new SelectorParseError(`found '${after.literal}', expected: ',' or 'end of string'`);
      }
      const following = this.peek(true);
      if (following.kind !== 'ident' && following.kind !== 'not') {
        throw new SelectorParseError(`found '${following.literal}', expected: identifier after ','`);
      }
    }
  }

  private requirement(): LabelRequirement {
    try {
      let negated = false;
      let token = this.take(true);
      if (token.kind === 'not') {
        negated = true;
        token = this.take(true);
      }
      if (token.kind !== 'ident')
        throw new SelectorParseError(`found '${token.literal}', expected: identifier`);
      const key = token.literal;
      validateKey(key);
      // `!key` never takes an operator: whatever follows is the caller's problem, as upstream.
      if (negated) return { key, operator: 'DoesNotExist', values: [] };
      const next = this.peek(false);
      if (next.kind === 'end' || next.kind === 'comma') return { key, operator: 'Exists', values: [] };
      const operator = this.take(false);
      switch (operator.kind) {
        case 'in':
        case 'notin': {
          const values = this.valueSet();
          if (values.length === 0)
            throw new SelectorParseError("for 'in', 'notin' operators, values set can't be empty");
          values.forEach((v, i) => validateValue(v, i));
          return { key, operator: operator.kind === 'in' ? 'In' : 'NotIn', values };
        }
        case 'eq':
        case 'deq':
        case 'neq': {
          const value = this.exactValue();
          validateValue(value, 0);
          return { key, operator: operator.kind === 'neq' ? 'NotEquals' : 'Equals', values: [value] };
        }
        case 'gt':
        case 'lt':
          throw new SelectorParseError(
            `operator '${operator.literal}' is not supported here; use one of: in, notin, =, ==, !=`,
          );
        default:
          throw new SelectorParseError(`found '${operator.literal}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    } catch (err) {
      if (err instanceof SelectorParseError)
        throw new SelectorParseError(`unable to parse requirement: ${err.message}`);
      throw err;
    }
  }

  private exactValue(): string {
    const next = this.peek(true);
    if (next.kind === 'end' || next.kind === 'comma') return '';
    const token = this.take(true);
    if (token.kind === 'ident') return token.literal;
    throw new SelectorParseError(`found '${token.literal}', expected: identifier`);
  }

  /** `( v1, v2 )`; `()` is the set holding the empty string and `a,,b` includes it too, as upstream. */
  private valueSet(): string[] {
    const open = this.take(true);
    if (open.kind !== 'open') throw new SelectorParseError(`found '${open.literal}' expected: '('`);
    const first = this.peek(true);
    if (first.kind === 'close') {
      this.take(true);
      return [''];
    }
    if (first.kind !== 'ident' && first.kind !== 'comma') {
      throw new SelectorParseError(`found '${first.literal}', expected: ',', ')' or identifier`);
    }
    const values = new Set<string>();
    let expectValue = true;
    for (;;) {
      const token = this.take(true);
      if (token.kind === 'ident') {
        if (!expectValue) throw new SelectorParseError(`found '${token.literal}', expected: ',' or ')'`);
        values.add(token.literal);
        expectValue = false;
      } else if (token.kind === 'comma') {
        if (expectValue) values.add('');
        expectValue = true;
      } else if (token.kind === 'close') {
        if (expectValue) values.add('');
        return [...values].sort();
      } else {
        throw new SelectorParseError(`found '${token.literal}', expected: ')'`);
      }
    }
  }
}

function validateKey(key: string): void {
  const errors = qualifiedNameErrors(key);
  if (errors.length > 0)
    throw new SelectorParseError(`key: Invalid value: ${JSON.stringify(key)}: ${errors.join('; ')}`);
}

function validateValue(value: string, index: number): void {
  const errors = labelValueErrors(value);
  if (errors.length > 0) {
    throw new SelectorParseError(
      `values[${index}][${JSON.stringify(value)}]: Invalid value: ${errors.join('; ')}`,
    );
  }
}

/**
 * Parses a label selector string. Accepts `""` (everything), `a=b`, `a==b`, `a!=b`,
 * `a in (x,y)`, `a notin (x)`, `a` (exists), `!a` (does not exist), joined by `,`
 * (AND), with any whitespace between tokens. Requirements come back sorted by key
 * (stable), as upstream. Throws {@link SelectorParseError} on bad syntax or an
 * invalid key/value.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const requirements = new Parser(tokenize(text)).parse();
  const sorted = requirements
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.key < b.r.key ? -1 : a.r.key > b.r.key ? 1 : a.i - b.i))
    .map(({ r }) => r);
  return { requirements: sorted };
}

/**
 * Whether `labels` satisfy every requirement. As upstream, `!=` and `notin` also
 * match objects that lack the key, while `=` and `in` require it. Missing labels
 * behave like an empty set.
 */
export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  for (const { key, operator, values } of selector.requirements) {
    const has = labels !== undefined && Object.hasOwn(labels, key);
    const value = has ? labels[key] : undefined;
    switch (operator) {
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      case 'Equals':
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotEquals':
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
    }
  }
  return true;
}

/** The canonical string of a selector (`a=b,c in (x,y),!d`); parsing it yields the same selector. */
export function formatLabelSelector(selector: LabelSelector): string {
  return selector.requirements
    .map(({ key, operator, values }) => {
      switch (operator) {
        case 'Exists':
          return key;
        case 'DoesNotExist':
          return `!${key}`;
        case 'Equals':
          return `${key}=${values[0] ?? ''}`;
        case 'NotEquals':
          return `${key}!=${values[0] ?? ''}`;
        case 'In':
          return `${key} in (${[...values].sort().join(',')})`;
        case 'NotIn':
          return `${key} notin (${[...values].sort().join(',')})`;
      }
    })
    .join(',');
}
