#ifndef OMEGA_SHIMS_H
#define OMEGA_SHIMS_H
#include <stddef.h>
#include <stdint.h>
#include <spawn.h>

/// The lowest address of the stack the caller runs on (the calling
/// thread's, or the one `omega_run_on_stack` gave it), or 0 when unknown.
uintptr_t omega_thread_stack_low(void);

/// Runs `body(context)` on a fresh stack of `size` bytes (reserved, not
/// committed; a guard page below it) in the calling thread, and returns 0
/// when it has returned; -1, without running it, when no stack could be
/// made. A second thread would do the same, but a process that never
/// starts one keeps glibc's malloc on its single-threaded paths (no atomic
/// operations or arena locks on every allocation a collection freed).
int omega_run_on_stack(size_t size, void (*body)(void *), void *context);

/// Makes a spawned child close every descriptor from `from` up, so it
/// inherits none of the parent's sockets, pipes or event descriptors
/// (posix_spawn_file_actions_addclosefrom_np, which Swift cannot see).
int omega_spawn_close_from(posix_spawn_file_actions_t *actions, int from);

/// Standard output line-buffered (a REPL's lines appear in order with its
/// prompts, also through a pipe), and flushed: C's `stdout` is a mutable
/// global Swift 6 will not touch.
void omega_stdout_line_buffered(void);
void omega_stdout_write_flush(const char *text);

/// Keeps large blocks a program frees with malloc for reuse, up to
/// `keep` bytes, instead of unmapping each at once (glibc's mallopt;
/// M_MMAP_THRESHOLD and M_TRIM_THRESHOLD are macros Swift cannot see).
void omega_malloc_keep_freed(int keep);

/// Bytes of address space the process may still map under its limit
/// (`ulimit -v`, RLIMIT_AS); 0 when it is unlimited.
size_t omega_address_space_left(void);

#endif
