/* td_scalapack.h - the BLACS / ScaLAPACK entry points we use.  Debian's
 * libscalapack-openmpi ships no C header, so they are declared here. */
#ifndef TD_SCALAPACK_H
#define TD_SCALAPACK_H

void Cblacs_pinfo(int *mypnum, int *nprocs);
void Cblacs_get(int icontxt, int what, int *val);
void Cblacs_gridinit(int *icontxt, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int icontxt, int *nprow, int *npcol, int *myrow,
                     int *mycol);
void Cblacs_gridexit(int icontxt);

int numroc_(const int *n, const int *nb, const int *iproc,
            const int *isrcproc, const int *nprocs);
void descinit_(int *desc, const int *m, const int *n, const int *mb,
               const int *nb, const int *irsrc, const int *icsrc,
               const int *ictxt, const int *lld, int *info);
void pdposv_(const char *uplo, const int *n, const int *nrhs, double *a,
             const int *ia, const int *ja, const int *desca, double *b,
             const int *ib, const int *jb, const int *descb, int *info);

#endif
