/**
 * Answers that carry a label: `(p,q)=(3,2)`, `AB=4, CD=5`, `S_{MBCN}:S=7:32`,
 * `\frac{NO}{BO}=\frac{1}{\sqrt{6}}`, `|AB|=1`, `p=5,q=2; p=7,q=2`. The label names what is
 * asked for; the value after it is the answer, so a bare `(3,2)` must match `(p,q)=(3,2)`.
 *
 * Worked at the string level because many labels (ratios `A:B`, multi-letter fractions) are
 * not expressions the parser accepts. A label has letters, subscripts, brackets, `,` `:` `|` `/`
 * and `\frac` of names, and no digit outside a subscript and no `+`/`-` (so `x+y=5` and
 * `2x+4y-3=0` are equations, never labels); the value has no free letters (LaTeX commands and
 * constants aside), so `y=2x+1` keeps its meaning.
 */

/** Splits at top-level occurrences of `sep` (outside (), [], {}). */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth = Math.max(0, depth - 1);
    else if (c === sep && depth === 0) {
      out.push(s.slice(from, i));
      from = i + 1;
    }
  }
  out.push(s.slice(from));
  return out;
}

const MAX_LABEL = 40;

function isLabel(raw: string): boolean {
  const t = raw.trim();
  if (t === '' || t.length > MAX_LABEL) return false;
  const s = t
    .replace(/_\{[^{}]*\}|_[A-Za-z0-9]/g, '') // subscripts may hold digits: V_{1}, x_2
    .replace(/\\[dtc]?frac\{([^{}]*)\}\{([^{}]*)\}/g, '$1/$2')
    .replace(/\\(?:left|right|mid|vert)(?![a-zA-Z])/g, '')
    .replace(/\\(?:angle|triangle|overline|mathrm|text)(?![a-zA-Z])/g, '')
    .replace(/[{}\s]/g, '');
  return /^[A-Za-z(),:|/']+$/.test(s) && /[A-Za-z]/.test(s) && !/\b(?:sin|cos|tan|log|ln|exp|sqrt)\b/.test(s);
}

function isValue(raw: string): boolean {
  const t = raw.trim();
  if (t === '' || t.includes('=')) return false;
  const bare = t
    .replace(/\\(?:text|mathrm|mbox)\{[^{}]*\}/g, '')
    .replace(/\\[a-zA-Z]+/g, '')
    .replace(/\b(?:e|i)\b/g, '');
  return /\d/.test(t) && !/[a-zA-Z]/.test(bare);
}

/** `label = value` → value; null when the item is not labelled. */
function valueOfItem(item: string): string | null {
  const parts = splitTop(item, '=');
  if (parts.length !== 2) return null;
  return isLabel(parts[0]!) && isValue(parts[1]!) ? parts[1]!.trim() : null;
}

/**
 * The answer with its labels removed, or null when it carries none. Several labelled items are
 * a list of values; groups separated by `;` (`p=5,q=2; p=7,q=2`) are tuples of their values.
 */
export function stripLabels(answer: string): string | null {
  const s = answer.trim();
  if (!s.includes('=')) return null;
  const whole = valueOfItem(s);
  if (whole !== null) return whole;
  const groups = splitTop(s, ';').filter((g) => g.trim() !== '');
  const values = groups.map((g) => {
    const items = splitTop(g, ',');
    const vs = items.map(valueOfItem);
    return vs.every((v) => v !== null) ? vs : null;
  });
  if (values.some((v) => v === null)) return null;
  if (groups.length === 1) return values[0]!.join(', ');
  return values.map((vs) => (vs!.length === 1 ? vs![0]! : `(${vs!.join(', ')})`)).join(', ');
}
