/* td_lift.h - the lifted constructions' state, shared by their modules:
 * the construction loop and its layers (pieces.c) and the search for the
 * next pieces (piecefind.c).  See td_pieces.h for what they build. */
#ifndef TD_LIFT_H
#define TD_LIFT_H

#include <stdint.h>
#include "td_config.h"
#include "td_engine.h"
#include "td_model.h"
#include "td_separator.h"
#include "td_step.h"

typedef struct {
    int m, q, n;            /* n = m + q */
    double t;               /* lift height: the data's radius */
    int np, cap;            /* base points (= layers) so far, room */
    double *P;              /* cap x n lifted base points */
    int *pcls;              /* class of each base point */
    td_step st;             /* active counts and means, done, scatter,
                               last directions: the warm starts' view
                               (no base points: they are lifted away) */
    int64_t eig_rows;       /* active rows when the eigenvectors were made */
    int64_t *whole_rest;    /* q: the other classes' active rows when a
                               try to separate the class whole last failed
                               (0: never tried); tried again at half */
    double *evec, *eval;    /* m x m and m: the scatter's eigenvectors and
                               values, for Fisher directions at any
                               regularisation (NULL without Fisher) */
} td_lift;

/* A pure piece: the active rows of class a with <w, x> < thr.  Every
 * other remaining row has <w, x> >= hi, the piece's largest is lo < hi. */
typedef struct {
    int a;
    double *w;              /* m, unit; owned by whoever made the piece */
    double thr, lo, hi;
    int64_t size;
    int status;             /* enum td_sep_status of the max-margin solve
                               that found w, -1 for a direction cut alone */
    int rounds;             /* working-set rounds of that solve */
} td_piece;

/* Candidate directions per class in dimension m (td_lift_candidates):
 * the difference of means, 4 Fisher regularisations, the class's last
 * direction and random directions shared by all classes, 2 in high
 * dimension and up to 64 in low (they cost m each per row, and in few
 * dimensions they find more, larger pieces). */
int td_lift_per(int m);

/* A fresh state for q classes in dimension m (-1 on allocation failure;
 * td_lift_free either way). */
int td_lift_init(td_lift *L, int m, int q);
void td_lift_free(td_lift *L);

/* Counts and means of the active rows and which classes are gone;
 * returns how many classes remain, -1 on every rank when memory ran out
 * anywhere.  Collective. */
int td_lift_stats(td_engine *e, td_lift *L);

/* L->t = the largest distance of an active row from the data's mean
 * (1 if all rows coincide), from the counts and means in L->st: the lift
 * height and the scale of the margin floor.  Collective; -1 on every rank
 * when memory ran out anywhere. */
int td_lift_radius(td_engine *e, td_lift *L, td_model *mdl);

/* "pieces", step l: cut along every candidate direction of every
 * remaining class (two passes for all), and return in pc[0..*np) up to
 * one piece per class, largest first, each grown by max-margin re-solves
 * (cfg->grow_rounds).  The pieces are disjoint and each stays pure while
 * the others are collapsed before it.  pc[i].w must have room for m. */
int td_lift_find_pieces(td_engine *e, td_lift *L, const td_config *cfg,
                        int l, td_model *mdl, td_piece *pc, int *np,
                        td_err *err);

/* Grow piece pc (its class rows set aside but the piece) by max-margin
 * re-solves against the other classes' rows; pc changes when the piece
 * grows or its gap widens. */
int td_lift_grow(td_engine *e, td_lift *L, const td_config *cfg,
                 td_model *mdl, td_piece *pc, td_err *err);

/* The helpers of td_lift_find_pieces, for constructions that cut pieces
 * their own way (polytope.c):
 *  - the scatter's eigen-decomposition for the Fisher directions, made
 *    again once half the rows it saw are gone (collective);
 *  - class c's candidate directions at step l into H (rows, room for
 *    td_lift_per(m) x m) and cls; returns how many (tmp: 2 m doubles);
 *  - x beats y: a gap of at least the floor first, then size, then gap;
 *  - the piece of cut entry i of td_engine_cut over K candidates H;
 *  - the best piece of class a along w alone (two passes; -1 when memory
 *    ran out anywhere). */
int td_lift_refresh_eigen(td_engine *e, td_lift *L, td_model *mdl,
                          td_err *err);
int td_lift_candidates(const td_lift *L, int l, int c, double *H, int *cls,
                       double *tmp);
int td_lift_cut_better(const td_cut *x, const td_cut *y, double floor_abs);
void td_lift_take(td_piece *pc, int a, const double *H, int K, int m, int i,
                  const td_cut *cut);
int td_lift_cut_one(td_engine *e, td_model *mdl, int a, const double *w,
                    double floor_abs, td_piece *out);

/* "lifted", step l: the remaining class with the widest max-margin
 * separation from the other classes' remaining rows, as a whole-class
 * piece; seps (q) keeps the separators between steps.  Exit 3 (with
 * the classes named) when none separates. */
int td_lift_next_class(td_engine *e, td_lift *L, const td_config *cfg,
                       int l, td_sep *seps, td_model *mdl, td_piece *pc,
                       td_err *err);

#endif
