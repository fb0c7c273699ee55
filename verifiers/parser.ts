import type { FnName, Node, RelOp } from './ast.js';
import { GuardError, LIMITS, ParseError } from './limits.js';
import { INVERSE, isIntLit, mixed, num, RELOPS, repeating } from './parseLiterals.js';
import { parseDecimal, rat, div as ratDiv } from './rational.js';
import { UNIT_WORDS, type Tok } from './tokenize.js';

/** The recursive-descent parser behind parseAnswer (parse.ts), which documents its conventions. */
export class Parser {
  private pos = 0;
  private depth = 0;
  private nodes = 0;

  constructor(private readonly toks: Tok[]) {}

  top(): Node {
    const items = this.seq(new Set());
    if (this.pos < this.toks.length) throw new ParseError(`unexpected ${this.describe(this.peek())}`);
    return items.length === 1 ? items[0]! : this.mk({ k: 'list', items });
  }

  // ---- token helpers ----
  private peek(off = 0): Tok | undefined {
    return this.toks[this.pos + off];
  }
  private isOp(s: string, off = 0): boolean {
    const t = this.peek(off);
    return t !== undefined && t.t === 'op' && t.s === s;
  }
  private isCmd(s: string, off = 0): boolean {
    const t = this.peek(off);
    return t !== undefined && t.t === 'cmd' && t.s === s;
  }
  private expectOp(s: string): void {
    if (!this.isOp(s)) throw new ParseError(`expected ${s}, got ${this.describe(this.peek())}`);
    this.pos++;
  }
  private describe(t: Tok | undefined): string {
    return t ? `${t.t} ${'s' in t ? t.s : ''}` : 'end of answer';
  }
  private mk(n: Node): Node {
    if (++this.nodes > LIMITS.maxNodes) throw new GuardError('too many nodes');
    return n;
  }
  private enter(): void {
    if (++this.depth > LIMITS.maxDepth) throw new GuardError('nesting too deep');
  }
  private leave(): void {
    this.depth--;
  }

  // ---- grammar ----
  /** item (',' item)* up to one of `closers` (not consumed). */
  private seq(closers: Set<string>): Node[] {
    this.enter();
    const items: Node[] = [];
    for (;;) {
      while (this.isOp(',') || this.isOp(';')) this.pos++; // tolerate empty items ("x = 2, , 3")
      const t = this.peek();
      if (t === undefined || (t.t === 'op' && closers.has(t.s)) || (t.t === 'cmd' && closers.has(t.s))) break;
      items.push(this.relation());
      if (items.length > LIMITS.maxNodes) throw new GuardError('too many items');
      if (!(this.isOp(',') || this.isOp(';'))) break;
    }
    this.leave();
    if (items.length === 0) throw new ParseError('empty list');
    return items;
  }

  private relation(): Node {
    const items = [this.union()];
    const ops: RelOp[] = [];
    for (;;) {
      const t = this.peek();
      let op: RelOp | undefined;
      if (t?.t === 'op' && RELOPS[t.s]) op = RELOPS[t.s];
      else if (t?.t === 'word' && t.s.toLowerCase() === 'in' && (this.isOp('(', 1) || this.isOp('[', 1) || this.isCmd('reals', 1)))
        op = 'in';
      if (!op) break;
      this.pos++;
      ops.push(op);
      items.push(this.union());
    }
    return ops.length ? this.mk({ k: 'rel', ops, items }) : items[0]!;
  }

  private union(): Node {
    const items = [this.expr()];
    while (this.isCmd('cup')) {
      this.pos++;
      items.push(this.expr());
    }
    return items.length > 1 ? this.mk({ k: 'union', items }) : items[0]!;
  }

  private expr(): Node {
    this.enter();
    let left = this.term();
    for (;;) {
      if (this.isOp('+')) {
        this.pos++;
        left = this.mk({ k: 'add', a: left, b: this.term() });
      } else if (this.isOp('-')) {
        this.pos++;
        left = this.mk({ k: 'sub', a: left, b: this.term() });
      } else if (this.isOp('pm') || this.isOp('mp')) {
        const minus = this.isOp('mp');
        this.pos++;
        left = this.mk({ k: 'pm', a: left, b: this.term(), minus });
      } else break;
    }
    this.leave();
    return left;
  }

  private term(): Node {
    this.enter();
    let left = this.unary();
    // A lone (possibly negated) integer so far: may start a mixed number.
    let bare = isIntLit(left) || (left.k === 'neg' && isIntLit(left.a));
    for (;;) {
      const t = this.peek();
      if (t === undefined) break;
      if (t.t === 'op' && t.s === '*') {
        this.pos++;
        left = this.mk({ k: 'mul', a: left, b: this.unary() });
      } else if (t.t === 'op' && t.s === '/') {
        this.pos++;
        left = this.mk({ k: 'div', a: left, b: this.unary() });
      } else if (t.t === 'text' || (t.t === 'word' && !this.isInRelation())) {
        this.skipUnit();
      } else if (bare && t.t === 'num' && t.sp && /^\d+$/.test(t.s) && this.isOp('/', 1) && this.peek(2)?.t === 'num') {
        // Plain mixed number "3 1/2".
        const n = this.peek()! as { s: string };
        const d = this.peek(2)! as { s: string };
        if (!/^\d+$/.test(d.s) || /^0+$/.test(d.s)) break;
        this.pos += 3;
        left = mixed(left, n.s, rat(BigInt(n.s), BigInt(d.s)), d.s);
      } else if (this.startsImplicit(t)) {
        if (t.t === 'num' && this.toks[this.pos - 1]?.t === 'num') throw new ParseError('two numbers in a row');
        const right = this.power();
        if (bare && right.k === 'div' && isIntLit(right.a) && isIntLit(right.b) && t.t === 'cmd' && t.s === 'frac') {
          // LaTeX mixed number 3\frac{1}{2}.
          if (right.b.v.n === 0n) throw new ParseError('zero denominator');
          left = mixed(left, right.a.lit, ratDiv(right.a.v, right.b.v), right.b.lit);
        } else {
          const call = t.t === 'op' && t.s === '(' && (left.k === 'sym' || (left.k === 'pow' && left.a.k === 'sym'));
          left = this.mk(call ? { k: 'mul', a: left, b: right, call } : { k: 'mul', a: left, b: right });
        }
      } else break;
      bare = false;
    }
    this.leave();
    return left;
  }

  private isInRelation(): boolean {
    const t = this.peek();
    return t?.t === 'word' && t.s.toLowerCase() === 'in' && (this.isOp('(', 1) || this.isOp('[', 1) || this.isCmd('reals', 1));
  }

  /** Units after a value: "cm", "\text{ m}^2", "km/h", "square feet". */
  private skipUnit(): void {
    while (this.peek()?.t === 'text' || this.peek()?.t === 'word') {
      const t = this.peek() as { s: string; t: string };
      if (t.t === 'word' && !UNIT_WORDS.has(t.s.toLowerCase()) && t.s.length < 4 && !t.s.startsWith('\\')) {
        throw new ParseError(`unexpected word ${t.s}`);
      }
      this.pos++;
      if (this.isOp('^') && this.peek(1)?.t === 'num') this.pos += 2;
      if (this.isOp('/') && (this.peek(1)?.t === 'word' || this.peek(1)?.t === 'text')) this.pos++;
    }
  }

  private startsImplicit(t: Tok): boolean {
    switch (t.t) {
      case 'num':
      case 'base':
      case 'id':
      case 'fn':
        return true;
      case 'cmd':
        return ['pi', 'frac', 'sqrt', 'binom', 'lfloor', 'lceil', 'overline', 'begin'].includes(t.s);
      case 'op':
        return t.s === '(' || t.s === '{';
      default:
        return false;
    }
  }

  private unary(): Node {
    this.enter();
    let out: Node;
    if (this.isOp('-')) {
      this.pos++;
      out = this.mk({ k: 'neg', a: this.unary() });
    } else if (this.isOp('+')) {
      this.pos++;
      out = this.unary();
    } else if (this.isOp('pm') || this.isOp('mp')) {
      const minus = this.isOp('mp');
      this.pos++;
      out = this.mk({ k: 'pm', a: null, b: this.unary(), minus });
    } else out = this.power();
    this.leave();
    return out;
  }

  private power(): Node {
    this.enter();
    let base = this.postfix(this.primary());
    while (this.isOp('^')) {
      this.pos++;
      const e = this.powArg();
      base = this.postfix(this.mk({ k: 'pow', a: base, b: e }));
    }
    this.leave();
    return base;
  }

  private postfix(n: Node): Node {
    for (;;) {
      if (this.isOp('!')) {
        this.pos++;
        n = this.mk({ k: 'fn', name: 'fact', args: [n] });
      } else if (this.isOp('°')) {
        this.pos++;
        n = this.mk({ k: 'deg', a: n });
      } else if (this.isOp("'")) {
        this.pos++;
      } else return n;
    }
  }

  /** The argument of ^: a brace group, a whole number, or one atom. */
  private powArg(): Node {
    this.enter();
    let out: Node;
    const t = this.peek();
    if (t === undefined) throw new ParseError('missing exponent');
    if (t.t === 'op' && t.s === '{') out = this.group('{', '}');
    else if (t.t === 'op' && (t.s === '-' || t.s === '+')) {
      this.pos++;
      const a = this.powArg();
      out = t.s === '-' ? this.mk({ k: 'neg', a }) : a;
    } else out = this.primary();
    this.leave();
    return out;
  }

  /** The argument of \frac, \sqrt, \binom: a brace group or a single character/atom. */
  private cmdArg(): Node {
    const t = this.peek();
    if (t === undefined) throw new ParseError('missing argument');
    if (t.t === 'op' && t.s === '{') return this.group('{', '}');
    if (t.t === 'num' && /^\d\d/.test(t.s)) {
      // \frac12: a bare argument is one character; leave the rest of the digits in place.
      const first = t.s[0]!;
      this.toks[this.pos] = { ...t, s: t.s.slice(1), sp: false };
      return num(first, rat(BigInt(first)));
    }
    return this.primary();
  }

  private group(open: string, close: string): Node {
    this.expectOp(open);
    const items = this.seq(new Set([close]));
    this.expectOp(close);
    return items.length === 1 ? items[0]! : this.mk({ k: 'list', items });
  }

  private primary(): Node {
    this.enter();
    try {
      return this.primaryInner();
    } finally {
      this.leave();
    }
  }

  private primaryInner(): Node {
    const t = this.peek();
    if (t === undefined) throw new ParseError('unexpected end of answer');
    switch (t.t) {
      case 'num': {
        this.pos++;
        const v = t.rep !== undefined ? repeating(t.s, t.rep) : parseDecimal(t.s);
        if (!v) throw new ParseError(`bad number ${t.s}`);
        return this.mk(num(t.rep !== undefined ? `${t.s}(${t.rep})` : t.s, v));
      }
      case 'base': {
        this.pos++;
        let v = 0n;
        for (const c of t.digits) v = v * BigInt(t.base) + BigInt(parseInt(c, 36));
        return this.mk(num(`${t.digits}_${t.base}`, rat(v)));
      }
      case 'id': {
        this.pos++;
        if (t.s === 'e') return this.mk({ k: 'const', name: 'e' });
        if (t.s === 'i') return this.mk({ k: 'const', name: 'i' });
        return this.mk({ k: 'sym', name: t.s });
      }
      case 'text':
      case 'word':
        throw new ParseError(`unexpected text ${t.s}`);
      case 'fn':
        return this.fn(t.s);
      case 'cmd':
        return this.cmd(t);
      case 'op':
        return this.opPrimary(t.s);
    }
    throw new ParseError('unexpected token');
  }

  private opPrimary(s: string): Node {
    switch (s) {
      case '(':
      case '[':
        return this.bracket(s);
      case '{':
        return this.group('{', '}');
      case '\\{': {
        this.pos++;
        if (this.isOp('\\}')) {
          this.pos++;
          return this.mk({ k: 'empty' });
        }
        const items = this.seq(new Set(['\\}']));
        this.expectOp('\\}');
        return this.mk({ k: 'set', items });
      }
      case '|': {
        this.pos++;
        const inner = this.expr();
        this.expectOp('|');
        return this.mk({ k: 'fn', name: 'abs', args: [inner] });
      }
      default:
        throw new ParseError(`unexpected ${s}`);
    }
  }

  private bracket(open: '(' | '['): Node {
    this.pos++;
    const items = this.seq(new Set([')', ']']));
    const t = this.peek();
    if (!t || t.t !== 'op' || (t.s !== ')' && t.s !== ']')) throw new ParseError('unclosed bracket');
    this.pos++;
    const close = t.s as ')' | ']';
    if (items.length === 1) {
      if ((open === '(') !== (close === ')')) throw new ParseError('mismatched brackets around one item');
      return items[0]!;
    }
    return this.mk({ k: 'tuple', open, close, items });
  }

  private cmd(t: Extract<Tok, { t: 'cmd' }>): Node {
    switch (t.s) {
      case 'pi':
        this.pos++;
        return this.mk({ k: 'const', name: 'pi' });
      case 'inf':
        this.pos++;
        return this.mk({ k: 'const', name: 'inf' });
      case 'empty':
        this.pos++;
        return this.mk({ k: 'empty' });
      case 'reals':
        this.pos++;
        return this.mk({
          k: 'tuple',
          open: '(',
          close: ')',
          items: [this.mk({ k: 'neg', a: this.mk({ k: 'const', name: 'inf' }) }), this.mk({ k: 'const', name: 'inf' })],
        });
      case 'frac': {
        this.pos++;
        const a = this.cmdArg();
        const b = this.cmdArg();
        return this.mk({ k: 'div', a, b });
      }
      case 'binom': {
        this.pos++;
        const a = this.cmdArg();
        const b = this.cmdArg();
        return this.mk({ k: 'fn', name: 'binom', args: [a, b] });
      }
      case 'sqrt': {
        this.pos++;
        if (this.isOp('[')) {
          this.pos++;
          const idx = this.expr();
          this.expectOp(']');
          return this.mk({ k: 'fn', name: 'root', args: [idx, this.cmdArg()] });
        }
        return this.mk({ k: 'fn', name: 'sqrt', args: [this.cmdArg()] });
      }
      case 'overline':
        this.pos++;
        return this.cmdArg();
      case 'lfloor':
      case 'lceil': {
        this.pos++;
        const inner = this.expr();
        const closer = t.s === 'lfloor' ? 'rfloor' : 'rceil';
        if (!this.isCmd(closer)) throw new ParseError(`expected \\${closer}`);
        this.pos++;
        return this.mk({ k: 'fn', name: t.s === 'lfloor' ? 'floor' : 'ceil', args: [inner] });
      }
      case 'begin':
        return this.matrix(t.env ?? '');
      default:
        throw new ParseError(`unexpected \\${t.s}`);
    }
  }

  private matrix(env: string): Node {
    if (!/^(p|b|B|v|V|small)?matrix$|^array$/.test(env)) throw new ParseError(`environment ${env}`);
    this.pos++;
    const rows: Node[][] = [];
    let row: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined) throw new ParseError('unclosed matrix');
      if (t.t === 'cmd' && t.s === 'end') {
        this.pos++;
        if (row.length) rows.push(row);
        break;
      }
      row.push(this.expr());
      if (this.isOp('&')) this.pos++;
      else if (this.isOp('\\\\')) {
        this.pos++;
        rows.push(row);
        row = [];
      } else if (!(this.peek()?.t === 'cmd' && (this.peek() as { s: string }).s === 'end')) {
        throw new ParseError('bad matrix cell');
      }
      if (rows.length * 64 + row.length > LIMITS.maxNodes) throw new GuardError('matrix too large');
    }
    if (rows.length === 0 || rows.some((r) => r.length !== rows[0]!.length)) throw new ParseError('ragged matrix');
    return this.mk({ k: 'matrix', rows });
  }

  private fn(name: string): Node {
    this.pos++;
    let fname = name as FnName;
    let power: Node | null = null;
    let base: Node | null = null;
    for (let k = 0; k < 2; k++) {
      if (this.isOp('^')) {
        this.pos++;
        const e = this.powArg();
        if (e.k === 'neg' && e.a.k === 'num' && e.a.lit === '1' && INVERSE[fname]) fname = INVERSE[fname]!;
        else power = e;
      } else if (this.isOp('_') && fname === 'log') {
        this.pos++;
        base = this.powArg();
      }
    }
    let args: Node[];
    if (this.isOp('(')) {
      this.pos++;
      args = this.seq(new Set([')']));
      this.expectOp(')');
    } else if (this.isOp('{')) {
      args = [this.group('{', '}')];
    } else {
      // \sin 2x, \log 8: a product of atoms, stopping at + - and at the next function.
      let a = this.power();
      for (;;) {
        const t = this.peek();
        if (!t || t.t === 'fn' || !this.startsImplicit(t) || (t.t === 'op' && t.s === '(')) break;
        a = this.mk({ k: 'mul', a, b: this.power() });
      }
      args = [a];
    }
    const multi = fname === 'gcd' || fname === 'lcm' || fname === 'max' || fname === 'min';
    if (!multi && args.length !== 1) throw new ParseError(`${fname} takes one argument`);
    let node: Node = this.mk({ k: 'fn', name: fname, args: base ? [base, args[0]!] : args });
    if (power) node = this.mk({ k: 'pow', a: node, b: power });
    return node;
  }
}

