/*
 * poe-trace: reads a libpoe trace log (the SQLite file the inspector
 * writes) from the command line.  This file is the command line; the
 * commands are in poe-trace-cmd.c.
 *
 *   poe-trace runs DB
 *   poe-trace sessions DB [--run N]
 *   poe-trace records DB [filters] [--limit N | --last N] [--follow]
 *                        [--format text|jsonl] [--utc]
 *   poe-trace export DB --format csv|chrome|jsonl|otlp [filters] [-o FILE]
 *
 * The log is opened read-only (poe__tracelog_open_readonly: no writer
 * thread, no new run, nothing created), and queries and exports go
 * through the trace log library (poe/tracelog.h), the code the inspector
 * serves the log with, so an export here is byte for byte the one GET
 * /api/v1/trace/export gives for the same filters.
 *
 * Exit status: 0 (also for --follow ended by SIGINT or SIGTERM), 1 when
 * the log cannot be read (missing, not a trace log, unknown run, an
 * output that cannot be written), 2 for a bad command line: one line
 * saying what is wrong and a hint to --help, on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poe-trace-cmd.h"

#define PROG "poe-trace"

enum {
        OPT_RUN = 1 << 0,
        OPT_SINCE = 1 << 1,
        OPT_UNTIL = 1 << 2,
        OPT_SESSION = 1 << 3,
        OPT_GROUP = 1 << 4,
        OPT_EVENT = 1 << 5,
        OPT_KIND = 1 << 6,
        OPT_LIMIT = 1 << 7,
        OPT_FORMAT = 1 << 8,
        OPT_OUTPUT = 1 << 9,
        OPT_LAST = 1 << 10,
        OPT_FOLLOW = 1 << 11,
        OPT_UTC = 1 << 12,
};

#define OPT_FILTERS (OPT_RUN | OPT_SINCE | OPT_UNTIL | OPT_SESSION | OPT_GROUP | OPT_EVENT | OPT_KIND)

typedef struct options {
        unsigned seen;
        pt_options v;
} options;

static const char usage_text[] =
        "Usage: " PROG " COMMAND DB [OPTIONS]\n"
        "\n"
        "Reads a libpoe trace log (the SQLite file POE_TRACE_DB names) without\n"
        "changing it.\n"
        "\n"
        "Commands:\n"
        "  runs DB [--format text|jsonl] [--utc]\n"
        "      the runs the log holds: id, pid, start time, kernel id, libpoe\n"
        "      version, records, records dropped, records removed to keep the log\n"
        "      within its bounds, and records lost (produced but never in the file\n"
        "      nor counted as dropped: those a SIGKILL caught on their way, as of\n"
        "      the run's last batch; \"-\" for a log too old to know)\n"
        "  sessions DB [--run N] [--format text|jsonl] [--utc]\n"
        "      the sessions a run's records mention: id, first and last seen, records\n"
        "  records DB [FILTERS] [--limit N | --last N] [--follow] [--format text|jsonl]\n"
        "          [--utc]\n"
        "      the records, oldest first: text prints each one's time and POE's\n"
        "      trace line (TIME === PID === <ev> message), jsonl one JSON object\n"
        "      per record\n"
        "  export DB --format csv|chrome|jsonl|otlp [FILTERS] [-o FILE]\n"
        "      the inspector's export of the selected records (chrome: a Chrome\n"
        "      trace Perfetto opens; otlp: OpenTelemetry OTLP/JSON lines)\n"
        "\n"
        "Filters (a run defaults to the newest):\n"
        "  --run N          the run's id (see `runs')\n"
        "  --since T        records at or after T: epoch seconds, or an ISO 8601\n"
        "                   time such as 2024-05-01T12:00:00[.123][Z] (Z: UTC, else local)\n"
        "  --until T        records at or before T\n"
        "  --session ID     records about one session (0: the kernel)\n"
        "  --group G[,G]    trace groups: TRACE_EVENTS or events, comma-separated\n"
        "  --event E        records about the event named E\n"
        "  --kind K         records of one kind (enqueue, dispatch, return, ...)\n"
        "\n"
        "Other options:\n"
        "  --limit N        records: the first N records\n"
        "  --last N         records: the last N records (from the log's index, not a\n"
        "                   scan), oldest first\n"
        "  -f, --follow     records: as tail -f, the last 10 (or --last N), then each\n"
        "                   new record as it is written, until interrupted; the next\n"
        "                   run too when the program starts again, unless --run\n"
        "  --utc            times in UTC (2024-05-01T12:00:00.000Z), not local time\n"
        "                   with its offset (2024-05-01T14:00:00.000+02:00)\n"
        "  --format F       the output format, as above\n"
        "  -o, --output F   export: write to F instead of standard output\n"
        "  -h, --help       this text\n"
        "      --version    the version\n"
        "\n"
        "Exit status: 0, 1 when the log cannot be read, 2 for a bad command line.\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* What is wrong, on one line, and where to read more: the whole help
 * would bury the line that matters. */
static void usage_error(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, PROG ": ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry `" PROG " --help' for more information.\n", stderr);
        exit(2);
}

/* Set by SIGINT or SIGTERM: --follow ends. */
static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
        (void)sig;
        stop = 1;
}

/* ---- main ---- */

static const struct {
        const char *name;
        unsigned allowed;
} commands[] = {
        { "runs", OPT_FORMAT | OPT_UTC },
        { "sessions", OPT_RUN | OPT_FORMAT | OPT_UTC },
        { "records", OPT_FILTERS | OPT_LIMIT | OPT_FORMAT | OPT_LAST | OPT_FOLLOW | OPT_UTC },
        { "export", OPT_FILTERS | OPT_FORMAT | OPT_OUTPUT },
};

static const char *const opt_names[] = { "run",   "since",  "until", "session", "group",
                                         "event", "kind",   "limit", "format",  "output",
                                         "last",  "follow", "utc" };

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                { "run", required_argument, NULL, 'r' },
                { "since", required_argument, NULL, 's' },
                { "until", required_argument, NULL, 'u' },
                { "session", required_argument, NULL, 'S' },
                { "group", required_argument, NULL, 'g' },
                { "event", required_argument, NULL, 'e' },
                { "kind", required_argument, NULL, 'k' },
                { "limit", required_argument, NULL, 'l' },
                { "format", required_argument, NULL, 'm' },
                { "output", required_argument, NULL, 'o' },
                { "last", required_argument, NULL, 'L' },
                { "follow", no_argument, NULL, 'f' },
                { "utc", no_argument, NULL, 'U' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        options o = { .seen = 0 };
        const char *cmd, *db_arg, *flag;
        struct sigaction sa;
        char err[700];
        size_t c, i;
        int ch, status;

        opterr = 0;
        while ((ch = getopt_long(argc, argv, ":hfo:", longopts, NULL)) != -1) {
                const char **slot = NULL;
                unsigned bit = 0;

                switch (ch) {
                case 'h':
                        fputs(usage_text, stdout);
                        return 0;
                case 'V':
                        printf(PROG " (libpoe " POE_VERSION ")\n");
                        return 0;
                case 'r': slot = &o.v.run, bit = OPT_RUN; break;
                case 's': slot = &o.v.since, bit = OPT_SINCE; break;
                case 'u': slot = &o.v.until, bit = OPT_UNTIL; break;
                case 'S': slot = &o.v.session, bit = OPT_SESSION; break;
                case 'g': slot = &o.v.group, bit = OPT_GROUP; break;
                case 'e': slot = &o.v.event, bit = OPT_EVENT; break;
                case 'k': slot = &o.v.kind, bit = OPT_KIND; break;
                case 'l': slot = &o.v.limit, bit = OPT_LIMIT; break;
                case 'm': slot = &o.v.format, bit = OPT_FORMAT; break;
                case 'o': slot = &o.v.output, bit = OPT_OUTPUT; break;
                case 'L': slot = &o.v.last, bit = OPT_LAST; break;
                case 'f': slot = &flag, bit = OPT_FOLLOW, o.v.follow = true; break;
                case 'U': slot = &flag, bit = OPT_UTC, o.v.utc = true; break;
                case ':':
                        usage_error("option `%s' needs a value", argv[optind - 1]);
                case '?':
                        if (optopt)
                                usage_error("unknown option `-%c'", optopt);
                        usage_error("unknown option `%s'", argv[optind - 1]);
                default:
                        usage_error("unknown option `%s'", argv[optind - 1]);
                }
                if (o.seen & bit)
                        usage_error("option --%s given twice", opt_names[__builtin_ctz(bit)]);
                o.seen |= bit;
                *slot = optarg;
        }
        if (optind >= argc)
                usage_error("no command given");
        cmd = argv[optind];
        for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
                if (strcmp(cmd, commands[c].name) == 0)
                        break;
        if (c == sizeof(commands) / sizeof(commands[0]))
                usage_error("unknown command `%s'", cmd);
        if (optind + 1 >= argc)
                usage_error("%s: no trace log (DB) given", cmd);
        if (optind + 2 < argc)
                usage_error("%s: unexpected argument `%s'", cmd, argv[optind + 2]);
        db_arg = argv[optind + 1];
        for (i = 0; i < sizeof(opt_names) / sizeof(opt_names[0]); i++)
                if ((o.seen & (1u << i)) && !(commands[c].allowed & (1u << i)))
                        usage_error("%s: option --%s does not apply", cmd, opt_names[i]);

        if (o.v.follow) {
                /* No SA_RESTART: the sleep between two looks ends at once. */
                memset(&sa, 0, sizeof(sa));
                sa.sa_handler = on_stop;
                sigemptyset(&sa.sa_mask);
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGTERM, &sa, NULL);
                o.v.stop = &stop;
        }
        status = pt_run_command((pt_command)c, db_arg, &o.v, stdout, err, sizeof(err));
        if (status == PT_USAGE)
                usage_error("%s", err);
        if (status == PT_OK && (fflush(stdout) != 0 || ferror(stdout))) {
                snprintf(err, sizeof(err), "standard output: %s", strerror(errno ? errno : EIO));
                status = PT_FAIL;
        }
        if (status != PT_OK)
                fprintf(stderr, PROG ": %s\n", err);
        return status;
}
