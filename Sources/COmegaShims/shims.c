// Small C helpers for things Swift's Glibc module does not expose.
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <malloc.h>
#include "omega_shims.h"
#include <stdio.h>

uintptr_t omega_thread_stack_low(void) {
    pthread_attr_t attr;
    void *addr = 0;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    return (uintptr_t)addr;
}

int omega_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

void omega_stdout_line_buffered(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

void omega_stdout_write_flush(const char *text) {
    fputs(text, stdout);
    fflush(stdout);
}

void omega_malloc_keep_freed(int keep) {
#ifdef M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, keep / 2);
    mallopt(M_TRIM_THRESHOLD, keep);
#else
    (void)keep;
#endif
}
