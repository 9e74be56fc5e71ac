/**
 * The one rounding function of Flint (pricing.md §2): a fraction becomes minor units here and
 * nowhere else. Half to even ("banker's rounding", as Square), symmetric around zero, so
 * roundHalfEven(-n, d) === -roundHalfEven(n, d).
 */
export function roundHalfEven(num: bigint, den: bigint): bigint {
  if (den === 0n) throw new RangeError('roundHalfEven: division by zero');
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const negative = num < 0n;
  const abs = negative ? -num : num;
  let q = abs / den; // bigint division truncates; abs >= 0 so this is floor
  const twiceRemainder = (abs % den) * 2n;
  if (twiceRemainder > den || (twiceRemainder === den && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}
