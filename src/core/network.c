/* network.c - per-layer weights from cumulative cones, the output layer,
 * and the plain forward pass (see td_network.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "td_network.h"
#include "td_linalg.h"

int td_network_alloc(td_network *net, int num_layers, const int *dims)
{
    *net = (td_network){0};
    net->num_layers = num_layers;
    net->dims = malloc(sizeof(int) * (num_layers + 1));
    net->W = calloc((size_t)num_layers, sizeof(double *));
    net->b = calloc((size_t)num_layers, sizeof(double *));
    if (!net->dims || !net->W || !net->b)
        goto fail;
    memcpy(net->dims, dims, sizeof(int) * (num_layers + 1));
    for (int k = 0; k < num_layers; k++) {
        net->W[k] = calloc((size_t)dims[k + 1] * dims[k], sizeof(double));
        net->b[k] = calloc((size_t)dims[k + 1], sizeof(double));
        if (!net->W[k] || !net->b[k])
            goto fail;
    }
    return 0;
fail:
    td_network_free(net);
    return -1;
}

void td_network_free(td_network *net)
{
    for (int k = 0; net->W && k < net->num_layers; k++)
        free(net->W[k]);
    for (int k = 0; net->b && k < net->num_layers; k++)
        free(net->b[k]);
    free(net->W);
    free(net->b);
    free(net->dims);
    *net = (td_network){0};
}

/* W_l = W^(l) (W^(l-1))^-1 column by column, both structured: O(n^2). */
static void hidden_layer(const td_cone *cur, const td_cone *prev, double *W,
                         double *b, double *work)
{
    int n = cur->n;
    double *e = work, *col = work + n;
    for (int j = 0; j < n; j++) {
        memset(e, 0, sizeof(double) * n);
        e[j] = 1.0;
        td_cone_apply_Winv(prev, e, e);
        td_cone_apply_W(cur, e, col);
        for (int i = 0; i < n; i++)
            W[(size_t)i * n + j] = col[i];
    }
    /* b_l = b^(l) - W_l b^(l-1) = W^(l) (p_{l-1} - p_l): no cancellation
     * between two large products. */
    for (int i = 0; i < n; i++)
        e[i] = prev->p[i] - cur->p[i];
    td_cone_apply_W(cur, e, b);
}

static void first_layer(const td_cone *c, double *W, double *b, double *work)
{
    int n = c->n;
    td_cone_dense_W(c, W);
    for (int i = 0; i < n; i++)
        work[i] = -c->p[i];
    td_cone_apply_W(c, work, b);
}

/* W_{Q+1} = W^(Q+1) (W^(Q))^-1, b_{Q+1} = b^(Q+1) + W^(Q+1) p_Q. */
static void output_layer(const td_cone *last, int dout, const double *wout,
                         const double *bout, double *W, double *b,
                         double *work)
{
    int n = last->n;
    double *e = work;
    for (int j = 0; j < n; j++) {
        memset(e, 0, sizeof(double) * n);
        e[j] = 1.0;
        td_cone_apply_Winv(last, e, e);
        for (int i = 0; i < dout; i++) {
            const double *row = wout + (size_t)i * n;
            double s = 0;
            for (int k = 0; k < n; k++)
                s += row[k] * e[k];
            W[(size_t)i * n + j] = s;
        }
    }
    for (int i = 0; i < dout; i++) {
        const double *row = wout + (size_t)i * n;
        double s = 0;
        for (int k = 0; k < n; k++)
            s += row[k] * last->p[k];
        b[i] = bout[i] + s;
    }
}

int td_network_from_cones(td_network *net, int n, int q,
                          const td_cone *cones, int dout, const double *wout,
                          const double *bout, td_err *err)
{
    int *dims = malloc(sizeof(int) * (q + 2));
    double *work = malloc(sizeof(double) * 2 * n);
    if (!dims || !work) {
        free(dims);
        free(work);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory building network");
    }
    for (int k = 0; k <= q; k++)
        dims[k] = n;
    dims[q + 1] = dout;
    int rc = td_network_alloc(net, q + 1, dims);
    free(dims);
    if (rc) {
        free(work);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory building network");
    }
    first_layer(&cones[0], net->W[0], net->b[0], work);
    for (int l = 1; l < q; l++)
        hidden_layer(&cones[l], &cones[l - 1], net->W[l], net->b[l], work);
    output_layer(&cones[q - 1], dout, wout, bout, net->W[q], net->b[q], work);
    free(work);
    return TD_OK;
}

int64_t td_network_work_size(const td_network *net, int64_t rows)
{
    int dmax = 0;
    for (int k = 0; k <= net->num_layers; k++)
        if (net->dims[k] > dmax)
            dmax = net->dims[k];
    return 2 * rows * dmax;
}

void td_network_forward(const td_network *net, const double *x, int64_t rows,
                        double *out, double *work)
{
    int dmax = 0;
    for (int k = 0; k <= net->num_layers; k++)
        if (net->dims[k] > dmax)
            dmax = net->dims[k];
    const double *in = x;
    double *bufs[2] = {work, work + rows * dmax};
    for (int k = 0; k < net->num_layers; k++) {
        int din = net->dims[k], dk = net->dims[k + 1];
        int last = k == net->num_layers - 1;
        double *y = last ? out : bufs[k % 2];
        for (int64_t r = 0; r < rows; r++)
            memcpy(y + r * dk, net->b[k], sizeof(double) * dk);
        /* Y (rows x dk) += X (rows x din) * W^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, dk,
                    din, 1.0, in, din, net->W[k], din, 1.0, y, dk);
        if (!last)
            for (int64_t i = 0; i < rows * dk; i++)
                y[i] = y[i] > 0 ? y[i] : 0.0;
        in = y;
    }
}

/* Solve A X = Y for the output layer; 0 when A has full row rank q. */
static int solve_output(int q, int ncol, const double *A, int dout,
                        const double *Y, double *X, double *cond)
{
    int rank = 0;
    if (td_lstsq(q, ncol, dout, A, Y, 1e-12, X, &rank, cond))
        return -1;
    return rank == q ? 0 : -1;
}

int td_output_layer(int n, int q, const double *P, int dout, const double *Y,
                    double *wout, double *bout, int *used_bias, double *cond,
                    td_err *err)
{
    int n1 = n + 1;
    double *X = malloc(sizeof(double) * (size_t)n1 * dout);
    double *A = malloc(sizeof(double) * (size_t)q * n1);
    if (!X || !A) {
        free(X); free(A);
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory in output layer");
    }
    /* Paper's form first (b = 0, W = Y P^+); the bias form needs only
     * affinely independent base points. */
    *used_bias = 0;
    int rc = q <= n ? solve_output(q, n, P, dout, Y, X, cond) : -1;
    if (rc) {
        *used_bias = 1;
        for (int j = 0; j < q; j++) {
            memcpy(A + (size_t)j * n1, P + (size_t)j * n, sizeof(double) * n);
            A[(size_t)j * n1 + n] = 1.0;
        }
        rc = solve_output(q, n1, A, dout, Y, X, cond);
    }
    if (!rc) {
        for (int i = 0; i < dout; i++) {
            for (int k = 0; k < n; k++)
                wout[(size_t)i * n + k] = X[(size_t)k * dout + i];
            bout[i] = *used_bias ? X[(size_t)n * dout + i] : 0.0;
        }
    }
    free(X); free(A);
    if (rc)
        return td_err_set(err, TD_ERR_VERIFY,
                          "base points p_1..p_%d are affinely dependent "
                          "(cond %.3g): output layer W P + b = Y has no exact "
                          "solution", q, *cond);
    return TD_OK;
}
