/* nc.c - neural-collapse quantities from exact per-class sums (see
 * td_nc.h and section 6.2 of the paper). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "td_linalg.h"
#include "td_nc.h"

int td_nc_dim(const td_model *mdl)
{
    int L = mdl->net.num_layers;
    return L >= 2 ? mdl->net.dims[L - 1] : 0;
}

/* Class c's penultimate reference: start from its first base point
 * (after the layer that collapsed it every unit is dead, so the point is
 * that base point in input space) or from its mean (kept everywhere),
 * and apply the later cones' truncations. */
static void ref_of_class(const td_model *mdl, int c, double *v, double *t,
                         double *a)
{
    int n = mdl->width, first = -1;
    for (int l = 0; l < mdl->nlayers && first < 0; l++)
        if (mdl->layers[l].class_index == c)
            first = l;
    memset(a, 0, sizeof(double) * n);
    if (first >= 0) {
        memcpy(v, mdl->cones[first].p, sizeof(double) * n);
    } else {
        memset(v, 0, sizeof(double) * n);
        memcpy(v, mdl->means + (size_t)c * mdl->m, sizeof(double) * mdl->m);
    }
    for (int l = first + 1; l < mdl->nlayers; l++)
        td_cone_step(&mdl->cones[l], v, a, t);
}

int td_nc_refs(const td_model *mdl, int d, double *ref)
{
    const td_network *net = &mdl->net;
    int L = net->num_layers, n = mdl->width, q = mdl->q;
    memset(ref, 0, sizeof(double) * (size_t)q * d);
    /* a class no layer collapses starts at its mean, which lives in the
     * cones' space only when the input does (not in a clustered network,
     * where every class has its layer) */
    int uncollapsed = 0;
    for (int c = 0; c < q; c++) {
        int has = 0;
        for (int l = 0; l < mdl->nlayers && !has; l++)
            has = mdl->layers[l].class_index == c;
        uncollapsed |= !has;
    }
    if (mdl->construction == TD_CONS_POLYTOPE || mdl->nlayers < 1 || L < 2 ||
        net->kind[L - 2] != TD_LAYER_CONE || d != n ||
        (uncollapsed && mdl->m > n))
        return 0;       /* no cones at the penultimate layer: 0 will do */
    double *v = malloc(sizeof(double) * 3 * n);
    if (!v)
        return -1;
    for (int c = 0; c < q; c++) {
        ref_of_class(mdl, c, v, v + n, v + 2 * n);
        memcpy(ref + (size_t)c * d, v + 2 * n, sizeof(double) * d);
    }
    free(v);
    return 0;
}

/* The simplex-ETF measures of the centred class means C (q x d). */
static int nc2_geometry(td_nc *nc, int q, int d, const double *C)
{
    double *nrm = malloc(sizeof(double) * q), mean = 0, var = 0;
    double gf = 0, dev = 0, dist = 0;
    if (!nrm)
        return -1;
    for (int j = 0; j < q; j++) {
        nrm[j] = sqrt(td_dot(C + (size_t)j * d, C + (size_t)j * d, d));
        mean += nrm[j] / q;
    }
    for (int j = 0; j < q; j++)
        var += (nrm[j] - mean) * (nrm[j] - mean) / q;
    for (int j = 0; j < q; j++)
        for (int k = 0; k < q; k++) {
            double g = td_dot(C + (size_t)j * d, C + (size_t)k * d, d);
            gf += g * g;
            if (k > j)
                dev = fmax(dev, fabs(g / (nrm[j] * nrm[k]) + 1.0 / (q - 1)));
        }
    gf = sqrt(gf);
    for (int j = 0; j < q; j++)     /* |E|_F = sqrt(q - 1) */
        for (int k = 0; k < q; k++) {
            double g = td_dot(C + (size_t)j * d, C + (size_t)k * d, d) / gf;
            double e = ((j == k) - 1.0 / q) / sqrt(q - 1.0);
            dist += (g - e) * (g - e);
        }
    nc->nc2_norm_spread = sqrt(var) / mean;
    nc->nc2_max_cos_dev = dev;
    nc->nc2_etf_dist = sqrt(dist);
    free(nrm);
    return 0;
}

/* |A/|A|_F - B/|B|_F|_F for r x c matrices. */
static double normalised_dist(const double *A, const double *B, size_t len)
{
    double na = sqrt(td_dot(A, A, (int)len)), nb = sqrt(td_dot(B, B, (int)len));
    double s = 0;
    for (size_t i = 0; i < len; i++) {
        double t = A[i] / na - B[i] / nb;
        s += t * t;
    }
    return sqrt(s);
}

int td_nc_finish(td_nc *nc, int q, int d, const double *counts,
                 const double *sq, const double *pen, const double *out,
                 const double *ref, const double *WL)
{
    double *C = malloc(sizeof(double) * (size_t)q * d);
    double *G = calloc((size_t)d > 0 ? (size_t)d : 1, sizeof(double));
    nc->dim = d;
    nc->means = malloc(sizeof(double) * (size_t)q * d);
    if (!C || !G || !nc->means) {
        free(C);
        free(G);
        return -1;
    }
    double within = 0, between = 0, cw = 0, cb = 0;
    for (int c = 0; c < q; c++) {
        const double *s1 = pen + (size_t)c * (d + 1), *o1 = out + (size_t)c * q;
        double nj = counts[c], m2 = 0, o2 = 0;
        for (int i = 0; i < d; i++) {
            double u = s1[i] / nj;
            nc->means[(size_t)c * d + i] = ref[(size_t)c * d + i] + u;
            G[i] += nc->means[(size_t)c * d + i] / q;
            m2 += u * u;
        }
        for (int i = 0; i < q; i++)
            o2 += (o1[i] / nj) * (o1[i] / nj);
        within += fmax(0.0, s1[d] / nj - m2);   /* rounding never below 0 */
        cw += fmax(0.0, sq[c] / nj - o2);
        cb += o2;
    }
    for (int c = 0; c < q; c++)
        for (int i = 0; i < d; i++) {
            double t = nc->means[(size_t)c * d + i] - G[i];
            C[(size_t)c * d + i] = t;
            between += t * t;
        }
    nc->nc1_within = within;
    nc->nc1_relative = within / between;
    nc->cn_within = cw;
    nc->cn_between = cb;
    int rc = nc2_geometry(nc, q, d, C);
    nc->nc3_dual_dist = WL ? normalised_dist(WL, C, (size_t)q * d) : NAN;
    free(C);
    free(G);
    return rc;
}

void td_nc_free(td_nc *nc)
{
    if (nc)
        free(nc->means);
    free(nc);
}
