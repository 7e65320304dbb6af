#ifndef OMEGA_SHIMS_H
#define OMEGA_SHIMS_H
#include <stdint.h>

/// The lowest address of the calling thread's stack, or 0 when unknown.
uintptr_t omega_thread_stack_low(void);

#endif
