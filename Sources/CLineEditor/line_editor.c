// The REPL's line editor: libedit in emacs mode with a history, Ctrl-R
// incremental search, tab completion through a callback, and an interrupt
// that a signal handler (or another thread) can deliver while a line is
// being read. libedit reads characters through `read_char` below, which
// waits on the terminal and on a self-pipe, so Ctrl-C ends the read at once.

#define _GNU_SOURCE
#include "omega_line_editor.h"

#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

struct omega_editor {
    EditLine *el;
    History *history;
    HistEvent event;
    char *prompt;
    int wake[2];                  // self-pipe: a byte here interrupts a read
    volatile sig_atomic_t interrupted;
    omega_completer completer;
    void *completer_context;
};

static char *prompt_of(EditLine *el) {
    omega_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    return ed && ed->prompt ? ed->prompt : "";
}

// One character from the terminal, decoded from UTF-8; -1 (and the
// interrupted flag) when the self-pipe is written or Ctrl-C arrives as a
// character; 0 at end of input.
static int read_char(EditLine *el, wchar_t *out) {
    omega_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    unsigned char bytes[4];
    int have = 0, need = 1;
    while (have < need) {
        struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = ed->wake[0], .events = POLLIN}};
        int n = poll(fds, 2, -1);
        if (n < 0) {
            if (errno == EINTR) {
                if (ed->interrupted) return -1;
                continue;
            }
            return -1;
        }
        if (fds[1].revents & POLLIN) {
            char drain[64];
            while (read(ed->wake[0], drain, sizeof drain) > 0) {}
            ed->interrupted = 1;
            errno = EINTR;
            return -1;
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t r = read(STDIN_FILENO, &bytes[have], 1);
        if (r == 0) return 0;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        if (have == 0) {
            unsigned char b = bytes[0];
            if (b == 3) {            // Ctrl-C read as a character (no ISIG)
                ed->interrupted = 1;
                errno = EINTR;
                return -1;
            }
            need = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
        } else if ((bytes[have] & 0xC0) != 0x80) {
            // A broken UTF-8 sequence becomes U+FFFD (its last byte is dropped).
            *out = 0xFFFD;
            return 1;
        }
        have++;
    }
    wchar_t c;
    switch (need) {
    case 1: c = bytes[0] < 0x80 ? bytes[0] : 0xFFFD; break;
    case 2: c = ((bytes[0] & 0x1F) << 6) | (bytes[1] & 0x3F); break;
    case 3: c = ((bytes[0] & 0x0F) << 12) | ((bytes[1] & 0x3F) << 6) | (bytes[2] & 0x3F); break;
    default: c = ((bytes[0] & 0x07) << 18) | ((bytes[1] & 0x3F) << 12) | ((bytes[2] & 0x3F) << 6) | (bytes[3] & 0x3F); break;
    }
    *out = c;
    return 1;
}

static int is_delimiter(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '(' || c == ')' || c == '[' || c == ']' ||
           c == '\'' || c == '`' || c == ',' || c == '"' || c == ';';
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Tab: completes the word before the cursor as far as all candidates agree;
// with nothing more to add, lists the candidates under the line.
static unsigned char complete(EditLine *el, int ch) {
    (void)ch;
    omega_editor *ed = NULL;
    el_get(el, EL_CLIENTDATA, &ed);
    if (!ed || !ed->completer) return CC_ERROR;
    const LineInfo *li = el_line(el);
    const char *start = li->cursor;
    while (start > li->buffer && !is_delimiter(start[-1])) start--;
    size_t before_len = (size_t)(li->cursor - li->buffer), word_len = (size_t)(li->cursor - start);
    char *before = strndup(li->buffer, before_len);
    char *word = strndup(start, word_len);
    if (!before || !word) { free(before); free(word); return CC_ERROR; }
    char *found = ed->completer(ed->completer_context, before, word);
    free(before);
    if (!found || !*found) { free(found); free(word); return CC_REFRESH_BEEP; }

    size_t count = 1;
    for (char *p = found; *p; p++) if (*p == '\n') count++;
    char **items = calloc(count, sizeof *items);
    if (!items) { free(found); free(word); return CC_ERROR; }
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(found, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) items[n++] = tok;
    if (n == 0) { free(items); free(found); free(word); return CC_REFRESH_BEEP; }

    size_t common = strlen(items[0]);
    for (size_t i = 1; i < n; i++) {
        size_t j = 0;
        while (j < common && items[i][j] == items[0][j]) j++;
        common = j;
    }
    unsigned char result;
    if (common > word_len) {
        char *rest = strndup(items[0] + word_len, common - word_len);
        if (rest) el_insertstr(el, rest);
        free(rest);
        if (n == 1 && items[0][common - 1] != '/') el_insertstr(el, " ");
        result = CC_REFRESH;
    } else if (n == 1) {
        if (common == 0 || items[0][common - 1] != '/') el_insertstr(el, " ");
        result = CC_REFRESH;
    } else {
        qsort(items, n, sizeof *items, compare_strings);
        size_t width = 0;
        for (size_t i = 0; i < n; i++) if (strlen(items[i]) > width) width = strlen(items[i]);
        width += 2;
        size_t columns = width < 80 ? 80 / width : 1;
        fputc('\n', stdout);
        for (size_t i = 0; i < n; i++) {
            fprintf(stdout, "%-*s", (int)width, items[i]);
            if ((i + 1) % columns == 0 || i + 1 == n) fputc('\n', stdout);
        }
        fflush(stdout);
        result = CC_REDISPLAY;
    }
    free(items);
    free(found);
    free(word);
    return result;
}

omega_editor *omega_editor_open(const char *program) {
    if (!isatty(STDIN_FILENO)) return NULL;
    // libedit decodes and encodes through the C locale: make it UTF-8.
    const char *loc = setlocale(LC_CTYPE, "");
    if (!loc || strcmp(nl_langinfo(CODESET), "UTF-8") != 0) setlocale(LC_CTYPE, "C.UTF-8");

    omega_editor *ed = calloc(1, sizeof *ed);
    if (!ed) return NULL;
    if (pipe2(ed->wake, O_CLOEXEC | O_NONBLOCK) != 0) { free(ed); return NULL; }
    ed->el = el_init(program, stdin, stdout, stderr);
    ed->history = history_init();
    if (!ed->el || !ed->history) { omega_editor_close(ed); return NULL; }
    history(ed->history, &ed->event, H_SETSIZE, 1000);
    history(ed->history, &ed->event, H_SETUNIQUE, 1);
    el_set(ed->el, EL_CLIENTDATA, ed);
    el_set(ed->el, EL_EDITOR, "emacs");
    el_set(ed->el, EL_SIGNAL, 0);
    el_set(ed->el, EL_PROMPT, prompt_of);
    el_set(ed->el, EL_HIST, history, ed->history);
    el_set(ed->el, EL_GETCFN, read_char);
    el_set(ed->el, EL_ADDFN, "omega-complete", "Complete the name before the cursor", complete);
    el_set(ed->el, EL_BIND, "^I", "omega-complete", NULL);
    el_set(ed->el, EL_BIND, "^R", "em-inc-search-prev", NULL);
    el_set(ed->el, EL_BIND, "^S", "em-inc-search-next", NULL);
    el_set(ed->el, EL_BIND, "\\e[1;5C", "em-next-word", NULL);
    el_set(ed->el, EL_BIND, "\\e[1;5D", "ed-prev-word", NULL);
    el_source(ed->el, NULL);   // the user's ~/.editrc
    return ed;
}

void omega_editor_close(omega_editor *ed) {
    if (!ed) return;
    if (ed->el) el_end(ed->el);
    if (ed->history) history_end(ed->history);
    close(ed->wake[0]);
    close(ed->wake[1]);
    free(ed->prompt);
    free(ed);
}

char *omega_editor_read(omega_editor *ed, const char *prompt, int *status) {
    free(ed->prompt);
    ed->prompt = strdup(prompt ? prompt : "");
    ed->interrupted = 0;
    int count = 0;
    const char *line = el_gets(ed->el, &count);
    if (ed->interrupted) {
        // The line on screen stays as typed; the cursor moves below it.
        fputs("^C\n", stdout);
        fflush(stdout);
        ed->interrupted = 0;
        *status = OMEGA_READ_INTERRUPTED;
        return NULL;
    }
    if (!line) {
        *status = count < 0 ? OMEGA_READ_ERROR : OMEGA_READ_EOF;
        return NULL;
    }
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\n') len--;
    *status = OMEGA_READ_LINE;
    return strndup(line, len);
}

void omega_editor_interrupt(omega_editor *ed) {
    if (!ed) return;
    char byte = 1;
    ssize_t r = write(ed->wake[1], &byte, 1);
    (void)r;
}

void omega_editor_clear_interrupt(omega_editor *ed) {
    char drain[64];
    while (read(ed->wake[0], drain, sizeof drain) > 0) {}
    ed->interrupted = 0;
}

void omega_editor_set_completer(omega_editor *ed, omega_completer completer, void *context) {
    ed->completer = completer;
    ed->completer_context = context;
}

void omega_editor_history_add(omega_editor *ed, const char *line) {
    if (line && *line) history(ed->history, &ed->event, H_ENTER, line);
}

int omega_editor_history_load(omega_editor *ed, const char *path) {
    return history(ed->history, &ed->event, H_LOAD, path) < 0 ? -1 : 0;
}

int omega_editor_history_save(omega_editor *ed, const char *path) {
    return history(ed->history, &ed->event, H_SAVE, path) < 0 ? -1 : 0;
}

void omega_editor_history_size(omega_editor *ed, int size) {
    history(ed->history, &ed->event, H_SETSIZE, size > 0 ? size : 1);
}
