// Debian installs OpenBLAS's cblas.h under the multiarch include folder and does not put
// openblas.pc on the default pkg-config path, so the header is found here directly.
#if __has_include(<x86_64-linux-gnu/openblas-pthread/cblas.h>)
#include <x86_64-linux-gnu/openblas-pthread/cblas.h>
#elif __has_include(<aarch64-linux-gnu/openblas-pthread/cblas.h>)
#include <aarch64-linux-gnu/openblas-pthread/cblas.h>
#else
#include <cblas.h>
#endif

// OpenBLAS (DYNAMIC_ARCH) internals, so the runtime can redo kernel selection when
// OpenBLAS's CPU detection falls back to its oldest kernels (see NXRuntime BLASThreads).
extern void *gotoblas;
static inline void nx_reset_gotoblas(void) { gotoblas = 0; }
void gotoblas_dynamic_init(void);
