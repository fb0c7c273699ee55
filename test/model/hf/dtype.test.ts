import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../../src/model/hf/dtype.js';

// Bit patterns worked out by hand from IEEE 754 layouts: bf16 = the top 16 bits of a float32 (8-bit exponent),
// f16 = 1 sign, 5 exponent (bias 15), 10 mantissa bits.
describe('bf16 narrowing (round to nearest, ties to even)', () => {
  it.each([
    [1.0, 0x3f80],
    [-2.5, 0xc020], // -1.25 * 2^1: sign, exponent 128 = 0x80, mantissa .01
    [0, 0x0000],
    [-0, 0x8000],
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [1 + 2 ** -8, 0x3f80], // exactly halfway between 0x3F80 and 0x3F81: keep the even one
    [1 + 3 * 2 ** -8, 0x3f82], // halfway between 0x3F81 and 0x3F82: round up to even
    [1 + 2 ** -8 + 2 ** -20, 0x3f81], // just above halfway
    [2 ** -130, 0x0008], // float32 subnormal 2^19 * 2^-149 keeps its top bits
    [3.4028234663852886e38, 0x7f80], // float32 max rounds past the largest bf16 to infinity
  ])('%d -> 0x%s', (x, bits) => {
    expect(f32ToBf16Bits(x)).toBe(bits);
  });
  it('NaN stays NaN (quiet, sign kept) and widening is exact', () => {
    expect(f32ToBf16Bits(NaN)).toBe(0x7fc0);
    expect(Number.isNaN(bf16BitsToF32(0x7fc0))).toBe(true);
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc020)).toBe(-2.5);
    expect(bf16BitsToF32(0x0008)).toBe(2 ** -130);
  });
});

describe('f16 narrowing (round to nearest, ties to even, subnormals kept)', () => {
  it.each([
    [1.0, 0x3c00],
    [-2.5, 0xc100], // -1.25 * 2^1: exponent 16 = 0b10000, mantissa 0x100
    [65504, 0x7bff], // largest finite
    [65519, 0x7bff], // below the halfway point to 65536
    [65520, 0x7c00], // halfway: the even neighbour is the (infinite) next exponent
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -25, 0x0000], // halfway between 0 and 2^-24: ties to even (0)
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // halfway between 1 and 2 units: even is 2
    [1 + 2 ** -11, 0x3c00], // halfway between 0x3C00 and 0x3C01
    [1 + 3 * 2 ** -11, 0x3c02], // halfway between 0x3C01 and 0x3C02
    [-0, 0x8000],
    [1e-10, 0x0000],
    [-Infinity, 0xfc00],
  ])('%d -> 0x%s', (x, bits) => {
    expect(f32ToF16Bits(x)).toBe(bits);
  });
  it('NaN and widening', () => {
    expect(f32ToF16Bits(NaN)).toBe(0x7e00);
    expect(Number.isNaN(f16BitsToF32(0x7e00))).toBe(true);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0xc100)).toBe(-2.5);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
  });
  it('every finite f16 survives widen then narrow', () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) if ((h & 0x7c00) !== 0x7c00 && f32ToF16Bits(f16BitsToF32(h)) !== h) bad.push(h);
    expect(bad).toEqual([]);
  });
});

describe('agrees with torch (fixtures/goldens.json dtype_bits)', () => {
  it('matches .to(torch.bfloat16) and .to(torch.float16) bit for bit', async () => {
    const { loadGoldens } = await import('./helpers.js');
    const g = loadGoldens().dtype_bits;
    g.values.forEach((v, i) => {
      const x = v === 'nan' ? NaN : v === 'inf' ? Infinity : (v as number);
      if (Number.isNaN(x)) {
        // torch keeps the NaN's payload and sign; both are NaN either way
        expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(x)))).toBe(true);
        expect(Number.isNaN(bf16BitsToF32(g.bf16[i]!))).toBe(true);
        return;
      }
      expect(f32ToBf16Bits(x)).toBe(g.bf16[i]);
      expect(f32ToF16Bits(x)).toBe(g.f16[i]);
    });
  });
});
