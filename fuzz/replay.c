/*
 * The fuzz targets without libFuzzer: feeds every file of the given
 * directories (or the files given) to LLVMFuzzerTestOneInput once, in
 * name order, so the corpora and the crashes found are regression tests
 * in every build (meson test --suite fuzz).  A missing directory is
 * empty.  Exits 0 when every input ran; a crash or a failed check
 * aborts, as under libFuzzer.
 *
 *   replay DIR|FILE...
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* libFuzzer's hook is optional: a target without it gets this one. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        return 0;
}

static int run_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        unsigned char *buf = NULL;
        long n;

        if (!f) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
            !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
                fprintf(stderr, "replay: %s: cannot read it\n", path);
                fclose(f);
                free(buf);
                return -1;
        }
        fclose(f);
        /* A copy of exactly n bytes, as libFuzzer hands it: a read past
         * the end is a read past the allocation under ASan. */
        LLVMFuzzerTestOneInput(buf, (size_t)n);
        free(buf);
        return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int run_dir(const char *dir, int *count)
{
        struct dirent **names;
        char path[4096];
        int i, n, bad = 0;

        n = scandir(dir, &names, NULL, by_name);
        if (n < 0)
                return errno == ENOENT ? 0 : -1;
        for (i = 0; i < n; i++) {
                struct stat sb;

                snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
                if (names[i]->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
                        if (run_file(path) < 0)
                                bad = -1;
                        else
                                ++*count;
                }
                free(names[i]);
        }
        free(names);
        return bad;
}

int main(int argc, char **argv)
{
        int i, count = 0, bad = 0;
        struct stat sb;

        LLVMFuzzerInitialize(&argc, &argv);
        for (i = 1; i < argc; i++) {
                if (stat(argv[i], &sb) == 0 && !S_ISDIR(sb.st_mode)) {
                        if (run_file(argv[i]) < 0)
                                bad = 1;
                        else
                                count++;
                } else if (run_dir(argv[i], &count) < 0) {
                        fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
                        bad = 1;
                }
        }
        printf("replay: %d inputs ran\n", count);
        return bad;
}
