// What Swift cannot spell (or spells unreliably): software prefetch, the spin-wait pause and
// the interleaving permutes. Header-only (static inline),
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

/// Sixteen floats, imported into Swift as SIMD16<Float>; the same, at any float's alignment.
typedef float nx_float16 __attribute__((ext_vector_type(16)));
typedef float nx_float16_unaligned __attribute__((ext_vector_type(16), aligned(4)));

/// even[0], odd[0], even[1], odd[1], ... even[7], odd[7]: one permute (a shuffle Swift's SIMD
/// types cannot spell; built element by element, it went through the stack).
static inline nx_float16 nx_interleave_low16(nx_float16 even, nx_float16 odd) {
    return __builtin_shufflevector(even, odd, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

/// even[8], odd[8], ... even[15], odd[15].
static inline nx_float16 nx_interleave_high16(nx_float16 even, nx_float16 odd) {
    return __builtin_shufflevector(even, odd, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

/// The even floats of the 32 in `low` then `high` (low[0], low[2], ... high[14]); Swift's
/// SIMD32 evenHalf is the same permute when the optimizer inlines it, and a call per use
/// when it does not (it stopped inlining it in the Winograd input transform after an
/// unrelated change, and that transform took 1.7x as long).
static inline nx_float16 nx_even16(nx_float16 low, nx_float16 high) {
    return __builtin_shufflevector(low, high, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

/// The odd floats of the 32 in `low` then `high`.
static inline nx_float16 nx_odd16(nx_float16 low, nx_float16 high) {
    return __builtin_shufflevector(low, high, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
}

/// Stores `even[i]` at `p[2i]` and `odd[i]` at `p[2i + 1]` (i < 16).
static inline void nx_store_interleaved16(float *p, nx_float16 even, nx_float16 odd) {
    *(nx_float16_unaligned *)p = nx_interleave_low16(even, odd);
    *(nx_float16_unaligned *)(p + 16) = nx_interleave_high16(even, odd);
}

/// Adds `even[i]` to `p[2i]` and `odd[i]` to `p[2i + 1]` (i < 16).
static inline void nx_add_interleaved16(float *p, nx_float16 even, nx_float16 odd) {
    *(nx_float16_unaligned *)p += nx_interleave_low16(even, odd);
    *(nx_float16_unaligned *)(p + 16) += nx_interleave_high16(even, odd);
}

#endif
