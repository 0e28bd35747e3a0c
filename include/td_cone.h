/* td_cone.h - one cone layer (Lemma 2 of Chen & Munoz Ewald), square case.
 *
 * W = W_theta R, b = -W p, with
 *   u        = (1,...,1)/sqrt(n),
 *   W_theta  = lambda I + (1 - lambda) u u^T,
 *   R        = sigma (I - 2 v v^T / v^T v), a signed Householder reflection
 *              with R h = u (symmetric and orthogonal, so R^-1 = R).
 * The truncation map tau(x) = p + W^-1 relu(W (x - p)) keeps the forward
 * cone p + C_theta[h] and sends the backward cone p + C_theta[-h] to p.
 * Everything here costs O(n) per point; the dense forms exist for tests and
 * for exporting per-layer weights. */
#ifndef TD_CONE_H
#define TD_CONE_H

typedef struct {
    int n;          /* dimension */
    double *h;      /* unit normal (forward direction), n */
    double *p;      /* base point, n */
    double *v;      /* Householder vector, n */
    double vv;      /* v . v (0 means R = sigma I) */
    double sigma;   /* +1 or -1 */
    double lambda;  /* shrink factor of W_theta, in (0, 1] */
} td_cone;

/* theta_n = 2 arccos(sqrt((n-1)/n)): widest cone around u inside R^n_+. */
double td_theta_n(int n);

/* Angle <-> shrink factor, eq. (14): lambda = tan(theta_n/2)/tan(theta/2)
 * for theta > theta_n, else 1. */
double td_lambda_of_theta(double theta, int n);
double td_theta_of_lambda(double lambda, int n);

/* Build the cone for normal h (normalized here; must be non-zero), base point
 * p and shrink factor lambda.  Returns 0, or -1 on allocation failure or a
 * zero / non-finite h. */
int td_cone_init(td_cone *c, int n, const double *h, const double *p,
                 double lambda);
void td_cone_free(td_cone *c);

void td_cone_apply_R(const td_cone *c, const double *x, double *out);
/* out = W x and out = W^-1 y (linear parts only, no base point). */
void td_cone_apply_W(const td_cone *c, const double *x, double *out);
void td_cone_apply_Winv(const td_cone *c, const double *y, double *out);

/* x = W x and y = W^-1 y in place, in long double: for exporting weights
 * rounded once (see cone.c). */
void td_cone_apply_W_ld(const td_cone *c, long double *x);
void td_cone_apply_Winv_ld(const td_cone *c, long double *y);

/* out = W (x - p): the pre-activation of this layer in cumulative form.
 * `work` needs n doubles. */
void td_cone_preact(const td_cone *c, const double *x, double *out,
                    double *work);

/* Classify x by the exact sign test on z = W (x - p):
 *   +1  every component >= 0 (kept; *margin = min_i z_i),
 *   -1  every component <= 0 (collapsed; *margin = min_i -z_i),
 *    0  mixed signs (*margin = -(smallest violation magnitude) < 0).
 * `work` needs 2n doubles. */
int td_cone_classify(const td_cone *c, const double *x, double *margin,
                     double *work);

/* One cone layer as the structured forward pass takes it, in float64
 * (the verification and the section 6.2 references must agree bit for
 * bit): a = relu(W (v - p)), then v = W^-1 a + p in place.  t: n doubles
 * of scratch. */
void td_cone_step(const td_cone *c, double *v, double *a, double *t);

/* The truncation map tau(x) = p + W^-1 relu(W (x - p)), computed exactly in
 * the two cone cases (kept: out = x, collapsed: out = p) and by the formula
 * otherwise.  Returns the td_cone_classify code.  out may alias x.
 * `work` needs 2n doubles. */
int td_cone_truncate(const td_cone *c, const double *x, double *out,
                     double *work);

/* Largest lambda for which x lands on its required side (see MATH.md,
 * "Choosing lambda exactly"); side = +1 kept, -1 collapsed.  Independent of
 * c->lambda.  Returns +INFINITY when x puts no constraint on lambda and 0
 * when x is on the wrong side of the hyperplane (<h, x-p> has the wrong
 * sign or is zero).  `work` needs n doubles. */
double td_cone_lambda_bound(const td_cone *c, const double *x, int side,
                            double *work);

/* Both of the above in one sweep over x - p (the layer pass's form). */
double td_cone_lambda_cos(const td_cone *c, const double *x, int side,
                          double *work, double *cos_angle);

/* cos of the angle between x - p and side*h (1 on the axis; <= 0 means the
 * point is not strictly on that side).  theta_min = 2 acos(min over points). */
double td_cone_cos_angle(const td_cone *c, const double *x, int side);

/* Dense row-major n x n forms of W and W^-1 (reference for tests/export). */
void td_cone_dense_W(const td_cone *c, double *W);
void td_cone_dense_Winv(const td_cone *c, double *Winv);

/* 2-norm condition number of W: 1/lambda (R is orthogonal). */
double td_cone_cond(const td_cone *c);

#endif
