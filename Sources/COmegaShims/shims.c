// Small C helpers for things Swift's Glibc module does not expose.
#define _GNU_SOURCE
#include <pthread.h>
#include <spawn.h>
#include <malloc.h>
#include "omega_shims.h"
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <ucontext.h>
#include <unistd.h>

/// The stack `omega_run_on_stack` is running on in this thread, if any.
static __thread uintptr_t run_stack_low = 0, run_stack_high = 0;

uintptr_t omega_thread_stack_low(void) {
    int here = 0;
    uintptr_t sp = (uintptr_t)&here;
    if (run_stack_low != 0 && sp >= run_stack_low && sp < run_stack_high) return run_stack_low;
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

struct run_job {
    void (*body)(void *);
    void *context;
    ucontext_t caller;
};
static __thread struct run_job *current_job;

static void run_job_trampoline(void) {
    struct run_job *job = current_job;
    job->body(job->context);
    // Returning resumes job->caller (the context's uc_link).
}

int omega_run_on_stack(size_t size, void (*body)(void *), void *context) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size = (size + page - 1) & ~(page - 1);
    char *base = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) return -1;
    // A guard page below the stack: running off its end faults instead of
    // writing over whatever lies there.
    if (mprotect(base, page, PROT_NONE) != 0) { munmap(base, size + page); return -1; }
    struct run_job job = { body, context };
    ucontext_t callee;
    if (getcontext(&callee) != 0) { munmap(base, size + page); return -1; }
    callee.uc_stack.ss_sp = base + page;
    callee.uc_stack.ss_size = size;
    callee.uc_link = &job.caller;
    makecontext(&callee, run_job_trampoline, 0);
    uintptr_t saved_low = run_stack_low, saved_high = run_stack_high;
    struct run_job *saved_job = current_job;
    run_stack_low = (uintptr_t)(base + page);
    run_stack_high = run_stack_low + size;
    current_job = &job;
    int rc = swapcontext(&job.caller, &callee);
    run_stack_low = saved_low;
    run_stack_high = saved_high;
    current_job = saved_job;
    munmap(base, size + page);
    return rc == 0 ? 0 : -1;
}

size_t omega_address_space_left(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
    unsigned long pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm) {
        if (fscanf(statm, "%lu", &pages) != 1) pages = 0;
        fclose(statm);
    }
    size_t used = (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
    return limit.rlim_cur > used ? (size_t)(limit.rlim_cur - used) : 1;
}
