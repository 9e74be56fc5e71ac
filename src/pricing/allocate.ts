/**
 * The one allocator of Flint (pricing.md §2): largest remainder.
 *
 * Each part gets floor(total × weight / Σweights); the leftover units go one by one to the parts
 * with the largest fractional remainders, ties to the earlier index. A zero weight gets zero unless
 * every weight is zero, in which case the total is split equally by the same rule. The parts always
 * sum to `total`, and each part is within floor/ceil of its exact share.
 *
 * A negative total is allocated as the mirror image of its absolute value (so allocate(-x, w) ===
 * allocate(x, w).map(neg)). Negative weights are a programming error (RangeError), as is a non-zero
 * total over no weights at all (nothing could receive it).
 */
export function allocate(total: bigint, weights: readonly bigint[]): bigint[] {
  if (weights.some((w) => w < 0n)) throw new RangeError('allocate: weights must be >= 0');
  if (weights.length === 0) {
    if (total === 0n) return [];
    throw new RangeError('allocate: cannot allocate a non-zero total over no weights');
  }
  if (total < 0n) return allocate(-total, weights).map((p) => -p);

  let sum = weights.reduce((a, w) => a + w, 0n);
  const effective = sum === 0n ? weights.map(() => 1n) : weights;
  if (sum === 0n) sum = BigInt(weights.length);

  const parts: bigint[] = [];
  const remainders: { index: number; remainder: bigint }[] = [];
  let allocated = 0n;
  effective.forEach((w, index) => {
    const product = total * w;
    const share = product / sum; // both non-negative: truncation is floor
    parts.push(share);
    allocated += share;
    remainders.push({ index, remainder: product % sum });
  });

  // Largest remainder first; equal remainders keep index order (earlier index wins).
  remainders.sort((a, b) =>
    a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1,
  );
  let leftover = total - allocated; // 0 <= leftover < weights.length
  for (const { index } of remainders) {
    if (leftover === 0n) break;
    parts[index] = (parts[index] ?? 0n) + 1n;
    leftover -= 1n;
  }
  return parts;
}
