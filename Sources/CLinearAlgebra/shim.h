// CBLAS and LAPACKE as shipped by Debian's libopenblas-dev and liblapacke-dev.
// Only the LinearAlgebra module imports this.
#include <cblas.h>
#include <lapacke.h>
