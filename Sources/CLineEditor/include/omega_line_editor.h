#ifndef OMEGA_LINE_EDITOR_H
#define OMEGA_LINE_EDITOR_H

#include <stddef.h>

/// A line editor on a terminal: libedit (emacs keys, Ctrl-R search, a
/// history) behind a small API, because libedit's `el_set` and `history`
/// are C variadic functions Swift cannot call.
typedef struct omega_editor omega_editor;

/// Completion: given the text before the cursor and the word being typed,
/// returns the candidates as one malloc'd string, separated by '\n', or NULL.
/// The editor frees it.
typedef char *(*omega_completer)(void *context, const char *line, const char *word);

/// Opens an editor on standard input/output. NULL when standard input is
/// not a terminal or libedit cannot start.
omega_editor *omega_editor_open(const char *program);
void omega_editor_close(omega_editor *editor);

/// Status of a read.
enum { OMEGA_READ_LINE = 0, OMEGA_READ_EOF = 1, OMEGA_READ_INTERRUPTED = 2, OMEGA_READ_ERROR = 3 };

/// Reads one line with `prompt`. Returns a malloc'd line without its newline
/// (the caller frees it) with status OMEGA_READ_LINE, or NULL with another
/// status: end of input (Ctrl-D on an empty line), interrupted (Ctrl-C, or
/// omega_editor_interrupt from another thread or a signal handler).
char *omega_editor_read(omega_editor *editor, const char *prompt, int *status);

/// Makes a read in progress return OMEGA_READ_INTERRUPTED. Async-signal-safe.
void omega_editor_interrupt(omega_editor *editor);

/// Drops a pending interrupt (one that arrived while nothing was reading).
void omega_editor_clear_interrupt(omega_editor *editor);

void omega_editor_set_completer(omega_editor *editor, omega_completer completer, void *context);

/// History: entries, and a file kept across sessions (most recent `size`).
void omega_editor_history_add(omega_editor *editor, const char *line);
int omega_editor_history_load(omega_editor *editor, const char *path);
int omega_editor_history_save(omega_editor *editor, const char *path);
void omega_editor_history_size(omega_editor *editor, int size);

#endif
