/* td_xsum.h - exact, order-independent summation.
 *
 * Terms are scaled by a common power of two, rounded to 128-bit integers and
 * added as integers.  Integer addition is associative, so the sum is the
 * same whatever the order, the thread count or the rank count: this is what
 * makes trunc-dist's output bytes independent of the partition.  The scale
 * comes from a bound on |term| and the number of terms, both of which the
 * caller makes global (a MAX and a fixed count) before accumulating. */
#ifndef TD_XSUM_H
#define TD_XSUM_H

#include <stddef.h>
#include <stdint.h>

typedef __int128 td_i128;

/* Scale exponent for terms bounded by amax (finite, >= 0) when at most
 * nterms of them are added: keeps the total below 2^125. */
int td_xsum_shift(double amax, int64_t nterms);

/* acc[i] += round(v[i] * 2^shift), i < n. */
void td_xsum_add(td_i128 *acc, const double *v, size_t n, int shift);

/* out[i] = acc[i] * 2^-shift, rounded to double. */
void td_xsum_get(const td_i128 *acc, size_t n, int shift, double *out);

#endif
