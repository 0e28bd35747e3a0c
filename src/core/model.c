/* model.c - allocation of the constructed model (see td_model.h). */
#include <stdlib.h>
#include "td_model.h"

int td_model_alloc(td_model *mdl, int m, int q)
{
    *mdl = (td_model){0};
    mdl->m = m;
    mdl->q = q;
    mdl->labels = calloc((size_t)q, sizeof *mdl->labels);
    mdl->counts = calloc((size_t)q, sizeof *mdl->counts);
    mdl->means = calloc((size_t)q * m, sizeof *mdl->means);
    mdl->targets = calloc((size_t)q * q, sizeof *mdl->targets);
    mdl->layers = calloc((size_t)q, sizeof *mdl->layers);
    mdl->cones = calloc((size_t)q, sizeof *mdl->cones);
    mdl->w_out = calloc((size_t)q * m, sizeof *mdl->w_out);
    mdl->b_out = calloc((size_t)q, sizeof *mdl->b_out);
    mdl->n_departed = calloc((size_t)q, sizeof *mdl->n_departed);
    if (!mdl->n_departed || !mdl->labels || !mdl->counts || !mdl->means || !mdl->targets ||
        !mdl->layers || !mdl->cones || !mdl->w_out || !mdl->b_out) {
        td_model_free(mdl);
        return -1;
    }
    for (int j = 0; j < q; j++)       /* one-hot labels, as in the paper */
        mdl->targets[(size_t)j * q + j] = 1.0;
    return 0;
}

void td_model_free(td_model *mdl)
{
    if (mdl->layers)
        for (int l = 0; l < mdl->q; l++) {
            free(mdl->layers[l].h);
            free(mdl->layers[l].p);
        }
    if (mdl->cones)
        for (int l = 0; l < mdl->q; l++)
            td_cone_free(&mdl->cones[l]);
    td_network_free(&mdl->net);
    free(mdl->labels);
    free(mdl->counts);
    free(mdl->means);
    free(mdl->targets);
    free(mdl->layers);
    free(mdl->cones);
    free(mdl->w_out);
    free(mdl->b_out);
    free(mdl->n_departed);
    *mdl = (td_model){0};
}
