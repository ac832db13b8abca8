// Hints to the CPU that Swift cannot spell: software prefetch and the spin-wait pause. Header-only (static inline),
// so the Swift compiler inlines each call into the kernel loop as one instruction.
#ifndef CPUHINTS_H
#define CPUHINTS_H

/// Starts loading the cache line holding `address` into L2 (and L3), without waiting: for
/// weights a GEMM will stream from memory a few thousand cycles from now.
static inline void nx_prefetch_l2(const void *address) { __builtin_prefetch(address, 0, 2); }

/// Starts fetching the cache line holding `address` for writing (PREFETCHW): for output
/// lines a kernel will store to soon, so their misses overlap its work.
static inline void nx_prefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }

/// Starts loading the cache line holding `address` into L1.
static inline void nx_prefetch_l1(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Tells the core this thread is spin-waiting (x86 PAUSE, ARM YIELD): the sibling
/// hyperthread gets the execution units, and leaving the loop costs no pipeline flush.
static inline void nx_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
