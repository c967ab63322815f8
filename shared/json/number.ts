/**
 * The value of a decimal number, `[-]digits[.digits][(e|E)[+|-]digits]`, reading the longest such
 * prefix (as parseFloat does for config values); NaN when no digit comes before the exponent. Integers up to 2^53 are exact; anything else
 * is within an ulp or two, which config values (ports, thresholds, timeouts) never feel. Ours,
 * because the standard library's strtod costs every module over a kilobyte.
 */
export function decimalValue(text: string): f64 {
  let i = 0;
  const n = text.length;
  let negative = false;
  if (i < n && (text.charCodeAt(i) == 0x2d || text.charCodeAt(i) == 0x2b)) {
    negative = text.charCodeAt(i) == 0x2d;
    i++;
  }
  let mantissa: u64 = 0;
  let exponent: i32 = 0;
  let significant = 0;
  const digitsStart = i;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    if (significant < 19) {
      mantissa = mantissa * 10 + <u64>(c - 0x30);
      if (mantissa != 0) significant++;
    } else exponent++;
  }
  let digits = i - digitsStart;
  if (i < n && text.charCodeAt(i) == 0x2e) {
    for (i++; i < n; i++, digits++) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      if (significant < 19) {
        mantissa = mantissa * 10 + <u64>(c - 0x30);
        if (mantissa != 0) significant++;
        exponent--;
      }
    }
  }
  // No digit before the exponent: not a number, as parseFloat says of "." or "..5".
  if (digits == 0) return NaN;
  if (i + 1 < n && (text.charCodeAt(i) == 0x65 || text.charCodeAt(i) == 0x45)) {
    let j = i + 1;
    let negativeExponent = false;
    if (text.charCodeAt(j) == 0x2d || text.charCodeAt(j) == 0x2b) {
      negativeExponent = text.charCodeAt(j) == 0x2d;
      j++;
    }
    let e: i32 = 0;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c < 0x30 || c > 0x39) break;
      if (e < 100000) e = e * 10 + (c - 0x30);
    }
    exponent += negativeExponent ? -e : e;
  }
  let value = <f64>mantissa;
  if (value != 0) {
    // Scale in steps whose powers of ten are exact in f64 (up to 1e22).
    while (exponent > 0) {
      const step = min(exponent, 22);
      value *= pow10(step);
      exponent -= step;
      if (!isFinite(value)) break;
    }
    while (exponent < 0) {
      const step = min(-exponent, 22);
      value /= pow10(step);
      exponent += step;
      if (value == 0) break;
    }
  }
  return negative ? -value : value;
}

function pow10(k: i32): f64 {
  let p: f64 = 1;
  for (let i = 0; i < k; i++) p *= 10;
  return p;
}
