/* threads.c — the few OpenMP pieces the ops need (thread id, default count, the task loop),
 * so the rest compiles without OpenMP. */
#include "ops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int ops_thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

int ops_default_threads(void) {
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}

/* the task loop: static (each thread a fixed share) or dynamic (each takes the next task) */
static void task_loop(int n_threads, int par, int tasks, ops_task_fn fn, void *arg, int dyn) {
#ifdef _OPENMP
    if (par && n_threads > 1 && tasks > 1) {
        const int nt = n_threads < tasks ? n_threads : tasks;
        if (dyn) {
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
            for (int t = 0; t < tasks; t++) fn(arg, t);
        } else {
#pragma omp parallel for num_threads(nt) schedule(static)
            for (int t = 0; t < tasks; t++) fn(arg, t);
        }
        return;
    }
#else
    (void)par;
    (void)n_threads;
    (void)dyn;
#endif
    for (int t = 0; t < tasks; t++) fn(arg, t);
}

void ops_parallel_for(int n_threads, int par, int tasks, ops_task_fn fn, void *arg) {
    task_loop(n_threads, par, tasks, fn, arg, 0);
}

void ops_parallel_for_dyn(int n_threads, int par, int tasks, ops_task_fn fn, void *arg) {
    task_loop(n_threads, par, tasks, fn, arg, 1);
}
