// Hints to the CPU that Swift cannot spell: software prefetch. Header-only (static inline),
// so the Swift compiler inlines each call into the kernel loop as one instruction.
#ifndef CPUHINTS_H
#define CPUHINTS_H

/// Starts loading the cache line holding `address` into L2 (and L3), without waiting: for
/// weights a GEMM will stream from memory a few thousand cycles from now.
static inline void nx_prefetch_l2(const void *address) { __builtin_prefetch(address, 0, 2); }

/// Starts loading the cache line holding `address` into L1.
static inline void nx_prefetch_l1(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
