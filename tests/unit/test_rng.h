/* test_rng.h - the unit suites' reproducible random numbers (splitmix64),
 * one stream per suite: each includes this once and seeds rng_state. */
#ifndef TD_TEST_RNG_H
#define TD_TEST_RNG_H

#include <math.h>
#include <stdint.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static inline double urand(void)          /* uniform in [0, 1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static inline double nrand(void)          /* standard normal */
{
    double u = urand() + 1e-300, v = urand();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

#endif
