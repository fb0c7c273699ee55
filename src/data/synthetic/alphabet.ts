/**
 * The characters the synthetic task may ever emit. The CPU demo's policy is a character-level model
 * whose vocabulary is exactly this set (plus BOS/EOS), so any other character in a prompt or a
 * reference solution would be an unknown token.
 */
export const SYNTHETIC_ALPHABET = ' \n0123456789abcdefghijklmnopqrstuvwxyz+-*/=().,:?#%<>';

const ALLOWED = new Set(SYNTHETIC_ALPHABET);

/** Characters of `text` outside the alphabet (each listed once, in order of first appearance). */
export function alphabetViolations(text: string): string[] {
  const bad: string[] = [];
  for (const ch of text) if (!ALLOWED.has(ch) && !bad.includes(ch)) bad.push(ch);
  return bad;
}

export function inSyntheticAlphabet(text: string): boolean {
  return alphabetViolations(text).length === 0;
}

/** Throws with the offending characters (JSON-escaped so that a stray tab or capital is visible). */
export function assertSyntheticAlphabet(text: string, what = 'text'): void {
  const bad = alphabetViolations(text);
  if (bad.length > 0) throw new Error(`${what}: characters outside the synthetic alphabet: ${bad.map((c) => JSON.stringify(c)).join(' ')}`);
}
