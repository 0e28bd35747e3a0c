/* xsum.c - exact fixed-point summation (see td_xsum.h). */
#include <math.h>
#include "td_xsum.h"

int td_xsum_shift(double amax, int64_t nterms)
{
    int e = 0;
    if (amax > 0)
        frexp(amax, &e);             /* amax < 2^e */
    int lg = 0;
    while (lg < 62 && ((int64_t)1 << lg) < nterms)
        lg++;                        /* nterms <= 2^lg */
    return 125 - e - lg;
}

void td_xsum_add(td_i128 *acc, const double *v, size_t n, int shift)
{
    for (size_t i = 0; i < n; i++)
        acc[i] += (td_i128)rint(ldexp(v[i], shift));
}

void td_xsum_get(const td_i128 *acc, size_t n, int shift, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = ldexp((double)acc[i], -shift);
}
