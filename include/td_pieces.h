/* td_pieces.h - the lifted constructions (MATH.md, "Lifting removes
 * blocking" and "Pieces"): cones of width M + Q, each base point lifted
 * into its class's own coordinate, so that a collapsed point never blocks
 * a later class and the output layer reads the class coordinates.
 *
 *  lifted  whole classes, greedy: at each step a remaining class that a
 *          hyperplane separates from the other classes' remaining rows
 *          (the condition is inherited by subsets, so greedy is complete);
 *          exit 3 with the classes that no hyperplane separates.
 *  pieces  any data without identical points of different labels: each
 *          layer collapses the rows of one class beyond a hyperplane that
 *          has every remaining row of every other class on its other
 *          side (a pure piece), the largest piece found by candidate
 *          directions, grown by max-margin re-solves.  A class that is
 *          separable whole is one piece.
 * The class left at the end needs no layer: its rows keep class
 * coordinates 0, which the output layer maps to its target. */
#ifndef TD_PIECES_H
#define TD_PIECES_H

#include "td_ckpt.h"
#include "td_config.h"
#include "td_engine.h"
#include "td_model.h"

/* Build the model with construction TD_CONS_LIFTED or TD_CONS_PIECES
 * (hidden layers, output layer, network, identical on all ranks).  mdl
 * must be allocated for e->m, e->q with labels set; its layers are
 * replaced.  Rows must all be active, or, when ck holds a saved
 * TD_PHASE_PIECES state, as they were saved (td_ckpt.h).  ck (may be
 * NULL) saves a checkpoint after a layer when due, and stops there when
 * a signal asked to. */
int td_pieces_build(td_engine *e, const td_config *cfg, int construction,
                    td_model *mdl, td_ckpt *ck, td_err *err);

#endif
