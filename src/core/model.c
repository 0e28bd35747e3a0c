/* model.c - allocation of the constructed model (see td_model.h). */
#include <stdlib.h>
#include <string.h>
#include "td_clustered.h"
#include "td_model.h"
#include "td_nc.h"

int td_model_alloc(td_model *mdl, int m, int q)
{
    *mdl = (td_model){0};
    mdl->m = m;
    mdl->q = q;
    mdl->width = m;
    mdl->last_class = -1;
    mdl->input_scale = 1.0;
    mdl->labels = calloc((size_t)q, sizeof *mdl->labels);
    mdl->counts = calloc((size_t)q, sizeof *mdl->counts);
    mdl->means = calloc((size_t)q * m, sizeof *mdl->means);
    mdl->targets = calloc((size_t)q * q, sizeof *mdl->targets);
    mdl->w_out = calloc((size_t)q * m, sizeof *mdl->w_out);
    mdl->b_out = calloc((size_t)q, sizeof *mdl->b_out);
    if (!mdl->labels || !mdl->counts || !mdl->means || !mdl->targets ||
        !mdl->w_out || !mdl->b_out || td_model_reserve(mdl, q)) {
        td_model_free(mdl);
        return -1;
    }
    for (int j = 0; j < q; j++)       /* one-hot labels, as in the paper */
        mdl->targets[(size_t)j * q + j] = 1.0;
    strcpy(mdl->targets_source, "one_hot");   /* td_targets_setup may
                                                 replace them */
    return 0;
}

const char *td_construction_name(int construction)
{
    static const char *names[] = {"theorem6", "lifted", "pieces",
                                  "polytope", "clustered"};
    return construction >= 0 && construction <= 4 ? names[construction]
                                                   : "unknown";
}

/* p = realloc(p, n elements of size sz), the new tail zeroed. */
static int grow(void **p, int old, int n, size_t sz)
{
    void *r = realloc(*p, sz * (size_t)n);
    if (!r)
        return -1;
    memset((char *)r + sz * (size_t)old, 0, sz * (size_t)(n - old));
    *p = r;
    return 0;
}

int td_model_reserve(td_model *mdl, int cap)
{
    if (cap <= mdl->cap)
        return 0;
    if (grow((void **)&mdl->layers, mdl->cap, cap, sizeof *mdl->layers) ||
        grow((void **)&mdl->cones, mdl->cap, cap, sizeof *mdl->cones) ||
        grow((void **)&mdl->n_departed, mdl->cap, cap, sizeof *mdl->n_departed))
        return -1;
    mdl->cap = cap;
    return 0;
}

int td_model_set_width(td_model *mdl, int width)
{
    double *w = calloc((size_t)mdl->q * width, sizeof *w);
    if (!w)
        return -1;
    free(mdl->w_out);
    mdl->w_out = w;
    mdl->width = width;
    return 0;
}

void td_model_clear_layers(td_model *mdl)
{
    for (int l = 0; l < mdl->cap; l++) {
        free(mdl->layers[l].h);
        free(mdl->layers[l].p);
        td_cone_free(&mdl->cones[l]);
        mdl->layers[l] = (td_layer_rec){0};
        mdl->n_departed[l] = 0;
    }
    td_network_free(&mdl->net);
    free(mdl->in_map);          /* the network's input map */
    free(mdl->in_shift);
    mdl->in_map = mdl->in_shift = NULL;
    free(mdl->layer_class);     /* per layer: gone with them */
    mdl->layer_class = NULL;
    mdl->nlayers = 0;
    free(mdl->facet_w);
    free(mdl->facet_lo);
    free(mdl->facet_hi);
    free(mdl->facet_beta);
    free(mdl->facet_gap);
    free(mdl->facet_n);
    mdl->facet_w = mdl->facet_lo = mdl->facet_hi = NULL;
    mdl->facet_beta = mdl->facet_gap = NULL;
    mdl->facet_n = NULL;
    mdl->nfacets = 0;
}

void td_model_set_clustered(td_model *mdl, struct td_clustered *c)
{
    if (mdl->clustered) {
        td_clustered_free(mdl->clustered);
        free(mdl->clustered);
    }
    mdl->clustered = c;
}

void td_model_free(td_model *mdl)
{
    if (mdl->layers && mdl->cones && mdl->n_departed)
        td_model_clear_layers(mdl);
    free(mdl->labels);
    free(mdl->counts);
    free(mdl->means);
    free(mdl->targets);
    free(mdl->layers);
    free(mdl->cones);
    free(mdl->w_out);
    free(mdl->b_out);
    free(mdl->n_departed);
    free(mdl->layer_class);
    td_model_set_clustered(mdl, NULL);
    td_nc_free(mdl->nc);
    if (mdl->test) {
        free(mdl->test->path);
        free(mdl->test->confusion);
        free(mdl->test->layer_class);
        free(mdl->test);
    }
    *mdl = (td_model){0};
}

void td_model_params(const td_model *mdl, int64_t *dense, int64_t *geometric)
{
    const td_network *net = &mdl->net;
    int64_t d = 0, n = mdl->width, q = mdl->q;
    for (int k = 0; k < net->num_layers; k++)
        d += (int64_t)net->dims[k + 1] * (net->dims[k] + 1);
    *dense = d;
    if (mdl->construction == TD_CONS_POLYTOPE) {   /* w_i, beta_i, g_i */
        *geometric = (int64_t)mdl->nfacets * (mdl->m + 2);
        return;
    }
    if (mdl->construction == TD_CONS_CLUSTERED) {  /* means, mu, lambda, t */
        *geometric = q * mdl->m + 2 * q + 1 + q * q + q;
        return;
    }
    /* a cone is h, p and lambda; the output reads all n coordinates
     * (Theorem 6) or only the Q class coordinates (lifted) */
    int64_t out = mdl->construction == TD_CONS_THEOREM6 ? q * n + q : q * q + q;
    *geometric = (int64_t)mdl->nlayers * (2 * n + 1) + out;
}

void td_paper_params(int m, int q, int64_t *theorem6, int64_t *corollary4)
{
    *theorem6 = (int64_t)q * (m + 2);
    *corollary4 = (int64_t)q * (m + (int64_t)q * q);
}
