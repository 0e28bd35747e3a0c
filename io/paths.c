/* paths.c - checks before writing a file (see td_paths.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "td_paths.h"

int td_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int td_check_new_file(const char *path, int force, td_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return td_err_set(err, TD_ERR_INPUT, "%s is a directory", path);
    if (stat(path, &st) == 0 && !force)
        return td_err_set(err, TD_ERR_INPUT, "%s exists: run with --force to "
                          "replace it", path);
    char *copy = strdup(path);
    if (!copy)
        return td_err_set(err, TD_ERR_INTERNAL, "out of memory");
    char *slash = strrchr(copy, '/');
    const char *dir = slash ? (slash == copy ? "/" : (*slash = '\0', copy))
                            : ".";
    if (access(dir, W_OK) != 0)
        td_err_set(err, TD_ERR_OUTPUT, "%s: cannot write: directory '%s' "
                   "does not exist or is not writable", path, dir);
    free(copy);
    return err->code;
}
