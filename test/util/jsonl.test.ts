import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isJsonObject, parseJsonl, readJsonl, reject } from '../../src/util/jsonl.js';

const schema = z.object({ a: z.number(), b: z.string().optional() });

const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a throw');
};

describe('parseJsonl', () => {
  it('accepts a BOM, CRLF line ends and blank lines, and numbers lines as an editor does', () => {
    const text = '\uFEFF{"a":1}\r\n\r\n   \n{"a":2,"b":"x"}\r\n';
    expect(parseJsonl(text, 'f.jsonl', schema)).toEqual([{ a: 1 }, { a: 2, b: 'x' }]);
    // The BOM line is line 1 and the CRLF file counts lines like an LF one: the bad record is on line 4.
    expect(() => parseJsonl('\uFEFF{"a":1}\r\n\r\n\r\n{"a":"no"}\r\n', 'f.jsonl', schema)).toThrow(/^f\.jsonl:4: field a: /);
  });

  it('reports every bad line with its number, invalid JSON and schema errors alike', () => {
    const text = ['{"a":1}', '{"a":', '{"a":2}', '{"b":"x"}', '', 'nope'].join('\n');
    const msg = messageOf(() => parseJsonl(text, 'f.jsonl', schema));
    expect(msg.split('\n')[0]).toBe('f.jsonl: 3 bad lines:');
    expect(msg).toContain('f.jsonl:2: invalid JSON (');
    expect(msg).toContain('f.jsonl:4: field a: ');
    expect(msg).toContain('f.jsonl:6: invalid JSON (');
    expect(msg).not.toMatch(/f\.jsonl:[135]:/);
  });

  it('lists the first 20 bad lines and counts the rest', () => {
    const msg = messageOf(() => parseJsonl('x\n'.repeat(25), 'f.jsonl', schema));
    expect(msg).toContain('f.jsonl: 25 bad lines:');
    expect(msg).toContain('f.jsonl:20: invalid JSON');
    expect(msg).not.toContain('f.jsonl:21:');
    expect(msg).toContain('... and 5 more');
  });

  it('a schema error names the field (nested paths dotted)', () => {
    const nested = z.object({ meta: z.object({ score: z.number() }) });
    expect(() => parseJsonl('{"meta":{"score":"high"}}', 'n.jsonl', nested)).toThrow(/^n\.jsonl:1: field meta\.score: /);
    expect(() => parseJsonl('[1]', 'n.jsonl', nested)).toThrow(/^n\.jsonl:1: record: /);
  });

  it('a check function returns the record or reject(message); the core adds file:line', () => {
    const check = (v: unknown, line: number) => (isJsonObject(v) && typeof v.n === 'number' ? { n: v.n, line } : reject('expected {"n": number}'));
    expect(parseJsonl('{"n":5}\n\n{"n":6}', 'c.jsonl', check)).toEqual([
      { n: 5, line: 1 },
      { n: 6, line: 3 },
    ]);
    expect(() => parseJsonl('{"n":5}\n{"n":"x"}', 'c.jsonl', check)).toThrow('c.jsonl:2: expected {"n": number}');
    // A record that is itself a string is still a record, not an error.
    expect(parseJsonl('"s"', 'c.jsonl', (v) => String(v))).toEqual(['s']);
  });

  it('the tolerant mode skips a torn LAST line only', () => {
    const opts = { tolerateTruncatedLastLine: true };
    expect(parseJsonl('{"a":1}\n{"a":2}\n{"a', 'm.jsonl', schema, opts)).toEqual([{ a: 1 }, { a: 2 }]);
    // Trailing blank lines do not hide which line is last.
    expect(parseJsonl('{"a":1}\n{"a\n\n', 'm.jsonl', schema, opts)).toEqual([{ a: 1 }]);
    expect(() => parseJsonl('{"a":1}\n{"a\n{"a":3}\n', 'm.jsonl', schema, opts)).toThrow(/^m\.jsonl:2: invalid JSON/);
    // A complete last line that fails the schema is an error, not a torn write.
    expect(() => parseJsonl('{"a":1}\n{"a":"x"}', 'm.jsonl', schema, opts)).toThrow(/^m\.jsonl:2: field a/);
    // Without the option the torn line is an error like any other.
    expect(() => parseJsonl('{"a":1}\n{"a', 'm.jsonl', schema)).toThrow(/^m\.jsonl:2: invalid JSON/);
  });
});

describe('readJsonl', () => {
  it('reads a file (BOM and all) and names an unreadable one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jsonl-'));
    const f = path.join(dir, 'r.jsonl');
    fs.writeFileSync(f, '\uFEFF{"a":7}\n');
    expect(readJsonl(f, schema)).toEqual([{ a: 7 }]);
    expect(() => readJsonl(path.join(dir, 'missing.jsonl'), schema)).toThrow(/missing\.jsonl: cannot read/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('one JSONL core', () => {
  // Files that split text into lines and JSON.parse them bypass the core (and its BOM, CRLF and
  // line-number handling). rundir.ts reads a metrics tail window backwards (lastMetrics), which the
  // core cannot do.
  const allowed = new Set(['src/util/jsonl.ts', 'src/sweep/rundir.ts']);
  const root = path.resolve(__dirname, '../..');
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
    });

  it('no reader outside src/util/jsonl.ts JSON.parses split lines', () => {
    const offenders = ['src', 'verifiers', 'rewards']
      .filter((d) => fs.existsSync(path.join(root, d)))
      .flatMap((d) => files(path.join(root, d)))
      .map((f) => path.relative(root, f).split(path.sep).join('/'))
      .filter((rel) => !allowed.has(rel))
      .filter((rel) => {
        const src = fs.readFileSync(path.join(root, rel), 'utf8');
        return src.includes('JSON.parse(') && /\.split\((['"]\\n['"]|\/\\r\?\\n\/)\)/.test(src);
      });
    expect(offenders, 'read JSONL with parseJsonl/readJsonl from src/util/jsonl.ts').toEqual([]);
  });
});
