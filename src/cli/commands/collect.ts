/** A comma-separated list of integers such as `--levels 1,2`; a bad item is named with its flag. */
export function intList(flag: string, value: string): number[] {
  return value.split(',').map((x) => {
    const n = Number(x.trim());
    if (x.trim() === '' || !Number.isInteger(n)) throw new Error(`${flag}: ${JSON.stringify(x)} is not an integer`);
    return n;
  });
}

/** commander collector for repeatable options such as --set k=v. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
