/** commander collector for repeatable options such as --set k=v. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
