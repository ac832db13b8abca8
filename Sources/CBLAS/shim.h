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

// Stops OpenBLAS's own worker threads (pthread builds start them when the library loads).
// Sessions run OpenBLAS on the caller's thread only, and an idle OpenBLAS worker spins in
// sched_yield for about 0.1 s after each wake-up, taking a core from our own pool. Weak, so
// a build of OpenBLAS without the threads server links too.
extern int blas_thread_shutdown_(void) __attribute__((weak));
static inline void nx_stop_blas_threads(void) {
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}
