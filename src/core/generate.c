/* generate.c - synthetic data for `trunc-dist generate` (td_generate.h).
 *
 * The constructions and why they have the properties their names claim.
 * All of them are stated before the final isometry x -> H2 H1 x + s, which
 * preserves distances, means, midpoints, hulls and hence every claim.
 *
 * blobs.  Class k is N(c_k, sigma^2 I) with sigma = halfgap / sep.  With
 * the one-hot centres S e_k the hyperplane <e_k, x> = S/2 has class k's
 * centre S/2 on one side and every other centre S/2 on the other, so a row
 * is on the wrong side only if a standard normal exceeds sep (10 by
 * default: probability below 1e-23 per row and class).  The simplex is an
 * isometric copy; the polygon's vertex k is cut off by the chord-parallel
 * line half-way between it and its neighbours (halfgap = R (1 - cos 2pi/Q)
 * / 2); on a line the classes peel off from one end (SLS, not one-vs-rest).
 *
 * sls_not_ovr (Q >= 3, M >= 2).  Unit vectors u = e_0, w = e_1; centres
 * c_k = (k - (Q-1)/2) D u, D = 10; noise xi in the ball of radius
 * r = D/4.  Rows come in groups of Q, one per class; in group g the row of
 * class k has noise xi(g, k), drawn uniformly in the ball for even k and
 * for k = Q - 1, and xi(g, k) = (xi(g, k-1) + xi(g, k+1)) / 2 for the odd
 * inner classes, so that
 *     x(g, k) = (x(g, k-1) + x(g, k+1)) / 2    (c_k is the mean of c_k+-1)
 * and |xi| <= r still (convexity of the ball).
 *   Not one-vs-rest separable: for Q >= 3 group 0 is complete (N >= Q), and
 *   its row of class 1 is the midpoint of two rows of classes 0 and 2, so
 *   class 1 meets the convex hull of the other classes: no hyperplane
 *   strictly separates it from their union.  (Every odd inner class does.)
 *   Sequentially separable in the order 0, 1, ..., Q-1 (Definition 5):
 *   shift the origin so that c_k = k D u, and put beta = 1 / (Q - 1),
 *   q_l = (l + 1/2) D u, the normal n_l = -(u + l beta w) and the base point
 *   p_l = q_l + S_l (w - l beta u) with S_l > D / beta, on
 *   H_l = {x : <n_l, x - q_l> = 0} (indeed <n_l, w - l beta u> = 0).  Then
 *   - class l: x - q_l = -D/2 u + xi, <n_l, x - q_l> >= D/2 - r |n_l| > 0,
 *     since |n_l| <= sqrt(1 + ((Q-1) beta)^2) = sqrt 2 and r sqrt 2 < D/2;
 *   - class m > l: x - q_l = (m - l - 1/2) D u + xi, so
 *     <n_l, x - q_l> <= -D/2 + r sqrt 2 < 0;
 *   - base point p_k, k < l: <n_l, p_k - q_l> = (l - k) D + S_k k beta
 *     - l beta S_k = (l - k)(D - beta S_k) < 0.
 *   So H_l strictly separates class l from the later classes and from every
 *   earlier base point.  Choosing S_k = (2 + k) D / beta puts p_0, p_1, p_2
 *   on a parabola (not collinear), and adding T e_(l+1) to p_l for l >= 3
 *   (orthogonal to u, w, hence to every n_m: no test changes) makes the
 *   base points affinely independent when M >= Q - 1, which is what
 *   Theorem 6's output layer needs.
 *
 * clustered.  Noise in the ball of radius delta, antithetic: the rows t =
 * 2h and 2h + 1 of class k have noise +xi(k, h) and -xi(k, h), an unpaired
 * last row none, so every class mean is exactly its centre; xi(k, 0) has
 * length exactly delta (the others are uniform in the ball), so the data's
 * delta := max |x - mean_class(x)| is exactly delta once a class has two
 * rows.  Proposition 3: (18) delta < c0 min_j |mean_j - xbar| for some
 * c0 < 1/4, i.e. delta < r_min / 4; (20) every ball B_4delta(mean_j')
 * inside mean_j + C_theta[f_j] with theta < pi: for one ball the cone's
 * half-angle is angle(mean_j' - mean_j, f_j) + asin(4 delta / |mean_j' -
 * mean_j|) < pi/2, i.e. 4 delta < <mean_j' - mean_j, f_j>, so (20) holds
 * iff delta < proj_min / 4.  In closed form, with edge S sqrt 2: simplex
 * (one-hot or Helmert) r_min = S sqrt((Q-1)/Q), proj_min = S sqrt(Q/(Q-1));
 * polygon of radius R: r_min = R, proj_min = R (1 - cos 2pi/Q); two points
 * on a line d apart: r_min = d/2, proj_min = d.  The default delta is half
 * of delta_crit = min(r_min, proj_min) / 4; --violate F makes it
 * (1 + F) delta_crit: the binding condition (18 on a simplex, 20 on a
 * polygon of Q >= 5) fails by the fraction F, the other one may still hold
 * (on a simplex (20) holds while F < 1 / (Q - 1)).
 *
 * overlap.  Rows t = 2h and 2h + 1 of class k are z and 2 xbar - z for
 * z ~ N(c_k, I) (xbar: the centroid of the centres, which sit sep apart):
 * xbar is the midpoint of two rows of every class with two rows, so it lies
 * in the hull of each class and of the rest: no class is strictly
 * separable from the others, and no order can start: not SLS (and not
 * lifted-SLS either).  random: the same with z uniform in [-S, S]^M and
 * 2 xbar - z = -z. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_generate.h"

#define GOLDEN 0x9e3779b97f4a7c15ULL
#define SCALE 10.0              /* S */

enum { STREAM_GROUP = 1, STREAM_NOISE = 2, STREAM_ISO = 3 };

static const char *kind_names[TD_GEN_NKINDS] = {
    "blobs", "sls_not_ovr", "clustered", "overlap", "random"};

const char *td_gen_kind_name(td_gen_kind k)
{
    return k >= 0 && k < TD_GEN_NKINDS ? kind_names[k] : NULL;
}

int td_gen_kind_parse(const char *name)
{
    for (int k = 0; k < TD_GEN_NKINDS; k++)
        if (!strcmp(name, kind_names[k]))
            return k;
    return -1;
}

const char *td_gen_layout_name(td_gen_layout l)
{
    switch (l) {
    case TD_LAYOUT_ONEHOT: return "one-hot";
    case TD_LAYOUT_SIMPLEX: return "simplex";
    case TD_LAYOUT_POLYGON: return "polygon";
    case TD_LAYOUT_LINE: return "line";
    default: return "cube";
    }
}

const char *td_gen_description(td_gen_kind k)
{
    switch (k) {
    case TD_GEN_BLOBS:
        return "Gaussian blobs N(c_k, sigma^2 I), sigma = halfgap / sep: every "
               "class sep standard deviations from a hyperplane cutting it off "
               "(on a line: from the classes after it): sequentially "
               "linearly separable";
    case TD_GEN_SLS_NOT_OVR:
        return "clusters on a line (spacing D = 10, noise in a ball of radius "
               "D/4); each odd inner class's row of a group is the midpoint "
               "of its neighbours' rows, so class 1 meets the hull of the "
               "rest (not one-vs-rest separable), while the order along the "
               "line is sequentially separable with tilted hyperplanes and "
               "base points off the line (proof: src/core/generate.c)";
    case TD_GEN_CLUSTERED:
        return "antithetic noise in balls of radius delta around the "
               "centres: class means are the centres and delta is exact; "
               "Proposition 3's (18) delta < r_min/4 and (20) delta < "
               "proj_min/4 hold at delta = delta_crit/2, or the binding one "
               "fails by the fraction violate at delta = (1 + violate) "
               "delta_crit";
    case TD_GEN_OVERLAP:
        return "Gaussian blobs N(c_k, I) with centres sep apart, rows in "
               "pairs z, 2 xbar - z: the centroid xbar is in the hull of every "
               "class, so no class separates from the rest: not sequentially "
               "separable";
    case TD_GEN_RANDOM:
        return "uniform in [-S, S]^M, labels independent of x, rows of a "
               "class in pairs z, -z: the origin is in the hull of every "
               "class: not sequentially separable (memorisation)";
    default:
        return "";
    }
}

/* ---- the counter-based generator ------------------------------------- */

static inline uint64_t fmix(uint64_t z)     /* splitmix64's output */
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The key of one stream of words: (seed, stream, a, c) -> 64 bits. */
static uint64_t key_of(uint64_t seed, uint64_t stream, uint64_t a, uint64_t c)
{
    uint64_t z = fmix(seed + GOLDEN);
    z = fmix(z ^ fmix(stream * GOLDEN + 0x632be59bd9b4e019ULL));
    z = fmix(z ^ fmix(a * GOLDEN + 0x2545f4914f6cdd1dULL));
    return fmix(z ^ fmix(c * GOLDEN + 0xd6e8feb86659fd93ULL));
}

/* Word b of a stream: the key xor-ed with a hashed counter, so two keys
 * never give shifted copies of one sequence. */
static inline uint64_t word(uint64_t key, uint64_t b)
{
    return fmix(key ^ fmix(b * GOLDEN + 0x3c6ef372fe94f82bULL));
}

uint64_t td_gen_word(uint64_t seed, uint64_t stream, uint64_t a, uint64_t c,
                     uint64_t b)
{
    return word(key_of(seed, stream, a, c), b);
}

static inline double unit(uint64_t w)           /* uniform in (0, 1) */
{
    return ((double)(w >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* M standard normals (Box-Muller on words 2p, 2p + 1). */
static void gauss_fill(uint64_t key, double *x, int m)
{
    for (int j = 0; j < m; j += 2) {
        double u = unit(word(key, (uint64_t)j));
        double v = unit(word(key, (uint64_t)j + 1));
        double r = sqrt(-2.0 * log(u)), a = 2.0 * M_PI * v;
        x[j] = r * cos(a);
        if (j + 1 < m)
            x[j + 1] = r * sin(a);
    }
}

static double norm2(const double *x, int m)
{
    double s = 0;
    for (int j = 0; j < m; j++)
        s += x[j] * x[j];
    return sqrt(s);
}

/* A point of the ball of radius rad: uniform inside, or on the sphere
 * when `surface`. */
static void ball_fill(uint64_t key, double rad, int surface, double *x, int m)
{
    gauss_fill(key, x, m);
    double nrm = norm2(x, m);
    if (!(nrm > 0)) {           /* all M normals 0: never in practice */
        memset(x, 0, sizeof(double) * (size_t)m);
        return;
    }
    double s = surface ? 1.0
                       : pow(unit(word(key, (uint64_t)m + 2)), 1.0 / m);
    s *= rad / nrm;
    for (int j = 0; j < m; j++)
        x[j] *= s;
}

/* ---- classes --------------------------------------------------------- */

static int rotation(const td_gen *g, int64_t group)
{
    uint64_t w = word(key_of(g->seed, STREAM_GROUP, (uint64_t)group, 0), 0);
    return (int)(((unsigned __int128)w * (unsigned)g->q) >> 64);
}

int td_gen_class_of(const td_gen *g, int64_t i, int64_t *t)
{
    int64_t grp = i / g->q;
    int pos = (int)(i % g->q);
    if (t)
        *t = grp;
    return (pos + rotation(g, grp)) % g->q;
}

int64_t td_gen_class_count(const td_gen *g, int k)
{
    int64_t full = g->n / g->q, rem = g->n % g->q;
    if (rem == 0)
        return full;
    int pos = ((k - rotation(g, full)) % g->q + g->q) % g->q;
    return full + (pos < rem);
}

/* ---- geometry -------------------------------------------------------- */

/* Centre of class k (M coordinates). */
static void centre(const td_gen *g, int k, double *x)
{
    int m = g->m;
    memset(x, 0, sizeof(double) * (size_t)m);
    if (g->kind == TD_GEN_SLS_NOT_OVR || g->layout == TD_LAYOUT_LINE) {
        x[0] = (k - 0.5 * (g->q - 1)) * g->dist;
        return;
    }
    switch (g->layout) {
    case TD_LAYOUT_ONEHOT:
        x[k] = g->scale;
        break;
    case TD_LAYOUT_SIMPLEX:
        /* Helmert basis of the sum-zero vectors of R^Q: coordinate j is
         * (1, ..., 1, -(j+1), 0, ...) / sqrt((j+1)(j+2)), j + 1 ones; the
         * images of S e_k form a regular simplex of edge S sqrt 2 */
        for (int j = 0; j < m; j++) {
            double c = g->scale / sqrt((double)(j + 1) * (j + 2));
            x[j] = k <= j ? c : k == j + 1 ? -(j + 1) * c : 0.0;
        }
        break;
    case TD_LAYOUT_POLYGON:
        x[0] = g->radius_poly * cos(2.0 * M_PI * k / g->q);
        x[1] = g->radius_poly * sin(2.0 * M_PI * k / g->q);
        break;
    default:
        break;
    }
}

/* Centroid of the centres. */
static void centroid(const td_gen *g, double *x)
{
    memset(x, 0, sizeof(double) * (size_t)g->m);
    if (g->layout == TD_LAYOUT_ONEHOT && g->kind != TD_GEN_SLS_NOT_OVR)
        for (int j = 0; j < g->q; j++)
            x[j] = g->scale / g->q;
}

static void householder(const double *v, double *x, int m)
{
    double d = 0;
    for (int j = 0; j < m; j++)
        d += v[j] * x[j];
    d *= 2;
    for (int j = 0; j < m; j++)
        x[j] -= d * v[j];
}

static void isometry(const td_gen *g, double *x)
{
    int m = g->m;
    householder(g->iso, x, m);
    householder(g->iso + m, x, m);
    for (int j = 0; j < m; j++)
        x[j] += g->iso[2 * m + j];
}

void td_gen_row(const td_gen *g, int64_t i, double *x, int64_t *label)
{
    int m = g->m;
    int64_t t;
    int k = td_gen_class_of(g, i, &t);
    *label = g->label_offset + g->label_step * k;
    double *z = x + m;          /* scratch: the caller gives 2 M */
    centre(g, k, x);
    switch (g->kind) {
    case TD_GEN_BLOBS:
        gauss_fill(key_of(g->seed, STREAM_NOISE, (uint64_t)i, 0), z, m);
        for (int j = 0; j < m; j++)
            x[j] += g->sigma * z[j];
        break;
    case TD_GEN_SLS_NOT_OVR:
        if (k % 2 == 1 && k + 1 < g->q) {
            for (int s = -1; s <= 1; s += 2) {
                ball_fill(key_of(g->seed, STREAM_NOISE, (uint64_t)(k + s),
                                 (uint64_t)t), g->radius, 0, z, m);
                for (int j = 0; j < m; j++)
                    x[j] += 0.5 * z[j];
            }
        } else {
            ball_fill(key_of(g->seed, STREAM_NOISE, (uint64_t)k, (uint64_t)t),
                      g->radius, 0, z, m);
            for (int j = 0; j < m; j++)
                x[j] += z[j];
        }
        break;
    case TD_GEN_CLUSTERED:
        if (t % 2 == 0 && t == td_gen_class_count(g, k) - 1)
            break;              /* unpaired: at the mean */
        ball_fill(key_of(g->seed, STREAM_NOISE, (uint64_t)k, (uint64_t)(t / 2)),
                  g->radius, t / 2 == 0, z, m);
        for (int j = 0; j < m; j++)
            x[j] += t % 2 ? -z[j] : z[j];
        break;
    case TD_GEN_OVERLAP:
        gauss_fill(key_of(g->seed, STREAM_NOISE, (uint64_t)k, (uint64_t)(t / 2)),
                   z, m);
        for (int j = 0; j < m; j++)
            x[j] += g->sigma * z[j];
        if (t % 2) {
            centroid(g, z);
            for (int j = 0; j < m; j++)
                x[j] = 2 * z[j] - x[j];
        }
        break;
    case TD_GEN_RANDOM: {
        uint64_t key = key_of(g->seed, STREAM_NOISE, (uint64_t)k,
                              (uint64_t)(t / 2));
        for (int j = 0; j < m; j++) {
            double v = g->radius * (2.0 * unit(word(key, (uint64_t)j)) - 1.0);
            x[j] = t % 2 ? -v : v;
        }
        break;
    }
    default:
        break;
    }
    isometry(g, x);
}

/* ---- setup ----------------------------------------------------------- */

static int fail(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* Proposition 3 in closed form for the layout (see the top comment). */
static void prop3(td_gen *g)
{
    double q = g->q;
    switch (g->layout) {
    case TD_LAYOUT_ONEHOT:
    case TD_LAYOUT_SIMPLEX:
        g->r_min = g->scale * sqrt((q - 1) / q);
        g->proj_min = g->scale * sqrt(q / (q - 1));
        break;
    case TD_LAYOUT_POLYGON:
        g->r_min = g->radius_poly;
        g->proj_min = g->radius_poly * (1 - cos(2 * M_PI / q));
        break;
    default:                    /* two points on a line */
        g->r_min = g->dist / 2;
        g->proj_min = g->dist;
        break;
    }
    g->bound18 = g->r_min / 4;
    g->bound20 = g->proj_min / 4;
    g->binding = g->bound20 < g->bound18 ? 20 : 18;
    g->delta_crit = fmin(g->bound18, g->bound20);
    g->delta = g->has_violate ? (1 + g->violate) * g->delta_crit
                              : 0.5 * g->delta_crit;
}

int td_gen_setup(td_gen *g, char *msg, size_t len)
{
    g->iso = NULL;
    const char *kn = td_gen_kind_name(g->kind);
    if (!kn)
        return fail(msg, len, "generate: unknown kind %d", (int)g->kind);
    if (g->m < 1 || g->m > TD_GEN_MAX_M)
        return fail(msg, len, "generate: --m must be in [1, %d], got %d",
                    TD_GEN_MAX_M, g->m);
    if (g->q < 2 || g->q > TD_GEN_MAX_Q)
        return fail(msg, len, "generate: --q must be in [2, %d], got %d",
                    TD_GEN_MAX_Q, g->q);
    if (g->n < g->q)
        return fail(msg, len, "generate: --n must be at least --q = %d (every "
                    "class needs a row), got %lld", g->q, (long long)g->n);
    if (g->label_step == 0)
        return fail(msg, len, "generate: --labels-step must not be 0 (the "
                    "labels must differ)");
    __int128 last = (__int128)g->label_offset +
                    (__int128)g->label_step * (g->q - 1);
    if (last > INT64_MAX || last < INT64_MIN)
        return fail(msg, len, "generate: --labels-offset and --labels-step "
                    "put the last of %d labels beyond the int64 range", g->q);
    int is_sep = g->kind == TD_GEN_BLOBS || g->kind == TD_GEN_OVERLAP;
    if (g->has_sep && !is_sep)
        return fail(msg, len, "generate: --sep is for blobs and overlap, "
                    "not %s", kn);
    if (g->has_violate && g->kind != TD_GEN_CLUSTERED)
        return fail(msg, len, "generate: --violate is for clustered, not "
                    "%s", kn);
    if (g->kind == TD_GEN_SLS_NOT_OVR && g->q < 3)
        return fail(msg, len, "generate: --q must be at least 3 for "
                    "sls_not_ovr (two classes separate one-vs-rest as "
                    "soon as sequentially), got %d", g->q);
    if (g->kind == TD_GEN_SLS_NOT_OVR && g->m < 2)
        return fail(msg, len, "generate: --m must be at least 2 for "
                    "sls_not_ovr (base points leave the line), got %d",
                    g->m);
    if (g->kind == TD_GEN_CLUSTERED && g->m == 1 && g->q > 2)
        return fail(msg, len, "generate: --q must be 2 for clustered with "
                    "--m 1 (a middle mean is the barycentre: no cone (20)), "
                    "got %d", g->q);

    g->scale = SCALE;
    g->dist = SCALE * sqrt(2.0);
    g->layout = g->m >= g->q ? TD_LAYOUT_ONEHOT
              : g->m == g->q - 1 ? TD_LAYOUT_SIMPLEX
              : g->m >= 2 ? TD_LAYOUT_POLYGON : TD_LAYOUT_LINE;
    if (g->kind == TD_GEN_SLS_NOT_OVR)
        g->layout = TD_LAYOUT_LINE;
    switch (g->kind) {
    case TD_GEN_BLOBS:
        if (!g->has_sep)
            g->sep = 10;
        break;
    case TD_GEN_OVERLAP:
        if (!g->has_sep)
            g->sep = 1;
        /* centres sep apart, unit noise */
        g->scale = g->sep / sqrt(2.0);
        g->dist = g->sep;
        break;
    case TD_GEN_SLS_NOT_OVR:
        g->dist = SCALE;            /* D */
        g->radius = SCALE / 4;      /* r = D/4 < D / (2 sqrt 2) */
        break;
    case TD_GEN_RANDOM:
        g->radius = SCALE;
        g->layout = TD_LAYOUT_CUBE;
        break;
    default:
        break;
    }
    if (is_sep && !(g->sep > 0 && isfinite(g->sep)))
        return fail(msg, len, "generate: --sep must be finite and > 0, got "
                    "%g", g->sep);
    g->radius_poly = g->dist / (2 * sin(M_PI / g->q));
    switch (g->layout) {
    case TD_LAYOUT_ONEHOT:
    case TD_LAYOUT_SIMPLEX:
        g->halfgap = g->scale / 2;
        break;
    case TD_LAYOUT_POLYGON:
        g->halfgap = g->radius_poly * (1 - cos(2 * M_PI / g->q)) / 2;
        break;
    default:
        g->halfgap = g->dist / 2;
        break;
    }
    if (g->kind == TD_GEN_BLOBS)
        g->sigma = g->halfgap / g->sep;
    if (g->kind == TD_GEN_OVERLAP)
        g->sigma = 1;
    if (g->kind == TD_GEN_CLUSTERED) {
        if (g->has_violate && !(g->violate > 0 && g->violate <= 10))
            return fail(msg, len, "generate: --violate must be in (0, 10], "
                        "got %g", g->violate);
        prop3(g);
        g->radius = g->delta;
    }

    /* the isometry: two seeded Householder vectors and a shift */
    int m = g->m;
    g->iso = malloc(sizeof(double) * 3 * (size_t)m);
    if (!g->iso)
        return fail(msg, len, "generate: out of memory");
    for (int v = 0; v < 2; v++) {
        double *h = g->iso + (size_t)v * m;
        gauss_fill(key_of(g->seed, STREAM_ISO, (uint64_t)v, 0), h, m);
        double nrm = norm2(h, m);
        for (int j = 0; j < m; j++)
            h[j] = nrm > 0 ? h[j] / nrm : (j == 0);
    }
    double *s = g->iso + 2 * (size_t)m;
    gauss_fill(key_of(g->seed, STREAM_ISO, 2, 0), s, m);
    for (int j = 0; j < m; j++)
        s[j] *= 0.5 * SCALE;
    return 0;
}

void td_gen_free(td_gen *g)
{
    free(g->iso);
    g->iso = NULL;
}
