/* td_generate.h - synthetic labelled data for `trunc-dist generate`: the
 * mathematics, no MPI, no files (the writer is td_h5gen.h).
 *
 * Every value is a function of the seed and the global row alone: a
 * counter-based generator (splitmix64's output function keyed by (seed,
 * stream, counter)) gives the random words, so any split of the rows over
 * ranks and threads produces the same bytes, and a row is generated without
 * looking at any other.
 *
 * Classes: rows come in groups of Q consecutive rows, group g holding one
 * row of every class, rotated by a random r_g: row i has class
 * k = (i mod Q + r_g) mod Q and is row t = g of its class.  Counts differ by
 * at most one, and every class appears once N >= Q.  Labels are
 * label_offset + label_step * k.
 *
 * Centres ("layout", nearest centres S sqrt 2 apart, S = 10): M >= Q: S e_k
 * (one-hot); M = Q - 1: a regular simplex of the same edge in R^(Q-1)
 * (Helmert coordinates); 2 <= M < Q - 1: a regular Q-gon in the first two
 * coordinates; M = 1: points on a line.  Every row is finally moved by a
 * seeded isometry, x -> H2 H1 x + s (two Householder reflections and a
 * shift, O(M) per row), so no kind is axis-aligned; distances, means,
 * midpoints and convex hulls are preserved, and so is every property below.
 *
 * Kinds (the proofs are in src/core/generate.c):
 *   blobs        Gaussian blobs, sigma = half-gap / sep (sep 10 by default:
 *                every class is 10 standard deviations from a hyperplane
 *                separating it from the rest): SLS, one-vs-rest separable.
 *   sls_not_ovr  Q >= 3 clusters on a line (bounded noise of radius D/4,
 *                spacing D); every odd inner class is made of midpoints of
 *                rows of its two neighbours, so it lies in the hull of the
 *                rest (not one-vs-rest separable), while the order along
 *                the line is sequentially separable (Definition 5).
 *   clustered    balls of radius delta around the centres, antithetic so
 *                that the class means are the centres and delta is exact:
 *                Proposition 3's (18) and (20) hold with delta = half the
 *                critical radius, or fail by the fraction F (--violate F).
 *   overlap      Gaussian blobs whose centres are sep standard deviations
 *                apart (sep 1 by default), each row of a pair reflected
 *                through the centroid: every class's hull holds the
 *                centroid, so no class separates from the rest: not SLS.
 *   random       uniform in [-S, S]^M with labels independent of x, rows in
 *                pairs x, -x: the same certificate, not SLS. */
#ifndef TD_GENERATE_H
#define TD_GENERATE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    TD_GEN_BLOBS = 0,
    TD_GEN_SLS_NOT_OVR,
    TD_GEN_CLUSTERED,
    TD_GEN_OVERLAP,
    TD_GEN_RANDOM,
    TD_GEN_NKINDS
} td_gen_kind;

typedef enum {
    TD_LAYOUT_ONEHOT = 0,   /* M >= Q */
    TD_LAYOUT_SIMPLEX,      /* M == Q - 1 */
    TD_LAYOUT_POLYGON,      /* 2 <= M < Q - 1 */
    TD_LAYOUT_LINE,         /* M == 1 (and sls_not_ovr, along e_0) */
    TD_LAYOUT_CUBE          /* random: no centres */
} td_gen_layout;

#define TD_GEN_MAX_M (1 << 20)          /* a row of 8 MiB in float64 */
#define TD_GEN_MAX_Q (1 << 24)

typedef struct {
    /* asked (td_gen_setup checks them) */
    td_gen_kind kind;
    int64_t n;
    int m, q;
    uint64_t seed;
    int64_t label_offset, label_step;
    double sep;             /* blobs (default 10), overlap (default 1) */
    int has_sep;
    double violate;         /* clustered: delta = (1 + violate) delta_crit */
    int has_violate;

    /* derived */
    td_gen_layout layout;
    double scale;           /* S */
    double dist;            /* nearest centres: S sqrt 2 (the line's spacing) */
    double radius_poly;     /* the polygon's radius */
    double sigma;           /* blobs, overlap: Gaussian standard deviation */
    double radius;          /* sls_not_ovr, clustered: noise ball radius;
                               random: the cube's half-width */
    double halfgap;         /* blobs: half the gap one-vs-rest (sequential
                               on a line) between the centres */
    /* clustered: Proposition 3 with the exact means (= the centres) */
    double r_min;           /* min_j |mean_j - barycentre| */
    double proj_min;        /* min_{j != j'} <mean_j' - mean_j, f_j> */
    double bound18;         /* (18) holds iff delta < r_min / 4 */
    double bound20;         /* (20) holds iff delta < proj_min / 4 */
    double delta_crit;      /* min(bound18, bound20) */
    double delta;           /* the data's delta (= radius) */
    int binding;            /* 18 or 20: the condition delta_crit comes from */
    double *iso;            /* 3 M: v1, v2 (unit), shift */
} td_gen;

/* "blobs", ...; NULL for an unknown kind. */
const char *td_gen_kind_name(td_gen_kind k);
/* -1 when unknown. */
int td_gen_kind_parse(const char *name);
const char *td_gen_layout_name(td_gen_layout l);

/* Check the request and derive the geometry.  0, or -1 with one line in
 * msg naming the option at fault.  Allocates g->iso (td_gen_free). */
int td_gen_setup(td_gen *g, char *msg, size_t len);
void td_gen_free(td_gen *g);

/* Class index of global row i, and its index t among its class's rows. */
int td_gen_class_of(const td_gen *g, int64_t i, int64_t *t);
/* Rows of class k among the N. */
int64_t td_gen_class_count(const td_gen *g, int k);

/* Row i into x[0 .. M) and its label; x[M .. 2M) is scratch (x holds 2 M
 * doubles).  Thread-safe, depends only on the seed, the options and i. */
void td_gen_row(const td_gen *g, int64_t i, double *x, int64_t *label);

/* The construction in a few sentences, for the file's attributes. */
const char *td_gen_description(td_gen_kind k);

/* The command (src/app/generate.c): argv[0] is "generate"; every rank
 * generates and writes its rows and returns the agreed exit code. */
int td_generate_main(int argc, char **argv);

/* The counter-based generator: word b of the stream keyed by (seed,
 * stream, a, c).  For the tests. */
uint64_t td_gen_word(uint64_t seed, uint64_t stream, uint64_t a, uint64_t c,
                     uint64_t b);

#endif
