/**
 * String-level clean-up of an answer before it is tokenised: one spelling for each thing that
 * LaTeX, Markdown and Unicode let a model write several ways. Only rewrites that cannot change
 * the mathematical value belong here; anything that needs structure is the parser's job.
 */

const UNICODE: Array<[RegExp, string]> = [
  [/[\u2212\u2012\u2013\u2014\uFE63\uFF0D]/g, '-'], // minus signs and dashes
  [/[\u00D7\u2715\u2716]/g, '\\times '],
  [/[\u00B7\u22C5\u2219]/g, '\\cdot '],
  [/\u00F7/g, '\\div '],
  [/\u221A/g, '\\sqrt'],
  [/\u03C0/g, '\\pi '],
  [/\u221E/g, '\\infty '],
  [/\u2264/g, '\\le '],
  [/\u2265/g, '\\ge '],
  [/\u2260/g, '\\ne '],
  [/\u00B1/g, '\\pm '],
  [/\u2213/g, '\\mp '],
  [/\u222A/g, '\\cup '],
  [/\u2229/g, '\\cap '],
  [/\u2208/g, '\\in '],
  [/\u2205/g, '\\emptyset '],
  [/\u211D/g, '\\mathbb{R}'],
  [/[\u00A0\u2009\u202F\u2002\u2003\u2007\u2008\u200A]/g, ' '],
  [/\u200B|\u200C|\u200D|\uFEFF/g, ''],
  [/\u00BD/g, '\\frac{1}{2}'],
  [/\u00BC/g, '\\frac{1}{4}'],
  [/\u00BE/g, '\\frac{3}{4}'],
  [/\u2153/g, '\\frac{1}{3}'],
  [/\u2154/g, '\\frac{2}{3}'],
  [/\u00B2/g, '^{2}'],
  [/\u00B3/g, '^{3}'],
  [/[\u2018\u2019]/g, "'"],
  [/[\u201C\u201D]/g, '"'],
];

/** Delimiter-size and spacing commands: presentation only. */
const SIZING = /\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg|middle)(?![a-zA-Z])\s*/g;
const STYLE = /\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])/g;
// `\quad` and `\qquad` also when a name is glued on (`,\quadx_{2}=`): no command starts with "quad".
const SPACES = /\\(?:quad|qquad)|\\(?:enspace|thinspace|medspace|thickspace|hfill)(?![a-zA-Z])|(?<!\\)\\[,;:! ]|~/g;
/** `\\frac`, `\\left(`: a backslash doubled by string escaping before a command name, never a line break. */
const DOUBLED_BACKSLASH =
  /(?<!\\)\\\\(?=(?:frac|dfrac|tfrac|cfrac|sqrt|left|right|pi|boxed|text|mathrm|cdot|times|infty|le|ge|leq|geq|neq|pm|in|cup|cap|circ|begin|end|alpha|beta|theta)(?![a-zA-Z]))/g;

/** Thousands written with LaTeX thin spaces or braced commas: 10{,}080, 10,\!080, 10\,080, 1 234 567. */
function joinThousands(s: string): string {
  // Only digit groups that look like thousands (exactly three digits after each separator);
  // models also space them out: `14 {, }916`, `11,\! 111,\! 100`.
  s = s.replace(/(\d) ?(?:\{ ?, ?\}|,\\!|\\,|\\ |\\;|\\!) ?(?=\d{3}(?!\d))/g, '$1');
  s = s.replace(/(?<![\d.])\d{1,3}(?: \d{3})+(?![\d.])/g, (m) => m.replace(/ /g, ''));
  // `2{,}5`: the braced comma before one or two digits is a decimal comma (icomma style).
  s = s.replace(/(\d)\{,\}(\d{1,2})(?!\d)/g, '$1.$2');
  return s;
}

/** `x = 1/3 \approx 0.33` → `x = 1/3`: a value after the last `=`, then `\approx` and its rounding. */
function dropApproximation(s: string): string {
  const a = s.lastIndexOf('\\approx');
  const e = s.lastIndexOf('=');
  if (a < 0 || e < 0 || e > a || /[a-zA-Z]/.test(s[a + 7] ?? '') || s.slice(e + 1, a).trim() === '') return s;
  return s.slice(0, a);
}

/**
 * Normalise an answer string. Idempotent.
 * Keeps `\text{...}` and units: the parser decides whether text is the answer or a unit.
 */
export function normaliseLatex(input: string): string {
  let s = input;
  for (const [re, rep] of UNICODE) s = s.replace(re, rep);
  s = s.replace(/\r?\n/g, ' ');
  s = s.replace(DOUBLED_BACKSLASH, '\\');
  // `x = 1/3 \approx 0.33`: the exact value is stated; the approximation after it is not the answer.
  s = dropApproximation(s);
  // Math delimiters and currency: "$...$", "\(...\)", "\[...\]", "\$18".
  s = s.replace(/\\\$/g, ' ').replace(/\$/g, ' ');
  s = s.replace(/\\[()[\]]/g, ' ');
  s = s.replace(/\\left\.|\\right\./g, '');
  s = s.replace(SIZING, '').replace(STYLE, '');
  s = joinThousands(s);
  s = s.replace(SPACES, ' ');
  s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac').replace(/\\[dt]binom(?![a-zA-Z])/g, '\\binom');
  // Degree signs in every spelling become one marker the tokenizer knows.
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])|\u00B0|\^\s*\{\s*\u00B0\s*\}/g, '°');
  s = s.replace(/\\%|%/g, ' ');
  // Markdown emphasis around an answer (**42**), but not Python's power (2**10).
  s = s.replace(/(?<!\w)\*\*|\*\*(?!\w)/g, ' ');
  s = s.replace(/\\(?:mathrm|textrm|textnormal|mathsf|mathit|textit|textsf|textup|mbox|hbox)(?![a-zA-Z])/g, '\\text');
  s = s.replace(/\\(?:textbf|mathbf|boldsymbol|bm)(?![a-zA-Z])/g, '\\text');
  s = s.replace(/\s+/g, ' ').trim();
  // Trailing sentence punctuation ("5." "x = 3;") is not part of the answer.
  let end = s.length;
  while (end > 0 && ' .,;:'.includes(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/**
 * The compact form used for plain string equality (a fast path and the fallback for unparsable
 * answers). Braces and case are kept: `\\frac{12}{3}` and `\\frac{1}{23}` must stay different, and so
 * must `3 1/2` (a mixed number) and `31/2`.
 */
export function compactForm(s: string): string {
  return normaliseLatex(s)
    .replace(/\\text\{([^{}]*)\}/g, '$1')
    .replace(/(\d)\s+(?=\d)/g, '$1\u0000')
    .replace(/\s+/g, '')
    .replaceAll('\u0000', ' ');
}
