/**
 * English number words ("four", "twenty-one", "one hundred and five", "three thousand") to an
 * integer; null when the text is anything else. Used for answers written in words, which
 * Math-Verify does not read.
 */
const SMALL: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70,
  eighty: 80, ninety: 90,
};
const SCALES: Record<string, number> = { hundred: 100, thousand: 1e3, million: 1e6, billion: 1e9 };

export function parseNumberWords(text: string): number | null {
  const words = text
    .toLowerCase()
    .replace(/[-,]/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== 'and');
  if (words.length === 0 || words.length > 12) return null;
  let negative = false;
  if (words[0] === 'minus' || words[0] === 'negative') {
    negative = true;
    words.shift();
  }
  let total = 0;
  let current = 0;
  let seen = false;
  for (const w of words) {
    if (w in SMALL) {
      current += SMALL[w]!;
      seen = true;
    } else if (w === 'hundred') {
      if (!seen) return null;
      current *= 100;
    } else if (w in SCALES) {
      if (!seen) return null;
      total += current * SCALES[w]!;
      current = 0;
    } else return null;
  }
  if (!seen) return null;
  const v = total + current;
  return negative ? -v : v;
}

/** Whether a word is a number word (to find "The answer is four." in prose). */
export function isNumberWord(w: string): boolean {
  const l = w.toLowerCase();
  return l in SMALL || l in SCALES;
}
