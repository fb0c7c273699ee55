/**
 * Dotted-key access into plain config objects: `optim.lr`, `rewards.1.weight` (a numeric part indexes
 * an array). Values arrive already typed (from YAML), unlike `--set k=v` strings.
 */

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function splitKey(key: string): string[] {
  const parts = key.split('.');
  if (parts.some((p) => p === '')) throw new Error(`"${key}" is not a valid dotted key`);
  return parts;
}

/** Set `key` in `obj` (mutating), creating intermediate mappings or arrays as the next part asks. */
export function setDotted(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = splitKey(key);
  let cur: Record<string, unknown> | unknown[] = obj;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(part)) throw new Error(`"${parts.slice(0, i).join('.')}" is a list: "${part}" is not an index`);
      const idx = Number(part);
      if (idx > cur.length) throw new Error(`"${parts.slice(0, i + 1).join('.')}": index ${idx} is past the end of a list of ${cur.length}`);
      if (last) {
        cur[idx] = value;
        return;
      }
      if (cur[idx] === undefined || cur[idx] === null) cur[idx] = /^\d+$/.test(parts[i + 1]!) ? [] : {};
      const next: unknown = cur[idx];
      if (typeof next !== 'object' || next === null) throw new Error(`"${parts.slice(0, i + 1).join('.')}" is a ${typeof next}, not a mapping`);
      cur = next as Record<string, unknown> | unknown[];
    } else {
      if (last) {
        cur[part] = value;
        return;
      }
      if (cur[part] === undefined || cur[part] === null) cur[part] = /^\d+$/.test(parts[i + 1]!) ? [] : {};
      const next: unknown = cur[part];
      if (typeof next !== 'object' || next === null) throw new Error(`"${parts.slice(0, i + 1).join('.')}" is a ${typeof next}, not a mapping`);
      cur = next as Record<string, unknown> | unknown[];
    }
  }
}

/** Read `key` from `obj`; undefined when any part is missing. */
export function getDotted(obj: unknown, key: string): unknown {
  let cur: unknown = obj;
  for (const part of splitKey(key)) {
    if (Array.isArray(cur)) cur = /^\d+$/.test(part) ? cur[Number(part)] : undefined;
    else if (isPlainObject(cur)) cur = cur[part];
    else return undefined;
  }
  return cur;
}
