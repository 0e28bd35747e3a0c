/* h5_predictions.c - an evaluation's results file (see td_h5pred.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "td_h5par.h"
#include "td_h5pred.h"

/* Labels of class indices (local rows). */
static int64_t *labels_of(const td_h5pred *p, const int *idx)
{
    int64_t *v = malloc(sizeof(int64_t) * (size_t)(p->n_local ? p->n_local : 1));
    for (int64_t i = 0; v && i < p->n_local; i++)
        v[i] = p->labels[idx[i]];
    return v;
}

/* Rank 0: the layer table's three columns, each nlayers x q (others
 * write nothing and need none). */
static int64_t *layer_columns(const td_h5pred *p, int root)
{
    size_t nq = (size_t)p->nlayers * p->q;
    if (!root || !p->layer_class)
        return NULL;
    int64_t *t = malloc(sizeof(int64_t) * 3 * (nq ? nq : 1));
    for (int kind = 0; t && kind < 3; kind++)
        for (size_t i = 0; i < nq; i++)
            t[kind * nq + i] = p->layer_class[i * 3 + kind];
    return t;
}

static int write_layers(hid_t f, const td_h5pred *p, int root,
                        const int64_t *t)
{
    static const char *names[3] = {"layer_kept", "layer_collapsed",
                                   "layer_partial"};
    size_t nq = (size_t)p->nlayers * p->q;
    int bad = 0;
    for (int kind = 0; kind < 3; kind++)
        bad |= td_h5par_rows(f, names[kind], H5T_NATIVE_INT64, p->nlayers,
                             p->q, 0, root ? p->nlayers : 0,
                             t ? t + kind * nq : NULL) != 0;
    return bad;
}

/* Every rank makes every call (they are collective): failures are
 * or-ed, never short-circuited. */
static int write_all(hid_t f, const td_h5pred *p, int root,
                     const int64_t *truth, const int64_t *pred,
                     const double *acc, const int64_t *layers)
{
    int q = p->q, bad = 0;
    hsize_t N = (hsize_t)p->n_total, o = (hsize_t)p->row0,
            n = (hsize_t)p->n_local;
    bad |= td_h5par_text(f, "format", "trunc-dist predictions 1");
    bad |= td_h5par_text(f, "network", p->network_path);
    bad |= td_h5par_text(f, "data", p->data_path);
    bad |= td_h5par_attr(f, "accuracy", H5T_NATIVE_DOUBLE, &p->accuracy, 1);
    bad |= td_h5par_attr(f, "cost", H5T_NATIVE_DOUBLE, &p->cost, 1);
    bad |= td_h5par_attr(f, "max_error", H5T_NATIVE_DOUBLE, &p->max_error, 1);
    bad |= td_h5par_rows(f, "label", H5T_NATIVE_INT64, N, 0, o, n, truth);
    bad |= td_h5par_rows(f, "predicted_label", H5T_NATIVE_INT64, N, 0, o, n,
                         pred);
    bad |= td_h5par_rows(f, "output", H5T_NATIVE_DOUBLE, N, q, o, n, p->out);
    bad |= td_h5par_rows(f, "label_values", H5T_NATIVE_INT64, q, 0, 0,
                         root ? q : 0, p->labels);
    bad |= td_h5par_rows(f, "class_counts", H5T_NATIVE_INT64, q, 0, 0,
                         root ? q : 0, p->counts);
    bad |= td_h5par_rows(f, "class_accuracy", H5T_NATIVE_DOUBLE, q, 0, 0,
                         root ? q : 0, acc);
    bad |= td_h5par_rows(f, "confusion", H5T_NATIVE_INT64, q, q, 0,
                         root ? q : 0, p->confusion);
    if (p->layer_class)
        bad |= write_layers(f, p, root, layers);
    return bad;
}

int td_h5_write_predictions(const td_h5pred *p, MPI_Comm comm, td_err *err)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    size_t len = strlen(p->path) + 8;
    char *tmp = malloc(len);
    if (!tmp)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    snprintf(tmp, len, "%s.tmp", p->path);
    H5E_auto2_t old_fn = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int64_t *truth = labels_of(p, p->cls), *pred = labels_of(p, p->pred);
    double *acc = malloc(sizeof(double) * p->q);
    int64_t *layers = layer_columns(p, rank == 0);
    int ok = truth && pred && acc &&    /* agreed before any collective */
             (rank != 0 || !p->layer_class || layers);
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm);
    for (int c = 0; ok && c < p->q; c++)
        acc[c] = p->counts[c] ? (double)p->confusion[(size_t)c * p->q + c] /
                                p->counts[c] : 0.0;
    errno = 0;
    hid_t f = ok ? td_h5par_create(tmp, comm) : -1;
    int saved = errno, bad = f < 0 || write_all(f, p, rank == 0, truth, pred,
                                                acc, layers);
    if (f >= 0 && H5Fclose(f) < 0)
        bad = 1;
    free(truth);
    free(pred);
    free(acc);
    free(layers);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    if (!ok)
        td_err_set(err, TD_ERR_INTERNAL, "out of memory (predictions)");
    else if (f < 0)
        td_err_set(err, TD_ERR_OUTPUT, "cannot create '%s': %s", tmp,
                   saved ? strerror(saved) : "HDF5 error");
    else if (bad)
        td_err_set(err, TD_ERR_OUTPUT, "cannot write '%s' (disk full or I/O "
                   "error)", tmp);
    else if (rank == 0 && td_h5par_commit(tmp, p->path) != 0)
        td_err_set(err, TD_ERR_OUTPUT, "cannot write '%s': %s", p->path,
                   strerror(errno));
    if (err->code && rank == 0)
        remove(tmp);
    free(tmp);
    return err->code;
}
