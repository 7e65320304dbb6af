// GMP's natural-number layer (mpn), for the engine's large integers.
#include <gmp.h>
