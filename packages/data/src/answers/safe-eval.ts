/**
 * A small evaluator for the arithmetic in math answers: numbers, + - * / ^, parentheses and
 * braces, implicit multiplication (`2\sqrt{3}`, `3x`), `\frac{a}{b}`, `\sqrt{x}`,
 * `\sqrt[n]{x}`, `\pi`, `\infty`, `\cdot`, `\times`, `\div`, and single-letter variables read
 * from `vars`. No eval(): a tokenizer and a recursive-descent parser. Returns NaN for anything
 * it cannot read, so callers fall back to string comparison.
 */
type Tok = { kind: 'num'; value: number } | { kind: 'var'; name: string } | { kind: 'cmd'; name: string } | { kind: 'op'; op: string };

const COMMANDS = ['dfrac', 'tfrac', 'frac', 'sqrt', 'infty', 'cdot', 'times', 'div', 'left', 'right', 'pi'];

function tokenize(src: string): Tok[] | null {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === ' ') {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'num', value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    if (ch === '\\') {
      const m = /^\\([a-zA-Z]+)/.exec(src.slice(i));
      if (!m) return null;
      // Spaces are gone after normalisation ("\pir^2"): take the longest known command.
      const name = COMMANDS.find((c) => m[1].startsWith(c)) ?? m[1];
      if (name === 'cdot' || name === 'times') out.push({ kind: 'op', op: '*' });
      else if (name === 'div') out.push({ kind: 'op', op: '/' });
      else if (name === 'left' || name === 'right') {
        /* sizing only */
      } else out.push({ kind: 'cmd', name: name === 'dfrac' || name === 'tfrac' ? 'frac' : name });
      i += 1 + name.length;
      continue;
    }
    if (/[a-zA-Z]/.test(ch)) {
      out.push({ kind: 'var', name: ch });
      i++;
      continue;
    }
    if ('+-*/^(){}[]'.includes(ch)) {
      out.push({ kind: 'op', op: ch });
      i++;
      continue;
    }
    return null;
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly vars: Record<string, number>,
  ) {}

  parse(): number {
    const v = this.expr();
    if (this.i !== this.toks.length) throw new Error('trailing input');
    return v;
  }

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }

  private isOp(op: string): boolean {
    const t = this.peek();
    return t !== undefined && t.kind === 'op' && t.op === op;
  }

  private expect(op: string): void {
    if (!this.isOp(op)) throw new Error(`expected ${op}`);
    this.i++;
  }

  private expr(): number {
    let v = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.toks[this.i++] as { op: string }).op;
      const r = this.term();
      v = op === '+' ? v + r : v - r;
    }
    return v;
  }

  private startsPrimary(): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.kind === 'num' || t.kind === 'var' || t.kind === 'cmd') return true;
    return t.op === '(' || t.op === '{';
  }

  private term(): number {
    let v = this.unary();
    for (;;) {
      if (this.isOp('*') || this.isOp('/')) {
        const op = (this.toks[this.i++] as { op: string }).op;
        const r = this.unary();
        v = op === '*' ? v * r : v / r;
      } else if (this.startsPrimary()) {
        v *= this.power(); // implicit multiplication: 2\pi, 3x, (1)(2)
      } else return v;
    }
  }

  private unary(): number {
    if (this.isOp('-')) {
      this.i++;
      return -this.unary();
    }
    if (this.isOp('+')) {
      this.i++;
      return this.unary();
    }
    return this.power();
  }

  private power(): number {
    const base = this.primary();
    if (this.isOp('^')) {
      this.i++;
      return Math.pow(base, this.unary());
    }
    return base;
  }

  private group(): number {
    if (this.isOp('{')) {
      this.i++;
      const v = this.expr();
      this.expect('}');
      return v;
    }
    return this.primary();
  }

  private primary(): number {
    const t = this.toks[this.i++];
    if (!t) throw new Error('unexpected end');
    if (t.kind === 'num') return t.value;
    if (t.kind === 'var') {
      if (!(t.name in this.vars)) throw new Error(`unknown variable ${t.name}`);
      return this.vars[t.name];
    }
    if (t.kind === 'cmd') {
      switch (t.name) {
        case 'frac': {
          const a = this.group();
          return a / this.group();
        }
        case 'sqrt': {
          let n = 2;
          if (this.isOp('[')) {
            this.i++;
            n = this.expr();
            this.expect(']');
          }
          const x = this.group();
          return n === 2 ? Math.sqrt(x) : n % 2 === 1 && x < 0 ? -Math.pow(-x, 1 / n) : Math.pow(x, 1 / n);
        }
        case 'pi':
          return Math.PI;
        case 'infty':
          return Infinity;
        default:
          throw new Error(`unsupported \\${t.name}`);
      }
    }
    if (t.op === '(') {
      const v = this.expr();
      this.expect(')');
      return v;
    }
    if (t.op === '{') {
      const v = this.expr();
      this.expect('}');
      return v;
    }
    throw new Error(`unexpected ${t.op}`);
  }
}

export function evaluateExpression(src: string, vars: Record<string, number> = {}): number {
  const toks = tokenize(src);
  if (!toks || toks.length === 0) return NaN;
  try {
    return new Parser(toks, vars).parse();
  } catch {
    return NaN;
  }
}

/** Single-letter variables an expression uses (ignores command names like \frac). */
export function expressionVariables(src: string): string[] {
  const toks = tokenize(src);
  if (!toks) return [];
  return [...new Set(toks.filter((t): t is { kind: 'var'; name: string } => t.kind === 'var').map((t) => t.name))].sort();
}
