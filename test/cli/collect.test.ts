import { describe, expect, it } from 'vitest';
import { applySets } from '../../src/config/load.js';
import { collect, intList } from '../../src/cli/commands/collect.js';

describe('CLI list options', () => {
  it('intList reads comma-separated integers and names the flag of a bad item', () => {
    expect(intList('--levels', '1, 2,3')).toEqual([1, 2, 3]);
    expect(() => intList('--levels', '1,x')).toThrow(/--levels: "x" is not an integer/);
    expect(() => intList('--levels', '1,,2')).toThrow(/--levels: "" is not an integer/);
    expect(() => intList('--levels', '1.5')).toThrow(/--levels/);
  });

  it('collect gathers repeated values; applySets names the flag it parses', () => {
    expect(collect('b=2', collect('a=1'))).toEqual(['a=1', 'b=2']);
    expect(applySets({}, ['names="fixed"', 'n=3'], '--option')).toEqual({ names: 'fixed', n: 3 });
    expect(() => applySets({}, ['names'], '--option')).toThrow(/--option "names": expected key=value/);
    expect(() => applySets({}, ['x'])).toThrow(/--set "x"/);
  });
});
