/*
 * fuzz-trace-db: a trace log the reader did not write.  The input is the
 * database file itself.  poe-trace's own commands (tools/poe-trace-cmd.c:
 * runs, sessions, records, every export) run over it read-only, as
 * `poe-trace COMMAND FILE` does; then the inspector opens a copy as its
 * log (poe__tracelog_open: schema check, migration, a new run), as a
 * program whose POE_TRACE_DB names an old or damaged file does.
 *
 * Checks: every command answers 0 or 1 with a message, never a crash or
 * a usage error (the options are sound); the inspector's open either
 * works or fails with a message; nothing leaks.  The seed corpus holds
 * logs the library wrote and variants (another schema version, missing
 * tables, columns of other types); see fuzz/README.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "poe-trace-cmd.h"
#include "poe/tracelog.h"

static FILE *devnull;
static char path[512], copy[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        devnull = fopen("/dev/null", "w");
        if (!devnull)
                fz_fail("cannot open /dev/null");
        snprintf(path, sizeof(path), "%s/input.db", fz_tmpdir());
        snprintf(copy, sizeof(copy), "%s/writable.db", fz_tmpdir());
        return 0;
}

static void write_file(const char *p, const uint8_t *data, size_t size)
{
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0)
                fz_fail("%s: %s", p, strerror(errno));
        while (size > 0) {
                ssize_t w = write(fd, data, size);

                if (w <= 0)
                        fz_fail("%s: %s", p, strerror(errno));
                data += w;
                size -= (size_t)w;
        }
        close(fd);
}

static void command(pt_command cmd, const pt_options *o)
{
        char err[700];
        int status;

        err[0] = '\0';
        status = pt_run_command(cmd, path, o, devnull, err, sizeof(err));
        if (status == PT_USAGE)
                fz_fail("command %d: a usage error for sound options: %s", (int)cmd, err);
        if (status != PT_OK && status != PT_FAIL)
                fz_fail("command %d: status %d", (int)cmd, status);
        if (status == PT_FAIL && !err[0])
                fz_fail("command %d failed without a message", (int)cmd);
}

/* The SQLite side files of the last input must not be read as this
 * one's. */
static void remove_all(const char *p)
{
        char side[600];

        unlink(p);
        snprintf(side, sizeof(side), "%s-wal", p);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", p);
        unlink(side);
        snprintf(side, sizeof(side), "%s-journal", p);
        unlink(side);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const formats[] = { "csv", "chrome", "jsonl", "otlp" };
        pt_options o;
        poe__tracelog *log = NULL;
        poe_kernel *k = NULL;
        char err[600];
        size_t i;
        int r;

        remove_all(path);
        write_file(path, data, size);

        memset(&o, 0, sizeof(o));
        command(PT_RUNS, &o);
        o.format = "jsonl";
        command(PT_RUNS, &o);
        command(PT_SESSIONS, &o);
        o.format = NULL;
        command(PT_SESSIONS, &o);
        command(PT_RECORDS, &o);
        o.run = "1";
        o.limit = "50";
        o.format = "jsonl";
        command(PT_RECORDS, &o);
        o.limit = NULL;
        o.run = NULL;
        /* --last: the newest records, read down the index, in text with
         * their times (UTC: the same output wherever it runs). */
        o.last = "20";
        o.format = NULL;
        o.utc = true;
        command(PT_RECORDS, &o);
        o.session = "1";
        command(PT_RECORDS, &o);
        o.session = NULL;
        o.last = NULL;
        o.utc = false;
        for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
                memset(&o, 0, sizeof(o));
                o.format = formats[i];
                command(PT_EXPORT, &o);
                o.group = "events,sessions";
                o.session = "1";
                command(PT_EXPORT, &o);
        }

        /* The inspector's writer on a copy: the reader's file stays as
         * the input made it. */
        remove_all(copy);
        write_file(copy, data, size);
        if (poe_kernel_new(&k, NULL) < 0)
                fz_fail("poe_kernel_new");
        err[0] = '\0';
        r = poe__tracelog_open(copy, 64, k, &log, err, sizeof(err));
        if (r < 0 && !err[0])
                fz_fail("the inspector's open failed (%d) without a message", r);
        if (r == 0) {
                json_t *st = poe__tracelog_status(log);

                if (!st)
                        fz_fail("no status for an open log");
                json_decref(st);
                poe__tracelog_close(log);
        }
        poe_kernel_free(k);
        return 0;
}
