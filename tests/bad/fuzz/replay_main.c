/* replay_main.c - runs a libFuzzer harness (LLVMFuzzerTestOneInput) over
 * saved inputs, once each, without libFuzzer: a plain program any
 * compiler builds (the ctest fuzz_replay_* tests, gcc).
 *
 *   replay FILE|DIR ...   every regular file given, or in a directory
 *
 * A broken promise aborts inside the harness; otherwise prints how many
 * inputs ran and exits 0 (1 when none were found). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: out of memory\n");
        exit(1);
    }
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 1;
}

static int run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        exit(1);
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path);
    struct dirent **names;
    int n = scandir(path, &names, NULL, alphasort), count = 0;
    for (int i = 0; i < n; i++) {
        char full[4096];
        const char *name = names[i]->d_name;
        if (name[0] != '.' && !strstr(name, ".expect") &&
            snprintf(full, sizeof full, "%s/%s", path, name) < (int)sizeof full)
            count += run_path(full);
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    int count = 0;
    for (int i = 1; i < argc; i++)
        count += run_path(argv[i]);
    printf("replay: %d inputs\n", count);
    return count > 0 ? 0 : 1;
}
